// The answers file equivalent to a resolved Config (for --write-answers): replaying it unattended yields
// the same configuration ("nothing to do" on the crypt it made). Written 0600: it names devices and paths of this machine.
import { Document, isScalar, visit } from 'yaml';
import type { AnswersInput } from './schema.js';
import type { Config } from '../../model/config.js';
import { formatSize, parseSize } from '../../model/units.js';
import { writeFileAtomic } from '../../base/sys/fs.js';
import { setAndForgetAnswers } from './set-and-forget.js';
import { hooksAnswersOf } from './hooks.js';
import { replicateAnswersOf } from './replicate.js';

/** A size that reads back as the same bytes: a whole number of a unit, else the bytes themselves. */
const exactSize = (bytes: number): string | number => {
  const text = formatSize(bytes);
  return parseSize(text) === bytes ? text : bytes;
};

/**
 * Every value the run used, whatever gave it (the answers, --defaults, a question, the registry, an
 * environment variable such as LYCHD_CRYPT_REGISTRY, a default): the crypt's name and profile and the
 * registry too, so a replay anywhere — without that environment — finds the same crypt and has nothing to do.
 */
export function answersFromConfig(config: Config): AnswersInput {
  const pg = config.postgres;
  return {
    version: 1,
    crypt: { path: config.crypt.path, user: config.crypt.user, name: config.crypt.name, profile: config.profile },
    registry: { dir: config.registry.dir, state: config.registry.state },
    method: config.method,
    ...(config.loopback
      ? { loopback: { image: config.loopback.image, size: exactSize(config.loopback.sizeBytes), ...(config.loopback.preallocate !== undefined ? { preallocate: config.loopback.preallocate } : {}) } }
      : {}),
    ...(config.partition ? { partition: { device: config.partition.device, wipe: config.partition.wipe } } : {}),
    filesystem: { label: config.filesystem.label, mountOptions: [...config.filesystem.mountOptions] },
    persist: { ...config.persist },
    install: { ...config.install },
    postgres: pg
      ? {
          dir: pg.dir,
          osUser: /^\d+$/.test(pg.osUser) ? Number(pg.osUser) : pg.osUser,
          connection: { ...pg.connection },
          ...(pg.bin ? { bin: pg.bin } : {}),
          service: pg.service,
          ...(pg.container ? { container: { ...pg.container } } : {}),
        }
      : { enabled: false },
    ...setAndForgetAnswers(config),
    ...hooksAnswersOf(config),
    ...replicateAnswersOf(config),
  };
}

/** Plain words YAML 1.1 (and people who learned it) read as booleans: quote them, though 1.2 would not. */
const YAML11_BOOL = /^(y|yes|n|no|true|false|on|off)$/i;

export function renderAnswersYaml(answers: AnswersInput): string {
  const doc = new Document(answers);
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && typeof node.value === 'string' && YAML11_BOOL.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return `# lychd-crypt answers file: replay with \`lychd-crypt init --answers FILE --yes\`\n${doc.toString()}`;
}

export async function writeAnswersFile(file: string, config: Config): Promise<void> {
  await writeFileAtomic(file, renderAnswersYaml(answersFromConfig(config)), { mode: 0o600 });
}

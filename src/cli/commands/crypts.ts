// `lychd-crypt crypts`: the registered crypts, from the root-owned registry.
import { escapeValue } from '../../base/output/text.js';
import { readRegistry, registryDir } from '../../base/registry/store.js';
import type { CommandContext, CommandOutput } from '../frame/context.js';

export async function runCrypts(_args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const dir = registryDir(ctx.globals.registry, ctx.env);
  const entries = await readRegistry(dir);
  // Completion of --crypt: the names, one a line (names are plain: a-z, 0-9, - and _).
  if (opts.names) return { json: { registry: dir, names: entries.map((e) => e.name) }, human: entries.map((e) => e.name).join('\n') };
  const rows = entries.map((e) => ({
    name: e.name,
    path: e.config.crypt.path,
    owner: e.config.crypt.user,
    profile: e.config.profile,
    method: e.config.method,
    fsUuid: e.identity.fsUuid,
    stateDir: e.stateDir,
  }));
  const human = rows.length
    ? [
        `${'NAME'.padEnd(16)} ${'PROFILE'.padEnd(9)} ${'METHOD'.padEnd(10)} ${'OWNER'.padEnd(12)} PATH`,
        ...rows.map((r) => `${r.name.padEnd(16)} ${r.profile.padEnd(9)} ${r.method.padEnd(10)} ${escapeValue(r.owner).padEnd(12)} ${escapeValue(r.path)}`),
      ].join('\n')
    : `no crypts registered in ${dir} (run \`lychd-crypt init\`)`;
  return { json: { registry: dir, crypts: rows }, human };
}

// templates/cloud-init.yaml for real: Debian's `cloud-init schema` accepts it as it ships and in its
// install-from-a-path variant, and the answers file it writes is one lychd-crypt accepts.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseAnswers } from '../../src/install/answers/load.js';
import { REPO, toolSkipReason } from '../helpers/env.js';
import { fileScratch } from '../helpers/suite.js';

const TEMPLATE = path.join(REPO, 'templates/cloud-init.yaml');
const skip = toolSkipReason('cloud-init');

type CloudConfig = {
  apt?: unknown;
  packages?: string[];
  write_files: { path: string; content: string; permissions: string }[];
  runcmd: string[][];
};

describe.skipIf(skip)(`templates/cloud-init.yaml ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const shared = fileScratch();
  beforeAll(async () => {
  });

  const schema = (file: string) => spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });

  it('is valid cloud-config', () => {
    const r = schema(TEMPLATE);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Valid cloud-config');
    expect(r.status).toBe(0);
  });

  it('installs the package, writes the answers, runs init once, then reports', () => {
    const config = parse(readFileSync(TEMPLATE, 'utf8')) as CloudConfig;
    expect(config.packages).toEqual(['lychd-crypt']);
    const answers = config.write_files.find((f) => f.path.endsWith('answers.yaml'))!;
    expect(answers.permissions).toBe('0600');
    expect(config.runcmd).toEqual([
      ['lychd-crypt', 'init', '--answers', answers.path, '--yes'],
      ['lychd-crypt', 'status', '--check'],
    ]);
    // The answers file it writes is one lychd-crypt accepts (the same schema as on any host).
    const parsed = parseAnswers(answers.content, answers.path);
    expect(parsed).toMatchObject({ version: 1, method: 'loopback' });
  });

  it('the install-from-a-path variant the comments describe is valid too', () => {
    const config = parse(readFileSync(TEMPLATE, 'utf8')) as CloudConfig;
    const deb = readFileSync(TEMPLATE, 'utf8').match(/- (\[apt-get, install, -y, [^\]]+\])/)![1]!;
    delete config.apt;
    delete config.packages;
    config.runcmd.unshift(parse(deb) as string[]);
    const file = shared.scratch.path('from-path.yaml');
    writeFileSync(file, `#cloud-config\n${stringify(config)}`);
    const r = schema(file);
    expect(r.stdout + r.stderr).toContain('Valid cloud-config');
    expect(r.status).toBe(0);
    expect(config.runcmd[0]).toEqual(['apt-get', 'install', '-y', expect.stringMatching(/lychd-crypt_.*_amd64\.deb$/)]);
  });

  it("the README's excerpt is valid cloud-config, and docs/packaging.md's Ansible tasks write valid answers", () => {
    const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const excerpt = /```yaml\n(#cloud-config\n[\s\S]*?)```/.exec(readme)![1]!;
    const file = shared.scratch.path('readme.yaml');
    writeFileSync(file, excerpt);
    const r = schema(file);
    expect(r.stdout + r.stderr).toContain('Valid cloud-config');
    expect(parseAnswers((parse(excerpt) as CloudConfig).write_files[0]!.content, 'README.md')).toMatchObject({ version: 1 });

    const docs = readFileSync(path.join(REPO, 'docs/packaging.md'), 'utf8');
    const tasks = parse(/```yaml\n(- name: lychd-crypt package[\s\S]*?)```/.exec(docs)![1]!) as Record<string, { content?: string }>[];
    const copy = tasks.find((t) => t['ansible.builtin.copy'])!['ansible.builtin.copy']!;
    expect(parseAnswers(copy.content!, 'docs/packaging.md')).toMatchObject({ version: 1, method: 'loopback' });
  });

  it('the bad case fails: cloud-init schema rejects a broken runcmd', () => {
    const file = shared.scratch.path('broken.yaml');
    writeFileSync(file, '#cloud-config\nruncmd: 7\n');
    expect(schema(file).status).not.toBe(0);
  });
});

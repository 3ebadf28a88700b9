// replicate: in the answers: every target kind, defaults, the round trip through --write-answers, and each
// refusal located at its key (file:line:col key.path), with nothing else checked against the host.
import { describe, expect, test } from 'vitest';
import { parseAnswers } from '../../src/install/answers/load.js';
import { AnswersError } from '../../src/base/errors.js';
import { replicateAnswersOf, resolveReplicate } from '../../src/install/answers/replicate.js';
import { formatTargetUrl, parseTargetUrl } from '../../src/model/replicate.js';
import { formatRate, parseRate } from '../../src/model/units.js';

function issues(yaml: string): string[] {
  try {
    parseAnswers(yaml, 'a.yaml');
  } catch (e) {
    if (e instanceof AnswersError) return e.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

const yaml = (targets: string, extra = '') => `version: 1\nreplicate:\n${extra}  targets:\n${targets}`;

describe('replicate answers', () => {
  test('three kinds resolve; defaults; the round trip', () => {
    const a = parseAnswers(
      yaml(
        [
          '    - { name: offsite, url: "ssh://root@backup.example:2222/srv/lychd/web1", retention: { daily: 14, weekly: 8 }, rateLimit: 20M, identity: /etc/k, knownHosts: /etc/kh }',
          '    - { name: usb, url: /mnt/usb/lychd }',
          '    - { name: bucket, url: "file:///mnt/rclone/lychd", fullEvery: 7, rateLimit: 500K/s }',
        ].join('\n') + '\n',
      ),
      'a.yaml',
    );
    const r = resolveReplicate(a.replicate).replicate!;
    expect(r.schedule).toBe('after-snapshot');
    expect(r.targets).toEqual([
      { name: 'offsite', url: { kind: 'ssh', user: 'root', host: 'backup.example', port: 2222, path: '/srv/lychd/web1' }, retention: { daily: 14, weekly: 8 }, rateLimit: 20 * 2 ** 20, fullEvery: null, identity: '/etc/k', knownHosts: '/etc/kh' },
      { name: 'usb', url: { kind: 'path', path: '/mnt/usb/lychd' }, retention: null, rateLimit: null, fullEvery: null, identity: null, knownHosts: null },
      { name: 'bucket', url: { kind: 'file', path: '/mnt/rclone/lychd' }, retention: null, rateLimit: 500 * 1024, fullEvery: 7, identity: null, knownHosts: null },
    ]);
    const again = resolveReplicate(parseAnswers(JSON.stringify({ version: 1, ...replicateAnswersOf({ replicate: r }) }), 'b.yaml').replicate).replicate;
    expect(again).toEqual(r);
    expect(resolveReplicate(parseAnswers(yaml('    - { name: b, url: "file:///x" }\n'), 'a.yaml').replicate).replicate!.targets[0]!.fullEvery).toBe(30);
    expect(resolveReplicate(parseAnswers(yaml('    - { name: b, url: /x }\n', '  schedule: false\n'), 'a.yaml').replicate).replicate!.schedule).toBe(false);
    expect(resolveReplicate(undefined)).toEqual({ replicate: null });
  });

  test('every refusal names its key', () => {
    expect(issues(yaml('    - { name: a, url: /x }\n    - { name: a, url: /y }\n'))).toEqual([expect.stringMatching(/^5:\d+ replicate\.targets\[1\]\.name: "a" is already the name of replicate\.targets\[0\]/)]);
    expect(issues(yaml('    - { name: a, url: "ftp://x/y" }\n'))[0]).toMatch(/replicate\.targets\[0\]\.url: expected ssh:\/\/USER@HOST\[:PORT\]\/PATH, an absolute path, or file:\/\/\/PATH, got "ftp:\/\/x\/y"/);
    expect(issues(yaml('    - { name: a, url: "ssh://backup/x" }\n'))[0]).toMatch(/url: ssh:\/\/ needs a user \(ssh:\/\/root@HOST\/PATH\): receiving runs as root on the target/);
    expect(issues(yaml('    - { name: a, url: "ssh://root:secret@backup/x" }\n'))[0]).toMatch(/url: a password in the URL would end up in the registry and in process lists; use identity: \(a key file\)/);
    expect(issues(yaml('    - { name: a, url: "ssh://root@-oProxyCommand=x/y" }\n'))[0]).toMatch(/url: HOST may only hold letters, digits/);
    expect(issues(yaml('    - { name: a, url: "ssh://root@h:0/y" }\n'))[0]).toMatch(/url: port must be 1–65535, got 0/);
    expect(issues(yaml('    - { name: a, url: "/" }\n'))[0]).toMatch(/url: the path must be absolute, not "\/"/);
    expect(issues(yaml('    - { name: a, url: "/a/../b" }\n'))[0]).toMatch(/url: the path must be absolute/);
    expect(issues(yaml('    - { name: a, url: /x, fullEvery: 3 }\n'))[0]).toMatch(/replicate\.targets\[0\]\.fullEvery: only file:\/\/ targets keep stream chains/);
    expect(issues(yaml('    - { name: a, url: "file:///x", fullEvery: 0 }\n'))[0]).toMatch(/fullEvery: expected a whole number of 1 or more/);
    expect(issues(yaml('    - { name: a, url: /x, rateLimit: fast }\n'))[0]).toMatch(/rateLimit: expected a rate like 20M \(bytes per second\) or 500K\/s/);
    expect(issues(yaml('    - { name: a, url: /x, rateLimit: 10K }\n'))[0]).toMatch(/rateLimit: expected at least 64K/);
    expect(issues(yaml('    - { name: a, url: /x, identity: /k }\n'))[0]).toMatch(/replicate\.targets\[0\]\.identity: only ssh:\/\/ targets use a key/);
    expect(issues(yaml('    - { name: a, url: /x, retention: { daly: 3 } }\n'))[0]).toMatch(/retention.*daly/);
    expect(issues(yaml('    - { name: "A b", url: /x }\n'))[0]).toMatch(/name: expected a plain name/);
    expect(issues(yaml('    - { name: a, url: /x }\n', '  schedule: "hourly\\nExecStartPre=/bin/sh"\n'))[0]).toMatch(/replicate\.schedule: expected after-snapshot, false or a systemd calendar expression/);
    expect(issues('version: 1\nreplicate: { target: [] }\n')[0]).toMatch(/replicate.*target/);
  });

  test('URLs and rates read back as written', () => {
    for (const u of ['ssh://root@h/x', 'ssh://backup@[::1]:22/srv/a', '/mnt/a', 'file:///mnt/b']) {
      const p = parseTargetUrl(u);
      expect('problem' in p ? p.problem : formatTargetUrl(p)).toBe(u);
    }
    expect(parseRate('20M')).toBe(20 * 2 ** 20);
    expect(parseRate('500K/s')).toBe(500 * 1024);
    expect(parseRate('1.5G / s')).toBe(1.5 * 2 ** 30);
    expect(parseRate('fast')).toBeUndefined();
    expect(formatRate(20 * 2 ** 20)).toBe('20M/s');
  });
});

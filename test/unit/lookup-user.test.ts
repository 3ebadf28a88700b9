// Looking up the target user: "no such user" only when the passwd database says so (getent's exit 2); a
// getent that could not run or an NSS failure is a failed command, not the user's mistake. And the runner
// says "could not run" for a program that never started.
import { describe, expect, it } from 'vitest';
import { CommandError, UsageError } from '../../src/base/errors.js';
import { createRunner, RecordingRunner, type Runner } from '../../src/base/runner.js';
import { lookupUser } from '../../src/base/user.js';

describe('lookupUser', () => {
  const real = createRunner();

  it('finds root by uid and by name; an unknown name is a usage error', async () => {
    expect(await lookupUser(real, 0)).toMatchObject({ name: 'root', uid: 0, gid: 0 });
    expect(await lookupUser(real, 'root')).toMatchObject({ uid: 0 });
    await expect(lookupUser(real, 'no-such-user-lychd')).rejects.toThrow(UsageError);
    await expect(lookupUser(real, 'no-such-user-lychd')).rejects.toThrow(/no such user: no-such-user-lychd/);
  });

  it('a getent that cannot start (here: a working directory that does not exist) says why, not "no such user"', async () => {
    const lost: Runner = { run: (argv, opts) => real.run(argv, { ...opts, cwd: '/nonexistent-lychd-cwd' }), spawn: (argv, opts) => real.spawn(argv, opts) };
    const err = await lookupUser(lost, 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(String((err as Error).message)).toMatch(/^could not run: getent passwd 0\n[\s\S]*nonexistent-lychd-cwd/);
  });

  it('an NSS failure (getent exit 1, 3, …) is a failed command with its stderr', async () => {
    const nss = new RecordingRunner(() => ({ exitCode: 3, stderr: 'enumeration not supported' }));
    await expect(lookupUser(nss, 'alice')).rejects.toThrow(CommandError);
    await expect(lookupUser(nss, 'alice')).rejects.toThrow(/exit 3[\s\S]*enumeration not supported/);
  });
});

describe('the runner', () => {
  it('a program that is not there: "could not run" with the reason, not "killed"', async () => {
    const err = await createRunner().run(['/nonexistent-lychd-program']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as Error).message).toMatch(/^could not run: \/nonexistent-lychd-program\n.*ENOENT/);
  });
});

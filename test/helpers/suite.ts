// The set-up most real test files share: a scratch dir per test that is cleaned up after it (afterEach),
// even when the test failed (scratchSuite), and, for those that run the CLI, one private build of it per
// file (beforeAll; cliSuite). Call inside `describe`, or at the top of a file.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { buildCli } from './init.js';
import { makeScratch, type Scratch } from './scratch.js';

export interface ScratchSuite {
  /** A fresh scratch dir for the running test (its registry and state dirs too); cleaned up after it. */
  scratch(): Promise<Scratch>;
}

export interface CliSuite extends ScratchSuite {
  /** The bundled runtime (set once beforeAll ran). */
  readonly bundle: string;
}

/** The per-test scratch half alone, for files (or parts of files) that never run the bundled CLI. */
export function scratchSuite(): ScratchSuite {
  const current: Scratch[] = [];
  afterEach(async () => {
    for (const s of current.splice(0).reverse()) await s.cleanup();
  });
  return {
    async scratch() {
      const s = await makeScratch();
      current.push(s);
      return s;
    },
  };
}

export function cliSuite(): CliSuite {
  const scratches = scratchSuite();
  let build: Scratch | undefined;
  let bundle: string | undefined;
  beforeAll(async () => {
    build = await makeScratch();
    bundle = buildCli(build);
  });
  afterAll(async () => {
    await build?.cleanup();
  });
  return {
    get bundle() {
      if (!bundle) throw new Error('cliSuite: the CLI is built in beforeAll; use suite.bundle inside a test');
      return bundle;
    },
    scratch: () => scratches.scratch(),
  };
}

export interface FileScratch {
  /** The scratch dir of the whole describe (set once its first beforeAll ran). */
  readonly scratch: Scratch;
}

/**
 * One scratch dir for a whole describe, made before its other beforeAll hooks and cleaned up after its
 * tests even when one failed: for tests that share something slow to make (a booted systemd, a crypt
 * with its server, a throwaway root). Register it before the beforeAll that uses it.
 */
export function fileScratch(cleanupTimeoutMs = 120_000): FileScratch {
  let scratch: Scratch | undefined;
  beforeAll(async () => {
    scratch = await makeScratch();
  });
  afterAll(async () => {
    await scratch?.cleanup();
  }, cleanupTimeoutMs);
  return {
    get scratch() {
      if (!scratch) throw new Error('fileScratch: the scratch dir is made in beforeAll; use it inside a hook or a test');
      return scratch;
    },
  };
}

// The set-up most CLI test files share: one private build of the CLI per file (beforeAll), and a scratch
// dir per test that is cleaned up after it (afterEach), even when the test failed. Call inside `describe`.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { buildCli } from './init.js';
import { makeScratch, type Scratch } from './scratch.js';

export interface CliSuite {
  /** The bundled runtime (set once beforeAll ran). */
  readonly bundle: string;
  /** A fresh scratch dir for the running test (its registry and state dirs too); cleaned up after it. */
  scratch(): Promise<Scratch>;
}

export function cliSuite(): CliSuite {
  let build: Scratch | undefined;
  let bundle: string | undefined;
  const current: Scratch[] = [];
  beforeAll(async () => {
    build = await makeScratch();
    bundle = buildCli(build);
  });
  afterEach(async () => {
    for (const s of current.splice(0).reverse()) await s.cleanup();
  });
  afterAll(async () => {
    await build?.cleanup();
  });
  return {
    get bundle() {
      if (!bundle) throw new Error('cliSuite: the CLI is built in beforeAll; use suite.bundle inside a test');
      return bundle;
    },
    async scratch() {
      const s = await makeScratch();
      current.push(s);
      return s;
    },
  };
}

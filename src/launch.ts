// The runtime's entry, lychd-crypt.js (CommonJS): answers `--version` itself (doctor and scripts ask it
// often; nothing else is loaded for it), else loads the bundle main.js through the code cache and runs
// the command. The only place that ends the process's work: main's exit code becomes the process's.
import path from 'node:path';
import { codeCacheDir, loadWithCodeCache } from './base/bundle/code-cache.js';
import { commandWord } from './cli/command-names.js';
import { VERSION } from './base/version.js';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // `lychd-crypt --version | true`: a reader gone is no error (base/output/stdio.ts says why).
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  process.stdout.write(`${VERSION}\n`);
} else {
  const bundle = path.join(__dirname, 'main.js');
  let loaded: { exports: unknown } | undefined;
  try {
    loaded = loadWithCodeCache(bundle, commandWord(argv), codeCacheDir());
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EACCES' && code !== 'EISDIR') throw e;
    // Said like the missing addon is: a message and what to do, not a stack trace.
    process.stderr.write(`lychd-crypt: the runtime is incomplete: ${bundle} cannot be read (${code}); reinstall it (lychd-crypt repair, or npm run build)\n`);
    process.exitCode = 1;
  }
  if (loaded) {
    void (loaded.exports as typeof import('./main.js')).main(argv).then((code) => {
      process.exitCode = code;
    });
  }
}

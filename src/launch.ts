// The runtime's entry, lychd-crypt.js (CommonJS): answers `--version` itself (doctor and scripts ask it
// often; nothing else is loaded for it), else loads the bundle main.js through the code cache and runs
// the command. The only place that ends the process's work: main's exit code becomes the process's.
import path from 'node:path';
import { codeCacheDir, loadWithCodeCache } from './core/code-cache.js';
import { commandWord } from './core/command-names.js';
import { VERSION } from './version.js';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  process.stdout.write(`${VERSION}\n`);
} else {
  const { exports } = loadWithCodeCache(path.join(__dirname, 'main.js'), commandWord(argv), codeCacheDir());
  void (exports as typeof import('./main.js')).main(argv).then((code) => {
    process.exitCode = code;
  });
}

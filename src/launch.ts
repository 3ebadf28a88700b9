// The runtime's entry: lychd-crypt.js (CommonJS) in the runtime directory, and the main script of the single
// executable application (scripts/build-sea.mjs). Answers `--version` itself (doctor and scripts ask it
// often; nothing else is loaded for it), else loads the bundle main.js through the code cache — from the
// directory, or from the executable's assets — and runs the command. The only place that ends the process's
// work: main's exit code becomes the process's.
import path from 'node:path';
import sea from 'node:sea';
import { assetBundle, codeCacheDir, loadWithCodeCache } from './base/bundle/code-cache.js';
import { runtimeReport } from './base/bundle/self-check.js';
import { commandWord } from './cli/command-names.js';
import { VERSION } from './base/version.js';

// In a single executable argv[1] is the executable again, as argv[1] is the script under node.
const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // `lychd-crypt --version | true`: a reader gone is no error (base/output/stdio.ts says why).
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  process.stdout.write(`${VERSION}\n`);
} else if (argv.length === 2 && argv[0] === '--version' && argv[1] === '--runtime') {
  // doctor's question (base/bundle/self-check.ts); the addon lies beside main.js or the executable.
  const report = runtimeReport(sea.isSea() ? path.dirname(process.execPath) : __dirname, VERSION, sea.isSea());
  process.stdout.write(`${JSON.stringify(report)}\n`);
  if (report.addon === null) process.exitCode = 1;
} else {
  const bundle = sea.isSea() ? assetBundle(process.execPath, (name) => sea.getAsset(name, 'utf8')) : path.join(__dirname, 'main.js');
  let loaded: { exports: unknown } | undefined;
  try {
    loaded = loadWithCodeCache(bundle, commandWord(argv), codeCacheDir());
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EACCES' && code !== 'EISDIR') throw e;
    // Said like the missing addon is: a message and what to do, not a stack trace.
    process.stderr.write(`lychd-crypt: the runtime is incomplete: ${typeof bundle === 'string' ? bundle : process.execPath} cannot be read (${code}); reinstall it (lychd-crypt repair, or npm run build)\n`);
    process.exitCode = 1;
  }
  if (loaded) {
    void (loaded.exports as typeof import('./main.js')).main(argv).then((code) => {
      process.exitCode = code;
    });
  }
}

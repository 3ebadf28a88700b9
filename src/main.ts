// Entry point of the runtime: the only place that calls process.exit. `--version` alone is answered here,
// before the command-line parser loads (doctor and scripts ask it often). The compile cache (where Node
// has one) is switched on before the CLI's code loads, so that code is what it caches.
import { enableCompileCache } from './core/compile-cache.js';
import { VERSION } from './version.js';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  process.stdout.write(`${VERSION}\n`);
} else {
  enableCompileCache();
  const { main } = await import('./cli.js');
  process.exitCode = await main(argv);
}

// Entry point of the runtime: the only place that calls process.exit.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));

// The runtime's code as one bundle, main.js: the command line (commander), every command and what they
// share. Its entry (src/launch.ts) loads it through V8's code cache and calls main.
export { main } from './cli/program.js';

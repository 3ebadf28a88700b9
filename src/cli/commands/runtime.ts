// The runtime's everyday commands, imported by the CLI as one group. In the bundle (main.js, CommonJS) a
// module imported statically runs at start and one behind import() only when first imported: these run at
// start, so they are compiled with the parser into every command's code cache, and a command finds them
// without a lazy step (measured 7 % faster for `snapshot` than one more dynamic import, when the runtime was
// ES modules). init, doctor, repair and verify stay behind their own dynamic imports: they and their
// dependencies (YAML, schema validation, device details, prompts, in vendor-*.js) load only for them.
export { runSnapshot } from './snapshot.js';
export { runList } from './list.js';
export { runRollback } from './rollback.js';
export { runRun } from './run.js';
export { runDelete } from './delete.js';
export { runPrune } from './prune.js';
export { runLabel, runPin, runUnpin } from './annotate.js';
export { runStatus } from './status.js';
export { runDb } from './db.js';
export { runCrypts } from './crypts.js';

// The runtime's everyday commands, imported by the CLI as one group: esbuild puts the code of modules by
// the set of entry points (and dynamic imports) that reach them into chunks, so one import point puts
// snapshot, list, rollback, … and the parser into a few large chunks instead of dozens of small ones. Node 20
// pays per ES module (resolve, read, compile), so `snapshot` loads a handful of files, not thirty. init,
// doctor, repair and verify stay behind their own dynamic imports: their dependencies (YAML, schema
// validation, device details, prompts, the PostgreSQL client's checks) are not loaded here.
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

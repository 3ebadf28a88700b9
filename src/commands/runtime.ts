// The runtime's everyday commands, behind ONE lazy import: esbuild groups code by the set of dynamic
// imports that reach it, so one import point puts snapshot, list, rollback, … and what they share into a
// few large chunks instead of dozens of small ones. Node 20 pays per ES module (resolve, read, compile),
// so `snapshot` loads a handful of files, not thirty. init, doctor, repair and verify stay separate: their
// dependencies (YAML, schema validation, device details, the PostgreSQL client) are not loaded here.
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

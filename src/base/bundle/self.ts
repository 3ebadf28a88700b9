// How this runtime runs itself again (root re-running a command as a rootless crypt's owner, the owner's
// helper in its user namespace): node and the runtime's entry script, never anything else this process
// happens to be (a test runner, a REPL).
import path from 'node:path';

/** [node, entry script] of the running runtime, or null when this process is not the lychd-crypt runtime. */
export function selfArgv(): [string, string] | null {
  const script = process.argv[1];
  if (!script || !/^lychd-crypt(\.js)?$/.test(path.basename(script))) return null;
  return [process.execPath, script];
}

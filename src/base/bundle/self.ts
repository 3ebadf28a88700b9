// How this runtime runs itself again (root re-running a command as a rootless crypt's owner, the owner's
// helper in its user namespace): the single executable alone, or node and the runtime's entry script — never
// anything else this process happens to be (a test runner, a REPL).
import path from 'node:path';
import sea from 'node:sea';

/** The program that runs this runtime again, or null when this process is not the lychd-crypt runtime. */
export function selfArgv(isSea = sea.isSea(), execPath = process.execPath, script = process.argv[1]): string[] | null {
  if (isSea) return [execPath]; // its argv[1] is the executable again, not a script
  return script && /^lychd-crypt(\.js)?$/.test(path.basename(script)) ? [execPath, script] : null;
}

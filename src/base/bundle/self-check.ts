// `lychd-crypt --version --runtime` (doctor asks it of the installed command): the version, the Node.js it
// runs on, whether it is the single executable, and whether koffi's addon beside it loads — which `--version`
// alone never loads. One line of JSON; the entry (src/launch.ts) answers it without loading the bundle.
import path from 'node:path';

export interface RuntimeReport {
  version: string;
  /** process.version of the Node.js running it. */
  node: string;
  /** Whether it is the single executable application (scripts/build-sea.mjs). */
  sea: boolean;
  /** koffi's version as its addon reports it, or null when the addon cannot be loaded (then `error` says why). */
  addon: string | null;
  error?: string;
}

/** Loads the addon `dir/koffi.node` as main.js would (process.dlopen) and says what runs. */
export function runtimeReport(dir: string, version: string, sea: boolean): RuntimeReport {
  const base = { version, node: process.version, sea };
  const mod = { exports: {} as { version?: unknown } };
  try {
    process.dlopen(mod, path.join(dir, 'koffi.node'));
    return { ...base, addon: String(mod.exports.version ?? 'unknown') };
  } catch (e) {
    return { ...base, addon: null, error: (e as Error).message };
  }
}

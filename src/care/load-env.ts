// Gathers what the checks need, without changing anything and without the lock. The crypt's definition
// comes from the registry (so it is known while the crypt is unmounted too), never from the crypt itself.
import { exists } from '../base/sys/fs.js';
import type { Runner } from '../base/runner.js';
import type { OpenCrypt } from '../base/crypt/open.js';
import { mountAt } from '../install/detect/findmnt.js';
import { VERSION } from '../base/version.js';
import { identifyMount } from '../base/btrfs/fs-identity.js';
import { viewFromConfig, type DoctorEnv } from './doctor-env.js';

export async function loadDoctorEnv(runner: Runner, crypt: Pick<OpenCrypt, 'shown' | 'config' | 'paths'> & Partial<Pick<OpenCrypt, 'entry'>>): Promise<DoctorEnv> {
  const root = crypt.shown;
  const config = crypt.config;
  const mounted = await mountAt(runner, root);
  // Which filesystem that is, against the registered UUID (sysfs and mountinfo: no privilege needed).
  const registered = crypt.entry?.identity.fsUuid;
  const identity = mounted && registered && config.method !== 'native' ? await identifyMount(config, registered, root) : null;
  return { root, paths: crypt.paths, runner, config, configError: null, record: null, view: viewFromConfig(config), mounted, version: VERSION, systemd: await exists('/run/systemd/system'), identity };
}

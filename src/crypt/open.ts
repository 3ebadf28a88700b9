// Opens an initialised crypt for the runtime commands: finds its path and reads its configuration.
import path from 'node:path';
import type { Config } from '../config/config.js';
import { CryptError, UsageError } from '../core/errors.js';
import { exists, readJsonIfExists } from '../core/fs.js';
import type { CommandContext } from '../commands/context.js';
import { detectTargetUser } from '../detect/user.js';
import { defaultCryptPath } from './locate.js';
import { cryptPaths, type CryptPaths } from './paths.js';

export interface OpenCrypt {
  paths: CryptPaths;
  config: Config;
}

export async function resolveCryptPath(ctx: CommandContext): Promise<string> {
  if (ctx.globals.crypt) return path.resolve(ctx.globals.crypt);
  const user = await detectTargetUser(ctx.runner, ctx.globals.user, ctx.env);
  return defaultCryptPath(user, ctx.env, process.getuid?.() ?? 0);
}

export async function openCrypt(ctx: CommandContext): Promise<OpenCrypt> {
  const root = await resolveCryptPath(ctx);
  const paths = cryptPaths(root);
  const config = await readJsonIfExists<Config>(paths.config);
  if (config) return { paths, config };
  if (await exists(paths.mountRecord)) {
    throw new CryptError(`the crypt at ${root} is not mounted`, { hint: 'Run `lychd-crypt repair` to mount it again.' });
  }
  throw new UsageError(`no crypt at ${root}`, { hint: 'Run `lychd-crypt init`, or pass --crypt PATH (or LYCHD_CRYPT).' });
}

// The answers file (version 1): the schema every key is checked against, before any side effect.
import { z } from 'zod';
import { hasControlChars } from '../../base/output/text.js';
import { SHELL_SENSITIVE, shellSensitiveChars } from '../../base/output/shell-chars.js';
import { parseSize } from '../../model/units.js';
import { retentionAnswers, scheduleAnswers, spaceAnswers } from './set-and-forget.js';
import { hooksAnswers } from './hooks.js';
import { replicateAnswers } from './replicate.js';
import { DEFAULTS } from './defaults.js';

/** Every string an answers file gives us: a control character (a newline in a unit file!) is refused. */
const text = (error: string) =>
  z.string({ error }).refine((s) => !hasControlChars(s), { error: 'expected plain text: control characters (newlines, escapes, bidi overrides) are not allowed' });

const absPath = text('expected an absolute path')
  .refine((p) => p.startsWith('/'), { error: 'expected an absolute path (starting with /)' });
/**
 * A value that ends up in the command line pg_ctl hands to /bin/sh (src/base/output/shell-chars.ts): the crypt
 * path (PGDATA, verify's clone), postgres.dir, postgres.bin, the state directory (pg_ctl's log), a socket
 * directory. A crypt there could never start its database, and a `$(…)` in it would run as the server's user.
 */
const forShell = <T extends z.ZodType<string>>(s: T) =>
  s.refine((v) => !SHELL_SENSITIVE.test(v), {
    error: (iss) => `expected a path without characters /bin/sh interprets (pg_ctl starts PostgreSQL through it); it holds ${shellSensitiveChars(String(iss.input))}`,
  });
const nonEmpty = text('expected a string').min(1, { error: 'expected a non-empty string' });
const userRef = z.union([nonEmpty, z.number().int().nonnegative()], {
  error: 'expected a user name or a numeric uid',
});
/** mkfs.btrfs refuses images below about 114M (DUP metadata + system chunks); round up. */
export const MIN_IMAGE_BYTES = 128 * 2 ** 20;
const size = z
  .union([z.string(), z.number()], { error: 'expected a size like 20G' })
  .refine((s) => parseSize(s) !== undefined, { error: 'expected a size like 20G' })
  .refine((s) => (parseSize(s) ?? MIN_IMAGE_BYTES) >= MIN_IMAGE_BYTES, {
    error: 'expected at least 128M (mkfs.btrfs needs about 114M; a bare number counts bytes)',
  });
const argv = z.array(nonEmpty, { error: 'expected a command as a list of words, e.g. [systemctl, stop, x]' }).min(1, {
  error: 'expected at least the program name',
});

const service = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('pg_ctl') }),
    z.strictObject({ kind: z.literal('systemd'), unit: nonEmpty, user: z.boolean().default(DEFAULTS['postgres.service.user']) }),
    z.strictObject({ kind: z.literal('command'), stop: argv, start: argv }),
    z.strictObject({ kind: z.literal('container') }),
    z.strictObject({ kind: z.literal('none') }),
  ],
  { error: 'expected kind: pg_ctl, systemd, command, container or none' },
);

/** A Podman container or secret name (podman's own grammar); it goes to podman as one argument, never to a shell. */
const podmanName = (what: string) =>
  text(`expected a ${what} name`).regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$/, { error: `expected a ${what} name: letters, digits, _ . - (podman's names)` });

const container = z.strictObject({
  engine: z.literal('podman', { error: 'expected engine: podman (the only engine)' }).default('podman'),
  name: podmanName('container'),
});

export const answersSchema = z.strictObject({
  version: z.literal(1, { error: 'expected version: 1' }),
  crypt: z
    .strictObject({
      path: forShell(absPath).optional(),
      user: userRef.optional(),
      /** Extension: the crypt's name in the registry (default: the user's name). */
      name: z
        .string({ error: 'expected a name' })
        .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, { error: 'expected a plain name: lower-case letters, digits, - and _ (at most 64)' })
        .optional(),
      /** Extension: system | rootless (default: rootless when PostgreSQL is the user's own, else system). */
      profile: z.enum(['system', 'rootless']).optional(),
    })
    .optional(),
  /** Extension: where root keeps crypt definitions and its state (tests point these into scratch dirs). */
  registry: z.strictObject({ dir: absPath.optional(), state: forShell(absPath).optional() }).optional(),
  method: z.enum(['auto', 'native', 'partition', 'loopback']).default(DEFAULTS.method),
  /** preallocate: fallocate the image (default: when the host has room for it); false: sparse. */
  loopback: z.strictObject({ image: absPath.optional(), size: size.optional(), preallocate: z.boolean().optional() }).optional(),
  partition: z.strictObject({ device: absPath, wipe: z.boolean().default(DEFAULTS['partition.wipe']) }).optional(),
  filesystem: z
    .strictObject({
      label: text('expected a label (text)').max(255, { error: 'expected a label of at most 255 characters' }).optional(),
      mountOptions: z
        .array(nonEmpty.refine((o) => !/[,\s]/.test(o), { error: 'expected one mount option per item (no commas or spaces)' }))
        .optional(),
    })
    .optional(),
  persist: z
    .strictObject({
      via: z.enum(['systemd', 'fstab', 'none']).optional(),
      fstab: absPath.optional(),
      unitDir: absPath.optional(),
    })
    .optional(),
  install: z.strictObject({ binDir: absPath.optional() }).optional(),
  postgres: z
    .strictObject({
      /** Extension: `enabled: false` when the crypt holds no database (snapshots use mode none). */
      enabled: z.boolean().default(DEFAULTS['postgres.enabled']),
      dir: forShell(
        nonEmpty.refine((d) => !d.startsWith('/') && !d.split('/').includes('..'), {
          error: 'expected a relative path inside active/',
        }),
      ).optional(),
      osUser: userRef.optional(),
      connection: z
        .strictObject({
          // A socket directory (absolute: the server and root must agree on it) or a host name.
          host: forShell(
            nonEmpty.refine((h) => h.startsWith('/') || !/[/~]|^\./.test(h), {
              error: 'expected an absolute socket directory (starting with /) or a host name',
            }),
          ).optional(),
          port: z
            .number({ error: 'expected a port number from 1 to 65535' })
            .int({ error: 'expected a port number from 1 to 65535' })
            .min(1, { error: 'expected a port number from 1 to 65535' })
            .max(65535, { error: 'expected a port number from 1 to 65535' })
            .optional(),
          user: nonEmpty.optional(),
          database: nonEmpty.optional(),
          /** Where the password is (never the password): a file of the caller's, 0600 like ~/.pgpass. */
          passwordFile: absPath.optional(),
          /** The Podman secret holding the password (read from the running container). */
          passwordSecret: podmanName('secret').optional(),
        })
        .optional(),
      bin: forShell(absPath).optional(),
      service: service.optional(),
      /** PostgreSQL in the owner's rootless container: its name; image and id mapping are read from podman. */
      container: container.optional(),
      /** The live WAL on the host's own filesystem (docs/wal.md): the root of this crypt's WAL generations. */
      walDir: forShell(absPath).refine((p) => p !== '/' && !p.split('/').includes('..'), { error: 'expected an absolute path without .. (not /)' }).optional(),
    })
    .optional(),
  // Set and forget (src/install/answers/set-and-forget.ts): retention policy, free-space floor, scheduled runs.
  retention: retentionAnswers.optional(),
  space: spaceAnswers.optional(),
  schedule: scheduleAnswers.optional(),
  hooks: hooksAnswers.optional(),
  /** Off-host copies (src/install/answers/replicate.ts). */
  replicate: replicateAnswers.optional(),
});

export type Answers = z.output<typeof answersSchema>;
export type AnswersInput = z.input<typeof answersSchema>;

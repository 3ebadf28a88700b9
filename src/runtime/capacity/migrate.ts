// The migration operation (Method B → A) on an opened, locked crypt (root): facts → plan → journal →
// steps (btrfs replace online, grow, persistence, detach) → the registry's new definition → clear. The
// image stays; the command removes it once doctor finds the crypt healthy on the device. Finishing an
// interrupted migration runs the same steps from the journal (each sees what is done already).
import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { randomHex } from '../../base/ids.js';
import { CryptError } from '../../base/errors.js';
import type { OpContext } from '../../base/context.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { writeEntry } from '../../base/registry/store.js';
import { readDevices, readUsedBytes } from '../../base/btrfs/devices.js';
import { mountAt } from '../../install/detect/findmnt.js';
import { detectDevice } from '../../install/detect/block.js';
import { lineReporter, silentReporter } from '../../install/steps/reporter.js';
import type { Probe, StepActions } from '../../install/steps/module.js';
import type { CapacityStep } from '../../model/steps.js';
import type { Config } from '../../model/config.js';
import { planMigrate, type MigrateFacts, type MigratePlan } from './migrate-plan.js';
import { clearCapacityJournal, readCapacityJournal, writeCapacityJournal, type MigrateEntry } from './journal.js';
import { applyCapacitySteps, describeCapacityStep, probeCapacitySteps } from './steps.js';

export interface MigrateReport {
  plan: MigratePlan;
  steps: { kind: CapacityStep['kind']; actions: StepActions; probe?: Probe; status?: string; detail?: string }[];
  finished: string[];
  dryRun: boolean;
  device: string;
  image: string;
  usedBytes: number;
}

async function readMigrateFacts(ctx: OpContext, config: Config, device: string, from: { image: string; loopDevice: string } | null): Promise<MigrateFacts & { usedBytes: number }> {
  const where = config.crypt.path;
  const m = await mountAt(ctx.runner, where);
  if (!m || m.fstype !== 'btrfs') throw new CryptError(`the crypt "${config.crypt.name}" is not mounted at ${where}`, { hint: 'Run `lychd-crypt repair` to mount it first.' });
  const devices = await readDevices(ctx.runner, where);
  const loopDevice = from?.loopDevice ?? m.source;
  const image = from?.image ?? m.backingFile ?? '';
  if (!from && (!m.backingFile || m.backingFile !== (config.loopback ? await realpath(config.loopback.image).catch(() => config.loopback!.image) : null))) {
    throw new CryptError(`the crypt at ${where} is mounted from ${m.source}, not from its registered image ${config.loopback?.image ?? '(none)'}`, { hint: 'Run `lychd-crypt doctor` to see what is mounted there.' });
  }
  const target = await realpath(device).catch(() => device);
  const ours = devices.find((d) => d.path === loopDevice || d.path === target) ?? (devices.length === 1 ? devices[0] : undefined);
  if (!ours || devices.length !== 1) throw new CryptError(`Btrfs at ${where} spans ${devices.length} devices: migrate moves a crypt of one device only`);
  return {
    mountPoint: where,
    devid: ours.devid,
    fsSize: ours.size,
    loopDevice,
    image,
    device: { ...(await detectDevice(ctx.runner, target)), path: target },
    systemdRunning: existsSync('/run/systemd/system'),
    usedBytes: await readUsedBytes(ctx.runner, where),
  };
}

/** The registry records the crypt on its partition (the identity is unchanged: the same filesystem UUID). */
async function recordConfig(crypt: OpenCrypt, config: Config): Promise<void> {
  crypt.entry.config = config;
  crypt.config = config;
  await writeEntry(config.registry.dir, crypt.entry);
}

async function run(ctx: OpContext, crypt: OpenCrypt, plan: MigratePlan, entry: MigrateEntry, quiet: boolean) {
  const progress = quiet ? undefined : (ctx.activity ? ctx.activity(`migrating onto ${entry.device}`) : undefined);
  await writeCapacityJournal(crypt.config, entry);
  try {
    const r = await applyCapacitySteps(plan.steps, { runner: ctx.runner, crypt, progress: progress ? (t) => progress.update(t) : undefined }, quiet ? silentReporter : lineReporter((l) => ctx.log.info(l)), 'migrate');
    await recordConfig(crypt, plan.config);
    await clearCapacityJournal(crypt.config);
    progress?.done();
    return r;
  } catch (e) {
    progress?.fail();
    throw e;
  }
}

/** Finishes a migration a crash interrupted (from root's capacity journal); the lines say what was done. */
export async function finishMigrate(ctx: OpContext, crypt: OpenCrypt, entry: MigrateEntry): Promise<string[]> {
  const facts = await readMigrateFacts(ctx, crypt.config, entry.device, { image: entry.image, loopDevice: entry.loopDevice });
  // The registry may say loopback still (or partition already, when only the journal was left): the same plan.
  const base: Config = crypt.config.method === 'loopback' ? crypt.config : { ...crypt.config, method: 'loopback', loopback: { image: entry.image, sizeBytes: facts.fsSize }, partition: null };
  const plan = planMigrate(base, crypt.entry.identity.fsUuid, facts, { wipe: entry.wipe, finishing: true });
  await run(ctx, crypt, plan, entry, true);
  return [`finished the interrupted migration of ${crypt.shown} onto ${entry.device}; the image ${entry.image} is kept: remove it once \`lychd-crypt doctor\` is healthy`];
}

export async function migrateCrypt(ctx: OpContext, crypt: OpenCrypt, opts: { device: string; wipe: boolean; dryRun: boolean }): Promise<MigrateReport> {
  const finished: string[] = [];
  if (!opts.dryRun) {
    const pending = await readCapacityJournal(crypt.config);
    if (pending?.op === 'migrate') {
      const lines = await finishMigrate(ctx, crypt, pending);
      const facts = await readMigrateFacts(ctx, crypt.config, pending.device, { image: pending.image, loopDevice: pending.loopDevice });
      return { plan: { steps: [], config: crypt.config, notes: [] }, steps: [], finished: lines, dryRun: false, device: pending.device, image: pending.image, usedBytes: facts.usedBytes };
    }
    if (pending) finished.push(...(await (await import('./resize.js')).finishResize(ctx, crypt)));
  }
  const facts = await readMigrateFacts(ctx, crypt.config, opts.device, null);
  const plan = planMigrate(crypt.config, crypt.entry.identity.fsUuid, facts, { wipe: opts.wipe });
  const report = { plan, finished, device: facts.device.path, image: facts.image, usedBytes: facts.usedBytes };
  if (opts.dryRun) {
    const probes = await probeCapacitySteps(plan.steps, { runner: ctx.runner, crypt });
    return { ...report, dryRun: true, steps: plan.steps.map((s, i) => ({ kind: s.kind, actions: describeCapacityStep(s), probe: probes[i] })) };
  }
  const entry: MigrateEntry = { op: 'migrate', id: randomHex(6), startedAt: new Date().toISOString(), image: facts.image, loopDevice: facts.loopDevice, device: facts.device.path, wipe: opts.wipe };
  const r = await run(ctx, crypt, plan, entry, false);
  return { ...report, dryRun: false, steps: plan.steps.map((s, i) => ({ kind: s.kind, actions: describeCapacityStep(s), status: r.steps[i]?.status, detail: r.steps[i]?.detail })) };
}

// `lychd-crypt restore`: the copies a plan names are received from the target straight into snapshots/
// (a read-only subvolume cannot be moved once received), journaled (`op: 'restore'`): each is checked
// (read-only, received UUID = its origin) and only then gets its metadata — until then it is an incomplete
// snapshot that list ignores and recovery removes. Then the journal is cleared and the rollback machinery,
// unchanged and with its own journal, makes the last one active/: PostgreSQL starts on it with its normal
// crash recovery from the snapshot instant.
import path from 'node:path';
import { CryptError, RefusedError } from '../../base/errors.js';
import type { OpContext } from '../../base/context.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { clearJournal, writeJournal, type JournalEntry } from '../../base/crypt/journal.js';
import { faultPoint } from '../../base/fault.js';
import { randomHex } from '../../base/ids.js';
import { btrfsFsUuid, closeDir, openDir, subvolInfo } from '../../base/sys/fd.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import { subvolumeDelete } from '../../base/btrfs/subvolume.js';
import { VERSION } from '../../base/version.js';
import { humanSize } from '../../model/units.js';
import { readMeta, snapshotPath, writeMeta, type SnapshotMeta } from '../snapshots/meta.js';
import { receiveInto } from '../replicate/receiver/receive.js';
import type { Store } from '../replicate/receiver/store.js';
import type { ReplicaTarget } from '../replicate/stream/target.js';
import type { RestorePlan } from './plan.js';

type RestoreEntry = Extract<JournalEntry, { op: 'restore' }>;

export interface Restored {
  name: string;
  kind: 'full' | 'incremental';
  bytes: number;
}

/** The metadata a restored snapshot gets: the original's, with this host's subvolume facts and where it came from. */
function restoredMeta(meta: SnapshotMeta, info: { uuid: string; generation: number }, from: string, originUuid: string): SnapshotMeta {
  return { ...meta, btrfs: { uuid: info.uuid, generation: info.generation }, restored: { from, at: new Date().toISOString(), originUuid, by: VERSION } };
}

/**
 * A leftover of an earlier, interrupted restore of this very snapshot (a subvolume without metadata that
 * was receiving it) is removed; anything else by that name is not ours to touch.
 */
async function clearWay(crypt: OpenCrypt, ctx: OpContext, name: string): Promise<void> {
  const p = snapshotPath(crypt.paths, name);
  if (!(await isSubvolume(p))) return;
  if (await readMeta(crypt.paths, name).catch(() => undefined)) throw new RefusedError(`snapshots/${name} exists already; nothing was received`);
  const d = await openDir(p);
  const info = await subvolInfo(d).finally(() => closeDir(d));
  if (info.readonly && info.receivedUuid !== null) throw new RefusedError(`snapshots/${name} is a snapshot without metadata; nothing was received`, { hint: 'Run `lychd-crypt repair` (it removes incomplete snapshots), then restore again.' });
  await subvolumeDelete(ctx.runner, p);
  ctx.log.info(`removed snapshots/${name}, half-received by an interrupted restore`);
}

/** Receives every step of the plan into snapshots/; returns what was received. */
export async function receivePlan(crypt: OpenCrypt, ctx: OpContext, target: ReplicaTarget, plan: RestorePlan, opts: { idleTimeoutMs: number; journal: boolean }): Promise<Restored[]> {
  const { paths } = crypt;
  const entry: RestoreEntry = {
    op: 'restore',
    id: `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}Z-${randomHex(4)}`,
    startedAt: new Date().toISOString(),
    from: target.shown,
    names: plan.steps.map((s) => s.copy.name),
    received: [],
    phase: 'receiving',
  };
  // A rootless crypt's journal is its owner's: there the restore is not journaled (what a crash leaves is an
  // incomplete snapshot, which the owner's repair removes, as does the next restore).
  const journal = (): Promise<void> => (opts.journal ? writeJournal(paths, entry) : Promise.resolve());
  await journal();
  faultPoint('restore:after-journal');
  const dir = await openDir(paths.snapshots);
  const store: Store = { dir, shown: path.join(crypt.shown, 'snapshots'), fsUuid: await btrfsFsUuid(dir) };
  const out: Restored[] = [];
  try {
    for (const step of plan.steps) {
      const name = step.copy.name;
      await clearWay(crypt, ctx, name);
      const a = (ctx.activity ?? (() => ({ update: () => {}, done: () => {}, fail: () => {} })))(`receiving ${name} from ${target.shown}${step.parent ? ` (against ${step.parent.name})` : ''}`);
      const opened = await target.open(step.copy, step.parent);
      let r;
      try {
        const header = opened.header;
        if (header.origin.uuid !== step.copy.originUuid || header.snapshot.name !== name) throw new CryptError(`${target.shown} sent ${header.snapshot.name} (${header.origin.uuid}) for ${name} (${step.copy.originUuid})`);
        r = await receiveInto(store, ctx.runner, { name, origin: step.copy.originUuid, parent: step.parent?.originUuid ?? null }, header, opened.stream, { ...opts, sidecar: false });
        await opened.done;
      } catch (e) {
        opened.abort();
        a.fail((e as Error).message.split('\n')[0]);
        throw e;
      }
      faultPoint('restore:after-receive');
      await writeMeta(paths, restoredMeta(opened.header.snapshot, r, target.shown, step.copy.originUuid));
      entry.received.push(name);
      await journal();
      out.push({ name, kind: step.parent ? 'incremental' : 'full', bytes: r.bytes });
      a.done(humanSize(r.bytes));
    }
  } finally {
    await closeDir(dir);
  }
  if (opts.journal) await clearJournal(paths);
  return out;
}

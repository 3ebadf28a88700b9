// The journal entries of the operations issue 29 journals: a guarded run's rollback (carrying the run's
// intent), a removal of snapshots (delete, prune, the scheduled run) and a metadata change (pin, unpin,
// label). What the tool writes passes the schema; a name that could climb out of snapshots/ does not.
import { describe, expect, it } from 'vitest';
import { parseJournal } from '../../src/base/crypt/journal-schema.js';

const at = '2026-11-23T20:55:12.000Z';
const intent = { id: 'b1f0', command: ['./migrate.sh'], snapshot: '20261123T205500Z-migrate', dbWasRunning: true, outcome: 'failed', failure: '--check false failed: it exited with status 1' };
const runRollback = {
  op: 'run-rollback',
  id: '20261123T205512Z-ab12',
  startedAt: at,
  target: '20261123T205500Z-migrate',
  staging: '.staging-rollback-20261123T205512Z-ab12',
  preRollbackName: '20261123T205512Z-pre-rollback',
  phase: 'staged',
  wasRunning: true,
  stagedUuid: 'c2aee076-3677-419d-b606-0ac371df4d2f',
  run: intent,
};

describe('journal entries of the guarded rollback, delete and annotate', () => {
  it('accepts what the tool writes', () => {
    expect(parseJournal(runRollback)).toEqual({ entry: runRollback });
    expect(parseJournal({ ...runRollback, run: { ...intent, outcome: 'unknown', failure: null } })).toHaveProperty('entry');
    expect(parseJournal({ op: 'delete', id: 'a', startedAt: at, phase: 'started', by: 'prune', names: ['20261123T205500Z', '20261123T205501Z-x'] })).toHaveProperty('entry');
    expect(parseJournal({ op: 'annotate', id: 'a', startedAt: at, phase: 'started', name: '20261123T205500Z', pinned: true })).toHaveProperty('entry');
    expect(parseJournal({ op: 'annotate', id: 'a', startedAt: at, phase: 'started', name: '20261123T205500Z', label: null })).toHaveProperty('entry');
    const run = { op: 'run', id: 'a', startedAt: at, snapshot: 's', command: ['true'], onFailure: 'rollback', phase: 'failed', failure: 'the command exited with status 7', dbWasRunning: false };
    expect(parseJournal(run)).toEqual({ entry: run });
  });

  it('refuses an entry it must not act on', () => {
    expect(parseJournal({ ...runRollback, run: { ...intent, snapshot: '../../etc' } })).toHaveProperty('problem');
    expect(parseJournal({ ...runRollback, run: { ...intent, outcome: 'maybe' } })).toHaveProperty('problem');
    const { run: _run, ...withoutIntent } = runRollback;
    expect(parseJournal(withoutIntent)).toHaveProperty('problem');
    expect(parseJournal({ op: 'delete', id: 'a', startedAt: at, phase: 'started', by: 'prune', names: ['../active'] })).toHaveProperty('problem');
    expect(parseJournal({ op: 'delete', id: 'a', startedAt: at, phase: 'started', by: 'rm -rf', names: [] })).toHaveProperty('problem');
    expect(parseJournal({ op: 'annotate', id: 'a', startedAt: at, phase: 'started', name: 'x/y', pinned: true })).toHaveProperty('problem');
  });
});

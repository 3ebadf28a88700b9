// When a cut-off backup recovery gets its backup_label back (src/base/pg/backup-recovery.ts): only the
// same backup pg_control is still recovering, never a stale label of an old one.
import { describe, expect, it } from 'vitest';
import { interruptedBackupRecovery, labelStart, parseBackupRecovery } from '../../src/base/pg/backup-recovery.js';

// pg_controldata 15 of the state test/powercut/wal-rollback.test.ts found (trimmed).
const CUT = [
  'Database cluster state:               in archive recovery',
  "Latest checkpoint's REDO location:    0/2000028",
  'Backup start location:                0/2000028',
  'Backup end location:                  0/0',
  'End-of-backup record required:        yes',
].join('\n');
const DONE = CUT.replace('in archive recovery', 'in production').replace('0/2000028\nBackup end', '0/0\nBackup end').replace('required:        yes', 'required:        no');
const LABEL = 'START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\nCHECKPOINT LOCATION: 0/2000060\nBACKUP METHOD: streamed\n';

describe('backup recovery cut off', () => {
  it('reads pg_controldata and the label', () => {
    expect(parseBackupRecovery(CUT)).toEqual({ state: 'in archive recovery', backupStart: '0/2000028', endRequired: true });
    expect(parseBackupRecovery(DONE)).toEqual({ state: 'in production', backupStart: null, endRequired: false });
    expect(labelStart(LABEL)).toBe('0/2000028');
    expect(labelStart('nonsense')).toBeNull();
  });

  it('puts the label back only for the backup pg_control is still recovering', () => {
    const cut = parseBackupRecovery(CUT);
    expect(interruptedBackupRecovery(cut, LABEL, false)).toBe(true);
    expect(interruptedBackupRecovery({ ...cut, state: 'in crash recovery' }, LABEL, false)).toBe(true);
    // A label is there already, or none was kept.
    expect(interruptedBackupRecovery(cut, LABEL, true)).toBe(false);
    expect(interruptedBackupRecovery(cut, null, false)).toBe(false);
    // Finished (or a server that crashed later, in production): the old label is history.
    expect(interruptedBackupRecovery(parseBackupRecovery(DONE), LABEL, false)).toBe(false);
    expect(interruptedBackupRecovery({ ...cut, state: 'in production' }, LABEL, false)).toBe(false);
    // Another backup than the one the old label names.
    expect(interruptedBackupRecovery(cut, LABEL.replace('0/2000028', '0/5000028'), false)).toBe(false);
  });
});

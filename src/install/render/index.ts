// The pure renderers: every mount artefact (fstab line, systemd unit, its name, the mount record) from one MountSpec.
export { type MountSpec, FSTAB_TAG, mountSpecFor } from '../../model/mount-spec.js';
export { type FstabEntry, renderFstabLine, parseFstab, fstabEntriesFor, upsertFstabLine, escapeFstabField, unescapeFstabField } from './fstab.js';
export { unitNameForPath, escapeSystemdPath } from './unit-name.js';
export { renderMountUnit } from './mount-unit.js';
export { type MountRecord, renderMountRecord, mountRecordFor } from './mount-record.js';

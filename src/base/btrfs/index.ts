// The Btrfs wrappers in one import for callers (ritual, rollback, delete, doctor).
export * from './subvolume.js';
export * from './probe.js';
export * from './qgroup.js';

// The tool version, stamped into snapshot metadata and compared by doctor with the installed runtime.
// package.json holds it (one place: npm pack, the Debian package and CHANGELOG.md's check read it there).
import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;

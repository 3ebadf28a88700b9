// The tool version, stamped into snapshot metadata and compared by doctor with the installed runtime.
export const VERSION = '0.1.0';

// Where the Debian package puts the runtime (/usr/bin/lychd-crypt links to it). When it exists, init and
// repair link the crypt's runtime command to it instead of copying their own bundle.
export const PACKAGED_RUNTIME = '/usr/lib/lychd-crypt/lychd-crypt.js';

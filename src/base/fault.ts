// Fault injection for crash tests: LYCHD_CRYPT_FAULT=<point> makes the process die by SIGKILL right
// after the named step, as a power cut or `kill -9` would. Off unless the variable names the point.

export function faultPoint(point: string, env: NodeJS.ProcessEnv = process.env): void {
  const wanted = env.LYCHD_CRYPT_FAULT;
  if (wanted && wanted.split(',').includes(point)) process.kill(process.pid, 'SIGKILL');
}

/**
 * Failure injection for error-path tests: LYCHD_CRYPT_FAIL=<point> makes the named step throw, as a
 * failing tool or syscall would (the process goes on to clean up). Off unless the variable names it.
 */
export function failPoint(point: string, env: NodeJS.ProcessEnv = process.env): void {
  const wanted = env.LYCHD_CRYPT_FAIL;
  if (wanted && wanted.split(',').includes(point)) throw new Error(`injected failure at ${point}`);
}

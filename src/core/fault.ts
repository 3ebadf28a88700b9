// Fault injection for crash tests: LYCHD_CRYPT_FAULT=<point> makes the process die by SIGKILL right
// after the named step, as a power cut or `kill -9` would. Off unless the variable names the point.

export function faultPoint(point: string, env: NodeJS.ProcessEnv = process.env): void {
  const wanted = env.LYCHD_CRYPT_FAULT;
  if (wanted && wanted.split(',').includes(point)) process.kill(process.pid, 'SIGKILL');
}

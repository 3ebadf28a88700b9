// PrivateTmp= hides /tmp and /var/tmp from the scheduled units: it is left out when the crypt, the runtime,
// the state directory or the Prometheus file lives there (systemd fails such a unit with 226/NAMESPACE).
import { describe, expect, test } from 'vitest';
import { renderScheduleUnits, underTmp, type ScheduleSpec } from '../../src/install/render/schedule-units.js';

const spec = (o: Partial<ScheduleSpec>): ScheduleSpec => ({
  cryptPath: '/srv/lychd',
  schedule: { calendar: 'hourly', verify: 'daily' },
  bin: '/usr/local/bin/lychd-crypt',
  stateDirs: ['/var/lib/lychd-crypt/lychd'],
  prometheus: null,
  ...o,
});
const services = (s: ScheduleSpec) => renderScheduleUnits(s).filter((u) => u.name.endsWith('.service')).map((u) => u.content);

describe('PrivateTmp', () => {
  test('on by default', () => {
    for (const c of services(spec({}))) expect(c).toMatch(/^PrivateTmp=yes$/m);
  });
  test.each([
    { cryptPath: '/tmp/x/crypt' },
    { bin: '/var/tmp/bin/lychd-crypt' },
    { stateDirs: ['/tmp/state/lychd'] },
    { prometheus: '/tmp/prom/lychd.prom' },
  ])('off when a path the run needs is under a temporary directory: %j', (o) => {
    for (const c of services(spec(o))) {
      expect(c).not.toContain('PrivateTmp');
      expect(c).not.toContain('@');
    }
  });
  test('underTmp', () => {
    expect(['/tmp', '/tmp/a', '/var/tmp/b'].map(underTmp)).toEqual([true, true, true]);
    expect(['/tmpfoo', '/var/tmpx/a', '/srv/tmp'].map(underTmp)).toEqual([false, false, false]);
  });
});

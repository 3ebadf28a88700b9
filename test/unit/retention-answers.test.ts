// The retention:, space: and schedule: answers sections: validation with locations, resolution, round trip.
import { describe, expect, test } from 'vitest';
import { parseAnswers } from '../../src/install/answers/load.js';
import { AnswersError } from '../../src/base/errors.js';
import { resolveSetAndForget, setAndForgetAnswers } from '../../src/install/answers/set-and-forget.js';
import { parseFloor } from '../../src/model/settings.js';
import { toPolicy } from '../../src/runtime/retention/policy.js';

function issues(yaml: string): string[] {
  try {
    parseAnswers(yaml, 'a.yaml');
  } catch (e) {
    if (e instanceof AnswersError) return e.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe('set-and-forget answers', () => {
  test('a full example parses and resolves', () => {
    const a = parseAnswers(
      ['version: 1', 'retention: { keepLast: 5, within: 2d, hourly: 24, daily: 7, weekly: 4, monthly: 6, yearly: 1 }', 'space: { minFree: 15% }', 'schedule: { calendar: "*-*-* *:00/30", verify: daily }'].join('\n'),
      'a.yaml',
    );
    const r = resolveSetAndForget(a);
    expect(r).toEqual({
      retention: { keepLast: 5, within: '2d', hourly: 24, daily: 7, weekly: 4, monthly: 6, yearly: 1 },
      space: { minFree: { percent: 15 } },
      schedule: { calendar: '*-*-* *:00/30', verify: 'daily' },
    });
    expect(toPolicy(r.retention!)).toEqual({ last: 5, within: 2 * 86_400_000, hourly: 24, daily: 7, weekly: 4, monthly: 6, yearly: 1 });
    // Round trip through --write-answers.
    const again = resolveSetAndForget(parseAnswers(JSON.stringify({ version: 1, ...setAndForgetAnswers(r) }), 'b.yaml'));
    expect(again).toEqual(r);
  });

  test('defaults and absence', () => {
    expect(resolveSetAndForget(parseAnswers('version: 1\nschedule: {}\n', 'a.yaml'))).toEqual({
      retention: null,
      space: null,
      schedule: { calendar: 'hourly', verify: false },
    });
    expect(resolveSetAndForget(parseAnswers('version: 1\n', 'a.yaml'))).toEqual({ retention: null, space: null, schedule: null });
    expect(resolveSetAndForget(parseAnswers('version: 1\nspace: { minFree: 2G }\n', 'a.yaml')).space).toEqual({ minFree: { bytes: 2 * 2 ** 30 } });
  });

  test('errors are located; unknown keys are refused; a calendar cannot inject unit lines', () => {
    expect(issues('version: 1\nretention:\n  daily: -1\n')).toEqual([expect.stringMatching(/^3:10 retention\.daily: expected a whole number/)]);
    expect(issues('version: 1\nretention: { dayly: 7 }\n')[0]).toMatch(/^2:14 retention.*dayly/);
    expect(issues('version: 1\nretention: { within: a month }\n')[0]).toMatch(/retention\.within: expected an age/);
    expect(issues('version: 1\nspace: { minFree: 150% }\n')[0]).toMatch(/space\.minFree: expected a percentage/);
    expect(issues('version: 1\nschedule: { calendar: "hourly\\nExecStartPre=/bin/sh" }\n')[0]).toMatch(/schedule\.calendar: expected a systemd calendar/);
    expect(issues('version: 1\nschedule: { calendar: "%h" }\n')[0]).toMatch(/schedule\.calendar/);
    expect(issues('version: 1\nschedule: { verify: true }\n')[0]).toMatch(/schedule\.verify/);
  });

  test('floors', () => {
    expect(parseFloor('15%')).toEqual({ percent: 15 });
    expect(parseFloor('2.5 %')).toEqual({ percent: 2.5 });
    expect(parseFloor('0%')).toBeUndefined();
    expect(parseFloor('512M')).toEqual({ bytes: 512 * 2 ** 20 });
    expect(parseFloor('lots')).toBeUndefined();
  });
});

// hooks: in an answers file: parsed, checked (located errors), resolved into the configuration.
import { describe, expect, test } from 'vitest';
import { parseAnswers } from '../../src/install/answers/load.js';
import { AnswersError } from '../../src/base/errors.js';
import { hooksAnswersOf, resolveHooks } from '../../src/install/answers/hooks.js';

describe('hooks answers', () => {
  test('argv lists per phase, a time limit, defaults filled in; round trip for --write-answers', () => {
    const a = parseAnswers(
      ['version: 1', 'hooks:', '  preSnapshot: [[lychd, admission, close], [lychd, drain, --timeout, "30"]]', '  postSnapshot: [[lychd, admission, open]]', ''].join('\n'),
      'a.yaml',
    );
    const { hooks } = resolveHooks(a.hooks);
    expect(hooks).toEqual({
      preSnapshot: [['lychd', 'admission', 'close'], ['lychd', 'drain', '--timeout', '30']],
      postSnapshot: [['lychd', 'admission', 'open']],
      preRollback: [],
      postRollback: [],
      timeout: 60,
    });
    expect(resolveHooks(hooksAnswersOf({ hooks }).hooks)).toEqual({ hooks });
    expect(resolveHooks(undefined)).toEqual({ hooks: null });
  });

  test('a shell string, an empty command or an unknown phase is refused with its place', () => {
    const bad = (yaml: string) => {
      try {
        parseAnswers(`version: 1\nhooks:\n${yaml}\n`, 'a.yaml');
      } catch (e) {
        expect(e).toBeInstanceOf(AnswersError);
        return (e as AnswersError).issues.map((i) => `${i.path}: ${i.message}`).join('\n');
      }
      throw new Error('accepted');
    };
    expect(bad('  preSnapshot: "systemctl stop app"')).toMatch(/hooks\.preSnapshot/);
    expect(bad('  preSnapshot: [[]]')).toMatch(/at least one word/);
    expect(bad('  beforeSnapshot: [[x]]')).toMatch(/beforeSnapshot|unrecognized/i);
    expect(bad('  timeout: 0')).toMatch(/at least 1 second/);
  });
});

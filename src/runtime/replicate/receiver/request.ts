// What the client of the restricted receiver may ask (pure). sshd hands the client's words over in
// SSH_ORIGINAL_COMMAND joined by spaces, without any quoting: they are read as a few plain words and
// matched against a fixed grammar, never given to a shell. What the key may do at all (its mode) comes
// from the authorized_keys line, never from the request.
//   list                                    what is held (and leftovers cleaned)
//   receive NAME ORIGIN [PARENT-ORIGIN]     a header line, then a btrfs send stream, on stdin
//   delete NAME ORIGIN                      one copy (never the newest)
//   send NAME ORIGIN [PARENT-ORIGIN]        a header line, then a stream, on stdout (restores)
import { isSnapshotName } from '../../snapshots/names.js';

/** push (the default): list, receive, delete. pull: and send. pull-only: list and send (a restore host's key). */
export type ReceiverMode = 'push' | 'pull' | 'pull-only';

export type ReceiverRequest =
  | { verb: 'list' }
  | { verb: 'receive'; name: string; origin: string; parent: string | null }
  | { verb: 'delete'; name: string; origin: string }
  | { verb: 'send'; name: string; origin: string; parent: string | null };

/** refused: not something this key may ask (exit 3); malformed: an allowed verb with bad words (exit 2). */
export type RequestProblem = { refused: string } | { malformed: string };

export const MAX_REQUEST = 512;
const WORD = /^[A-Za-z0-9._:-]{1,80}$/;
const UUID = /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/;

export const VERBS: Record<ReceiverMode, readonly ReceiverRequest['verb'][]> = {
  push: ['list', 'receive', 'delete'],
  pull: ['list', 'receive', 'delete', 'send'],
  'pull-only': ['list', 'send'],
};

export function parseRequest(text: string | undefined, mode: ReceiverMode): ReceiverRequest | RequestProblem {
  const allowed = VERBS[mode];
  const usage = `this key may ask: ${allowed.join(', ')}`;
  if (text === undefined || text.trim() === '') return { refused: `an empty request; ${usage}` };
  if (text.length > MAX_REQUEST) return { refused: `a request of ${text.length} characters; ${usage}` };
  // Printable ASCII and single spaces only: a tab, newline or any control character is never a word of ours.
  if (!/^[\x21-\x7e]+( [\x21-\x7e]+)*$/.test(text)) return { refused: `the request holds characters or spacing no request has; ${usage}` };
  const words = text.split(' ');
  if (words.length > 4 || !words.every((w) => WORD.test(w))) return { refused: `not a receiver request; ${usage}` };
  const [verb, ...rest] = words as [string, ...string[]];
  if (!(allowed as readonly string[]).includes(verb)) return { refused: `"${verb}" is not a request this key may make; ${usage}` };
  const name = rest[0];
  const check = (n: number, m: number): RequestProblem | null => {
    if (rest.length < n || rest.length > m) return { malformed: `${verb} takes ${n === m ? n : `${n} or ${m}`} words after it, got ${rest.length}` };
    if (name !== undefined && !isSnapshotName(name)) return { malformed: `not a snapshot name: ${name}` };
    const bad = rest.slice(1).find((u) => !UUID.test(u));
    return bad ? { malformed: `not a UUID: ${bad}` } : null;
  };
  switch (verb) {
    case 'list':
      return check(0, 0) ?? { verb };
    case 'delete':
      return check(2, 2) ?? { verb, name: name!, origin: rest[1]! };
    case 'receive':
    case 'send':
      return check(2, 3) ?? { verb, name: name!, origin: rest[1]!, parent: rest[2] ?? null };
    default:
      return { refused: `not a receiver request; ${usage}` };
  }
}

/** The words for a request (the client side): what parseRequest reads back. */
export function requestWords(r: ReceiverRequest): string[] {
  switch (r.verb) {
    case 'list':
      return ['list'];
    case 'delete':
      return ['delete', r.name, r.origin];
    default:
      return [r.verb, r.name, r.origin, ...(r.parent ? [r.parent] : [])];
  }
}

// Root reaches a crypt through an fd (/proc/<pid>/fd/<n>); people and other OS users know it by its
// registered path. This maps one to the other for output and for commands run as another user (who
// cannot follow root's fd links).
const anchors = new Map<string, string>();

export function registerAnchor(anchor: string, shown: string): void {
  anchors.set(anchor, shown);
}


/** Replaces every registered anchor in `text` by its registered path. */
export function unanchor(text: string): string {
  let out = text;
  for (const [anchor, shown] of anchors) out = out.split(anchor).join(shown);
  return out;
}

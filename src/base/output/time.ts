// One date format for people, everywhere (docs/json.md): UTC, ISO 8601 with the zone stated, to the second:
// `2026-11-30 01:02:03Z`. UTC because snapshot names are UTC too (a name and its time read the same) and
// hosts in several zones compare at a glance. JSON keeps full ISO 8601 (`2026-11-30T01:02:03.456Z`).

/** `2026-11-30 01:02:03Z` from an ISO string or a Date; the input unchanged when it is not a time. */
export function formatTime(t: string | Date): string {
  const d = typeof t === 'string' ? new Date(t) : t;
  if (Number.isNaN(d.getTime())) return String(t);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

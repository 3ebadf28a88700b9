// Small text formatters shared by the snapshot commands' human output.

/** server_version_num -> "15.18" (10+) or "9.6.24" (older). */
export function formatVersion(num: number | null): string | null {
  if (num === null) return null;
  return num >= 100000 ? `${Math.floor(num / 10000)}.${num % 10000}` : `${Math.floor(num / 10000)}.${Math.floor(num / 100) % 100}.${num % 100}`;
}

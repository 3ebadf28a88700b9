// `status --prometheus FILE`: a node_exporter textfile-collector file (Prometheus text format 0.0.4).
// Rendering is pure; the file is replaced atomically so the collector never reads half of it
// (node_exporter's documented requirement for the textfile directory).
import { escapeControls } from '../../base/output/text.js';
import type { StatusFacts } from './gather.js';

/**
 * Label values escape backslash, double quote and newline (the text format's only escapes); any other
 * control character is first shown as \xNN like everywhere else (src/base/output/text.ts), so the file holds none.
 */
export function escapeLabel(v: string): string {
  return escapeControls(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

interface Metric {
  name: string;
  help: string;
  samples: { labels?: Record<string, string>; value: number }[];
}

export function renderPrometheus(f: StatusFacts): string {
  const metrics: Metric[] = [];
  const one = (name: string, help: string, value: number | null | undefined): void => {
    if (value !== null && value !== undefined && Number.isFinite(value)) metrics.push({ name, help, samples: [{ value }] });
  };
  one('lychd_crypt_mounted', 'Whether the crypt is mounted (1) or not (0).', f.mounted ? 1 : 0);
  one('lychd_crypt_writable', 'Whether the crypt accepts writes (1), or is read-only or forced read-only by Btrfs (0).', f.writable ? (f.writable === 'rw' ? 1 : f.writable === 'unknown' ? null : 0) : null);
  one('lychd_crypt_operation_interrupted', 'Whether an interrupted operation is pending in the journal (1) or not (0).', f.operation !== undefined ? (f.operation?.state === 'interrupted' ? 1 : 0) : null);
  one('lychd_crypt_size_bytes', 'Size of the crypt filesystem.', f.space?.sizeBytes);
  one('lychd_crypt_free_bytes', 'Usable free space of the crypt (for an image: less what the host cannot back).', f.space?.freeBytes);
  one('lychd_crypt_min_free_bytes', 'The configured free-space floor.', f.floor?.bytes);
  one('lychd_crypt_snapshots', 'Number of complete snapshots.', f.snapshots?.count);
  one('lychd_crypt_snapshots_pinned', 'Number of pinned snapshots.', f.snapshots?.pinned);
  const newest = f.snapshots?.newest;
  one('lychd_crypt_newest_snapshot_timestamp_seconds', 'Creation time of the newest snapshot (Unix time).', newest ? Date.parse(newest.createdAt) / 1000 : null);
  const v = f.runs.verify;
  one('lychd_crypt_last_verify_success', 'Whether the last verify passed (1) or failed (0).', v ? (v.ok ? 1 : 0) : null);
  one('lychd_crypt_last_verify_timestamp_seconds', 'End of the last verify (Unix time).', v ? Date.parse(v.at) / 1000 : null);
  const runs = (['scheduled', 'prune', 'verify'] as const).filter((k) => f.runs[k]);
  if (runs.length) {
    metrics.push({
      name: 'lychd_crypt_last_run_duration_seconds',
      help: 'Duration of the last run of each kind.',
      samples: runs.filter((k) => f.runs[k]!.durationMs !== undefined).map((k) => ({ labels: { kind: k }, value: f.runs[k]!.durationMs! / 1000 })),
    });
    metrics.push({ name: 'lychd_crypt_last_run_success', help: 'Whether the last run of each kind succeeded.', samples: runs.map((k) => ({ labels: { kind: k }, value: f.runs[k]!.ok ? 1 : 0 })) });
    metrics.push({ name: 'lychd_crypt_last_run_timestamp_seconds', help: 'End of the last run of each kind (Unix time).', samples: runs.map((k) => ({ labels: { kind: k }, value: Date.parse(f.runs[k]!.at) / 1000 })) });
  }
  const crypt = escapeLabel(f.crypt);
  const out: string[] = [];
  for (const m of metrics.filter((x) => x.samples.length)) {
    out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} gauge`);
    for (const s of m.samples) {
      const labels = [`crypt="${crypt}"`, ...Object.entries(s.labels ?? {}).map(([k, val]) => `${k}="${escapeLabel(val)}"`)].join(',');
      out.push(`${m.name}{${labels}} ${s.value}`);
    }
  }
  return `${out.join('\n')}\n`;
}

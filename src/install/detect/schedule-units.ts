// Which of a crypt's scheduled unit files exist in the unit directory, so a re-run of init can update
// them, or remove the ones the answers no longer ask for.
import { readdir } from 'node:fs/promises';
import { pathUnitName, serviceName, timerName } from '../render/schedule-names.js';

export async function existingScheduleUnits(unitDir: string, cryptPath: string): Promise<string[]> {
  const ours = new Set([...(['snapshot', 'verify', 'replicate'] as const).flatMap((job) => [serviceName(job, cryptPath), timerName(job, cryptPath)]), pathUnitName('replicate', cryptPath)]);
  const names = await readdir(unitDir).catch(() => [] as string[]);
  return names.filter((n) => ours.has(n)).sort();
}

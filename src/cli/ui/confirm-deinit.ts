// Asks before deinit removes a crypt (default No): the plan on one screen, what stays; deleting the data
// also needs its path typed, as formatting a device does.
import { askConfirm, askText, say } from './prompts.js';

export async function confirmDeinit(plan: string, name: string, deleting: { what: string; typed: string } | null): Promise<boolean> {
  say.note(plan, 'deinit', {});
  if (!(await askConfirm(`Remove the crypt "${name}"${deleting ? ` and DELETE ${deleting.what}` : ''}?`, { initialValue: false }))) return false;
  if (!deleting) return true;
  const typed = await askText(`${deleting.what} is deleted for good: type ${deleting.typed} to delete it (Enter to keep it and stop)`, {});
  return typed.trim() === deleting.typed;
}

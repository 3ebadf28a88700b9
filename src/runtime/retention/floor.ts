// The free-space floor (pure): which snapshots may go, in which order, when the crypt is below
// `space.minFree`. Oldest first among those no protection covers: pinned snapshots, the newest and the
// newest pre-rollback stay, whatever the floor says. The policy's own rejects come first (prune runs
// before the floor is measured again), then the oldest of what the policy would have kept.
import type { RetentionDecision } from './policy.js';

export function floorCandidates(decisions: readonly RetentionDecision[]): string[] {
  const oldestFirst = [...decisions].reverse().filter((d) => !d.protected);
  return [...oldestFirst.filter((d) => d.action === 'delete'), ...oldestFirst.filter((d) => d.action === 'keep')].map((d) => d.name);
}

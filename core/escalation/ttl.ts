/**
 * The TTL backoff: repeat attacks on the same target get longer mitigation times, not flapping.
 * A run's TTL is the runbook's base doubled once per earlier run on the target that the history
 * still remembers, capped; a target quiet for `forgetAfterSeconds` starts again from the base.
 */
import type { Runbook } from './config.js';
import type { TargetHistory } from './run.js';

export interface RunTtl {
  ttlMs: number;
  /** Earlier runs remembered: 0 for a first attack. */
  repeat: number;
}

export function ttlForNewRun(
  runbook: Pick<Runbook, 'ttl'>,
  history: TargetHistory | undefined,
  nowMs: number,
): RunTtl {
  const { seconds, maxSeconds, forgetAfterSeconds } = runbook.ttl;
  const remembered = history !== undefined && nowMs - history.lastEndedAtMs <= forgetAfterSeconds * 1000;
  const repeat = remembered ? history.repeat + 1 : 0;
  // 2 ** repeat overflows to Infinity long after the cap is reached; min() keeps it finite.
  const ttlSeconds = Math.min(seconds * 2 ** repeat, Math.max(seconds, maxSeconds));
  return { ttlMs: ttlSeconds * 1000, repeat };
}

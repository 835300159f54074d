/**
 * The handlers of examples/worker_cpu.ts. Workers import this module by its URL, so it
 * holds only pure functions: what they need comes with the message.
 */
import process from "node:process";
import type { Job } from "@walnats/walnats";

/** What a hash job answers: the checksum, and where and how it ran. */
export interface Hashed {
  readonly sum: number;
  readonly pid: number;
  readonly attempt: number;
}

/** CPU-bound on purpose: `rounds` passes of FNV-1a over the text. Never yields. */
export function hash(message: { text: string; rounds: number }, job: Job): Hashed {
  let h = 0x811c9dc5;
  for (let r = 0; r < message.rounds; r++) {
    for (let i = 0; i < message.text.length; i++) {
      h ^= message.text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= r;
  }
  return { sum: h >>> 0, pid: process.pid, attempt: job.attempt };
}

// #region poll
/** Blocking work that stops early when the job's signal aborts (timeout or shutdown). */
export function countPrimes(limit: number, job: Job): number {
  let count = 0;
  for (let n = 2; n <= limit; n++) {
    if (n % 10_000 === 0) job.signal.throwIfAborted(); // a blocked thread can still poll
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}
// #endregion poll

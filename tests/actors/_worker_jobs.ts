// Handlers that tests/actors/workers_test.ts runs in Web Workers and worker processes.
// Module-level state lives as long as the worker that imported the module.
import process from "node:process";
import { isMainThread } from "node:worker_threads";
import type { Job } from "../../mod.ts";
import { RetryLaterError, UnrecoverableError } from "../../src/errors.ts";

/** Where a handler ran. */
export interface Place {
  readonly pid: number;
  /** In a Web Worker (Deno says `isMainThread` there too, hence the second test). */
  readonly thread: boolean;
}

export function place(): Place {
  const g = globalThis as { WorkerGlobalScope?: new () => unknown };
  const thread = !isMainThread ||
    (typeof g.WorkerGlobalScope === "function" && globalThis instanceof g.WorkerGlobalScope);
  return { pid: process.pid, thread };
}

/** CPU-bound: `rounds` passes of FNV-1a over the text, chained. Deterministic. */
export function checksum(text: string, rounds: number): number {
  let h = 0x811c9dc5;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= r;
  }
  return h >>> 0;
}

export function hash(
  message: { text: string; rounds: number },
  job: Job,
): { sum: number; attempt: number } & Place {
  return { sum: checksum(message.text, message.rounds), attempt: job.attempt, ...place() };
}

/** Attempt 1 loops forever (only a kill stops it); later attempts answer. */
export function spinOnFirst(_: string, job: Job): { attempt: number } & Place {
  if (job.attempt === 1) {
    // deno-lint-ignore no-empty
    while (true) {}
  }
  return { attempt: job.attempt, ...place() };
}

/** Busy for `ms` without yielding, then answers. */
export function busy(ms: number, job: Job): { attempt: number } & Place {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
  return { attempt: job.attempt, ...place() };
}

/** Attempt 1 throws outside the handler's promise (uncaught), and never answers. */
export function crashOnFirst(_: string, job: Job): Promise<{ attempt: number } & Place> {
  if (job.attempt === 1) {
    setTimeout(() => {
      throw new Error("boom outside the handler");
    }, 0);
    return new Promise(() => {});
  }
  return Promise.resolve({ attempt: job.attempt, ...place() });
}

/** Attempt 1 exits the worker. */
export function exitOnFirst(_: string, job: Job): { attempt: number } & Place {
  if (job.attempt === 1) {
    const deno = (globalThis as { Deno?: { exit(code: number): never } }).Deno;
    if (deno) deno.exit(3);
    process.exit(3);
  }
  return { attempt: job.attempt, ...place() };
}

/** Attempt 1 allocates until the heap is exhausted. */
export function oomOnFirst(_: string, job: Job): { attempt: number } & Place {
  if (job.attempt === 1) {
    const hoard: number[][] = [];
    while (true) hoard.push(new Array(100_000).fill(job.attempt));
  }
  return { attempt: job.attempt, ...place() };
}

let seenAbort: string | undefined;

/** Attempt 1 blocks, polling its signal; attempt 2 reports what attempt 1 saw. */
export function pollSignal(_: string, job: Job): string {
  if (job.attempt === 1) {
    while (!job.signal.aborted) {
      // blocking work, checking the signal now and then
    }
    const reason = job.signal.reason as Error;
    seenAbort = `${reason.name}: ${reason.message}`;
    return "aborted";
  }
  return seenAbort ?? "nothing seen";
}

/** Attempt 1 waits (async) for its signal; attempt 2 reports what attempt 1 saw. */
export function awaitAbort(_: string, job: Job): Promise<string> {
  if (job.attempt === 1) {
    return new Promise((resolve) => {
      job.signal.addEventListener("abort", () => {
        seenAbort = `async ${(job.signal.reason as Error).name}`;
        resolve("aborted");
      });
    });
  }
  return Promise.resolve(seenAbort ?? "nothing seen");
}

/** Fails the way the message says. */
export function fail(kind: string): never {
  if (kind === "unrecoverable") throw new UnrecoverableError("cannot ever work");
  if (kind === "later") throw new RetryLaterError(1234, "not yet");
  throw new RangeError(`failed: ${kind}`);
}

/** Returns something that cannot be cloned. */
export function uncloneable(_: string): () => void {
  return () => {};
}

/** Sleeps, then says which attempt it was. */
export async function nap(ms: number, job: Job): Promise<{ attempt: number } & Place> {
  await new Promise((r) => setTimeout(r, ms));
  return { attempt: job.attempt, ...place() };
}

/** How the bytes arrived: length, sum, and whether they own their buffer (moved, not a view). */
export function inspectBytes(bytes: Uint8Array): { length: number; sum: number; owns: boolean } {
  let sum = 0;
  for (const b of bytes) sum += b;
  return {
    length: bytes.length,
    sum,
    owns: bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length,
  };
}

/** Not a function: a worker handler cannot name it. */
export const notAFunction = 42;

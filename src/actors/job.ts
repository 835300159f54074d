/**
 * What a handler gets besides the message: the {@linkcode Job} and its delivery facts.
 *
 * A module of its own so that the actor declaration (actor.ts) and the worker handlers
 * (workers/worker_handler.ts), which both name the handler's signature, do not import
 * each other.
 *
 * @module
 */
import type { ProgressValue } from "../progress.ts";

/**
 * Delivery facts of the message a job handles.
 *
 * @example How long a message waited
 * ```ts
 * import type { Job, JobMetadata } from "@walnats/walnats";
 *
 * const lag = (metadata: JobMetadata): number => Date.now() - metadata.timestamp;
 * const handler = (_message: unknown, job: Job) => console.info(`waited ${lag(job.metadata)} ms`);
 * ```
 */
export interface JobMetadata {
  /** The message's sequence number in the stream. */
  readonly streamSeq: number;
  /** The consumer's sequence number of this delivery. */
  readonly consumerSeq: number;
  /** When the message was stored, epoch milliseconds. */
  readonly timestamp: number;
  /** How many times the server delivered it, early (delayed) deliveries included. */
  readonly delivered: number;
  /** Messages left in the stream for this actor. */
  readonly pending: number;
}

/**
 * What a handler may use besides the message.
 *
 * @example Use the job in a handler
 * ```ts
 * import type { Job } from "@walnats/walnats";
 *
 * async function handler(url: string, job: Job): Promise<void> {
 *   if (job.attempt > 1) console.info(`retrying message ${job.metadata.streamSeq}`);
 *   await fetch(url, { signal: job.signal });
 * }
 * ```
 */
export interface Job {
  /** Aborts on `jobTimeout` and on shutdown (after the grace period). */
  readonly signal: AbortSignal;
  /** Which attempt this is, from 1; delayed redeliveries do not count. */
  readonly attempt: number;
  /** The `Walnats-Trace` header, if the publisher set one. */
  readonly traceId: string | undefined;
  /** Delivery facts. */
  readonly metadata: JobMetadata;
  /**
   * Report the job's progress: a number (e.g. a percentage) or a small JSON value (at
   * most 1 KiB of JSON). It leaves the message's ack alone (pulses keep it ours). The
   * value goes to a requester that passed `onProgress` to `request()`, to the status
   * subject that `walnats dashboard` follows, and into `health()` while the job runs; at
   * most 5 updates a second are sent per job, the last value winning. Works the same
   * in worker threads and processes. Reports after the job ended are ignored.
   *
   * @param value the progress
   * @throws {TypeError} when the value is not a finite number or JSON
   * @throws {RangeError} when its JSON is larger than `MAX_PROGRESS_BYTES` (1024)
   *
   * @example Report a percentage while resizing images
   * ```ts
   * import type { Job } from "@walnats/walnats";
   *
   * async function resizeAll(urls: string[], job: Job): Promise<number> {
   *   for (const [i, url] of urls.entries()) {
   *     await fetch(url, { signal: job.signal });
   *     job.progress(Math.round(((i + 1) / urls.length) * 100));
   *   }
   *   return urls.length;
   * }
   * ```
   */
  progress(value: ProgressValue): void;
}

/**
 * The per-job control (abort, signal) and the per-actor clock that times jobs out and
 * pulses them. One timer per actor instead of a timeout and an interval per job: the
 * jobs of an actor share `jobTimeout` and `ackWait`, so they expire in the order they
 * started, and a single sweep can pulse every running job.
 *
 * @module
 */
import { MAX_TIMER } from "../_duration.ts";

import type { JobProgress } from "./job_progress.ts";

/** Something that can be told the job is still running (an in-progress ack). */
export interface Pulsable {
  working(): void;
}

/**
 * One job's abort state. The `AbortController` behind `signal` is made only when the
 * handler reads `job.signal` (most handlers never do, and an AbortController with its
 * EventTarget is the dearest allocation of a job).
 */
export class JobControl {
  /** When the job's clock started (`performance.now()`), or NaN before. */
  started = Number.NaN;
  /** When the job was last pulsed (`performance.now()`). */
  pulsed = 0;
  /** Whether the job was aborted (timeout or shutdown). */
  aborted = false;
  /** Why it was aborted. */
  reason: unknown = undefined;
  readonly delivery: Pulsable | undefined;
  /** The job's progress: made on its first report, `null` once the job ended. */
  progress: JobProgress | null | undefined = undefined;
  /** Where its clock keeps it: nowhere (0), among the young (1), in the sets (2). */
  clocked: 0 | 1 | 2 = 0;
  /** Whether its timeout runs. */
  timed = false;
  #controller: AbortController | undefined;
  #onAbort: ((reason: unknown) => void) | undefined;
  #done: ((job: JobControl, ok: boolean, value: unknown) => void) | undefined;

  constructor(delivery?: Pulsable) {
    this.delivery = delivery;
  }

  /** The job's signal, made on first use (already aborted if the job was). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.reason);
    }
    return this.#controller.signal;
  }

  /** The job ended: send its pending progress, and take no more. */
  endProgress(): void {
    const progress = this.progress;
    this.progress = null;
    progress?.end();
  }

  /** Abort the job once: its signal, and the wait for its result. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.#controller?.abort(reason);
    this.#onAbort?.(reason);
    this.#report(false, reason);
  }

  /**
   * Tell `done` how `promise` ended, or the abort if that comes first; once either way.
   * Unlike {@linkcode race} it makes no promise, and nothing waits in a suspended async
   * frame: the job itself is the record (a frame costs about half a kilobyte in V8,
   * which adds up with thousands of jobs in flight).
   */
  watch<J extends JobControl>(
    this: J,
    promise: Promise<unknown>,
    done: (job: J, ok: boolean, value: unknown) => void,
  ): void {
    if (this.aborted) {
      done(this, false, this.reason);
      return;
    }
    this.#done = done as (job: JobControl, ok: boolean, value: unknown) => void;
    promise.then((value) => this.#report(true, value), (error) => this.#report(false, error));
  }

  #report(ok: boolean, value: unknown): void {
    const done = this.#done;
    if (done === undefined) return;
    this.#done = undefined;
    done(this, ok, value);
  }

  /**
   * Wait for the handler's promise, or for an abort, whichever comes first.
   * @throws the abort reason, or what the promise rejected with
   */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.aborted) return Promise.reject(this.reason);
    return new Promise<T>((resolve, reject) => {
      this.#onAbort = reject;
      promise.then(resolve, reject);
    });
  }
}

/** Times out and pulses the running jobs of one actor. */
export class JobClock {
  readonly #timeout: number;
  #pulseEvery: number | undefined;
  readonly #onTimeout: (job: JobControl) => void;
  /**
   * Jobs that began since the last sweep, in order. Most jobs end before any sweep (a
   * sweep runs every ackWait / 4 at the soonest): they cost a push here and a flag, not
   * two set insertions and deletions. A sweep moves those still running into the sets.
   */
  #young: JobControl[] = [];
  /** Jobs being pulsed: from their start, including a wait for a worker. */
  readonly #running = new Set<JobControl>();
  /** Jobs whose timeout runs. */
  readonly #timed = new Set<JobControl>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #also: ((now: number, half: number) => number) | undefined;
  #pulser: ReturnType<typeof setInterval> | undefined;

  /**
   * @param timeout jobTimeout, ms
   * @param pulseEvery pulse each running job this often (ms), or never
   * @param onTimeout aborts a job that ran out of time
   */
  constructor(
    timeout: number,
    pulseEvery: number | undefined,
    onTimeout: (job: JobControl) => void,
  ) {
    this.#timeout = timeout;
    this.#pulseEvery = pulseEvery;
    this.#onTimeout = onTimeout;
  }

  /**
   * Pulse every `ms` from now on (the consumer's ack_wait changed). Jobs whose last pulse is
   * older than the new period's half are pulsed at once: the server's timer already runs
   * on the new ack_wait.
   */
  pulseEvery(ms: number): void {
    if (this.#pulseEvery === undefined || ms === this.#pulseEvery) return;
    this.#pulseEvery = ms;
    if (this.#pulser === undefined) return;
    clearInterval(this.#pulser);
    this.#pulser = setInterval(this.#pulse, ms / 2);
    this.#pulse();
  }

  /** A job began (at `now`, `performance.now()`): pulse it from now on. */
  begin(job: JobControl, now: number = performance.now()): void {
    job.pulsed = now;
    job.clocked = 1;
    if (this.#young.push(job) >= 1024) this.#promote();
    this.keepPulsing();
  }

  /**
   * Pulse what waits besides the jobs (messages held for a slot) at each sweep too:
   * `source` pulses what is due and says how many it holds.
   */
  pulseAlso(source: (now: number, half: number) => number): void {
    this.#also = source;
  }

  /** Make sure the sweeps run (something began to wait). */
  keepPulsing(): void {
    if (this.#pulseEvery !== undefined) {
      // Sweep twice per period: nothing goes longer than one period without a pulse.
      // An interval beyond what a timer keeps would fire every millisecond (ackWait of
      // months): pulse more often than needed instead.
      this.#pulser ??= setInterval(this.#pulse, Math.min(this.#pulseEvery / 2, MAX_TIMER));
    }
  }

  /** The handler started (at `now`, `performance.now()`): its timeout runs from then. */
  startTimeout(job: JobControl, now: number = performance.now()): void {
    job.started = now;
    // jobTimeout Infinity: no timeout, no timer (one of Infinity ms would fire at once).
    if (this.#timeout === Infinity || job.clocked === 0) return;
    job.timed = true;
    if (job.clocked === 2) this.#timed.add(job);
    this.#timer ??= setTimeout(this.#expire, this.#timeout);
  }

  /**
   * The job ended. The timers stay until they next fire and find nothing to do: short
   * jobs would otherwise clear and recreate them whenever the actor runs dry.
   */
  end(job: JobControl): void {
    if (job.clocked === 2) {
      this.#running.delete(job);
      this.#timed.delete(job);
    }
    job.clocked = 0;
  }

  /** Move the young jobs that still run into the sets. */
  #promote(): void {
    for (const job of this.#young) {
      if (job.clocked !== 1) continue;
      job.clocked = 2;
      this.#running.add(job);
      if (job.timed) this.#timed.add(job);
    }
    this.#young = [];
  }

  /** Clear the timers (when no job runs, or the listener stops). */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#pulser !== undefined) clearInterval(this.#pulser);
    this.#timer = this.#pulser = undefined;
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    this.#promote();
    const now = performance.now();
    let next = Infinity;
    for (const job of this.#timed) {
      const due = job.started + this.#timeout;
      if (due > now) next = Math.min(next, due);
      else {
        this.#timed.delete(job);
        this.#onTimeout(job);
      }
    }
    if (next !== Infinity) this.#timer = setTimeout(this.#expire, next - now);
  };

  readonly #pulse = (): void => {
    this.#promote();
    const now = performance.now();
    const half = this.#pulseEvery! / 2;
    const waiting = this.#also?.(now, half) ?? 0;
    if (this.#running.size === 0 && waiting === 0) {
      clearInterval(this.#pulser);
      this.#pulser = undefined;
      return;
    }
    for (const job of this.#running) {
      if (now - job.pulsed >= half) {
        job.pulsed = now;
        job.delivery?.working();
      }
    }
  };
}

/**
 * The pull stage's arithmetic: how many messages one actor asks the server for. As many
 * as it has free slots (its own and the listener's), plus what its jobs finish during
 * one pull round trip ("ahead"), measured from moving averages of run time and payload
 * size. The `Puller` of consumer.ts sends the requests.
 *
 * @module
 */

/** Pull-ahead is at most this many messages per job slot of the actor... */
export const AHEAD_PER_SLOT = 64;
/** ...and at most this many messages... */
export const MAX_AHEAD = 1024;
/** ...and at most this many bytes, by the average payload of the actor's messages. */
export const MAX_AHEAD_BYTES = 8 * 1024 * 1024;

/** What a pull request is sized from: the actor's and the listener's state now. */
export interface PullState {
  /** The actor's `maxJobs`. */
  readonly maxJobs: number;
  /** The actor's jobs running now. */
  readonly running: number;
  /** The actor's messages received and waiting for slots. */
  readonly held: number;
  /** The actor's messages requested and not yet delivered. */
  readonly outstanding: number;
  /** The listener's free global slots. */
  readonly globalFree: number;
  /** Messages of all actors received and waiting for a global slot. */
  readonly heldTotal: number;
  /** The listener's `batch`: at most this many messages per request. */
  readonly batch: number;
}

/** The measured run time and payload size of one actor's jobs, and the pull sizes they call for. */
export class PullPlan {
  /** Moving average of the handler's run time, ms (NaN before the first job). */
  #duration = Number.NaN;
  /** Moving average of the payload size, bytes (0 before the first message). */
  #size = 0;
  /** When a job last ended, or jobs started running after none did (`performance.now()`). */
  #lastEnd = 0;
  readonly #pullAhead: boolean;

  /** @param pullAhead whether to pull ahead of the free slots at all */
  constructor(pullAhead: boolean) {
    this.#pullAhead = pullAhead;
  }

  /** A message of `bytes` arrived: fold its size into the average. */
  received(bytes: number): void {
    const size = this.#size;
    this.#size = size === 0 ? bytes : size + (bytes - size) / 8;
  }

  /** A job starts while `running` others run: the quiet time of `ahead` starts with the first. */
  began(running: number): void {
    if (running === 0) this.#lastEnd = performance.now();
  }

  /** A job ended at `now` (`performance.now()`) after `duration` ms: fold it into the average. */
  ended(duration: number, now: number): void {
    this.#lastEnd = now;
    const average = this.#duration;
    this.#duration = Number.isNaN(average) ? duration : average + (duration - average) / 8;
  }

  /**
   * How many messages to ask for beyond the free slots: as many as the actor's jobs
   * finish during one pull round trip, so that the next messages arrive as slots free
   * up instead of one round trip later; at most {@linkcode AHEAD_PER_SLOT} per slot,
   * {@linkcode MAX_AHEAD} in all, and {@linkcode MAX_AHEAD_BYTES} of payload. A message
   * pulled ahead waits about one round trip for its slot, and is pulsed while it waits.
   * Jobs that run longer than `maxJobs` round trips get none: the listener then holds
   * no more messages than it has free slots, and an idle instance can take the rest.
   *
   * @param rtt the measured pull round trip, ms (NaN until measured: no pull-ahead)
   * @param maxJobs the actor's `maxJobs`
   * @param running the actor's jobs running now
   */
  ahead(rtt: number, maxJobs: number, running: number): number {
    const duration = this.#duration;
    if (!this.#pullAhead || Number.isNaN(rtt) || Number.isNaN(duration)) return 0;
    let time = Math.max(duration, 0.001);
    if (running > 0) {
      // Jobs run and none ended for a while (a stuck dependency): they are at least that
      // long now, whatever the average of the jobs that did end says.
      time = Math.max(time, performance.now() - this.#lastEnd);
    }
    const bytes = Math.floor(MAX_AHEAD_BYTES / Math.max(this.#size, 1));
    return Math.min(AHEAD_PER_SLOT * maxJobs, MAX_AHEAD, bytes, Math.floor((maxJobs * rtt) / time));
  }

  /**
   * How many messages to request now (0: none): the free slots, local and global, plus
   * `ahead`, less what is held or on its way; at most `batch`. While messages are on
   * their way it waits until half the window is free: fewer, larger pull requests cost
   * the server less than one per freed slot.
   */
  static size(state: PullState, ahead: number): number {
    const { maxJobs, running, held, outstanding, batch } = state;
    const local = maxJobs + ahead - running - held - outstanding;
    if (local <= 0) return 0;
    let n = Math.min(local, batch, Math.max(0, state.globalFree + ahead - state.heldTotal));
    // When every global slot is taken, keep one message coming so that the next free
    // slot goes by priority among actors that have work, not to whoever pulls first.
    if (n === 0 && outstanding === 0 && held === 0) n = 1;
    const threshold = outstanding === 0
      ? 1
      : Math.max(1, Math.floor(Math.min(maxJobs + ahead, batch) / 2));
    return n < threshold ? 0 : n;
  }
}

/**
 * Actor priorities and {@linkcode PrioritySemaphore}, which grants the global job
 * slots of a listener to waiting jobs by the priority of their actor.
 *
 * @module
 */

/**
 * How soon an actor's job gets a slot when the listener already runs as many jobs
 * as it may. A lower number is a higher priority, as in Python walnats. A job that
 * waits long enough rises one level per
 * {@linkcode PrioritySemaphoreOptions.aging | aging} period, so even `LOW` jobs
 * start under a constant stream of `HIGH` ones.
 *
 * @example Give an actor a high priority
 * ```ts
 * import { Priority, PrioritySemaphore } from "@walnats/walnats";
 *
 * const slots = new PrioritySemaphore(16);
 * const permit = await slots.acquire(Priority.HIGH);
 * permit.release();
 * ```
 */
export const Priority = {
  /** Start as soon as possible. */
  HIGH: 0,
  /** Start if no `HIGH` priority job waits. The default of an actor. */
  NORMAL: 1,
  /** Start if no `HIGH` or `NORMAL` priority job waits. */
  LOW: 2,
} as const;

/** One of the {@linkcode Priority} levels: `0` (`HIGH`), `1` (`NORMAL`) or `2` (`LOW`). */
export type Priority = typeof Priority[keyof typeof Priority];

/**
 * Options of {@linkcode PrioritySemaphore}.
 *
 * @example Age waiting jobs faster
 * ```ts
 * import { PrioritySemaphore } from "@walnats/walnats";
 *
 * const slots = new PrioritySemaphore(16, { aging: 250 });
 * ```
 */
export interface PrioritySemaphoreOptions {
  /**
   * Milliseconds after which a waiting job's effective priority rises by one
   * level: a `LOW` job that has waited `2 * aging` competes as `HIGH`.
   *
   * @default {1000}
   */
  aging?: number;
  /**
   * The clock, in milliseconds; it should never go backwards. An injected clock is
   * read whenever a time is needed, so tests can step a fake one between calls. The
   * default one is read once per burst of calls (a reading is reused until the
   * microtasks queued before it have run), as `performance.now()` costs about as
   * much as an `acquire` in Deno.
   *
   * @default {() => performance.now()}
   */
  now?: () => number;
}

/**
 * Options of {@linkcode PrioritySemaphore.prototype.acquire}.
 *
 * @example Stop waiting for a slot after a second
 * ```ts
 * import { Priority, PrioritySemaphore } from "@walnats/walnats";
 *
 * const slots = new PrioritySemaphore(4);
 * const permit = await slots.acquire(Priority.LOW, { signal: AbortSignal.timeout(1000) });
 * permit.release();
 * ```
 */
export interface AcquireOptions {
  /**
   * Stop waiting: the waiter leaves the queue and the promise rejects with
   * `signal.reason`. A permit already granted is not affected.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * One slot of a {@linkcode PrioritySemaphore}, held until released. Release it
 * exactly once, or let `using` dispose of it.
 *
 * @example Release a permit when the scope ends
 * ```ts
 * import { Priority, PrioritySemaphore } from "@walnats/walnats";
 *
 * const slots = new PrioritySemaphore(1);
 * {
 *   using permit = await slots.acquire(Priority.NORMAL);
 *   // run the job
 * }
 * console.assert(slots.available === 1);
 * ```
 */
export interface Permit extends Disposable {
  /**
   * Give the slot back: to the waiter that is next by priority, or to the pool.
   *
   * @throws {Error} if the permit was already released
   */
  release(): void;
  /** Release the permit unless it was already released; safe to call again. */
  [Symbol.dispose](): void;
}

const LEVELS = 3;

/** A granted slot. Forgetting its semaphore on release makes a second release fail. */
class SlotPermit implements Permit {
  #slots: Slots | undefined;

  constructor(slots: Slots) {
    this.#slots = slots;
  }

  release(): void {
    const slots = this.#slots;
    if (slots === undefined) throw new Error("Cannot release a permit that was already released");
    this.#slots = undefined;
    slots.release();
  }

  [Symbol.dispose](): void {
    if (this.#slots !== undefined) this.release();
  }
}

/**
 * A waiting `acquire`: a node of its level's queue and of its signal's list. Once
 * granted, the ticket itself is the permit, which saves an allocation per grant.
 */
class Ticket implements Permit {
  /** Set when granted, cleared on release. */
  slots: Slots | undefined = undefined;
  readonly level: Priority;
  /** Enqueue order, the tie-breaker between levels. */
  readonly seq: number;
  /** The clock when it was enqueued; not read for `HIGH`, which cannot rise. */
  readonly since: number;
  resolve: ((permit: Permit) => void) | undefined = undefined;
  reject: ((reason: unknown) => void) | undefined = undefined;
  prev: Ticket | undefined = undefined;
  next: Ticket | undefined = undefined;
  watch: Watch | undefined = undefined;
  watchPrev: Ticket | undefined = undefined;
  watchNext: Ticket | undefined = undefined;

  constructor(level: Priority, seq: number, since: number) {
    this.level = level;
    this.seq = seq;
    this.since = since;
  }

  release(): void {
    const slots = this.slots;
    if (slots === undefined) throw new Error("Cannot release a permit that was already released");
    this.slots = undefined;
    slots.release();
  }

  [Symbol.dispose](): void {
    if (this.slots !== undefined) this.release();
  }
}

/**
 * The waiters that share one signal, behind a single abort listener. Jobs commonly
 * share a shutdown signal, and runtimes add and remove listeners in time linear in
 * their number: a listener per waiter would make a long queue quadratic.
 */
class Watch {
  readonly signal: AbortSignal;
  first: Ticket | undefined = undefined;
  readonly #slots: Slots;

  constructor(slots: Slots, signal: AbortSignal) {
    this.#slots = slots;
    this.signal = signal;
  }

  /** The abort listener, as an object so that no closure is needed. */
  handleEvent(): void {
    this.#slots.abort(this);
  }
}

/**
 * Executor of the waiters' promises. `new Promise` runs it synchronously, so the
 * ticket to fill is passed through a module variable instead of a closure per call.
 */
let filling: Ticket | undefined;
function fill(resolve: (permit: Permit) => void, reject: (reason: unknown) => void): void {
  filling!.resolve = resolve;
  filling!.reject = reject;
}

/**
 * The state behind a {@linkcode PrioritySemaphore}, shared with its permits and
 * watches. The queues are intrusive doubly linked lists of tickets, one per level,
 * so enqueue, grant and abort (which removes from the middle) are all O(1), with no
 * tombstones left behind by aborted waiters.
 */
class Slots {
  readonly permits: number;
  available: number;
  waiting = 0;
  readonly counts: number[] = [0, 0, 0];
  readonly #heads: (Ticket | undefined)[] = [undefined, undefined, undefined];
  readonly #tails: (Ticket | undefined)[] = [undefined, undefined, undefined];
  readonly #watches = new Map<AbortSignal, Watch>();
  readonly #aging: number;
  readonly #clock: () => number;
  /** Whether a reading may be reused until the current microtasks have run. */
  readonly #reuse: boolean;
  #reading = Number.NaN;
  readonly #forget = (): void => {
    this.#reading = Number.NaN;
  };
  #seq = 0;

  constructor(permits: number, aging: number, now: (() => number) | undefined) {
    this.permits = permits;
    this.available = permits;
    this.#aging = aging;
    this.#clock = now ?? (() => performance.now());
    this.#reuse = now === undefined;
  }

  /**
   * The clock. `performance.now()` costs about as much as the rest of an `acquire`
   * in Deno, so the default clock's reading is reused until the microtasks queued so
   * far have run: a burst of acquires or releases reads it once. Aging counts whole
   * periods (a second by default), far coarser than the time such a burst takes. An
   * injected clock is read every time, so that tests can step it between calls.
   */
  #now(): number {
    if (!this.#reuse) return this.#clock();
    let now = this.#reading;
    if (Number.isNaN(now)) {
      now = this.#reading = this.#clock();
      queueMicrotask(this.#forget);
    }
    return now;
  }

  enqueue(level: Priority, signal: AbortSignal | undefined): Promise<Permit> {
    const since = level === Priority.HIGH ? 0 : this.#now();
    const ticket = new Ticket(level, this.#seq++, since);
    filling = ticket;
    const promise = new Promise<Permit>(fill);
    filling = undefined;
    const tail = this.#tails[level];
    if (tail === undefined) this.#heads[level] = ticket;
    else {
      tail.next = ticket;
      ticket.prev = tail;
    }
    this.#tails[level] = ticket;
    this.counts[level]++;
    this.waiting++;
    if (signal !== undefined) this.#watch(ticket, signal);
    return promise;
  }

  /** A permit came back: hand it straight to the next waiter, or keep it. */
  release(): void {
    while (this.waiting > 0) {
      const ticket = this.#pick();
      const watch = ticket.watch;
      if (watch !== undefined) {
        // Aborted, and another listener of the signal released a permit before ours
        // ran: those waiters are gone, the permit goes on to the next one.
        if (watch.signal.aborted) {
          this.abort(watch);
          continue;
        }
        this.#unwatch(ticket, watch);
      }
      this.#unlink(ticket);
      const resolve = ticket.resolve!;
      ticket.resolve = ticket.reject = undefined;
      ticket.slots = this;
      resolve(ticket);
      return;
    }
    this.available++;
  }

  /** Reject every waiter of an aborted signal with its reason. */
  abort(watch: Watch): void {
    const signal = watch.signal;
    this.#watches.delete(signal);
    signal.removeEventListener("abort", watch);
    let ticket = watch.first;
    watch.first = undefined;
    while (ticket !== undefined) {
      const next = ticket.watchNext;
      ticket.watch = ticket.watchPrev = ticket.watchNext = undefined;
      this.#unlink(ticket);
      const reject = ticket.reject!;
      ticket.resolve = ticket.reject = undefined;
      reject(signal.reason);
      ticket = next;
    }
  }

  #watch(ticket: Ticket, signal: AbortSignal): void {
    let watch = this.#watches.get(signal);
    if (watch === undefined) {
      watch = new Watch(this, signal);
      this.#watches.set(signal, watch);
      signal.addEventListener("abort", watch, { once: true });
    }
    const first = watch.first;
    if (first !== undefined) {
      first.watchPrev = ticket;
      ticket.watchNext = first;
    }
    watch.first = ticket;
    ticket.watch = watch;
  }

  #unwatch(ticket: Ticket, watch: Watch): void {
    const { watchPrev: prev, watchNext: next } = ticket;
    if (prev === undefined) watch.first = next;
    else prev.watchNext = next;
    if (next !== undefined) next.watchPrev = prev;
    ticket.watch = ticket.watchPrev = ticket.watchNext = undefined;
    if (watch.first === undefined) {
      this.#watches.delete(watch.signal);
      watch.signal.removeEventListener("abort", watch);
    }
  }

  /**
   * The waiter to grant next: of the queue heads (each the oldest, and so the most
   * aged, of its level) the one with the lowest effective level, the older on a tie.
   */
  #pick(): Ticket {
    const heads = this.#heads;
    let best: Ticket | undefined;
    let now = Number.NaN;
    for (let level = 0; level < LEVELS; level++) {
      const head = heads[level];
      if (head === undefined) continue;
      if (best === undefined) {
        best = head;
        continue;
      }
      // A younger head of a lower priority can only lose, so the clock is read only
      // when an older waiter of a lower priority may have aged past `best`.
      if (head.seq > best.seq) continue;
      if (Number.isNaN(now)) now = this.#now();
      // `head` is the older of the two, so it wins a tie.
      if (this.#effective(head, now) <= this.#effective(best, now)) best = head;
    }
    return best!;
  }

  /** `level - floor(waited / aging)`, at least 0 (at most `level` if the clock stepped back). */
  #effective(ticket: Ticket, now: number): number {
    const level = ticket.level;
    if (level === Priority.HIGH) return 0;
    const risen = Math.floor((now - ticket.since) / this.#aging);
    return risen <= 0 ? level : risen >= level ? 0 : level - risen;
  }

  #unlink(ticket: Ticket): void {
    const level = ticket.level;
    const { prev, next } = ticket;
    if (prev === undefined) this.#heads[level] = next;
    else prev.next = next;
    if (next === undefined) this.#tails[level] = prev;
    else next.prev = prev;
    ticket.prev = ticket.next = undefined;
    this.counts[level]--;
    this.waiting--;
  }
}

function checkPriority(priority: Priority): void {
  if (priority !== 0 && priority !== 1 && priority !== 2) {
    throw new RangeError(
      `Cannot use priority "${String(priority)}": expected Priority.HIGH, NORMAL or LOW`,
    );
  }
}

/**
 * A counting semaphore whose free permits go to waiters by {@linkcode Priority}:
 * the waiter with the highest effective priority first, first come first served
 * within a level. A waiter's effective priority rises one level per
 * {@linkcode PrioritySemaphoreOptions.aging | aging} milliseconds of waiting, so
 * lower priorities are never starved. Granting is O(1): only the oldest waiter of
 * each of the three levels is compared. A released permit goes straight to the next
 * waiter, so nobody can take it in between and no waiter is ever skipped.
 *
 * @example Limit jobs to 16 at a time, high priority first
 * ```ts
 * import { Priority, PrioritySemaphore } from "@walnats/walnats";
 *
 * const slots = new PrioritySemaphore(16, { aging: 500 });
 *
 * async function runJob(priority: Priority, job: () => Promise<void>): Promise<void> {
 *   using _permit = await slots.acquire(priority, { signal: AbortSignal.timeout(5_000) });
 *   await job();
 * }
 *
 * await runJob(Priority.LOW, async () => {});
 * ```
 */
export class PrioritySemaphore {
  readonly #slots: Slots;

  /**
   * Create a semaphore with all permits free.
   *
   * @param permits how many permits there are, a positive integer
   * @param options aging period and clock
   * @throws {RangeError} if `permits` is not a positive integer or `aging` is not a
   * positive finite number
   * @throws {TypeError} if `now` is not a function
   */
  constructor(permits: number, options?: PrioritySemaphoreOptions) {
    if (!Number.isSafeInteger(permits) || permits <= 0) {
      throw new RangeError(`Cannot use "${String(permits)}" permits: expected a positive integer`);
    }
    const aging = options?.aging ?? 1000;
    if (typeof aging !== "number" || !Number.isFinite(aging) || aging <= 0) {
      throw new RangeError(
        `Cannot use aging "${String(aging)}": expected a positive finite number of milliseconds`,
      );
    }
    const now = options?.now;
    if (now !== undefined && typeof now !== "function") {
      throw new TypeError(`Cannot use now "${String(now)}": expected a function`);
    }
    this.#slots = new Slots(permits, aging, now);
  }

  /** How many permits there are in total. */
  get permits(): number {
    return this.#slots.permits;
  }

  /** How many permits are free now. Never above zero while anyone waits. */
  get available(): number {
    return this.#slots.available;
  }

  /** How many `acquire` calls wait for a permit, at all priorities. */
  get waiting(): number {
    return this.#slots.waiting;
  }

  /**
   * How many `acquire` calls wait for a permit at one priority (the priority they
   * asked for, not the effective one).
   *
   * @param priority the level to count
   * @returns the number of waiters at that level
   * @throws {RangeError} if `priority` is not a {@linkcode Priority}
   *
   * @example Count waiters per level
   * ```ts
   * import { Priority, PrioritySemaphore } from "@walnats/walnats";
   *
   * const slots = new PrioritySemaphore(1);
   * const first = slots.tryAcquire(Priority.HIGH);
   * const waiter = slots.acquire(Priority.LOW);
   * console.assert(slots.waitingAt(Priority.LOW) === 1);
   * first?.release();
   * (await waiter).release();
   * ```
   */
  waitingAt(priority: Priority): number {
    checkPriority(priority);
    return this.#slots.counts[priority];
  }

  /**
   * Wait for a permit. Resolves at once if one is free (nobody waits then);
   * otherwise the caller queues at `priority` until a permit is handed to it.
   *
   * @param priority the caller's priority
   * @param options a signal to stop waiting
   * @returns the permit, to be released once
   * @throws {RangeError} if `priority` is not a {@linkcode Priority}
   * @throws the reason of `signal` (the promise rejects) if it aborts before a
   * permit is granted, including when it was aborted already
   *
   * @example Wait at most one second for a slot
   * ```ts
   * import { Priority, PrioritySemaphore } from "@walnats/walnats";
   *
   * const slots = new PrioritySemaphore(4);
   * const permit = await slots.acquire(Priority.NORMAL, { signal: AbortSignal.timeout(1_000) });
   * try {
   *   // run the job
   * } finally {
   *   permit.release();
   * }
   * ```
   */
  acquire(priority: Priority, options?: AcquireOptions): Promise<Permit> {
    checkPriority(priority);
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const slots = this.#slots;
    if (slots.available > 0) {
      slots.available--;
      return Promise.resolve(new SlotPermit(slots));
    }
    return slots.enqueue(priority, signal);
  }

  /**
   * Take a permit if one is free, synchronously. It never queues, so it cannot
   * overtake a waiter: permits are only free when nobody waits.
   *
   * @param priority the caller's priority
   * @returns the permit, to be released once, or `undefined` if none is free
   * @throws {RangeError} if `priority` is not a {@linkcode Priority}
   *
   * @example Run a job now or not at all
   * ```ts
   * import { Priority, PrioritySemaphore } from "@walnats/walnats";
   *
   * const slots = new PrioritySemaphore(2);
   * using permit = slots.tryAcquire(Priority.HIGH);
   * if (permit === undefined) console.log("busy, try later");
   * ```
   */
  tryAcquire(priority: Priority): Permit | undefined {
    checkPriority(priority);
    const slots = this.#slots;
    if (slots.available === 0) return undefined;
    slots.available--;
    return new SlotPermit(slots);
  }
}

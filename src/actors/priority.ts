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
 * import * as v from "valibot";
 * import { Actor, Event, Priority } from "@walnats/walnats";
 *
 * const paid = new Event("order.paid", v.object({ id: v.string() }));
 * const invoice = new Actor("send-invoice", paid, async ({ id }) => {
 *   console.info("invoice for", id);
 * }, { priority: Priority.HIGH });
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
  signal?: AbortSignal | undefined;
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

/** Fulfils a waiter's promise. */
type Resolve = (permit: Permit) => void;

/**
 * A waiter with a signal: its promise's functions, its slot in its level's queue
 * and its node in its signal's list. A waiter without a signal is no object of its
 * own: its queue slot holds its promise's resolve function.
 */
class Waiter {
  readonly resolve: Resolve;
  readonly reject: (reason: unknown) => void;
  readonly level: Priority;
  /** Its slot in its level's queue, while it waits. */
  chunk: Chunk | undefined = undefined;
  at = 0;
  readonly watch: Watch;
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;

  constructor(resolve: Resolve, reject: (reason: unknown) => void, level: Priority, watch: Watch) {
    this.resolve = resolve;
    this.reject = reject;
    this.level = level;
    this.watch = watch;
  }
}

/** A queue slot: a waiter without a signal (its resolve function), one with, or a hole. */
type Entry = Resolve | Waiter | undefined;

/** Slots of the first chunk of a queue; each next chunk doubles, up to {@linkcode CHUNK_MAX}. */
const CHUNK_MIN = 16;
const CHUNK_MAX = 1024;

/** A run of queue slots, with the enqueue order and time of each beside it. */
class Chunk {
  readonly items: Entry[];
  /** Enqueue order (the tie-breaker between levels) at `2 * i`, enqueue time at `2 * i + 1`. */
  readonly marks: Float64Array;
  next: Chunk | undefined = undefined;

  constructor(size: number) {
    this.items = new Array<Entry>(size).fill(undefined);
    this.marks = new Float64Array(size * 2);
  }
}

/**
 * The waiters of one level, first come first served, in a list of chunks: a waiter
 * costs a slot, no object of its own, and growing the queue copies nothing. An
 * aborted waiter leaves a hole, skipped once it reaches the head; holes outnumbering
 * waiters are squeezed out, so removal is O(1) amortized and memory stays
 * proportional to the waiters.
 */
class Queue {
  /** The chunk of the first slot, which is live while `live > 0`. */
  head: Chunk;
  headAt = 0;
  tail: Chunk;
  /** The next free slot of `tail`. */
  tailAt = 0;
  /** Waiters, holes excluded. */
  live = 0;
  holes = 0;
  /** A drained chunk kept for reuse. */
  #spare: Chunk | undefined = undefined;

  constructor() {
    this.head = this.tail = new Chunk(CHUNK_MIN);
  }

  /** Append an entry; a waiter's slot is then at `tailAt - 1` of `tail`. */
  push(entry: Resolve | Waiter, seq: number, since: number): void {
    let tail = this.tail;
    let at = this.tailAt;
    if (at === tail.items.length) {
      let next = this.#spare;
      if (next === undefined) next = new Chunk(Math.min(at * 2, CHUNK_MAX));
      else this.#spare = undefined;
      tail.next = next;
      this.tail = tail = next;
      at = 0;
    }
    tail.items[at] = entry;
    const marks = tail.marks;
    marks[2 * at] = seq;
    marks[2 * at + 1] = since;
    this.tailAt = at + 1;
    this.live++;
  }

  /** Remove the head, which is live. */
  shift(): void {
    const head = this.head;
    const items = head.items;
    const at = this.headAt;
    items[at] = undefined;
    this.live--;
    // The common case: the next slot of the same chunk holds the next waiter.
    const next = at + 1;
    if (next < (head === this.tail ? this.tailAt : items.length) && items[next] !== undefined) {
      this.headAt = next;
    } else this.#advance();
  }

  /** Turn a waiter's slot into a hole. */
  remove(waiter: Waiter): void {
    const chunk = waiter.chunk!;
    const at = waiter.at;
    waiter.chunk = undefined;
    chunk.items[at] = undefined;
    this.live--;
    if (chunk === this.head && at === this.headAt) this.#advance();
    else if (++this.holes > 32 && this.holes > this.live) this.#squeeze();
  }

  /** Step past the head and any holes behind it, back to the start once empty. */
  #advance(): void {
    let head = this.head;
    let at = this.headAt;
    for (;;) {
      if (head === this.tail && at + 1 === this.tailAt) {
        // Empty: start over at the beginning of the chunk.
        this.headAt = this.tailAt = 0;
        this.head = head;
        this.holes = 0;
        this.#spare = undefined;
        return;
      }
      if (++at === head.items.length) {
        const drained = head;
        head = head.next!;
        drained.next = undefined;
        this.#spare = drained;
        at = 0;
      }
      if (head.items[at] !== undefined) break;
      this.holes--;
    }
    this.head = head;
    this.headAt = at;
  }

  /** Move the waiters into fresh chunks, leaving the holes behind. */
  #squeeze(): void {
    let chunk: Chunk | undefined = this.head;
    let at = this.headAt;
    const tail = this.tail;
    const tailAt = this.tailAt;
    this.head = this.tail = new Chunk(CHUNK_MIN);
    this.headAt = this.tailAt = 0;
    this.live = this.holes = 0;
    this.#spare = undefined;
    while (chunk !== undefined) {
      const end = chunk === tail ? tailAt : chunk.items.length;
      for (; at < end; at++) {
        const entry = chunk.items[at];
        if (entry === undefined) continue;
        this.push(entry, chunk.marks[2 * at]!, chunk.marks[2 * at + 1]!);
        if (typeof entry !== "function") {
          entry.chunk = this.tail;
          entry.at = this.tailAt - 1;
        }
      }
      chunk = chunk === tail ? undefined : chunk.next;
      at = 0;
    }
  }
}

/**
 * The waiters that share one signal, behind a single abort listener. Jobs commonly
 * share a shutdown signal, and runtimes add and remove listeners in time linear in
 * their number: a listener per waiter would make a long queue quadratic.
 */
class Watch {
  readonly signal: AbortSignal;
  first: Waiter | undefined = undefined;
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
 * The functions of the promise being made. `new Promise` runs its executor
 * synchronously, so they are passed through module variables instead of a closure
 * per call.
 */
let resolving: Resolve | undefined;
let rejecting: ((reason: unknown) => void) | undefined;
function fill(resolve: Resolve, reject: (reason: unknown) => void): void {
  resolving = resolve;
  rejecting = reject;
}

/**
 * The state behind a {@linkcode PrioritySemaphore}, shared with its permits and
 * watches: a {@linkcode Queue} per level.
 */
class Slots {
  readonly permits: number;
  available: number;
  waiting = 0;
  readonly queues: readonly [Queue, Queue, Queue] = [new Queue(), new Queue(), new Queue()];
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
    const now = this.#reading;
    return Number.isNaN(now) ? this.#read() : now;
  }

  /** Read the clock, keeping the reading of the default one until the microtasks ran. */
  #read(): number {
    const now = this.#clock();
    if (this.#reuse) {
      this.#reading = now;
      queueMicrotask(this.#forget);
    }
    return now;
  }

  enqueue(level: Priority, signal: AbortSignal | undefined): Promise<Permit> {
    const since = level === Priority.HIGH ? 0 : this.#now();
    const promise = new Promise<Permit>(fill);
    const resolve = resolving!;
    const reject = rejecting!;
    resolving = rejecting = undefined;
    const queue = this.queues[level];
    if (signal === undefined) queue.push(resolve, this.#seq++, since);
    else {
      const waiter = new Waiter(resolve, reject, level, this.#watch(signal));
      queue.push(waiter, this.#seq++, since);
      waiter.chunk = queue.tail;
      waiter.at = queue.tailAt - 1;
      this.#link(waiter);
    }
    this.waiting++;
    return promise;
  }

  /** A permit came back: hand it straight to the next waiter, or keep it. */
  release(): void {
    if (this.waiting === 0) this.available++;
    else this.#handOver();
  }

  /** Grant a released permit to the next waiter still waiting, or keep it. */
  #handOver(): void {
    while (this.waiting > 0) {
      const queue = this.#pick();
      const entry = queue.head.items[queue.headAt]!;
      let resolve: Resolve;
      if (typeof entry === "function") resolve = entry;
      else {
        const watch = entry.watch;
        // Aborted, and another listener of the signal released a permit before ours
        // ran: those waiters are gone, the permit goes on to the next one.
        if (watch.signal.aborted) {
          this.abort(watch);
          continue;
        }
        this.#unlink(entry);
        resolve = entry.resolve;
      }
      queue.shift();
      this.waiting--;
      resolve(new SlotPermit(this));
      return;
    }
    this.available++;
  }

  /** Reject every waiter of an aborted signal with its reason. */
  abort(watch: Watch): void {
    const signal = watch.signal;
    this.#watches.delete(signal);
    signal.removeEventListener("abort", watch);
    let waiter = watch.first;
    watch.first = undefined;
    while (waiter !== undefined) {
      const next = waiter.next;
      waiter.prev = waiter.next = undefined;
      this.queues[waiter.level].remove(waiter);
      this.waiting--;
      waiter.reject(signal.reason);
      waiter = next;
    }
  }

  /** The watch of a signal, made and listening if it is the first waiter's. */
  #watch(signal: AbortSignal): Watch {
    let watch = this.#watches.get(signal);
    if (watch === undefined) {
      watch = new Watch(this, signal);
      this.#watches.set(signal, watch);
      signal.addEventListener("abort", watch, { once: true });
    }
    return watch;
  }

  #link(waiter: Waiter): void {
    const watch = waiter.watch;
    const first = watch.first;
    if (first !== undefined) {
      first.prev = waiter;
      waiter.next = first;
    }
    watch.first = waiter;
  }

  #unlink(waiter: Waiter): void {
    const { watch, prev, next } = waiter;
    if (prev === undefined) watch.first = next;
    else prev.next = next;
    if (next !== undefined) next.prev = prev;
    waiter.prev = waiter.next = undefined;
    if (watch.first === undefined) {
      this.#watches.delete(watch.signal);
      watch.signal.removeEventListener("abort", watch);
    }
  }

  /**
   * The queue to grant from next: of the queue heads (each the oldest, and so the
   * most aged, of its level) the one with the lowest effective level, the older on a
   * tie.
   */
  #pick(): Queue {
    const queues = this.queues;
    let best: Queue | undefined;
    let bestLevel = 0;
    let bestSeq = 0;
    let bestSince = 0;
    let now = Number.NaN;
    for (let level = 0; level < LEVELS; level++) {
      const queue = queues[level as Priority];
      if (queue.live === 0) continue;
      const marks = queue.head.marks;
      const at = 2 * queue.headAt;
      // A live queue's head slot is a waiter's, so its marks were written.
      const seq = marks[at]!;
      const since = marks[at + 1]!;
      // A younger head of a lower priority can only lose, so the clock is read only
      // when an older waiter of a lower priority may have aged past `best`.
      if (best !== undefined) {
        if (seq > bestSeq) continue;
        if (Number.isNaN(now)) now = this.#now();
        // This head is the older of the two, so it wins a tie.
        const effective = this.#effective(level, since, now);
        if (effective > this.#effective(bestLevel, bestSince, now)) continue;
      }
      best = queue;
      bestLevel = level;
      bestSeq = seq;
      bestSince = since;
    }
    return best!;
  }

  /** `level - floor(waited / aging)`, at least 0 (at most `level` if the clock stepped back). */
  #effective(level: number, since: number, now: number): number {
    if (level === Priority.HIGH) return 0;
    const risen = Math.floor((now - since) / this.#aging);
    return risen <= 0 ? level : risen >= level ? 0 : level - risen;
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
    return this.#slots.queues[priority].live;
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

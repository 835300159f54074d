/**
 * The admission stage: a due message runs when it has two slots, one of its actor
 * (`maxJobs` of the actor) and one of the listener (granted by actor priority, see
 * priority.ts). It takes them at once when both are free and no held message of its
 * actor waits before it; otherwise it is held, first come first served, and pulsed
 * while it waits (the wait is the listener's doing, not the job's).
 *
 * @module
 */
import type { JobClock } from "./job_control.ts";
import type { Delivery } from "./delivery.ts";
import type { Permit, Priority, PrioritySemaphore } from "./priority.ts";

/** Starts a message whose slots are taken; it gives the permit back when the job ends. */
export type Start = (delivery: Delivery, permit: Permit) => void;

/** One actor's slot queue. */
export class Admission {
  /** Messages waiting for slots. */
  held = 0;
  readonly #maxJobs: number;
  readonly #priority: Priority;
  readonly #slots: PrioritySemaphore;
  readonly #stopping: AbortSignal;
  readonly #clock: JobClock;
  readonly #start: Start;
  /** Local slots taken: running jobs, and held messages with a global slot asked for. */
  #taken = 0;
  /**
   * Messages waiting for slots, first come first served, from `#head` on. The first
   * `#asked` of them have their local slot and a global one asked for.
   */
  #queue: (Delivery | undefined)[] = [];
  /** Where the waiting messages start in `#queue`. */
  #head = 0;
  /** Global slots asked for on behalf of the first messages of `#queue`. */
  #asked = 0;
  #stopped = false;
  /** The time `#now` read in this synchronous run, or NaN. */
  #stamp = Number.NaN;

  /**
   * @param actor the actor's `maxJobs` and priority
   * @param slots the listener's global slots
   * @param stopping aborts on shutdown: waits for a global slot end
   * @param clock pulses held messages
   * @param start runs a message once both its slots are taken
   */
  constructor(
    actor: { readonly maxJobs: number; readonly priority: Priority },
    slots: PrioritySemaphore,
    stopping: AbortSignal,
    clock: JobClock,
    start: Start,
  ) {
    this.#maxJobs = actor.maxJobs;
    this.#priority = actor.priority;
    this.#slots = slots;
    this.#stopping = stopping;
    this.#clock = clock;
    this.#start = start;
    clock.pulseAlso(this.#pulse);
  }

  /**
   * Start a due message now if both slots are free and nobody waits before it, or hold it
   * (pulsed while it waits, from `delivery.pulsed`).
   */
  admit(delivery: Delivery): void {
    if (this.held === 0 && this.#taken < this.#maxJobs) {
      const permit = this.#slots.tryAcquire(this.#priority);
      if (permit !== undefined) {
        this.#taken += 1;
        this.#start(delivery, permit);
        return;
      }
    }
    delivery.pulsed = this.#now();
    this.#queue.push(delivery);
    this.held += 1;
    this.#clock.keepPulsing();
    this.#pump();
  }

  /**
   * `performance.now()`, read once per synchronous run: the messages of one socket read
   * are held one after another, and share the time their wait began. An earlier time
   * than the real one only makes a pulse come sooner.
   */
  #now(): number {
    if (Number.isNaN(this.#stamp)) {
      this.#stamp = performance.now();
      queueMicrotask(this.#expire);
    }
    return this.#stamp;
  }

  readonly #expire = (): void => {
    this.#stamp = Number.NaN;
  };

  /** A job ended: give its slots back (the permit), and the local one to the next held message. */
  release(permit: Permit): void {
    permit.release();
    this.#taken -= 1;
    if (this.held > this.#asked) this.#pump();
  }

  /** Shutdown: take no more, and hand out the held messages (to be given back). */
  stop(): Delivery[] {
    this.#stopped = true;
    // The slots asked for them come back as refusals (the stopping signal aborted
    // them) or, if granted just before, unused.
    const given = this.#queue.slice(this.#head) as Delivery[];
    this.#queue = [];
    this.#head = 0;
    this.held = 0;
    return given;
  }

  /** Pulse the held messages not pulsed for `half` ms; says how many are held. */
  readonly #pulse = (now: number, half: number): number => {
    const queue = this.#queue;
    for (let i = this.#head; i < queue.length; i++) {
      const held = queue[i]!;
      if (now - held.pulsed >= half) {
        held.pulsed = now;
        held.working();
      }
    }
    return this.held;
  };

  /**
   * Give the held messages their slots, in order: a local slot each, then a global one,
   * taken at once if free, or else asked for by priority (granted in the order asked,
   * to the first messages of the queue).
   */
  #pump(): void {
    while (this.held > this.#asked && this.#taken < this.#maxJobs && !this.#stopped) {
      this.#taken += 1;
      const permit = this.#asked === 0 ? this.#slots.tryAcquire(this.#priority) : undefined;
      if (permit !== undefined) this.#startHeld(permit);
      else {
        this.#asked += 1;
        this.#slots.acquire(this.#priority, { signal: this.#stopping })
          .then(this.#granted, this.#refused);
      }
    }
  }

  /** A global slot asked for by `#pump` was granted: start the first held message. */
  readonly #granted = (permit: Permit): void => {
    this.#asked -= 1;
    if (this.held > 0) this.#startHeld(permit);
    else {
      // The queue was given back on shutdown.
      permit.release();
      this.#taken -= 1;
    }
  };

  /** The listener stopped before a global slot was granted: give the local one back. */
  readonly #refused = (): void => {
    this.#asked -= 1;
    this.#taken -= 1;
  };

  /** Start the first held message with its slots taken. */
  #startHeld(permit: Permit): void {
    const queue = this.#queue;
    const held = queue[this.#head]!;
    queue[this.#head++] = undefined;
    this.held -= 1;
    if (this.held === 0) {
      queue.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= queue.length) {
      // Drop the taken half at once instead of shifting the array per message.
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
    this.#start(held, permit);
  }
}

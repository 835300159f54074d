/**
 * Pools of workers shared by the actors of one listener: `"thread"` (long-lived Web
 * Workers, cooperative cancel) and `"process"` (child processes, killed on abort).
 * Workers start on demand, up to the pool's size, run one job at a time, and are
 * replaced after a crash. A job waits for a free worker first; its timeout starts
 * when a worker takes it.
 *
 * @module
 */
import { UnrecoverableError } from "../../errors.ts";
import { type Host, type HostOptions, spawnHost, type WorkerKind } from "./_hosts.ts";
import { abortKind, fromErrorData, type FromWorker, type RunRequest } from "./_protocol.ts";

export { processProblem } from "./_hosts.ts";
export type { WorkerKind } from "./_hosts.ts";

/**
 * A worker died while it ran a job: an uncaught error or unhandled rejection outside
 * the handler's promise, `exit()`, running out of memory, a signal. The job fails
 * (and is retried as usual); the pool starts another worker for the next job.
 *
 * @example Tell a crashed worker from a failed handler
 * ```ts
 * import { type Middleware, WorkerCrashError } from "@walnats/walnats";
 *
 * const crashes: Middleware = {
 *   onFailure({ actor, error }) {
 *     if (error instanceof WorkerCrashError) console.error(`${actor.name}: worker crashed`, error);
 *   },
 * };
 * ```
 */
export class WorkerCrashError extends Error {
  /** The actor whose job was running. */
  readonly actor: string;
  /** `"thread"` or `"process"`. */
  readonly worker: WorkerKind;
  /**
   * Create the error.
   * @param actor the actor's name
   * @param worker where the job ran
   * @param reason what happened to the worker
   */
  constructor(actor: string, worker: WorkerKind, reason: string) {
    super(`The ${worker} worker running a job of actor "${actor}" crashed: ${reason}`);
    this.name = "WorkerCrashError";
    this.actor = actor;
    this.worker = worker;
  }
}

/** A job for a worker: everything of a run request but its id. */
export type WorkerTask = Omit<RunRequest, "type" | "id">;

interface Job {
  readonly id: number;
  readonly actor: string;
  settle(message: FromWorker & { type: "done" }): void;
  progress: ((json: string) => void) | undefined;
  crash(error: WorkerCrashError): void;
}

interface Slot {
  readonly host: Host;
  /** The job whose answer is awaited, if any. */
  job: Job | undefined;
  /** The job the worker runs (still set after an abort in a thread, until it answers). */
  runningId: number | undefined;
}

interface Waiter {
  resolve(slot: Slot): void;
  reject(error: unknown): void;
}

let nextId = 0;
const alive: Record<WorkerKind, number> = { thread: 0, process: 0 };

/**
 * Workers alive in this process, all pools together (tests check that shutdown
 * leaves none).
 * @returns counts by kind
 */
export function aliveWorkers(): Readonly<Record<WorkerKind, number>> {
  return { ...alive };
}

/** A pool of workers of one kind. */
export class WorkerPool {
  /** `"thread"` or `"process"`. */
  readonly kind: WorkerKind;
  /** At most this many workers. */
  readonly max: number;
  readonly #options: HostOptions;
  readonly #slots = new Set<Slot>();
  readonly #idle: Slot[] = [];
  readonly #waiters: Waiter[] = [];
  /** Workers being killed (retired after an abort): `close()` waits for them too. */
  readonly #dying = new Set<Promise<void>>();
  #closed = false;

  /**
   * @param kind where workers run
   * @param max the most workers at once
   * @param options how to start workers
   */
  constructor(kind: WorkerKind, max: number, options: HostOptions = {}) {
    this.kind = kind;
    this.max = max;
    this.#options = options;
  }

  /** Workers alive now. */
  get size(): number {
    return this.#slots.size;
  }

  /** Workers running a job now. */
  get busy(): number {
    return this.#slots.size - this.#idle.length;
  }

  /**
   * Run a job in a worker: wait for a free one (or start one), send the message, and
   * resolve with the value the handler returned. When `signal` aborts, the job fails at
   * once with its reason: a process is killed (and replaced); a thread is told (its job
   * sees its signal abort) and stays busy until its handler returns.
   *
   * @param task what to run
   * @param signal the job's signal
   * @param started called when a worker takes the job
   * @param progress called with each progress report of the job (checked JSON)
   * @returns the handler's value
   * @throws the handler's error, `signal.reason`, {@linkcode WorkerCrashError}, or
   *   {@linkcode UnrecoverableError} when the message cannot be sent to a worker
   */
  async run(
    task: WorkerTask,
    signal: AbortSignal,
    started?: () => void,
    progress?: (json: string) => void,
  ): Promise<unknown> {
    signal.throwIfAborted();
    const slot = await this.#acquire(signal);
    if (signal.aborted) {
      this.#release(slot);
      throw signal.reason;
    }
    started?.();
    const id = ++nextId;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        slot.job = undefined;
        if (this.kind === "process") this.#retire(slot);
        else slot.host.abort(id, abortKind(signal.reason));
        reject(signal.reason);
      };
      slot.job = {
        id,
        actor: task.actor,
        progress,
        settle(message) {
          signal.removeEventListener("abort", onAbort);
          if (message.ok) resolve(message.value);
          else reject(fromErrorData(message.error));
        },
        crash(error) {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      slot.runningId = id;
      signal.addEventListener("abort", onAbort, { once: true });
      let message = task.message;
      const transfer: ArrayBuffer[] = [];
      if (this.kind === "thread" && message instanceof Uint8Array) {
        // Our own copy (the received bytes may share a buffer with other messages), moved.
        const copy = new Uint8Array(message);
        message = copy;
        transfer.push(copy.buffer);
      }
      try {
        slot.host.send({ type: "run", id, ...task, message }, transfer);
      } catch (error) {
        signal.removeEventListener("abort", onAbort);
        slot.job = undefined;
        this.#release(slot);
        reject(
          new UnrecoverableError(
            `The message of actor "${task.actor}" cannot be sent to a ${this.kind} worker: ${
              (error as Error).message
            }`,
            { cause: error },
          ),
        );
      }
    });
  }

  /** Stop every worker (running jobs are not waited for); resolves when they are gone. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(new Error(`The ${this.kind} worker pool is closed`));
    }
    const slots = [...this.#slots];
    this.#slots.clear();
    this.#idle.length = 0;
    await Promise.all([...slots.map((slot) => this.#kill(slot)), ...this.#dying]);
  }

  #acquire(signal: AbortSignal): Promise<Slot> {
    if (this.#closed) return Promise.reject(new Error(`The ${this.kind} worker pool is closed`));
    const idle = this.#idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.#slots.size < this.max) return Promise.resolve(this.#spawn());
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        resolve(slot) {
          signal.removeEventListener("abort", onAbort);
          resolve(slot);
        },
        reject(error) {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      this.#waiters.push(waiter);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #spawn(): Slot {
    const slot: Slot = {
      host: undefined as unknown as Host,
      job: undefined,
      runningId: undefined,
    };
    (slot as { host: Host }).host = spawnHost(this.kind, {
      message: (message) => this.#answer(slot, message),
      exit: (reason) => this.#died(slot, reason),
    }, this.#options);
    alive[this.kind] += 1;
    this.#slots.add(slot);
    return slot;
  }

  #answer(slot: Slot, message: FromWorker): void {
    if (message.type === "progress") {
      if (message.id === slot.runningId && typeof message.json === "string") {
        slot.job?.progress?.(message.json);
      }
      return;
    }
    if (message.type !== "done" || message.id !== slot.runningId) return;
    const job = slot.job;
    slot.job = undefined;
    job?.settle(message);
    this.#release(slot);
  }

  /** A worker is free: to the first waiter, else idle. */
  #release(slot: Slot): void {
    slot.runningId = undefined;
    if (!this.#slots.has(slot)) return;
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(slot);
    else this.#idle.push(slot);
  }

  /** A worker died by itself: fail its job, let a waiter start another one. */
  #died(slot: Slot, reason: string): void {
    if (!this.#slots.delete(slot)) return;
    alive[this.kind] -= 1;
    const i = this.#idle.indexOf(slot);
    if (i >= 0) this.#idle.splice(i, 1);
    const job = slot.job;
    slot.job = undefined;
    job?.crash(new WorkerCrashError(job.actor, this.kind, reason));
    this.#refill();
  }

  /** Kill a worker we no longer want (its job was aborted) and let a waiter replace it. */
  #retire(slot: Slot): void {
    if (!this.#slots.delete(slot)) return;
    const dying = this.#kill(slot);
    this.#dying.add(dying);
    dying.finally(() => this.#dying.delete(dying));
    this.#refill();
  }

  async #kill(slot: Slot): Promise<void> {
    await slot.host.kill();
    alive[this.kind] -= 1;
  }

  #refill(): void {
    while (!this.#closed && this.#waiters.length && this.#slots.size < this.max) {
      const waiter = this.#waiters.shift()!;
      try {
        waiter.resolve(this.#spawn());
      } catch (error) {
        waiter.reject(error);
      }
    }
  }
}

/** The pools of one listener. */
export class WorkerPools {
  /** Web Workers for `executeIn: "thread"`. */
  readonly thread: WorkerPool;
  /** Worker processes for `executeIn: "process"`. */
  readonly process: WorkerPool;

  /**
   * @param maxThreads size of the thread pool
   * @param maxProcesses size of the process pool
   * @param options how to start workers
   */
  constructor(maxThreads: number, maxProcesses: number, options: HostOptions = {}) {
    this.thread = new WorkerPool("thread", maxThreads, options);
    this.process = new WorkerPool("process", maxProcesses, options);
  }

  /** Stop every worker of both pools. */
  async close(): Promise<void> {
    await Promise.all([this.thread.close(), this.process.close()]);
  }
}

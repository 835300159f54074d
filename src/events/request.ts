/**
 * request: emit with a `Walnats-Reply` inbox header and wait for the first
 * response. All requests of a connection share one wildcard inbox subscription.
 *
 * @module
 */
import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { RequestTimeoutError, ResponseError } from "../errors.ts";
import { PROGRESS, RESPONSE_ERROR } from "../headers.ts";
import { consoleLogger } from "../_logger.ts";
import type { ProgressValue } from "../progress.ts";
import type { EmitOptions } from "./emit.ts";
import type { Event } from "./event.ts";
import { validate } from "./schema.ts";

/**
 * Options of `request()`: those of emit (but `sync`), a timeout and a signal.
 *
 * @example Ask with a short timeout
 * ```ts
 * import type { RequestOptions } from "@walnats/walnats";
 *
 * const options: RequestOptions = { timeout: 2000, traceId: "checkout-42" };
 * ```
 */
export interface RequestOptions extends Omit<EmitOptions, "sync"> {
  /** How long to wait for the response, in milliseconds (at most 2^31-1). @default 4000 */
  readonly timeout?: number;
  /** Abort the wait; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Called with each progress value the handler reports (`job.progress()`), in order,
   * before the response. Progress is sent only to requests that pass this (they carry
   * a `Walnats-Accept-Progress` header); at most 5 values a second arrive per job, the
   * last value winning. An error it throws is logged and otherwise ignored.
   */
  readonly onProgress?: (value: ProgressValue) => void;
}

interface Pending {
  event: Event<unknown, unknown>;
  progress: ((value: ProgressValue) => void) | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Routes responses arriving on `<prefix>.<token>` to the request waiting for that token. */
export class ResponseMux {
  readonly #nc: NatsConnection;
  readonly #pending = new Map<string, Pending>();
  #prefix: string | undefined;
  #sub: Subscription | undefined;
  #counter = 0;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  /** Pending requests (for tests: must return to 0). */
  get size(): number {
    return this.#pending.size;
  }

  /** Register a waiter and return its inbox subject plus the promise of the response. */
  wait<R>(
    event: Event<unknown, R>,
    options: {
      timeout: number;
      signal?: AbortSignal | undefined;
      onProgress?: ((value: ProgressValue) => void) | undefined;
    },
  ): { inbox: string; response: Promise<R> } {
    if (!this.#sub) {
      this.#prefix = createInbox();
      this.#sub = this.#nc.subscribe(`${this.#prefix}.*`, {
        callback: (_err, msg) => {
          void this.#dispatch(msg);
        },
      });
    }
    const token = (++this.#counter).toString(36);
    const inbox = `${this.#prefix}.${token}`;
    const { signal, timeout } = options;
    const response = new Promise<R>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#pending.delete(token);
      };
      const onAbort = () => {
        done();
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        done();
        reject(new RequestTimeoutError(event.name, timeout));
      }, timeout);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(token, {
        event: event as Event<unknown, unknown>,
        progress: options.onProgress,
        resolve: (value) => {
          done();
          resolve(value as R);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
    });
    return { inbox, response };
  }

  /** Whether the request of this inbox still waits (not answered, timed out or aborted). */
  waiting(inbox: string): boolean {
    return this.#pending.has(tokenOf(inbox));
  }

  /** Forget a waiter whose request could not be sent. */
  cancel(inbox: string, error: unknown): void {
    this.#pending.get(tokenOf(inbox))?.reject(error);
  }

  async #dispatch(msg: Msg): Promise<void> {
    const pending = this.#pending.get(tokenOf(msg.subject));
    if (!pending) return; // late or duplicate response: the first one won
    const { event } = pending;
    if (msg.headers?.has(PROGRESS)) {
      // Progress, never the response: sent only when the request accepts it.
      if (pending.progress === undefined) return;
      try {
        pending.progress(JSON.parse(decoder.decode(msg.data)));
      } catch (error) {
        consoleLogger.error(`onProgress of a request of event "${event.name}" failed`, { error });
      }
      return;
    }
    if (msg.headers?.has(RESPONSE_ERROR)) {
      // An empty reason still means an error, not an empty response.
      const reason = msg.headers.get(RESPONSE_ERROR) || "no reason given";
      pending.reject(new ResponseError(event.name, reason));
      return;
    }
    const spec = event.response!;
    try {
      const decoded = await spec.serializer.decode(msg.data);
      pending.resolve(await validate(spec.schema, decoded, `response of event "${event.name}"`));
    } catch (error) {
      pending.reject(error);
    }
  }

  /** Reject every waiter and drop the subscription. */
  close(error: Error): void {
    for (const pending of [...this.#pending.values()]) pending.reject(error);
    this.#sub?.unsubscribe();
    this.#sub = undefined;
  }
}

const decoder = new TextDecoder();

function tokenOf(inbox: string): string {
  return inbox.slice(inbox.lastIndexOf(".") + 1);
}

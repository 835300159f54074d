/**
 * monitor: a live feed of decoded events through core NATS subscriptions
 * (nothing is persisted or acknowledged).
 *
 * @module
 */
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import type { Event } from "./event.ts";
import { validate } from "./schema.ts";

/**
 * One message seen by `monitor()`.
 *
 * @example Print the events as they pass
 * ```ts
 * import type { ConnectedEvents, MonitoredEvent } from "@walnats/walnats";
 *
 * async function watch(conn: ConnectedEvents): Promise<void> {
 *   for await (const seen of conn.monitor() as AsyncIterable<MonitoredEvent>) {
 *     console.info(seen.event.name, seen.error ?? seen.message);
 *   }
 * }
 * ```
 */
export interface MonitoredEvent {
  /** The event it was emitted for. */
  readonly event: Event<unknown, unknown>;
  /** The decoded message, `undefined` when decoding or validation failed. */
  readonly message: unknown;
  /** Why the message could not be decoded, if it could not. */
  readonly error?: Error;
  /** The message's headers (name → first value). */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Options of `monitor()`.
 *
 * @example Watch the events for a minute
 * ```ts
 * import type { ConnectedEvents, MonitorOptions } from "@walnats/walnats";
 *
 * function watchForAMinute(conn: ConnectedEvents): ReadableStream {
 *   const options: MonitorOptions = { signal: AbortSignal.timeout(60_000) };
 *   return conn.monitor(options);
 * }
 * ```
 */
export interface MonitorOptions {
  /** Stop the feed (the stream then closes). */
  readonly signal?: AbortSignal;
}

/** Subscribe to every event and decode what arrives, in arrival order. */
export function monitor(
  nc: NatsConnection,
  events: readonly Event<unknown, unknown>[],
  options: MonitorOptions = {},
): ReadableStream<MonitoredEvent> {
  const subs: Subscription[] = [];
  let chain: Promise<void> = Promise.resolve();
  const stop = () => {
    for (const sub of subs) sub.unsubscribe();
    subs.length = 0;
  };
  return new ReadableStream<MonitoredEvent>({
    start(controller) {
      const { signal } = options;
      if (signal?.aborted) {
        controller.close();
        return;
      }
      signal?.addEventListener("abort", () => {
        stop();
        chain.then(() => controller.close()).catch(() => {});
      }, { once: true });
      for (const event of events) {
        subs.push(nc.subscribe(event.name, {
          callback: (_err, msg) => {
            const headers: Record<string, string> = {};
            for (const [key, values] of msg.headers ?? []) headers[key] = values[0] ?? "";
            // Decoding may be async: keep arrival order by chaining.
            chain = chain.then(async () => {
              try {
                const decoded = await event.serializer.decode(msg.data, msg.headers);
                const message = await validate(
                  event.schema,
                  decoded,
                  `message of event "${event.name}"`,
                );
                controller.enqueue({ event, message, headers });
              } catch (error) {
                controller.enqueue({ event, message: undefined, error: error as Error, headers });
              }
            });
          },
        }));
      }
    },
    cancel() {
      stop();
    },
  });
}

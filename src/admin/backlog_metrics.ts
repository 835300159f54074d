/**
 * Backlog gauges for Prometheus: per actor, the messages pending, in flight, redelivered,
 * the dead letters stored and the running instances; per event, the messages stored.
 * Polled from the admin status on an interval, beside the job counters of
 * `PrometheusMiddleware`.
 *
 * @module
 */
import { Counter, Gauge, Registry } from "prom-client";
import { sleep } from "../_async.ts";
import type { ConnectionOptions, NatsConnection } from "../connection.ts";
import type { Logger } from "../_logger.ts";
import { consoleLogger } from "../_logger.ts";
import { type Admin, type AdminOptions, connectAdmin } from "./admin.ts";
import type { PrometheusRegistry } from "../middlewares/prometheus.ts";
import type { Status } from "./status.ts";

/**
 * Options of {@linkcode BacklogMetrics}.
 *
 * @example Poll every 30 seconds into prom-client's global registry
 * ```ts
 * import { register } from "prom-client";
 * import type { BacklogMetricsOptions } from "@walnats/walnats/prometheus";
 *
 * const options: BacklogMetricsOptions = { registry: register, interval: 30_000 };
 * ```
 */
export interface BacklogMetricsOptions extends AdminOptions {
  /** The prom-client registry to add the gauges to. @default a new `Registry` */
  readonly registry?: PrometheusRegistry;
  /** Prefix of every metric name. @default "walnats_" */
  readonly prefix?: string;
  /** Milliseconds between two polls of the server. @default 15000 */
  readonly interval?: number;
  /** Where failed polls are reported (they are retried on the next interval). @default console */
  readonly logger?: Logger;
}

/**
 * Per-actor backlog gauges for Prometheus, polled from the server:
 * - `walnats_actor_pending_messages` (not yet delivered),
 * - `walnats_actor_in_flight_messages` (delivered, not acknowledged),
 * - `walnats_actor_redelivered_messages` (delivered more than once, not acknowledged),
 * - `walnats_actor_dead_letters` (stored in the actor's dead-letter stream),
 * - `walnats_actor_instances` (running listeners heard from, by their heartbeat),
 *
 * labelled `event` and `actor`; `walnats_event_messages` (stored, labelled `event`); and
 * `walnats_backlog_polls_failed_total`. Dispose it (`await using`) to stop polling.
 *
 * @example Serve backlog gauges and job counters together
 * ```ts ignore
 * import { Registry } from "prom-client";
 * import { BacklogMetrics, PrometheusMiddleware } from "@walnats/walnats/prometheus";
 *
 * const registry = new Registry();
 * const jobs = new PrometheusMiddleware({ registry }); // in the actors' middlewares
 * await using backlog = new BacklogMetrics(conn.connection, { registry, interval: 15_000 });
 * Deno.serve({ port: 9464 }, async () =>
 *   new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } }));
 * ```
 */
export class BacklogMetrics implements AsyncDisposable {
  /** The registry holding the gauges. */
  readonly registry: PrometheusRegistry;
  readonly #gauges: {
    pending: Gauge<"event" | "actor">;
    inFlight: Gauge<"event" | "actor">;
    redelivered: Gauge<"event" | "actor">;
    deadLetters: Gauge<"event" | "actor">;
    instances: Gauge<"event" | "actor">;
    messages: Gauge<"event">;
    failed: Counter<never>;
  };
  readonly #stop = new AbortController();
  readonly #done: Promise<void>;
  #polled: (status: Status) => void = () => {};
  #admin: Admin | undefined;

  /**
   * Start polling at once, then every `interval` ms.
   *
   * @param connection an open connection (not closed by this), server URL(s) or options
   * @param options registry, prefix, interval, and the declared events and actors to show
   * @throws {TypeError} an invalid prefix
   * @throws {RangeError} an interval that is not a positive number of milliseconds
   */
  constructor(
    connection: NatsConnection | string | readonly string[] | ConnectionOptions,
    options: BacklogMetricsOptions = {},
  ) {
    const prefix = options.prefix ?? "walnats_";
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) {
      throw new TypeError(`Invalid Prometheus metric prefix "${prefix}"`);
    }
    const interval = options.interval ?? 15_000;
    if (!(Number.isFinite(interval) && interval > 0)) {
      throw new RangeError(
        `Invalid BacklogMetrics interval: expected a positive number of milliseconds, got ${interval}`,
      );
    }
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    const labelNames = ["event", "actor"] as const;
    const gauge = <L extends string>(name: string, help: string, labels: readonly L[]) =>
      (this.registry.getSingleMetric(`${prefix}${name}`) as Gauge<L> | undefined) ??
        new Gauge<L>({ name: `${prefix}${name}`, help, labelNames: labels, registers });
    this.#gauges = {
      pending: gauge(
        "actor_pending_messages",
        "Messages not yet delivered to the actor",
        labelNames,
      ),
      inFlight: gauge(
        "actor_in_flight_messages",
        "Messages delivered to the actor and not yet acknowledged",
        labelNames,
      ),
      redelivered: gauge(
        "actor_redelivered_messages",
        "Messages delivered to the actor more than once and not yet acknowledged",
        labelNames,
      ),
      deadLetters: gauge("actor_dead_letters", "Dead letters stored for the actor", labelNames),
      instances: gauge(
        "actor_instances",
        "Running listeners of the actor (heartbeats)",
        labelNames,
      ),
      messages: gauge(
        "event_messages",
        "Messages stored in the event's stream",
        ["event"] as const,
      ),
      failed: (this.registry.getSingleMetric(`${prefix}backlog_polls_failed_total`) as
        | Counter<never>
        | undefined) ??
        new Counter({
          name: `${prefix}backlog_polls_failed_total`,
          help: "Polls of the server that failed",
          registers,
        }),
    };
    const logger = options.logger ?? consoleLogger;
    this.#done = this.#run(connection, options, interval, logger);
  }

  /**
   * Wait for the next poll to be applied (for tests and a first scrape).
   *
   * @example Wait for the gauges to be filled
   * ```ts ignore
   * const status = await backlog.next();
   * console.log(await backlog.registry.metrics());
   * ```
   *
   * @returns the status the gauges now show
   */
  next(): Promise<Status> {
    return new Promise((resolve) => {
      const previous = this.#polled;
      this.#polled = (status) => {
        previous(status);
        resolve(status);
      };
    });
  }

  /** Stop polling and remove nothing (the gauges keep their last values). */
  async dispose(): Promise<void> {
    this.#stop.abort();
    await this.#done;
  }

  /** Stop polling (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  async #run(
    connection: NatsConnection | string | readonly string[] | ConnectionOptions,
    options: AdminOptions,
    interval: number,
    logger: Logger,
  ): Promise<void> {
    const signal = this.#stop.signal;
    try {
      while (!signal.aborted) {
        try {
          this.#admin ??= await connectAdmin(connection, options);
          for await (const status of this.#admin.watch({ interval, signal })) this.#apply(status);
        } catch (error) {
          if (signal.aborted) break;
          this.#gauges.failed.inc();
          // A connection closed for good (reconnect attempts spent) is opened again next time.
          if (this.#admin?.connection.isClosed()) {
            await this.#admin.close();
            this.#admin = undefined;
          }
          logger.warn(`backlog metrics: cannot read the status, retrying in ${interval} ms`, {
            error,
          });
          await sleep(interval, signal);
        }
      }
    } finally {
      await this.#admin?.close();
    }
  }

  #apply(status: Status): void {
    const g = this.#gauges;
    for (const gauge of [g.pending, g.inFlight, g.redelivered, g.deadLetters, g.instances]) {
      gauge.reset();
    }
    g.messages.reset();
    for (const e of status.events) g.messages.set({ event: e.name }, e.messages);
    for (const a of status.actors) {
      const labels = { event: a.event, actor: a.name };
      g.pending.set(labels, a.pending);
      g.inFlight.set(labels, a.inFlight);
      g.redelivered.set(labels, a.redelivered);
      g.deadLetters.set(labels, a.deadLetters);
      g.instances.set(labels, a.instances.length);
    }
    const polled = this.#polled;
    this.#polled = () => {};
    polled(status);
  }
}

/**
 * Prometheus metrics of jobs, through prom-client.
 *
 * prom-client (the maintained Prometheus client for JavaScript) runs unchanged on
 * Deno and Bun, so walnats uses it rather than its own exposition writer: the
 * metrics land in a prom-client `Registry`, which an application may share with
 * its other metrics and serve however it serves HTTP.
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Metric, Registry } from "prom-client";
import type { Context, FailureContext, Middleware, SuccessContext } from "../actors/actor.ts";
import type { JobMetadata } from "../actors/job.ts";
import { durationOf } from "./_job.ts";

/**
 * A prom-client registry (`Registry` of `prom-client`).
 *
 * @example Register the metrics in your own registry
 * ```ts
 * import { Registry } from "prom-client";
 * import { PrometheusMiddleware, type PrometheusRegistry } from "@walnats/walnats/prometheus";
 *
 * const registry: PrometheusRegistry = new Registry();
 * const metrics = new PrometheusMiddleware({ registry });
 * ```
 */
export type PrometheusRegistry = Registry;

/**
 * Options of {@linkcode PrometheusMiddleware}.
 *
 * @example Prefix the metrics and set the buckets
 * ```ts
 * import { PrometheusMiddleware } from "@walnats/walnats/prometheus";
 *
 * const metrics = new PrometheusMiddleware({ prefix: "shop_", buckets: [0.01, 0.1, 1, 10] });
 * ```
 */
export interface PrometheusOptions {
  /**
   * The prom-client registry to add the metrics to (pass prom-client's global
   * `register` to serve them with the rest). Two middlewares on one registry share
   * the metrics. @default a new `Registry`
   */
  readonly registry?: PrometheusRegistry;
  /** Prefix of every metric name. @default "walnats_" */
  readonly prefix?: string;
  /**
   * Upper bounds of the duration histogram's buckets, in **seconds** (Prometheus'
   * base unit). @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
   */
  readonly buckets?: readonly number[];
}

const LABELS = ["event", "actor"] as const;
type Label = typeof LABELS[number];

/**
 * Counts jobs per event and actor for Prometheus:
 * - `walnats_jobs_started_total`, `walnats_jobs_succeeded_total`,
 *   `walnats_jobs_failed_total` (counters; failures include undecodable messages),
 * - `walnats_job_duration_seconds` (histogram of handler run time, successes and
 *   failures after the handler ran),
 * - `walnats_jobs_in_flight` (gauge: jobs started and not yet settled),
 * - `walnats_messages_terminated_total` (counter: messages given up on, also labelled
 *   `reason` and `dead_letter`: `stored`, `lost` when the copy could never be stored,
 *   `off` with `deadLetters: false`; alert on `dead_letter="lost"`),
 *
 * all labelled `event` and `actor`. `metrics()` returns the exposition text to serve
 * with `contentType`.
 *
 * @example Serve the metrics
 * ```ts ignore
 * import { PrometheusMiddleware } from "@walnats/walnats/prometheus";
 *
 * const metrics = new PrometheusMiddleware();
 * // new Actor(..., { middlewares: [metrics] })
 * Deno.serve({ port: 9464 }, async () =>
 *   new Response(await metrics.metrics(), { headers: { "content-type": metrics.contentType } }));
 * ```
 */
export class PrometheusMiddleware implements Middleware {
  /** The registry holding the metrics. */
  readonly registry: PrometheusRegistry;
  readonly #started: Counter<Label>;
  readonly #succeeded: Counter<Label>;
  readonly #failed: Counter<Label>;
  readonly #duration: Histogram<Label>;
  readonly #inFlight: Gauge<Label>;
  readonly #terminated: Counter<Label | "reason" | "dead_letter">;
  /** Jobs counted in flight (a decode failure has no start to undo). */
  readonly #running = new WeakSet<JobMetadata>();

  /**
   * Create the metrics in the registry (or reuse those already there).
   *
   * @param options registry, name prefix and histogram buckets
   * @throws {TypeError} when the prefix is not a valid metric name prefix
   */
  constructor(options: PrometheusOptions = {}) {
    const prefix = options.prefix ?? "walnats_";
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) {
      throw new TypeError(`Invalid Prometheus metric prefix "${prefix}"`);
    }
    this.registry = options.registry ?? new Registry();
    const buckets = [
      ...(options.buckets ?? [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]),
    ];
    const registers = [this.registry];
    const labelNames = LABELS;
    this.#started = this.#reuse(
      `${prefix}jobs_started_total`,
      (name) => new Counter({ name, help: "Jobs started (handler called)", labelNames, registers }),
    );
    this.#succeeded = this.#reuse(
      `${prefix}jobs_succeeded_total`,
      (name) =>
        new Counter({ name, help: "Jobs that succeeded (message acked)", labelNames, registers }),
    );
    this.#failed = this.#reuse(`${prefix}jobs_failed_total`, (name) =>
      new Counter({
        name,
        help: "Jobs that failed (retried or terminated), undecodable messages included",
        labelNames,
        registers,
      }));
    this.#duration = this.#reuse(`${prefix}job_duration_seconds`, (name) =>
      new Histogram({
        name,
        help: "How long handlers ran, in seconds",
        labelNames,
        buckets,
        registers,
      }));
    this.#inFlight = this.#reuse(
      `${prefix}jobs_in_flight`,
      (name) => new Gauge({ name, help: "Jobs running now", labelNames, registers }),
    );
    this.#terminated = this.#reuse(`${prefix}messages_terminated_total`, (name) =>
      new Counter({
        name,
        help: "Messages given up on, by reason and what became of their dead letter " +
          "(stored, lost: could never be stored, off: deadLetters false)",
        labelNames: [...LABELS, "reason", "dead_letter"],
        registers,
      }));
  }

  /** The content type of `metrics()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * The exposition text of the registry (all its metrics, not only walnats').
   *
   * @returns Prometheus text format, to serve with `contentType`
   */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Count the start. */
  onStart(context: Context): void {
    const labels = labelsOf(context);
    this.#started.inc(labels);
    this.#inFlight.inc(labels);
    this.#running.add(context.metadata);
  }

  /** Count the success and its duration. */
  onSuccess(context: SuccessContext): void {
    const labels = this.#settle(context);
    this.#succeeded.inc(labels);
    this.#duration.observe(labels, context.duration / 1000);
  }

  /** Count the failure (and its duration, when the handler ran). */
  onFailure(context: FailureContext): void {
    const labels = this.#settle(context);
    this.#failed.inc(labels);
    const { terminated } = context;
    if (terminated !== undefined) {
      this.#terminated.inc({
        ...labels,
        reason: terminated.reason,
        dead_letter: terminated.deadLetter,
      });
    }
    const duration = durationOf(context);
    if (duration !== undefined) this.#duration.observe(labels, duration / 1000);
  }

  #settle(context: Context): Record<Label, string> {
    const labels = labelsOf(context);
    if (this.#running.delete(context.metadata)) this.#inFlight.dec(labels);
    return labels;
  }

  #reuse<M extends Metric<string>>(name: string, create: (name: string) => M): M {
    return (this.registry.getSingleMetric(name) as M | undefined) ?? create(name);
  }
}

function labelsOf(context: Context): Record<Label, string> {
  return { event: context.actor.event.name, actor: context.actor.name };
}

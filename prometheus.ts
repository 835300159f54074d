/**
 * Prometheus metrics for walnats actors: started, succeeded and failed jobs, a duration
 * histogram and an in-flight gauge, labelled by event and actor, through `prom-client`;
 * and backlog gauges polled from the server (pending, in flight, redelivered, dead
 * letters, instances per actor: {@linkcode BacklogMetrics}).
 * A separate entry point, so that only its users load `prom-client`.
 *
 * @example Count jobs and serve the metrics
 * ```ts ignore
 * import { PrometheusMiddleware } from "@walnats/walnats/prometheus";
 *
 * const metrics = new PrometheusMiddleware();
 * const actor = new Actor("welcome", userCreated, handler, { middlewares: [metrics] });
 * Deno.serve({ port: 9464 }, async () =>
 *   new Response(await metrics.metrics(), { headers: { "content-type": metrics.contentType } }));
 * ```
 *
 * @module
 */
export { BacklogMetrics } from "./src/admin/backlog_metrics.ts";
export { PrometheusMiddleware } from "./src/middlewares/prometheus.ts";
export type { BacklogMetricsOptions } from "./src/admin/backlog_metrics.ts";
export type { PrometheusOptions, PrometheusRegistry } from "./src/middlewares/prometheus.ts";

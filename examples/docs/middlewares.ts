// Samples of docs/middlewares.md (type-checked with `deno check examples/`).
// #region builtins
import * as v from "valibot";
import { Actor, CurrentContext, Event, ExtraLog, TextLog } from "@walnats/walnats";

export const orderPlaced = new Event("order-placed", v.object({ id: v.string() }));

// Where people read logs: one sentence per job event.
//   actor "pack-order" handled message 12 of "order-placed" in 3.2 ms (attempt 1)
export const packOrder = new Actor("pack-order", orderPlaced, () => {}, {
  middlewares: [new TextLog({ start: false })],
});

// Where logs are parsed: one JSON record per job event (or records to your own logger).
//   {"time":"…","level":"info","msg":"job succeeded","phase":"success","actor":"bill-order",…}
export const billOrder = new Actor("bill-order", orderPlaced, () => {}, {
  middlewares: [new ExtraLog({ start: false, message: false })],
});
// #endregion builtins

// #region hooks
import type { Middleware } from "@walnats/walnats";

// All three hooks are optional, and may be async.
export const printer: Middleware = {
  onStart: (context) => console.log(`${context.actor.name}: attempt ${context.attempts}`),
  onSuccess: (context) => console.log(`${context.actor.name}: done in ${context.duration} ms`),
  onFailure: (context) => console.error(`${context.actor.name}: ${context.error}`),
};
// #endregion hooks

// #region current-context
const current = new CurrentContext();

/** Deep in code the handler calls: which job am I part of? No parameter needed. */
function audit(text: string): void {
  const job = current.context; // undefined outside a handler call
  console.log(`[${job?.actor.name} #${job?.metadata.streamSeq} attempt ${job?.attempts}] ${text}`);
  const tenant = current.headers?.get("x-tenant"); // the message's headers
  if (tenant) console.log(`tenant ${tenant}`);
}

export const shipOrder = new Actor("ship-order", orderPlaced, async (order) => {
  await Promise.resolve(); // the context follows awaits and timers
  audit(`shipping ${order.id}`);
}, { middlewares: [current] });
// #endregion current-context

// #region alerts
import { ErrorThreshold, type FailureContext, Frequency } from "@walnats/walnats";

function page(context: FailureContext): void {
  console.error(`ALERT actor ${context.actor.name} keeps failing: ${context.error}`);
}

// Alert when an actor failed 5 times in a row, and then at most once per 10 minutes
// per actor and error type: one page for an outage, not a thousand.
const alerting = new ErrorThreshold(new Frequency(page, { timeFrame: 10 * 60_000 }), {
  actor: 5,
});

export const refundOrder = new Actor("refund-order", orderPlaced, () => {}, {
  middlewares: [alerting],
});
// #endregion alerts

// #region custom
import type { Context, SuccessContext } from "@walnats/walnats";

/** Counts slow jobs per actor: any object with some of the three hooks is a middleware. */
export class SlowJobs implements Middleware {
  readonly counts = new Map<string, number>();
  constructor(readonly threshold: number) {}

  onStart(context: Context): void {
    if (context.attempts > 3) console.warn(`${context.actor.name}: attempt ${context.attempts}`);
  }

  onSuccess(context: SuccessContext): void {
    if (context.duration < this.threshold) return;
    this.counts.set(context.actor.name, (this.counts.get(context.actor.name) ?? 0) + 1);
  }
}
// #endregion custom

// #region statsd
import { StatsdMiddleware } from "@walnats/walnats";

// DogStatsD over UDP: Datadog agent, Telegraf, statsd-exporter. Fire and forget.
export const statsd = new StatsdMiddleware({
  host: "127.0.0.1",
  port: 8125,
  prefix: "shop.walnats.",
  tags: { env: "production" },
});
export const emailOrder = new Actor("email-order", orderPlaced, () => {}, {
  middlewares: [statsd],
});
// statsd.close() when the process stops (or `using statsd = …` in a scope).
// #endregion statsd

// #region prometheus
import { createServer } from "node:http";
import { PrometheusMiddleware } from "@walnats/walnats/prometheus";

// One middleware for all actors: the metrics are labelled by event and actor.
export const metrics = new PrometheusMiddleware();
export const archiveOrder = new Actor("archive-order", orderPlaced, () => {}, {
  middlewares: [metrics],
});

export function serveMetrics(port: number): void {
  createServer(async (_request, response) => {
    response.setHeader("content-type", metrics.contentType);
    response.end(await metrics.metrics());
  }).listen(port);
}
// #endregion prometheus

// #region sentry
import { type SentryClient, SentryMiddleware } from "@walnats/walnats";

// Pass the Sentry SDK you initialised: `import * as Sentry from "@sentry/deno"` (or
// @sentry/bun, @sentry/node) fits SentryClient. walnats itself depends on no Sentry package.
export function sentryMiddleware(Sentry: SentryClient): ErrorThreshold {
  // Report a message's failure from its third attempt on.
  return new ErrorThreshold(new SentryMiddleware(Sentry), { message: 3 });
}
// #endregion sentry

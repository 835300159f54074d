/**
 * StatsD metrics of jobs (DogStatsD tags) over UDP, with `node:dgram`
 * (available in Deno and Bun); no client library.
 *
 * @module
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { Context, FailureContext, Middleware, SuccessContext } from "../actors/actor.ts";
import { durationOf, errorType } from "./_job.ts";

/**
 * Options of {@linkcode StatsdMiddleware}.
 *
 * @example Send metrics to a StatsD agent
 * ```ts
 * import type { StatsdOptions } from "@walnats/walnats";
 *
 * const options: StatsdOptions = { host: "127.0.0.1", port: 8125, prefix: "shop." };
 * ```
 */
export interface StatsdOptions {
  /** The StatsD / DogStatsD agent's host. @default "127.0.0.1" */
  readonly host?: string;
  /** The agent's UDP port. @default 8125 */
  readonly port?: number;
  /** Prefix of every metric name. @default "walnats." */
  readonly prefix?: string;
  /** Tags added to every metric (e.g. `{ env: "prod" }`). @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Sends job metrics to a StatsD agent that understands DogStatsD tags (Datadog
 * agent, Telegraf, statsd-exporter), one UDP datagram per line:
 * - `walnats.started:1|c|#event:user-created,actor:greet-user`
 * - `walnats.succeeded:1|c|#…` and `walnats.duration:3.2|ms|#…,status:success`
 * - `walnats.failed:1|c|#…,error:TypeError` and `walnats.duration:…|ms|#…,status:failure`
 *   when the handler ran.
 *
 * UDP is fire-and-forget: a missing agent loses metrics, never jobs. The socket is
 * opened on first use and does not keep the process alive; `close()` it (or
 * `using`) when done.
 *
 * @example Send to a local agent
 * ```ts
 * import * as v from "valibot";
 * import { Actor, Event, StatsdMiddleware } from "@walnats/walnats";
 *
 * using statsd = new StatsdMiddleware({ port: 8125, tags: { env: "dev" } });
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 * const greet = new Actor("greet-user", userCreated, () => {}, { middlewares: [statsd] });
 * ```
 */
export class StatsdMiddleware implements Middleware, Disposable {
  readonly #host: string;
  readonly #port: number;
  readonly #prefix: string;
  readonly #tags: string;
  #socket: Socket | undefined;
  #closed = false;

  /**
   * Prepare the metrics; the socket opens on the first one.
   *
   * @param options agent address, prefix and constant tags
   * @throws {RangeError} when `port` is not a port number
   */
  constructor(options: StatsdOptions = {}) {
    const port = options.port ?? 8125;
    if (!(Number.isInteger(port) && port > 0 && port < 65536)) {
      throw new RangeError(`Invalid StatsD port: expected 1-65535, got ${port}`);
    }
    this.#host = options.host ?? "127.0.0.1";
    this.#port = port;
    this.#prefix = options.prefix ?? "walnats.";
    this.#tags = Object.entries(options.tags ?? {}).map(([k, v]) => tag(k, v)).join(",");
  }

  /** Count the start. */
  onStart(context: Context): void {
    this.#send("started:1|c", context);
  }

  /** Count the success and time it. */
  onSuccess(context: SuccessContext): void {
    this.#send("succeeded:1|c", context);
    this.#send(`duration:${round(context.duration)}|ms`, context, "status:success");
  }

  /** Count the failure (tagged with the error type) and time it when the handler ran. */
  onFailure(context: FailureContext): void {
    this.#send("failed:1|c", context, tag("error", errorType(context.error)));
    const duration = durationOf(context);
    if (duration !== undefined) {
      this.#send(`duration:${round(duration)}|ms`, context, "status:failure");
    }
  }

  /** Close the socket; later metrics are dropped. */
  close(): void {
    this.#closed = true;
    this.#socket?.close();
    this.#socket = undefined;
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #send(metric: string, context: Context, extra?: string): void {
    if (this.#closed) return;
    const tags = [
      this.#tags,
      tag("event", context.actor.event.name),
      tag("actor", context.actor.name),
      extra,
    ].filter(Boolean).join(",");
    const line = `${this.#prefix}${metric}|#${tags}`;
    this.#socket ??= this.#open();
    // Best effort: a send error (no agent, no route) must not reach the job.
    this.#socket.send(line, this.#port, this.#host, () => {});
  }

  #open(): Socket {
    const socket = createSocket(isIPv6(this.#host) ? "udp6" : "udp4");
    socket.on("error", () => {});
    socket.unref();
    return socket;
  }
}

/** A DogStatsD tag; the characters that delimit the line are replaced. */
function tag(key: string, value: string): string {
  const clean = (s: string) => s.replace(/[|,#:\s]/g, "_");
  return `${clean(key)}:${value.replace(/[|,#\s]/g, "_")}`;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * `walnats dashboard`: one page that shows events, actors (backlog, rates, failures, dead
 * letters), running instances and running jobs' progress, kept live with Server-Sent
 * Events, and that can redrive dead letters when allowed.
 *
 * The HTTP server is `node:http`, which Deno, Bun and Node all provide: one code path on
 * every runtime, with streaming responses for Server-Sent Events. (`Deno.serve` and
 * `Bun.serve` differ from each other and from Node; a dashboard's traffic does not need
 * their speed.)
 *
 * Routes: `GET /` the page; `GET /events` the event stream (`snapshot`, `jobs`,
 * `failure`); `GET /api/status` the latest snapshot as JSON; `POST /api/redrive` with a
 * JSON body `{ actor?, event?, seq? }` (refused with 403 unless `allowRedrive`).
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Heartbeat } from "../actors/heartbeat.ts";
import { HEARTBEAT_SUBJECTS } from "../actors/heartbeat.ts";
import { PROGRESS_SUBJECT, type RunningJobProgress } from "../actors/job_progress.ts";
import type { Subscription } from "@nats-io/nats-core";
import { sleep } from "../_async.ts";
import { consoleLogger, type Logger } from "../_logger.ts";
import type { ServerOrConnection } from "../connection.ts";
import { type Admin, type AdminOptions, connectAdmin } from "../admin/admin.ts";
import type { DeadLetterEntry, RedriveResult } from "../admin/dead_letters.ts";
import { type Rates, rates } from "../admin/rates.ts";
import type { Status } from "../admin/status.ts";
import { PAGE } from "./_page.ts";

/**
 * Options of {@linkcode serveDashboard}. Durations are milliseconds.
 *
 * @example Serve on all interfaces with redrive allowed
 * ```ts
 * import type { DashboardOptions } from "@walnats/walnats/admin";
 *
 * const options: DashboardOptions = { hostname: "0.0.0.0", port: 8080, allowRedrive: true };
 * ```
 */
export interface DashboardOptions extends AdminOptions {
  /** The port to listen on; 0 picks a free one (see `Dashboard.port`). @default 4280 */
  readonly port?: number;
  /**
   * The address to bind. The page can redrive dead letters when allowed and shows
   * payload previews: keep it on the loopback interface unless a proxy guards it.
   * @default "127.0.0.1"
   */
  readonly hostname?: string;
  /** Show redrive buttons and accept redrive requests. @default false */
  readonly allowRedrive?: boolean;
  /** How often the status is read and pushed, ms. @default 2000 */
  readonly interval?: number;
  /** At most this many dead letters are listed on the page. @default 100 */
  readonly deadLetterLimit?: number;
  /** Stop the dashboard (as `close()` does). */
  readonly signal?: AbortSignal;
  /** Where failures to read the status are reported. @default console */
  readonly logger?: Logger;
}

/**
 * A running dashboard. Dispose it (`await using`) or call `close()` to stop it.
 *
 * @example Print where it listens
 * ```ts
 * import type { Dashboard } from "@walnats/walnats/admin";
 *
 * const tell = (dashboard: Dashboard): void => console.info(`dashboard on ${dashboard.url}`);
 * ```
 */
export interface Dashboard extends AsyncDisposable {
  /** The page's URL, e.g. `http://127.0.0.1:4280/`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The address it is bound to. */
  readonly hostname: string;
  /** Resolves once the dashboard has stopped. */
  readonly closed: Promise<void>;
  /** Stop serving, end the event streams, close the connection if it was opened here. */
  close(): Promise<void>;
}

/**
 * What the page receives: the status, the rates since the previous one, the dead letters
 * (without payload bytes), the running jobs' progress, and whether redrive is allowed.
 *
 * @example Read the backlog of one actor from `/api/status`
 * ```ts
 * import type { DashboardSnapshot } from "@walnats/walnats/admin";
 *
 * const pending = (s: DashboardSnapshot, actor: string): number =>
 *   s.status.actors.find((a) => a.name === actor)?.pending ?? 0;
 * ```
 */
export interface DashboardSnapshot {
  /** The admin status (as `walnats status --json` prints it). */
  readonly status: Status;
  /** Per-second rates since the previous status (`null` for the first). */
  readonly rates: Rates | null;
  /** The dead letters, at most `deadLetterLimit`, without their payload bytes. */
  readonly deadLetters: readonly Omit<DeadLetterEntry, "payload">[];
  /** Running jobs that reported progress, the longest running first. */
  readonly jobs: readonly DashboardJob[];
  /** Whether the page may redrive. */
  readonly allowRedrive: boolean;
}

/**
 * A running job that reported progress, as the dashboard shows it.
 *
 * @example Show a job's progress
 * ```ts
 * import type { DashboardJob } from "@walnats/walnats/admin";
 *
 * const line = (j: DashboardJob): string => `${j.actor} #${j.seq}: ${JSON.stringify(j.progress)}`;
 * ```
 */
export interface DashboardJob extends RunningJobProgress {
  /** The actor running it. */
  readonly actor: string;
  /** The actor's event. */
  readonly event: string;
}

/** The default port of `walnats dashboard`. */
const DEFAULT_PORT = 4280;
/** The largest redrive request body, bytes. */
const MAX_BODY = 4096;
/** Jobs pushed to the page at most this often, ms. */
const JOBS_PUSH_INTERVAL = 250;
/** The most jobs shown. */
const MAX_JOBS = 200;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/**
 * Serve the dashboard: connect the admin API, read the status every `interval` ms and
 * push it to every open page.
 *
 * @example Serve a dashboard until interrupted
 * ```ts ignore
 * import { serveDashboard } from "@walnats/walnats/admin";
 *
 * const controller = new AbortController();
 * Deno.addSignalListener("SIGINT", () => controller.abort());
 * const dashboard = await serveDashboard("nats://localhost:4222", { signal: controller.signal });
 * console.info(`dashboard on ${dashboard.url}`);
 * await dashboard.closed;
 * ```
 *
 * @param server URL(s), connection options, or an open connection (then not closed)
 *   @default nats://127.0.0.1:4222
 * @param options port, address, redrive, refresh interval, what to show
 * @returns the running dashboard, once it listens
 * @throws {RangeError} a bad port, interval or dead-letter limit
 * @throws {Error} the port is taken, or the server cannot be reached
 */
export async function serveDashboard(
  server?: ServerOrConnection,
  options: DashboardOptions = {},
): Promise<Dashboard> {
  const port = options.port ?? DEFAULT_PORT;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new RangeError(`Invalid dashboard option: port must be 0 to 65535, got ${port}`);
  }
  const interval = options.interval ?? 2000;
  if (!(Number.isFinite(interval) && interval > 0)) {
    throw new RangeError(
      `Invalid dashboard option: interval must be a positive number of milliseconds, got ${interval}`,
    );
  }
  const limit = options.deadLetterLimit ?? 100;
  if (!(Number.isSafeInteger(limit) && limit > 0)) {
    throw new RangeError(
      `Invalid dashboard option: deadLetterLimit must be a positive integer, got ${limit}`,
    );
  }
  const hostname = options.hostname ?? "127.0.0.1";
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError("Invalid dashboard option: hostname must be a non-empty string");
  }
  options.signal?.throwIfAborted();
  const admin = await connectAdmin(server, options);
  const board = new DashboardServer(admin, {
    hostname,
    interval,
    limit,
    allowRedrive: options.allowRedrive === true,
    logger: options.logger ?? consoleLogger,
  });
  try {
    await board.listen(port);
  } catch (error) {
    await admin.close();
    throw error;
  }
  const signal = options.signal;
  const onAbort = () => void board.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  void board.closed.then(() => signal?.removeEventListener("abort", onAbort));
  return board;
}

interface ServerSettings {
  readonly hostname: string;
  readonly interval: number;
  readonly limit: number;
  readonly allowRedrive: boolean;
  readonly logger: Logger;
}

class DashboardServer implements Dashboard {
  readonly hostname: string;
  readonly closed: Promise<void>;
  port = 0;
  readonly #admin: Admin;
  readonly #settings: ServerSettings;
  readonly #http = createServer((req, res) => void this.#route(req, res));
  readonly #sockets = new Set<Socket>();
  readonly #clients = new Set<ServerResponse>();
  readonly #stop = new AbortController();
  readonly #jobs: JobFeed;
  #snapshot: DashboardSnapshot | undefined;
  #previous: Status | undefined;
  #deadLetters: Omit<DeadLetterEntry, "payload">[] = [];
  #deadKey = "";
  #deadDirty = true;
  #refreshing: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #resolveClosed!: () => void;

  constructor(admin: Admin, settings: ServerSettings) {
    this.#admin = admin;
    this.#settings = settings;
    this.hostname = settings.hostname;
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#jobs = new JobFeed(admin, () => this.#pushJobs());
    this.#http.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  get url(): string {
    const host = this.hostname.includes(":") ? `[${this.hostname}]` : this.hostname;
    return `http://${host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host}:${this.port}/`;
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        reject(
          new Error(
            `Cannot serve the dashboard on ${this.hostname}:${port}: ${error.message}`,
            { cause: error },
          ),
        );
      };
      this.#http.once("error", onError);
      this.#http.listen(port, this.hostname, () => {
        this.#http.off("error", onError);
        resolve();
      });
    });
    const address = this.#http.address();
    this.port = typeof address === "object" && address ? address.port : port;
    this.#jobs.start();
    this.#loop = this.#run();
  }

  /** Read the status every interval and push it; a failure is shown and retried. */
  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        for await (
          const status of this.#admin.watch({ interval: this.#settings.interval, signal })
        ) {
          await this.#publish(status);
        }
      } catch (error) {
        if (signal.aborted) break;
        const message = (error as Error).message ?? String(error);
        this.#settings.logger.warn(`dashboard: cannot read the status: ${message}`, { error });
        this.#broadcast("failure", JSON.stringify({ error: message }));
        await sleep(this.#settings.interval, signal);
      }
    }
  }

  /** A status: rates since the last, dead letters when they changed, then push it. */
  async #publish(status: Status): Promise<void> {
    const key = status.actors.map((a) => `${a.event}/${a.name}:${a.deadLetters}`).join(",");
    if (this.#deadDirty || key !== this.#deadKey) {
      this.#deadDirty = false;
      this.#deadKey = key;
      const list = await this.#admin.deadLetters.list({ limit: this.#settings.limit });
      this.#deadLetters = list.map(({ payload: _payload, ...rest }) => rest);
    }
    const previous = this.#previous;
    this.#previous = status;
    this.#snapshot = {
      status,
      rates: previous ? rates(previous, status) : null,
      deadLetters: this.#deadLetters,
      jobs: this.#jobs.list(),
      allowRedrive: this.#settings.allowRedrive,
    };
    this.#broadcast("snapshot", JSON.stringify(this.#snapshot));
  }

  /** Read and push a status now (after a redrive), besides the regular ones. */
  #refresh(): Promise<void> {
    this.#deadDirty = true;
    this.#refreshing ??= this.#admin.status({ wait: 0 })
      .then((status) => this.#publish(status))
      .catch((error) =>
        this.#settings.logger.warn(`dashboard: cannot read the status: ${error.message}`, { error })
      )
      .finally(() => this.#refreshing = undefined);
    return this.#refreshing;
  }

  #pushJobs(): void {
    this.#broadcast("jobs", JSON.stringify(this.#jobs.list()));
  }

  #broadcast(event: string, data: string): void {
    const frame = `event: ${event}\ndata: ${data}\n\n`;
    for (const client of this.#clients) client.write(frame);
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? "/", "http://dashboard");
      if (!this.#trustedHost(req)) {
        return reply(res, 421, {
          error: "Unexpected Host header: open the dashboard by its address",
        });
      }
      if (req.method === "GET" && (url.pathname === "/" || url.pathname === "/index.html")) {
        res.writeHead(200, {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
          "content-security-policy":
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
        });
        res.end(PAGE);
        return;
      }
      if (req.method === "GET" && url.pathname === "/events") return this.#stream(req, res);
      if (req.method === "GET" && url.pathname === "/api/status") {
        const snapshot = this.#snapshot ?? await this.#firstSnapshot();
        return reply(res, 200, snapshot);
      }
      if (url.pathname === "/api/redrive") {
        if (req.method !== "POST") return reply(res, 405, { error: "Use POST" }, { allow: "POST" });
        return await this.#redrive(req, res);
      }
      reply(res, 404, { error: `Not found: ${url.pathname}` });
    } catch (error) {
      if (!res.headersSent) reply(res, 500, { error: (error as Error).message });
      else res.end();
    }
  }

  /**
   * Bound to a loopback address, answer only requests made to a loopback name: a web
   * page elsewhere cannot reach the dashboard through a DNS name pointed at 127.0.0.1.
   */
  #trustedHost(req: IncomingMessage): boolean {
    if (!LOOPBACK.has(this.hostname)) return true;
    const host = req.headers.host ?? "";
    const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
    return LOOPBACK.has(name ?? "");
  }

  async #firstSnapshot(): Promise<DashboardSnapshot> {
    await this.#refresh();
    if (this.#snapshot === undefined) throw new Error("The status could not be read yet");
    return this.#snapshot;
  }

  #stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(`retry: ${Math.max(1000, this.#settings.interval)}\n\n`);
    if (this.#snapshot) res.write(`event: snapshot\ndata: ${JSON.stringify(this.#snapshot)}\n\n`);
    this.#clients.add(res);
    req.on("close", () => this.#clients.delete(res));
  }

  async #redrive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#settings.allowRedrive) {
      return reply(res, 403, {
        error: "Redrive is not allowed: start the dashboard with --allow-redrive",
      });
    }
    // A JSON body needs a CORS preflight from other origins, which is never granted here;
    // a browser that sends Origin must name this dashboard.
    const type = req.headers["content-type"] ?? "";
    if (!type.startsWith("application/json")) {
      return reply(res, 415, { error: "Send the redrive request as application/json" });
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== "null") {
      let sameHost = false;
      try {
        sameHost = new URL(origin).host === req.headers.host;
      } catch {
        // not a URL: refused below
      }
      if (!sameHost) return reply(res, 403, { error: `Redrive refused from origin ${origin}` });
    }
    let body: { actor?: unknown; event?: unknown; seq?: unknown };
    try {
      body = JSON.parse(await readBody(req));
    } catch (error) {
      return reply(res, 400, { error: `Invalid redrive request: ${(error as Error).message}` });
    }
    const { actor, event, seq } = body ?? {};
    if (
      (actor !== undefined && typeof actor !== "string") ||
      (event !== undefined && typeof event !== "string") ||
      (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) > 0))
    ) {
      return reply(res, 400, {
        error: "Invalid redrive request: expected { actor?: string, event?: string, seq?: number }",
      });
    }
    if (seq !== undefined && actor === undefined) {
      return reply(res, 400, { error: "Invalid redrive request: seq needs its actor" });
    }
    let result: RedriveResult;
    try {
      const scope = {
        ...(actor === undefined ? {} : { actor: actor as string }),
        ...(event === undefined ? {} : { event: event as string }),
      };
      result = seq !== undefined
        ? await this.#admin.deadLetters.retry(actor as string, seq as number, scope)
        : await this.#admin.deadLetters.redrive(scope);
    } catch (error) {
      return reply(res, 409, { error: (error as Error).message });
    }
    this.#settings.logger.info(
      `dashboard: redrove ${result.redriven} dead letter(s)` +
        (actor ? ` of actor "${actor}"` : "") + (seq ? ` (#${seq})` : ""),
      { actor, event, seq, redriven: result.redriven, failed: result.failed.length },
    );
    reply(res, 200, result);
    void this.#refresh();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#stop.abort();
    this.#jobs.stop();
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    const stopped = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await stopped;
    await this.#loop?.catch(() => {});
    await this.#refreshing;
    await this.#admin.close();
    this.#resolveClosed();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * The running jobs' progress: live from `$WALNATS.progress.<actor>`, and from the
 * listeners' heartbeats (which carry each job's latest value), so that a page opened
 * mid-job, or a job that reports rarely, still shows. A job is dropped when it says it
 * is done, or when neither source mentioned it for three heartbeat intervals.
 */
class JobFeed {
  readonly #admin: Admin;
  readonly #changed: () => void;
  readonly #jobs = new Map<string, { job: DashboardJob; seen: number; ttl: number }>();
  #subs: Subscription[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(admin: Admin, changed: () => void) {
    this.#admin = admin;
    this.#changed = changed;
  }

  start(): void {
    const nc = this.#admin.connection;
    const decoder = new TextDecoder();
    const parse = (data: Uint8Array): unknown => {
      try {
        return JSON.parse(decoder.decode(data));
      } catch {
        return undefined; // not ours
      }
    };
    this.#subs.push(
      nc.subscribe(`${PROGRESS_SUBJECT}.>`, {
        callback: (error, msg) => {
          if (!error) this.#progress(parse(msg.data) as DashboardJob & { done?: boolean });
        },
      }),
      nc.subscribe(`${HEARTBEAT_SUBJECTS.beat}.>`, {
        callback: (error, msg) => {
          if (!error) this.#beat(parse(msg.data) as Heartbeat);
        },
      }),
    );
  }

  stop(): void {
    for (const sub of this.#subs) sub.unsubscribe();
    this.#subs = [];
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /** The jobs, the longest running first (at most {@linkcode MAX_JOBS}). */
  list(): DashboardJob[] {
    const now = Date.now();
    for (const [key, entry] of this.#jobs) {
      if (now - entry.seen > entry.ttl) this.#jobs.delete(key);
    }
    return [...this.#jobs.values()].map((e) => e.job)
      .sort((a, b) => a.started - b.started || a.seq - b.seq)
      .slice(0, MAX_JOBS);
  }

  #progress(update: (DashboardJob & { done?: boolean }) | undefined): void {
    if (typeof update?.actor !== "string" || typeof update.seq !== "number") return;
    const key = `${update.event}/${update.actor}/${update.seq}`;
    if (update.done) this.#jobs.delete(key);
    else {
      const { done: _done, ...job } = update;
      const ttl = this.#jobs.get(key)?.ttl ?? 15_000;
      this.#jobs.set(key, { job, seen: Date.now(), ttl });
    }
    this.#schedule();
  }

  #beat(beat: Heartbeat | undefined): void {
    if (beat?.v !== 1 || !Array.isArray(beat.actors) || typeof beat.health !== "object") return;
    const ttl = 3 * (beat.interval > 0 ? beat.interval : 5000);
    let changed = false;
    for (const { name, event } of beat.actors) {
      for (const p of beat.health.actors?.[name]?.progress ?? []) {
        const key = `${event}/${name}/${p.seq}`;
        const known = this.#jobs.get(key);
        // A live update newer than the beat wins.
        const job = known && known.job.updated > p.updated
          ? known.job
          : { actor: name, event, ...p };
        if (!known || job !== known.job) changed = true;
        this.#jobs.set(key, { job, seen: Date.now(), ttl });
      }
    }
    if (changed) this.#schedule();
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#changed();
    }, JOBS_PUSH_INTERVAL);
  }
}

function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    req.on("data", (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error(`the body is larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(new TextDecoder().decode(concat(chunks))));
    req.on("error", reject);
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * A real `nats-server` process for tests: free loopback port, temporary store,
 * stop / kill / restart / pause, and cleanup even when the test process dies.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  accessSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createConnection, createServer } from "node:net";
import { sleep, within } from "../_async.ts";
import { connect } from "../connection.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { homedir, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import process from "node:process";

/**
 * Options of {@linkcode startNatsServer}.
 *
 * @example Start a server with a longer timeout
 * ```ts ignore
 * import { startNatsServer } from "@walnats/walnats/testing";
 *
 * await using server = await startNatsServer({ jetstream: true, timeout: 10_000 });
 * ```
 */
export interface NatsServerOptions {
  /**
   * Path of the `nats-server` binary. It wins over `version`.
   * @default see {@linkcode FindNatsServerOptions}
   */
  binary?: string;
  /**
   * Which release to run, from the cache that `scripts/_servers.sh` fills with Debian's
   * packages: `"2.9"`, `"2.10"`, `"2.15"` (the newest cached patch release of that line), an exact
   * `"2.10.27"`, or `"current"` (the newest release, from Debian sid).
   * @default the `WALNATS_NATS_SERVER_VERSION` environment variable; unset: the first binary found
   */
  version?: string | undefined;
  /** Enable JetStream. @default true */
  jetstream?: boolean;
  /** Extra lines appended to the generated server configuration file. @default "" */
  config?: string;
  /** How long to wait for the server to accept connections, in milliseconds. @default 15000 */
  timeout?: number;
}

/**
 * A running `nats-server` started by {@linkcode startNatsServer}.
 *
 * @example Restart the server under a test
 * ```ts ignore
 * import { startNatsServer } from "@walnats/walnats/testing";
 *
 * await using server = await startNatsServer();
 * console.log(server.url); // nats://127.0.0.1:<port>
 * await server.restart(); // same port and data
 * ```
 */
export interface NatsServer extends AsyncDisposable {
  /** Client URL, e.g. `nats://127.0.0.1:4222`. */
  readonly url: string;
  /** Client port on 127.0.0.1. It stays the same across restarts. */
  readonly port: number;
  /** Process id of the running server, or `undefined` while it is stopped. */
  readonly pid: number | undefined;
  /** Directory with the configuration file and the JetStream store. */
  readonly dir: string;
  /** The release running, as the server logged it at start, e.g. `"2.10.27"`. */
  readonly version: string;
  /** Stop the server gracefully (SIGTERM), then SIGKILL if it does not exit in 5 s. */
  stop(): Promise<void>;
  /** Kill the server at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Stop the server if it runs, then start it again on the same port with the same store. */
  restart(): Promise<void>;
  /**
   * Freeze the server (SIGSTOP): it keeps its sockets open but answers nothing. Resolves
   * once the process is stopped (on Linux, as `/proc` shows it).
   */
  pause(): Promise<void>;
  /** Resume a frozen server (SIGCONT); resolves once the process runs again. */
  resume(): Promise<void>;
}

/**
 * A routed group of servers started by {@linkcode startNatsCluster}.
 *
 * @example Test against a three-node cluster
 * ```ts ignore
 * import { startNatsCluster } from "@walnats/walnats/testing";
 *
 * await using cluster = await startNatsCluster(3);
 * const urls = cluster.urls; // connect to all of them
 * await cluster.servers[0].stop(); // the others carry on
 * ```
 */
export interface NatsCluster extends AsyncDisposable {
  /** The servers, in start order (at least one). */
  readonly servers: readonly [NatsServer, ...NatsServer[]];
  /** The client URLs of all servers. */
  readonly urls: readonly string[];
  /** Stop every server of the cluster. */
  stop(): Promise<void>;
}

/**
 * The `nats-server` binary could not be found.
 *
 * @example Tell a missing binary from other errors
 * ```ts ignore
 * import { NatsServerNotFoundError, startNatsServer } from "@walnats/walnats/testing";
 *
 * try {
 *   await using server = await startNatsServer();
 * } catch (error) {
 *   if (error instanceof NatsServerNotFoundError) console.warn("install nats-server to run this");
 *   else throw error;
 * }
 * ```
 */
export class NatsServerNotFoundError extends Error {
  /**
   * Create the error.
   * @param searched the places that were looked at
   * @param hint what to do instead of installing a server
   */
  constructor(searched: string[], hint?: string) {
    super(
      `Cannot find the nats-server binary (looked at: ${searched.join(", ")}). ` +
        (hint ??
          "Install it (Debian/Ubuntu: `apt-get install nats-server`, macOS: `brew install nats-server`) " +
            "or set NATS_SERVER_BIN to its path"),
    );
    this.name = "NatsServerNotFoundError";
  }
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of live) send(child, "SIGKILL");
  });
}

/**
 * Signal by pid: Deno's `ChildProcess.kill()` ignores every signal after the first
 * (it treats the child as killed), which would make SIGSTOP/SIGCONT/SIGTERM sequences fail.
 */
function send(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Options of {@linkcode findNatsServer}.
 *
 * @example Find the cached 2.10 release
 * ```ts ignore
 * import { findNatsServer } from "@walnats/walnats/testing";
 *
 * const binary = findNatsServer({ version: "2.10" });
 * ```
 */
export interface FindNatsServerOptions {
  /** Path of the binary: used as given when it is executable. @default undefined */
  binary?: string | undefined;
  /**
   * A release from the server cache (see {@linkcode NatsServerOptions.version}).
   * @default `env.WALNATS_NATS_SERVER_VERSION`
   */
  version?: string | undefined;
  /**
   * The environment to read `NATS_SERVER_BIN`, `WALNATS_NATS_SERVER_VERSION`, `WALNATS_CACHE_DIR`,
   * `XDG_CACHE_HOME`, `HOME` and `PATH` from.
   * @default process.env
   */
  env?: Record<string, string | undefined>;
}

/**
 * Find the nats-server binary. In order: `binary`; `version` from the server cache;
 * `NATS_SERVER_BIN`; `WALNATS_NATS_SERVER_VERSION` from the cache; `PATH`; `/usr/sbin`.
 *
 * The cache is `$WALNATS_CACHE_DIR/nats-server/<version>/nats-server` (default
 * `~/.cache/walnats`), filled by `scripts/_servers.sh` from Debian's packages.
 *
 * @example Skip tests without nats-server
 * ```ts
 * import { findNatsServer, NatsServerNotFoundError } from "@walnats/walnats/testing";
 *
 * let binary: string | undefined;
 * try {
 *   binary = findNatsServer();
 * } catch (error) {
 *   if (!(error instanceof NatsServerNotFoundError)) throw error;
 * }
 * ```
 *
 * @param options a binary path (a string is taken as `{ binary }`), a version, the environment
 * @returns the path of an executable `nats-server`
 * @throws {NatsServerNotFoundError} when none is found, or the asked version is not cached
 */
export function findNatsServer(options: FindNatsServerOptions | string = {}): string {
  const { binary, version, env = process.env } = typeof options === "string"
    ? { binary: options }
    : options;
  if (binary) return firstExecutable([binary]);
  if (version) return cachedNatsServer(version, env);
  if (env.NATS_SERVER_BIN) return firstExecutable([env.NATS_SERVER_BIN]);
  if (env.WALNATS_NATS_SERVER_VERSION) {
    return cachedNatsServer(env.WALNATS_NATS_SERVER_VERSION, env);
  }
  const candidates: string[] = [];
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir) candidates.push(join(dir, "nats-server"));
  }
  candidates.push("/usr/sbin/nats-server", "/usr/local/sbin/nats-server");
  return firstExecutable(candidates);
}

/** The server cache directory, as scripts/_servers.sh computes it. */
function serverCache(env: Record<string, string | undefined>): string {
  const base = env.WALNATS_CACHE_DIR ??
    join(env.XDG_CACHE_HOME ?? join(env.HOME ?? homedir(), ".cache"), "walnats");
  return join(base, "nats-server");
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** "2.10" → the newest cached 2.10.x; "2.10.27" → exactly that; "current" → sid's. */
function cachedNatsServer(version: string, env: Record<string, string | undefined>): string {
  const root = serverCache(env);
  const hint = `nats-server ${version} is not in the server cache ${root}. ` +
    "Fill it with `bash scripts/_servers.sh` (Debian's packages of bookworm, trixie and sid), " +
    "or set NATS_SERVER_BIN to a binary";
  if (!/^(current|\d+\.\d+(\.\d+)?)$/.test(version)) {
    throw new RangeError(
      `Cannot pick nats-server version "${version}": use "current", "2.10" or an exact "2.10.27"`,
    );
  }
  let wanted: string | undefined;
  let cached: string[] = [];
  try {
    cached = readdirSync(root).filter((name) => /^\d+\.\d+\.\d+$/.test(name));
  } catch {
    // no cache: the error below says how to make one
  }
  if (version === "current") {
    try {
      wanted = realpathSync(join(root, "current")).split(/[\\/]/).pop();
    } catch {
      wanted = undefined;
    }
  } else {
    wanted = cached
      .filter((name) => name === version || name.startsWith(`${version}.`))
      .sort(compareVersions)
      .pop();
  }
  if (!wanted) throw new NatsServerNotFoundError([join(root, version, "nats-server")], hint);
  return firstExecutable([join(root, wanted, "nats-server")]);
}

/** The first of `candidates` that is an executable file. @throws {NatsServerNotFoundError} */
export function firstExecutable(candidates: string[]): string {
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // try the next place
    }
  }
  throw new NatsServerNotFoundError(candidates);
}

/** Reserve a free TCP port on 127.0.0.1 (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

interface ServerPlan {
  binary: string;
  name: string;
  port: number;
  dir: string;
  jetstream: boolean;
  cluster?: { name: string; port: number; routes: number[] };
  config: string;
  timeout: number;
}

function configText(plan: ServerPlan): string {
  const lines = [
    `server_name: "${plan.name}"`,
    `listen: "127.0.0.1:${plan.port}"`,
  ];
  if (plan.jetstream) {
    lines.push(`jetstream { store_dir: "${join(plan.dir, "store")}" }`);
  }
  if (plan.cluster) {
    const routes = plan.cluster.routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(", ");
    lines.push(
      `cluster { name: "${plan.cluster.name}", listen: "127.0.0.1:${plan.cluster.port}", ` +
        `routes: [${routes}] }`,
    );
  }
  lines.push(plan.config);
  return lines.join("\n") + "\n";
}

class NatsServerImpl implements NatsServer {
  readonly #plan: ServerPlan;
  readonly #configFile: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #running = false;
  #log: string[] = [];
  #version = "";

  constructor(plan: ServerPlan) {
    this.#plan = plan;
    this.#configFile = join(plan.dir, "server.conf");
    writeFileSync(this.#configFile, configText(plan));
  }

  get url(): string {
    return `nats://127.0.0.1:${this.#plan.port}`;
  }

  get port(): number {
    return this.#plan.port;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get dir(): string {
    return this.#plan.dir;
  }

  get version(): string {
    return this.#version;
  }

  async start(): Promise<void> {
    installExitHook();
    this.#log = [];
    const child = spawn(this.#plan.binary, ["-c", this.#configFile], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.#child = child;
    this.#running = true;
    live.add(child);
    watchdog(child.pid);
    let exitCode: number | null | undefined;
    this.#exited = new Promise((resolve) => {
      const gone = (code: number | null) => {
        exitCode = code;
        this.#running = false;
        live.delete(child);
        resolve();
      };
      child.once("exit", gone);
      child.once("error", () => gone(-1));
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      this.#log.push(chunk);
      if (this.#log.length > 200) this.#log.shift();
    });
    const deadline = Date.now() + this.#plan.timeout;
    while (Date.now() < deadline) {
      if (exitCode !== undefined) break;
      const log = this.#log.join("");
      if (log.includes("Server is ready") && await canConnect(this.#plan.port)) {
        this.#version = /Version:\s+v?(\d+\.\d+\.\d+)/.exec(log)?.[1] ?? "";
        return;
      }
      await sleep(20);
    }
    const why = exitCode !== undefined ? `exited with code ${exitCode}` : "did not become ready";
    await this.kill();
    throw new Error(
      `nats-server on port ${this.#plan.port} ${why} within ${this.#plan.timeout} ms:\n` +
        this.#log.join("").slice(-2000),
    );
  }

  async #signal(signal: NodeJS.Signals, grace: number): Promise<void> {
    // Our own flag: Deno's child_process sets signalCode on kill(), before the exit.
    const child = this.#child;
    if (!child || !this.#running) {
      this.#child = undefined;
      return;
    }
    send(child, signal);
    const exited = await within(this.#exited, grace);
    if (!exited) {
      send(child, "SIGKILL");
      await this.#exited;
    }
    this.#child = undefined;
  }

  stop(): Promise<void> {
    if (this.#running && this.#child) send(this.#child, "SIGCONT");
    return this.#signal("SIGTERM", 5000);
  }

  kill(): Promise<void> {
    return this.#signal("SIGKILL", 5000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async pause(): Promise<void> {
    if (!this.#running || !this.#child?.pid) return;
    process.kill(this.#child.pid, "SIGSTOP");
    await this.#untilStopped(true);
  }

  async resume(): Promise<void> {
    if (!this.#running || !this.#child?.pid) return;
    process.kill(this.#child.pid, "SIGCONT");
    await this.#untilStopped(false);
  }

  /**
   * Wait (up to 2 s) until the process is stopped, or runs, as `/proc/<pid>/stat` says
   * (state `T`). Where there is no `/proc`, the signal is taken as delivered.
   */
  async #untilStopped(stopped: boolean): Promise<void> {
    const file = `/proc/${this.#child?.pid}/stat`;
    const deadline = Date.now() + 2000;
    for (;;) {
      let state: string | undefined;
      try {
        state = /\) (\S) /.exec(readFileSync(file, "utf8"))?.[1];
      } catch {
        return; // no /proc here, or the process is gone
      }
      if ((state === "T") === stopped) return;
      if (Date.now() > deadline) {
        throw new Error(
          `nats-server (pid ${this.#child?.pid}) is ${stopped ? "not stopped" : "still stopped"} ` +
            `2 s after ${stopped ? "SIGSTOP" : "SIGCONT"} (state ${state})`,
        );
      }
      await sleep(5);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    rmSync(this.#plan.dir, { recursive: true, force: true });
  }
}

/**
 * Kill the server if this process dies without running its exit hooks
 * (SIGKILL of a test runner): a detached shell polls both pids once a second.
 */
function watchdog(pid: number | undefined): void {
  if (pid === undefined) return;
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${pid} 2>/dev/null; ` +
    `do sleep 1; done; kill -9 ${pid} 2>/dev/null`;
  try {
    const dog = spawn("sh", ["-c", script], { stdio: "ignore", detached: true });
    dog.unref();
  } catch {
    // no shell: the exit hook still covers normal exits
  }
}

/**
 * Start a real `nats-server` with JetStream on a free 127.0.0.1 port and a temporary
 * store, and wait until it accepts connections.
 *
 * @example Start a server for a test
 * ```ts ignore
 * import { startNatsServer } from "@walnats/walnats/testing";
 *
 * await using server = await startNatsServer();
 * console.log(server.url); // nats://127.0.0.1:<port>
 * ```
 *
 * @param options binary or version, JetStream, extra configuration, start timeout
 * @returns the running server; dispose it (or call `stop()`) when done
 * @throws {NatsServerNotFoundError} when no `nats-server` binary is found, or the asked version is
 * not in the server cache
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = findNatsServer({ binary: options.binary, version: options.version });
  return await onFreePorts(() => startOne(binary, options));
}

/**
 * Run `start` again (up to three times in all) when a port it picked was taken before the
 * server bound it: a free port is only known free until another socket (even an outgoing
 * connection's local end) takes it.
 */
async function onFreePorts<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("address already in use")) throw error;
    }
  }
}

async function startOne(binary: string, options: NatsServerOptions): Promise<NatsServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "walnats-nats-"));
  const server = new NatsServerImpl({
    binary,
    name: `walnats-${port}`,
    port,
    dir,
    jetstream: options.jetstream ?? true,
    config: options.config ?? "",
    timeout: options.timeout ?? 15000,
  });
  try {
    await server.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return server;
}

/**
 * Start `size` routed servers with clustered JetStream on free loopback ports.
 * Resolves once every server accepts connections and the cluster places a stream with
 * `size` replicas (a probe stream, deleted again). Later JetStream calls may still meet
 * a leader election, as on any cluster.
 *
 * @example A three-node cluster
 * ```ts ignore
 * import { startNatsCluster } from "@walnats/walnats/testing";
 *
 * await using cluster = await startNatsCluster(3);
 * console.log(cluster.urls);
 * ```
 *
 * @param size how many servers, at least 1
 * @param options as for {@linkcode startNatsServer}
 * @returns the cluster; dispose it (or call `stop()`) when done
 */
export async function startNatsCluster(
  size: number,
  options: NatsServerOptions = {},
): Promise<NatsCluster> {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`Cannot start a cluster of ${size} servers: size must be an integer >= 1`);
  }
  const binary = findNatsServer({ binary: options.binary, version: options.version });
  return await onFreePorts(() => startCluster(binary, size, options));
}

async function startCluster(
  binary: string,
  size: number,
  options: NatsServerOptions,
): Promise<NatsCluster> {
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  for (let i = 0; i < size; i++) {
    clientPorts.push(await freePort());
    routePorts.push(await freePort());
  }
  const clusterName = `walnats-${clientPorts[0]}`;
  const servers = clientPorts.map((port, i) =>
    new NatsServerImpl({
      binary,
      name: `${clusterName}-n${i + 1}`,
      port,
      dir: mkdtempSync(join(tmpdir(), "walnats-nats-")),
      jetstream: options.jetstream ?? true,
      cluster: {
        name: clusterName,
        port: routePorts[i]!,
        routes: routePorts.filter((_, j) => j !== i),
      },
      config: options.config ?? "",
      timeout: options.timeout ?? 15000,
    })
  );
  const disposeAll = async () => {
    await Promise.all(servers.map((server) => server[Symbol.asyncDispose]()));
  };
  try {
    await Promise.all(servers.map((server) => server.start()));
    if ((options.jetstream ?? true) && size > 1) await placeable(servers, size);
  } catch (error) {
    await disposeAll();
    throw error;
  }
  return {
    servers: [servers[0]!, ...servers.slice(1)], // size >= 1, checked above
    urls: servers.map((server) => server.url),
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop()));
    },
    [Symbol.asyncDispose]: disposeAll,
  };
}

/** The name of the stream that {@linkcode placeable} creates and deletes. */
const PROBE_STREAM = "walnats_testing_probe";

/**
 * Wait until the cluster places an R`size` stream. nats-server 2.10.27 sometimes answers
 * "no suitable peers for placement" for good after a fresh cluster's first election
 * (seen in about one start of six on the 2-core machine, for more than 20 s); a restart
 * of every server ends it. Three rounds of up to 10 s each, then an error that says so.
 */
async function placeable(servers: NatsServerImpl[], size: number): Promise<void> {
  let last: unknown;
  for (let round = 1; round <= 3; round++) {
    if (round > 1) {
      for (const server of servers) await server.stop();
      for (const server of servers) await server.start();
    }
    const nc = await connect({ servers: servers.map((server) => server.url), timeout: 5000 });
    try {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        try {
          const jsm = await jetstreamManager(nc, { timeout: 2000, checkAPI: false });
          await jsm.streams.add({ name: PROBE_STREAM, subjects: [], num_replicas: size });
          await jsm.streams.delete(PROBE_STREAM);
          return;
        } catch (error) {
          last = error;
          await sleep(200);
        }
      }
    } finally {
      await nc.close();
    }
  }
  throw new Error(
    `The ${size}-node cluster never placed a stream of ${size} replicas ` +
      `(3 rounds of 10 s, restarting every server between them): ${last}`,
    { cause: last },
  );
}

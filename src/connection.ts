/**
 * The one module that knows the NATS transport (`@nats-io/transport-node`, its
 * `NodeTransport` class included). A JSR user on Deno who maps it to
 * `@nats-io/transport-deno` replaces this module's `transportConnect` with that
 * package's `connect`.
 *
 * @module
 */
import { hasWsProtocol, NatsConnectionImpl, setTransportFactory } from "@nats-io/transport-node";
import { checkDuration, MAX_TIMER } from "./_duration.ts";
import { redactCredentials } from "./_redact.ts";
// The node transport's class, to guard its sockets (see GuardedTransport); the package
// has no exports map, so its files are reachable in every runtime.
import { nodeResolveHost, NodeTransport } from "@nats-io/transport-node/lib/node_transport.js";
import type {
  ConnectionOptions as NatsCoreConnectionOptions,
  NatsConnection as NatsClientConnection,
} from "@nats-io/nats-core";

/**
 * A nats.js connection (`NatsConnection` of `@nats-io/nats-core`).
 *
 * @example Use the underlying connection
 * ```ts
 * import type { ConnectedEvents, NatsConnection } from "@walnats/walnats";
 *
 * async function flush(conn: ConnectedEvents): Promise<void> {
 *   const nc: NatsConnection = conn.connection;
 *   await nc.flush();
 * }
 * ```
 */
export type NatsConnection = NatsClientConnection;

/**
 * The connection options of nats.js (`ConnectionOptions` of `@nats-io/nats-core`), which
 * {@link ConnectionOptions} extends.
 *
 * @example Keep nats.js options apart from walnats' own
 * ```ts
 * import type { NatsConnectionOptions } from "@walnats/walnats";
 *
 * const options: NatsConnectionOptions = { servers: ["nats://localhost:4222"], name: "shop" };
 * ```
 */
export type NatsConnectionOptions = NatsCoreConnectionOptions;

/**
 * nats.js connection options (`ConnectionOptions` of `@nats-io/nats-core`), plus
 * `firstConnectTimeout`. Credentials may also come in the server URLs
 * (`nats://user:pass@host:4222`, `nats://token@host:4222`): walnats passes them on as
 * `user`/`pass` or `token`, which nats.js would otherwise ignore.
 *
 * @example Connect with nats.js options
 * ```ts ignore
 * import { Events, type ConnectionOptions } from "@walnats/walnats";
 *
 * const options: ConnectionOptions = { servers: ["nats://localhost:4222"], name: "shop" };
 * await using conn = await new Events().connect(options);
 * ```
 */
export interface ConnectionOptions extends NatsConnectionOptions {
  /**
   * With `waitOnFirstConnect: true`, give up the first connection after this many
   * milliseconds (nats.js alone would retry for ever); `Infinity` waits for ever.
   * Without `waitOnFirstConnect` the first connect fails as soon as every server failed.
   * @default 60000
   */
  readonly firstConnectTimeout?: number;
}

/**
 * Where to connect: server URL(s), nats.js connection options, or an open
 * `NatsConnection` (which is then used as is and never closed by walnats).
 *
 * @example Where to connect
 * ```ts ignore
 * import { Events, type ServerOrConnection } from "@walnats/walnats";
 *
 * const server: ServerOrConnection = Deno.env.get("NATS_URL") ?? "nats://localhost:4222";
 * await using conn = await new Events().connect(server);
 * ```
 */
export type ServerOrConnection = string | readonly string[] | ConnectionOptions | NatsConnection;

/** A connection and whether walnats opened it (and so must close it). */
export interface OwnedConnection {
  readonly nc: NatsConnection;
  readonly owned: boolean;
}

/** Tell an open connection from connection options. */
export function isNatsConnection(value: unknown): value is NatsConnection {
  return typeof value === "object" && value !== null &&
    typeof (value as NatsConnection).publish === "function" &&
    typeof (value as NatsConnection).closed === "function";
}

/**
 * Open a connection with the node transport: credentials in URLs become options, the
 * first connect is bounded by `firstConnectTimeout`, and errors never show a password.
 *
 * @param servers URL(s) or options; nats.js defaults to 127.0.0.1:4222
 * @throws {TypeError} the URLs carry different credentials, or ones that differ from the options
 * @throws {RangeError} `firstConnectTimeout` is not a positive number of milliseconds
 */
export async function connect(
  servers?: string | readonly string[] | ConnectionOptions,
): Promise<NatsConnection> {
  const given: ConnectionOptions = servers === undefined
    ? {}
    : typeof servers === "string"
    ? { servers }
    : isStringArray(servers)
    ? { servers: [...servers] }
    : servers;
  const { firstConnectTimeout = 60_000, ...rest } = given;
  checkDuration("Invalid connection option", "firstConnectTimeout", firstConnectTimeout, {
    max: MAX_TIMER,
    infinity: "wait for ever",
  });
  const options = withUrlCredentials(rest);
  const where = [rest.servers ?? "127.0.0.1:4222"].flat().map(redactCredentials).join(", ");
  try {
    if (!options.waitOnFirstConnect || firstConnectTimeout === Infinity) {
      return await transportConnect(options);
    }
    return await boundedConnect(options, firstConnectTimeout, where);
  } catch (error) {
    // nats.js says "connection refused" without saying where; keep its error class.
    if (error instanceof Error) {
      error.message = redactCredentials(`Cannot connect to NATS at ${where}: ${error.message}`);
    }
    throw error;
  }
}

/**
 * The node transport lets go of a closed socket (`removeAllListeners()`, then
 * `destroy()`); under Deno a read error (`ECONNRESET`, e.g. after a failed
 * authentication) can still come from it and, with no listener left, is thrown as an
 * uncaught error that ends the process. Keep a listener that ignores it: the
 * connection has already settled with its own error.
 */
class GuardedTransport extends NodeTransport {
  constructor() {
    super();
    const self = this as unknown as { _closed(error?: Error, internal?: boolean): Promise<void> };
    const closed = self._closed;
    self._closed = async (error, internal) => {
      const socket = this.socket;
      try {
        return await closed.call(this, error, internal);
      } finally {
        socket?.on("error", ignore);
      }
    };
  }

  override discard(): void {
    const socket = this.socket;
    super.discard();
    socket?.on("error", ignore);
  }
}

function ignore(): void {}

/** What `connect` of `@nats-io/transport-node` does, with the guarded transport. */
function transportConnect(options: NatsConnectionOptions): Promise<NatsConnection> {
  if (hasWsProtocol(options)) {
    return Promise.reject(
      new TypeError("Cannot connect to NATS over WebSocket here: use a nats:// or tls:// URL"),
    );
  }
  setTransportFactory({ factory: () => new GuardedTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(options);
}

/**
 * nats.js retries a first connect with `waitOnFirstConnect` for ever. Its
 * `reconnectToServer` hook runs before every dial: once the time is up it throws,
 * which ends nats.js's dial loop; a dial already under way that still succeeds is closed.
 */
async function boundedConnect(
  options: NatsConnectionOptions,
  timeout: number,
  where: string,
): Promise<NatsConnection> {
  let expired = false;
  const pick = options.reconnectToServer;
  const pending = transportConnect({
    ...options,
    reconnectToServer(servers, info) {
      if (expired) throw new Error(`gave up after firstConnectTimeout ${timeout} ms`);
      return pick ? pick(servers, info) : null;
    },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      pending.then((nc) => nc.close()).catch(() => {});
      reject(
        new Error(
          `no server answered within ${timeout} ms (firstConnectTimeout, with ` +
            `waitOnFirstConnect); check that a server runs at ${where} and accepts these credentials`,
        ),
      );
    }, timeout);
  });
  try {
    return await Promise.race([pending, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

/** Use a given connection (not owned) or open one (owned). */
export async function useConnection(server?: ServerOrConnection): Promise<OwnedConnection> {
  if (isNatsConnection(server)) return { nc: server, owned: false };
  return { nc: await connect(server), owned: true };
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value);
}

type Credentials = { user: string; pass: string } | { token: string };

/** Split `scheme://userinfo@rest` into the URL without credentials and the credentials. */
function splitUrl(url: string): { url: string; credentials?: Credentials } {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? "";
  const rest = url.slice(scheme.length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf("@");
  if (at < 0) return { url };
  const info = authority.slice(0, at);
  const bare = scheme + rest.slice(at + 1);
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new TypeError(
        `Cannot connect to NATS at ${redactCredentials(url)}: its credentials are not valid ` +
          "URL-encoding (write a % as %25)",
      );
    }
  };
  const colon = info.indexOf(":");
  return {
    url: bare,
    credentials: colon < 0
      ? { token: decode(info) }
      : { user: decode(info.slice(0, colon)), pass: decode(info.slice(colon + 1)) },
  };
}

function sameCredentials(a: Credentials, b: Credentials): boolean {
  return "token" in a
    ? "token" in b && a.token === b.token
    : "user" in b && a.user === b.user && a.pass === b.pass;
}

/**
 * nats.js ignores credentials in server URLs (a `user:pass@` URL fails to authenticate):
 * take them out of the URLs and pass them as `user`/`pass` or `token`. nats.js uses one
 * set of credentials for every server, so URLs that disagree, or disagree with the
 * options, are refused rather than guessed.
 */
function withUrlCredentials(options: NatsConnectionOptions): NatsConnectionOptions {
  if (options.servers === undefined) return options;
  const urls = [options.servers].flat();
  const split = urls.map(splitUrl);
  const credentials = split.find((s) => s.credentials !== undefined)?.credentials;
  if (credentials === undefined) return options;
  const found = split.filter((s) => s.credentials !== undefined);
  const listed = () => urls.map(redactCredentials).join(", ");
  if (found.some((s) => !sameCredentials(s.credentials!, credentials))) {
    throw new TypeError(
      `Cannot connect to NATS at ${listed()}: the server URLs carry different credentials, ` +
        "and one set applies to every server; give the same credentials in each URL, or " +
        "pass them as the options { user, pass } or { token }",
    );
  }
  const fromOptions: Credentials | undefined = options.token !== undefined
    ? { token: options.token }
    : options.user !== undefined || options.pass !== undefined
    ? { user: options.user ?? "", pass: options.pass ?? "" }
    : undefined;
  if (
    (fromOptions !== undefined && !sameCredentials(fromOptions, credentials)) ||
    options.authenticator !== undefined
  ) {
    throw new TypeError(
      `Cannot connect to NATS at ${listed()}: the URL carries credentials and the options ` +
        "set others (user, pass, token or authenticator); give them in one place only",
    );
  }
  const bare = split.map((s) => s.url);
  return {
    ...options,
    ...credentials,
    servers: typeof options.servers === "string" ? bare.join() : bare,
  };
}

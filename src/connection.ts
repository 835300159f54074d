/**
 * The one module that knows the NATS transport. A JSR user on Deno may map
 * `@nats-io/transport-node` to `@nats-io/transport-deno` in their import map.
 *
 * @module
 */
import { connect as transportConnect } from "@nats-io/transport-node";
import type {
  ConnectionOptions as NatsConnectionOptions,
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
 * nats.js connection options (`ConnectionOptions` of `@nats-io/nats-core`).
 *
 * @example Connect with nats.js options
 * ```ts ignore
 * import { Events, type ConnectionOptions } from "@walnats/walnats";
 *
 * const options: ConnectionOptions = { servers: ["nats://localhost:4222"], name: "shop" };
 * await using conn = await new Events().connect(options);
 * ```
 */
export type ConnectionOptions = NatsConnectionOptions;

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
 * Open a connection with the node transport.
 *
 * @param servers URL(s) or options; nats.js defaults to 127.0.0.1:4222
 */
export async function connect(
  servers?: string | readonly string[] | ConnectionOptions,
): Promise<NatsConnection> {
  const options: ConnectionOptions = servers === undefined
    ? {}
    : typeof servers === "string"
    ? { servers }
    : isStringArray(servers)
    ? { servers: [...servers] }
    : servers;
  try {
    return await transportConnect(options);
  } catch (error) {
    // nats.js says "connection refused" without saying where; keep its error class.
    if (error instanceof Error) {
      const where = [options.servers ?? "127.0.0.1:4222"].flat().join(", ");
      error.message = `Cannot connect to NATS at ${where}: ${error.message}`;
    }
    throw error;
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

/**
 * The listener's health report, read by `ConnectedActors.health()` and carried by the
 * heartbeat.
 *
 * @module
 */
import type { RunningJobProgress } from "./job_progress.ts";

/**
 * A live view of a listener, for readiness probes and dashboards. A listener heals itself
 * (see RELIABILITY.md): `healing.state` says whether it is doing so now, and `healthy` sums
 * up. Not for liveness probes: it is unhealthy whenever NATS is down, and restarting the
 * process then heals nothing.
 *
 * @example A readiness probe
 * ```ts
 * import type { ConnectedActors, Health } from "@walnats/walnats";
 *
 * function readiness(conn: ConnectedActors): Response {
 *   const health: Health = conn.health();
 *   return Response.json(health, { status: health.healthy ? 200 : 503 });
 * }
 * ```
 */
export interface Health {
  /**
   * Whether the NATS connection is up: false while disconnected or reconnecting (from the
   * connection's status notifications) and once closed.
   */
  readonly connected: boolean;
  /** Whether a listener runs on this connection now. */
  readonly listening: boolean;
  /** Connected, and every actor pulls normally (none is healing). */
  readonly healthy: boolean;
  /** Jobs running now, all actors. */
  readonly running: number;
  /** Per actor (empty when no listener runs). Times are epoch ms. */
  readonly actors: Readonly<
    Record<string, {
      /** Jobs in flight. */
      readonly running: number;
      /** Messages received and waiting for a job slot (local or global). */
      readonly held: number;
      /** Messages requested from the server and not yet delivered. */
      readonly outstanding: number;
      /**
       * How many messages the actor asks for beyond its free slots now: as many as its
       * jobs finish during one pull round trip (at most 16 per job slot, 1,024, and 8 MiB
       * of payload), 0 for jobs that run long.
       */
      readonly ahead: number;
      /** The measured pull round trip, ms (NaN until measured). */
      readonly rtt: number;
      /** When the last pull request was sent (0: none yet). */
      readonly lastPull: number;
      /** When the server last showed the consumer alive (0: it said the consumer is gone). */
      readonly lastActivity: number;
      /**
       * Messages this listener gave up on: `stored`, copied to the actor's dead-letter
       * event; `lost`, terminated without a copy because it could never be stored (larger
       * than the server's `max_payload` or the dead-letter stream's message size, or a
       * dead-letter stream that cannot be created), each logged as an error.
       */
      readonly deadLetters: { readonly stored: number; readonly lost: number };
      /** Self-healing of the actor's consumer. */
      readonly healing: {
        /**
         * `ok`: pulling normally; `checking`: asking the server about the consumer;
         * `recreating`: creating the missing consumer (and stream); `retrying`: the last
         * step failed, the next attempt comes after a backoff (100 ms doubling to 5 s).
         */
        readonly state: "ok" | "checking" | "recreating" | "retrying";
        /** When the state last changed. */
        readonly since: number;
        /** Attempts in the current (or last) episode. */
        readonly attempts: number;
        /** Episodes that ended with the actor pulling again. */
        readonly recoveries: number;
        /** How many of those recreated the consumer. */
        readonly recreated: number;
        /** The last error met while healing. */
        readonly lastError?: string;
      };
      /**
       * Running jobs that reported progress (`job.progress()`), with their latest value,
       * in the order they first reported (at most 64 in one `health()`, all actors together).
       */
      readonly progress: readonly RunningJobProgress[];
    }>
  >;
  /** Workers alive now, by pool (`executeIn`), and how many of them run a job. */
  readonly workers: {
    readonly thread: { readonly alive: number; readonly busy: number };
    readonly process: { readonly alive: number; readonly busy: number };
  };
}

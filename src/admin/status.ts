/**
 * The status of a walnats system: the server, every event's stream, every actor's
 * consumer and its dead letters, and the running listeners. Plain JSON (times are ISO
 * 8601 strings, durations milliseconds), as `walnats status --json` prints it.
 *
 * @module
 */
import {
  type ConsumerInfo,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StreamInfo,
} from "@nats-io/jetstream";
import { millis, type NatsConnection } from "@nats-io/nats-core";
import type { Actor } from "../actors/actor.ts";
import { deadLetterEvent } from "../actors/dead_letter.ts";
import type { Event } from "../events/event.ts";
import { isDeadLetterSubject, walnatsSubject } from "./_streams.ts";
import type { InstanceStatus } from "./instances.ts";

/**
 * The server the admin is connected to, and the account's JetStream usage.
 *
 * @example Print the server's version
 * ```ts
 * import type { ServerStatus } from "@walnats/walnats/admin";
 *
 * const line = (s: ServerStatus): string => `nats-server ${s.version} (${s.name})`;
 * ```
 */
export interface ServerStatus {
  /** The server's name. */
  readonly name: string;
  /** The server's version, e.g. `2.10.22`. */
  readonly version: string;
  /** The cluster's name, when clustered. */
  readonly cluster?: string;
  /** The account's JetStream usage and limits (bytes; `-1`: no limit). */
  readonly jetstream: {
    readonly memory: number;
    readonly storage: number;
    readonly streams: number;
    readonly consumers: number;
    readonly limits: {
      readonly maxMemory: number;
      readonly maxStorage: number;
      readonly maxStreams: number;
      readonly maxConsumers: number;
    };
    /** JetStream API calls and errors since the server started. */
    readonly api: { readonly total: number; readonly errors: number };
  };
}

/**
 * A stream's place in a cluster: its leader and each replica's state.
 *
 * @example Find lagging replicas
 * ```ts
 * import type { StreamCluster } from "@walnats/walnats/admin";
 *
 * const lagging = (c: StreamCluster): string[] =>
 *   c.replicas.filter((r) => r.lag > 0 || !r.current).map((r) => r.name);
 * ```
 */
export interface StreamCluster {
  /** The cluster's name. */
  readonly name?: string;
  /** The server leading the stream (empty while there is none). */
  readonly leader: string;
  /** The other replicas. */
  readonly replicas: readonly {
    readonly name: string;
    /** Caught up with the leader. */
    readonly current: boolean;
    /** Unreachable. */
    readonly offline: boolean;
    /** Milliseconds since the leader last heard from it. */
    readonly active: number;
    /** Operations it is behind. */
    readonly lag: number;
  }[];
}

/**
 * An event's stream.
 *
 * @example Print an event's backlog
 * ```ts
 * import type { EventStatus } from "@walnats/walnats/admin";
 *
 * const line = (e: EventStatus): string => `${e.name}: ${e.messages} messages, ${e.bytes} bytes`;
 * ```
 */
export interface EventStatus {
  /** The event name (the subject). */
  readonly name: string;
  /** The stream name. */
  readonly stream: string;
  /** The stream's subject (the event name). */
  readonly subject: string;
  /** Whether the stream exists (a declared event may not be registered yet). */
  readonly exists: boolean;
  /** Messages stored (with interest retention: not yet handled by every actor). */
  readonly messages: number;
  /** Bytes stored. */
  readonly bytes: number;
  /** Sequence of the oldest message stored (0: none). */
  readonly firstSeq: number;
  /** Sequence of the last message stored: how many were ever emitted. */
  readonly lastSeq: number;
  /** When the oldest stored message was emitted (null: none). */
  readonly firstTime: string | null;
  /** When the last message was emitted (null: none). */
  readonly lastTime: string | null;
  /** Consumers of the stream (actors, and any other). */
  readonly consumers: number;
  /** Replicas the stream is configured with. */
  readonly replicas: number;
  /** Leader and replicas, on a cluster. */
  readonly cluster?: StreamCluster;
}

/**
 * One running instance of an actor (from its listener's heartbeat).
 *
 * @example Count healthy instances
 * ```ts
 * import type { ActorInstance } from "@walnats/walnats/admin";
 *
 * const healthy = (all: readonly ActorInstance[]): number => all.filter((i) => i.healthy).length;
 * ```
 */
export interface ActorInstance {
  /** The listener's id. */
  readonly id: string;
  /** Host name of its machine. */
  readonly host: string;
  /** Its process id. */
  readonly pid: number;
  /** Runtime and version, e.g. `deno 2.1.4`. */
  readonly runtime: string;
  /** The listener is healthy and was heard recently. */
  readonly healthy: boolean;
  /** Jobs of this actor running there now. */
  readonly running: number;
  /** Messages of this actor received there and waiting for a job slot. */
  readonly held: number;
  /** `ok`, or the healing state of the actor's consumer there. */
  readonly healing: string;
  /** When the listener was last heard from. */
  readonly lastSeen: string;
}

/**
 * An actor's consumer, its dead letters and its running instances.
 *
 * @example Alert on backlog
 * ```ts
 * import type { ActorStatus } from "@walnats/walnats/admin";
 *
 * const behind = (a: ActorStatus): boolean => a.pending > 10_000 || a.deadLetters > 0;
 * ```
 */
export interface ActorStatus {
  /** The actor name (the durable consumer name). */
  readonly name: string;
  /** The event it handles. */
  readonly event: string;
  /** The event's stream. */
  readonly stream: string;
  /** Whether the consumer exists on the server. */
  readonly exists: boolean;
  /** Messages not yet delivered to any instance. */
  readonly pending: number;
  /** Messages delivered and not yet acknowledged (running, held, or waiting for a retry). */
  readonly inFlight: number;
  /** Messages delivered more than once and not yet acknowledged. */
  readonly redelivered: number;
  /** Pull requests waiting on the server (idle instances asking for work). */
  readonly waiting: number;
  /** When a message was last delivered (null: never, or not reported by the server). */
  readonly lastDelivery: string | null;
  /** Stream sequence of the last message delivered. */
  readonly delivered: number;
  /** Stream sequence up to which every message is acknowledged. */
  readonly ackFloor: number;
  /** The consumer's `max_ack_pending` (the actor's `maxAckPending`; -1: none). */
  readonly maxAckPending: number;
  /** The dead-letter stream (null when the actor keeps none). */
  readonly deadLetterStream: string | null;
  /** Dead letters stored for the actor. */
  readonly deadLetters: number;
  /** Running instances heard from (empty when none runs, or heartbeats are off). */
  readonly instances: readonly ActorInstance[];
  /** Jobs running now, summed over instances. */
  readonly running: number;
  /** The consumer exists and every instance heard from is healthy. */
  readonly healthy: boolean;
}

/**
 * A walnats system's status, as `Admin.status()` and `walnats status --json` give it.
 *
 * @example Gate a deploy
 * ```ts
 * import type { Status } from "@walnats/walnats/admin";
 *
 * const ok = (s: Status): boolean => s.healthy && s.actors.every((a) => a.deadLetters === 0);
 * ```
 */
export interface Status {
  /** When it was taken. */
  readonly time: string;
  /** The server and the account's JetStream usage. */
  readonly server: ServerStatus;
  /** Events, by name. */
  readonly events: readonly EventStatus[];
  /** Actors, by event and name. */
  readonly actors: readonly ActorStatus[];
  /** Every listener heard from. */
  readonly instances: readonly InstanceStatus[];
  /** Dead letters of all actors shown. */
  readonly deadLetters: number;
  /**
   * Nothing is wrong: every actor's consumer exists and its instances are healthy, every
   * listener heard from is healthy, every event's stream exists and, on a cluster, has a
   * leader and no offline replica.
   */
  readonly healthy: boolean;
  /** What is wrong, one line each (empty when healthy). */
  readonly problems: readonly string[];
}

/** What to show: declared events and actors, or (when none) everything on the server. */
export interface Declarations {
  readonly events?: readonly Event<unknown, unknown>[];
  readonly actors?: readonly Actor<unknown, unknown>[];
}

const { ConsumerNotFound: CONSUMER_NOT_FOUND, StreamNotFound: STREAM_NOT_FOUND } =
  JetStreamApiCodes;

/** Read the status from the server; `instances` come from the caller's heartbeats. */
export async function readStatus(
  nc: NatsConnection,
  jsm: JetStreamManager,
  declarations: Declarations,
  instances: readonly InstanceStatus[],
): Promise<Status> {
  const account = await jsm.getAccountInfo();
  const info = nc.info;
  const server: ServerStatus = {
    name: info?.server_name ?? "",
    version: info?.version ?? "",
    ...(info?.cluster ? { cluster: info.cluster } : {}),
    jetstream: {
      memory: account.memory,
      storage: account.storage,
      streams: account.streams,
      consumers: account.consumers,
      limits: {
        maxMemory: account.limits.max_memory,
        maxStorage: account.limits.max_storage,
        maxStreams: account.limits.max_streams,
        maxConsumers: account.limits.max_consumers,
      },
      api: { total: account.api.total, errors: account.api.errors },
    },
  };

  // Streams: every one on the server when nothing is declared (one listing), else each
  // declared event's and its actors' dead-letter streams by name.
  const declared = declarations.events !== undefined || declarations.actors !== undefined;
  const streams = new Map<string, StreamInfo>();
  let events: { name: string; stream: string }[];
  if (!declared) {
    for await (const s of jsm.streams.list()) streams.set(s.config.name, s);
    events = [];
    for (const s of streams.values()) {
      const subject = walnatsSubject(s.config);
      if (subject !== undefined && !isDeadLetterSubject(subject)) {
        events.push({ name: subject, stream: s.config.name });
      }
    }
  } else {
    const seen = new Map<string, string>();
    for (const e of declarations.events ?? []) seen.set(e.name, e.streamName);
    for (const a of declarations.actors ?? []) seen.set(a.event.name, a.event.streamName);
    events = [...seen].map(([name, stream]) => ({ name, stream }));
    const names = new Set(events.map((e) => e.stream));
    for (const a of declarations.actors ?? []) {
      if (a.deadLetters) names.add(a.deadLetters.streamName);
    }
    await Promise.all([...names].map(async (name) => {
      const s = await streamInfo(jsm, name);
      if (s) streams.set(name, s);
    }));
  }
  events.sort((a, b) => a.name.localeCompare(b.name));

  // Consumers: declared actors by name, or every durable consumer of the events shown.
  const consumers = new Map<string, ConsumerInfo | undefined>();
  let actors: { name: string; event: string; stream: string; deadLetterStream: string | null }[];
  if (declarations.actors !== undefined) {
    actors = declarations.actors.map((a) => ({
      name: a.name,
      event: a.event.name,
      stream: a.event.streamName,
      deadLetterStream: a.deadLetters?.streamName ?? null,
    }));
    await Promise.all(actors.map(async (a) => {
      consumers.set(`${a.stream}/${a.name}`, await consumerInfo(jsm, a.stream, a.name));
    }));
  } else {
    actors = [];
    await Promise.all(events.map(async (e) => {
      if (!streams.has(e.stream)) return;
      for await (const c of jsm.consumers.list(e.stream)) {
        if (!c.config.durable_name) continue; // Ephemeral: no actor's.
        consumers.set(`${e.stream}/${c.name}`, c);
        actors.push({
          name: c.name,
          event: e.name,
          stream: e.stream,
          deadLetterStream: deadLetterStreamOf(e.name, c.name),
        });
      }
    }));
    // Dead-letter streams of discovered actors that were not listed (declared events).
    await Promise.all(actors.map(async (a) => {
      if (a.deadLetterStream && !streams.has(a.deadLetterStream) && declared) {
        const s = await streamInfo(jsm, a.deadLetterStream);
        if (s) streams.set(a.deadLetterStream, s);
      }
    }));
  }
  actors.sort((a, b) => a.event.localeCompare(b.event) || a.name.localeCompare(b.name));

  const problems: string[] = [];
  const eventStatus = events.map((e) => eventOf(e.name, e.stream, streams.get(e.stream)));
  for (const e of eventStatus) {
    if (!e.exists) problems.push(`event "${e.name}": stream "${e.stream}" does not exist`);
    for (const r of e.cluster?.replicas ?? []) {
      if (r.offline) problems.push(`event "${e.name}": replica ${r.name} is offline`);
    }
    if (e.cluster && !e.cluster.leader) {
      problems.push(`event "${e.name}": its stream has no leader`);
    }
  }
  const actorStatus = actors.map((a): ActorStatus => {
    const c = consumers.get(`${a.stream}/${a.name}`);
    const dead = a.deadLetterStream ? streams.get(a.deadLetterStream) : undefined;
    const mine = instances.flatMap((i) => {
      const entry = i.actors.find((x) => x.name === a.name && x.event === a.event);
      return entry
        ? [{
          id: i.id,
          host: i.host,
          pid: i.pid,
          runtime: i.runtime,
          healthy: i.healthy && entry.healing === "ok",
          running: entry.running,
          held: entry.held,
          healing: entry.healing,
          lastSeen: i.lastSeen,
        }]
        : [];
    });
    const healthy = c !== undefined && mine.every((i) => i.healthy);
    if (c === undefined) {
      problems.push(`actor "${a.name}" of "${a.event}": its consumer does not exist`);
    }
    for (const i of instances) {
      const lost = i.actors.find((x) => x.name === a.name && x.event === a.event)?.lostDeadLetters;
      if (lost) {
        problems.push(
          `actor "${a.name}" of "${a.event}": instance ${i.host}:${i.pid} could not store ${lost} dead letters (see its log)`,
        );
      }
    }
    for (const i of mine) {
      if (!i.healthy) {
        problems.push(
          `actor "${a.name}" of "${a.event}": instance ${i.host}:${i.pid} is unhealthy (${i.healing})`,
        );
      }
    }
    return {
      name: a.name,
      event: a.event,
      stream: a.stream,
      exists: c !== undefined,
      pending: c?.num_pending ?? 0,
      inFlight: c?.num_ack_pending ?? 0,
      redelivered: c?.num_redelivered ?? 0,
      waiting: c?.num_waiting ?? 0,
      lastDelivery: time(c?.delivered.last_active),
      delivered: c?.delivered.stream_seq ?? 0,
      ackFloor: c?.ack_floor.stream_seq ?? 0,
      maxAckPending: c?.config.max_ack_pending ?? -1,
      deadLetterStream: a.deadLetterStream,
      deadLetters: dead?.state.messages ?? 0,
      instances: mine,
      running: mine.reduce((sum, i) => sum + i.running, 0),
      healthy,
    };
  });
  for (const i of instances) {
    if (!i.healthy) problems.push(`instance ${i.host}:${i.pid}: ${i.problems.join("; ")}`);
  }
  return {
    time: new Date().toISOString(),
    server,
    events: eventStatus,
    actors: actorStatus,
    instances: [...instances],
    deadLetters: actorStatus.reduce((sum, a) => sum + a.deadLetters, 0),
    healthy: problems.length === 0,
    problems: [...new Set(problems)],
  };
}

function eventOf(name: string, stream: string, s: StreamInfo | undefined): EventStatus {
  const state = s?.state;
  const status: EventStatus = {
    name,
    stream,
    subject: name,
    exists: s !== undefined,
    messages: state?.messages ?? 0,
    bytes: state?.bytes ?? 0,
    firstSeq: state && state.messages > 0 ? state.first_seq : 0,
    lastSeq: state?.last_seq ?? 0,
    firstTime: state && state.messages > 0 ? time(state.first_ts) : null,
    lastTime: state && state.last_seq > 0 ? time(state.last_ts) : null,
    consumers: state?.consumer_count ?? 0,
    replicas: s?.config.num_replicas ?? 0,
  };
  const cluster = s?.cluster;
  if (!cluster || (s?.config.num_replicas ?? 1) <= 1 && !cluster.leader) return status;
  return {
    ...status,
    cluster: {
      ...(cluster.name ? { name: cluster.name } : {}),
      leader: cluster.leader ?? "",
      replicas: (cluster.replicas ?? []).map((r) => ({
        name: r.name,
        current: r.current,
        offline: r.offline ?? false,
        active: Math.round(millis(r.active ?? 0)),
        lag: r.lag ?? 0,
      })),
    },
  };
}

/** The dead-letter stream of a discovered consumer, if its names make a valid actor. */
function deadLetterStreamOf(event: string, actor: string): string | null {
  try {
    return deadLetterEvent(event, actor).streamName;
  } catch {
    return null; // Not a walnats actor's name: it has no dead letters of ours.
  }
}

function time(value: unknown): string | null {
  if (typeof value !== "string" || value === "" || value.startsWith("0001-")) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND) return undefined;
    throw error;
  }
}

async function consumerInfo(
  jsm: JetStreamManager,
  stream: string,
  name: string,
): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (error) {
    if (
      error instanceof JetStreamApiError &&
      (error.code === CONSUMER_NOT_FOUND || error.code === STREAM_NOT_FOUND)
    ) return undefined;
    throw error;
  }
}

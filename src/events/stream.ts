/**
 * An event's JetStream stream: config (milliseconds → nanoseconds, camelCase →
 * snake_case happens here) and create-or-update with clear errors.
 *
 * @module
 */
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import {
  ClosedConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from "@nats-io/nats-core";
import { toNanos } from "../_duration.ts";
import { STREAM_NAME_IN_USE } from "../_jetstream_codes.ts";
import { StreamConfigError, StreamExistsError } from "../errors.ts";
import type { Event } from "./event.ts";

const STREAM_NOT_FOUND = JetStreamApiCodes.StreamNotFound;

/** The stream config an event declares. Every field we own is set, so an update resets removed limits. */
export function streamConfig(
  event: Event<unknown, unknown>,
): Partial<StreamConfig> & { name: string } {
  const l = event.limits;
  const config: Partial<StreamConfig> & { name: string } = {
    name: event.streamName,
    subjects: [event.name],
    // Interest unless declared (as in the Python walnats, which knows no other).
    retention: l.retention === "limits" ? RetentionPolicy.Limits : RetentionPolicy.Interest,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: l.age === undefined || l.age === Infinity ? 0 : toNanos(l.age),
    max_consumers: l.consumers ?? -1,
    max_msgs: l.messages ?? -1,
    max_bytes: l.bytes ?? -1,
    max_msg_size: l.messageSize ?? -1,
    num_replicas: l.replicas ?? 1,
  };
  if (event.description !== undefined) config.description = event.description;
  // Leave the server's default (2 minutes) when unset, so an update does not fight it.
  if (l.duplicateWindow !== undefined) config.duplicate_window = toNanos(l.duplicateWindow);
  return config;
}

/** Map a stream config field to the walnats name users wrote. */
const fieldNames: Record<string, string> = {
  max_age: "limits.age",
  max_consumers: "limits.consumers",
  max_msgs: "limits.messages",
  max_bytes: "limits.bytes",
  max_msg_size: "limits.messageSize",
  num_replicas: "limits.replicas",
  duplicate_window: "limits.duplicateWindow",
  description: "description",
  retention: "retention",
  storage: "storage",
  subjects: "subjects",
  discard: "discard",
};

function differences(
  wanted: Partial<StreamConfig>,
  existing: Partial<StreamConfig> | undefined,
): string[] {
  if (!existing) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(wanted)) {
    if (key === "name") continue;
    const have = (existing as Record<string, unknown>)[key];
    if (JSON.stringify(have) !== JSON.stringify(value)) {
      out.push(`${fieldNames[key] ?? key} (${JSON.stringify(have)} → ${JSON.stringify(value)})`);
    }
  }
  return out;
}

function serverSays(error: unknown): string {
  if (error instanceof JetStreamApiError) {
    return `${error.apiError().description} (code ${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Options of `register()` for events.
 *
 * @example Only update streams that exist
 * ```ts
 * import type { ConnectedEvents, RegisterStreamsOptions } from "@walnats/walnats";
 *
 * async function update(conn: ConnectedEvents): Promise<void> {
 *   const options: RegisterStreamsOptions = { create: false, update: true };
 *   await conn.register(options);
 * }
 * ```
 */
export interface RegisterStreamsOptions {
  /** Create streams that do not exist. @default true */
  readonly create?: boolean;
  /** Update streams whose config differs. @default true */
  readonly update?: boolean;
  /**
   * Changes to an existing stream that can drop messages, allowed anyway: `true` for all of
   * them, or the list of settings (see {@linkcode DestructiveChange}). Without it such a change
   * throws {@linkcode StreamConfigError} and the stream stays as it is.
   * @default false
   */
  readonly allowDestructive?: boolean | readonly DestructiveChange[];
}

/**
 * A stream setting whose change can drop messages, named as in `register({ allowDestructive })`:
 * - `"retention"` (`limits.retention`): any change (to interest, the server deletes what no
 *   consumer wants; to limits, the stream keeps what every actor handled until a limit drops it);
 * - `"discard"`: any change (old drops stored messages when full, new rejects new ones);
 * - `"subjects"`: any change (a removed subject's emits are lost; another event's stream);
 * - `"limits.messages"`, `"limits.bytes"`: lowered below what the stream holds;
 * - `"limits.age"`: lowered below the age of the oldest stored message;
 * - `"limits.messageSize"`: lowered (larger messages that publishers send today are rejected).
 *
 * @example Allow one kind of change on purpose
 * ```ts
 * import type { ConnectedEvents, DestructiveChange } from "@walnats/walnats";
 *
 * async function shrink(conn: ConnectedEvents): Promise<void> {
 *   const allowed: DestructiveChange[] = ["limits.messages"];
 *   await conn.register({ allowDestructive: allowed });
 * }
 * ```
 */
export type DestructiveChange =
  | "retention"
  | "discard"
  | "subjects"
  | "limits.age"
  | "limits.messages"
  | "limits.bytes"
  | "limits.messageSize";

/** A change that can drop messages: the setting, old and new value, and why. */
interface Destruction {
  field: DestructiveChange;
  from: unknown;
  to: unknown;
  why: string;
}

/** A limit of `-1` (or `0` for max_age) is no limit. */
function lowered(from: number | undefined, to: number | undefined, none: number): boolean {
  if (to === undefined || to === none) return false;
  return from === undefined || from === none || to < from;
}

function ageText(ns: number): string {
  return ns === 0 ? "unlimited" : `${Math.round(ns / 1e6)} ms`;
}

/** What updating `info`'s stream to `wanted` would destroy. */
function destructions(
  wanted: Partial<StreamConfig>,
  info: StreamInfo,
  now: number,
): Destruction[] {
  const have = info.config;
  const state = info.state;
  const out: Destruction[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (wanted.subjects && !same([...have.subjects ?? []].sort(), [...wanted.subjects].sort())) {
    out.push({
      field: "subjects",
      from: have.subjects,
      to: wanted.subjects,
      why: "emits to a removed subject are no longer stored",
    });
  }
  if (wanted.retention !== undefined && wanted.retention !== have.retention) {
    out.push({
      field: "retention",
      from: have.retention,
      to: wanted.retention,
      why: wanted.retention === RetentionPolicy.Interest
        ? "under interest retention the server deletes every message no consumer wants"
        : "under limits retention the stream keeps what every actor handled until a limit drops it",
    });
  }
  if (wanted.discard !== undefined && wanted.discard !== have.discard) {
    out.push({
      field: "discard",
      from: have.discard,
      to: wanted.discard,
      why: wanted.discard === DiscardPolicy.Old
        ? "a full stream then deletes its oldest messages"
        : "a full stream then rejects new messages (a plain emit is lost without an error)",
    });
  }
  if (lowered(have.max_msgs, wanted.max_msgs, -1) && state.messages > wanted.max_msgs!) {
    out.push({
      field: "limits.messages",
      from: have.max_msgs,
      to: wanted.max_msgs,
      why: `the stream holds ${state.messages} messages`,
    });
  }
  if (lowered(have.max_bytes, wanted.max_bytes, -1) && state.bytes > wanted.max_bytes!) {
    out.push({
      field: "limits.bytes",
      from: have.max_bytes,
      to: wanted.max_bytes,
      why: `the stream holds ${state.bytes} bytes`,
    });
  }
  if (lowered(have.max_age, wanted.max_age, 0) && state.messages > 0) {
    const oldest = Date.parse(state.first_ts);
    const ageMs = Number.isNaN(oldest) ? Infinity : now - oldest;
    if (ageMs * 1e6 > wanted.max_age!) {
      out.push({
        field: "limits.age",
        from: ageText(have.max_age),
        to: ageText(wanted.max_age!),
        why: `its oldest message is ${
          Number.isFinite(ageMs) ? `${ageMs} ms` : "of unknown age"
        } old`,
      });
    }
  }
  if (lowered(have.max_msg_size, wanted.max_msg_size, -1)) {
    out.push({
      field: "limits.messageSize",
      from: have.max_msg_size,
      to: wanted.max_msg_size,
      why:
        "larger messages, accepted today, would be rejected (a plain emit is lost without an error)",
    });
  }
  return out;
}

function allowed(option: RegisterStreamsOptions["allowDestructive"], field: DestructiveChange) {
  return option === true || (Array.isArray(option) && option.includes(field));
}

/** Throw when updating the stream would drop messages and the option does not allow it. */
function refuseDestruction(
  event: Event<unknown, unknown>,
  config: Partial<StreamConfig> & { name: string },
  info: StreamInfo,
  allow: RegisterStreamsOptions["allowDestructive"],
): void {
  const refused = destructions(config, info, Date.now()).filter((d) => !allowed(allow, d.field));
  if (!refused.length) return;
  const subjects = refused.find((d) => d.field === "subjects");
  const other = (info.config.subjects ?? []).filter((s) => s !== event.name);
  const shared = subjects && other.length
    ? `stream "${config.name}" carries subject ${other.map((s) => `"${s}"`).join(", ")}, ` +
      `not only "${event.name}": another event maps to the same stream name (dots and dashes ` +
      `both become "-"); rename one of them. `
    : "";
  const detail = refused.map((d) =>
    `${d.field} ${JSON.stringify(d.from)} → ${JSON.stringify(d.to)} (${d.why})`
  ).join("; ");
  const names = refused.map((d) => `"${d.field}"`).join(", ");
  throw new StreamConfigError(
    event.name,
    refused.map((d) => d.field),
    `Cannot register event "${event.name}": ${shared}updating stream "${config.name}" can drop ` +
      `messages: ${detail}. The stream was left as it is; to change it anyway, pass ` +
      `register({ allowDestructive: [${names}] })`,
  );
}

/**
 * Create or update the event's stream.
 *
 * @throws {StreamExistsError} the stream exists, differs, and `update` is off
 * @throws {StreamConfigError} the server rejected the config, or the update can drop messages
 * and `allowDestructive` does not allow it; names the fields
 */
export async function registerStream(
  jsm: JetStreamManager,
  event: Event<unknown, unknown>,
  options: RegisterStreamsOptions = {},
): Promise<void> {
  const { create = true, update = true, allowDestructive = false } = options;
  const config = streamConfig(event);
  if (!create) {
    let existing;
    try {
      existing = await jsm.streams.info(config.name);
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND) return;
      throw error;
    }
    if (update && differences(config, existing.config).length) {
      refuseDestruction(event, config, existing, allowDestructive);
      await updateStream(jsm, event, config);
    }
    return;
  }
  try {
    await jsm.streams.add(config);
    return;
  } catch (error) {
    if (noAnswer(error)) throw unanswered(event, config.name, error);
    if (!(error instanceof JetStreamApiError) || error.code !== STREAM_NAME_IN_USE) {
      throw configError(event, config, undefined, error);
    }
    if (!update) {
      const existing = await jsm.streams.info(config.name).catch(() => undefined);
      const diff = differences(config, existing?.config);
      throw new StreamExistsError(
        event.name,
        `Cannot register event "${event.name}": stream "${config.name}" exists with another ` +
          `configuration${diff.length ? ` (${diff.join(", ")})` : ""} and update is off`,
        { cause: error },
      );
    }
    const existing = await jsm.streams.info(config.name);
    if (!differences(config, existing.config).length) return;
    refuseDestruction(event, config, existing, allowDestructive);
  }
  await updateStream(jsm, event, config);
}

async function updateStream(
  jsm: JetStreamManager,
  event: Event<unknown, unknown>,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    await jsm.streams.update(config.name, config);
  } catch (error) {
    if (noAnswer(error)) throw unanswered(event, config.name, error);
    const existing = await jsm.streams.info(config.name).catch(() => undefined);
    throw configError(event, config, existing?.config, error);
  }
}

/** Whether a stream request failed for want of an answer, rather than by the server's verdict. */
function noAnswer(error: unknown): boolean {
  return error instanceof TimeoutError || error instanceof ClosedConnectionError ||
    error instanceof NoRespondersError || error instanceof RequestError ||
    // nats.js does not export this one's class.
    (error instanceof Error && error.name === "JetStreamNotEnabled");
}

/**
 * The stream request got no answer from JetStream (a timeout, a closed connection): not a
 * verdict on the config, so not a {@linkcode StreamConfigError}.
 */
function unanswered(event: Event<unknown, unknown>, stream: string, error: unknown): Error {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new Error(
    `Cannot register event "${event.name}": JetStream did not answer the request for stream ` +
      `"${stream}" (${reason}); check that the server is reachable and has JetStream enabled, ` +
      `then register again`,
    { cause: error },
  );
}

function configError(
  event: Event<unknown, unknown>,
  config: Partial<StreamConfig>,
  existing: Partial<StreamConfig> | undefined,
  error: unknown,
): StreamConfigError {
  const said = serverSays(error);
  // Name the fields the server's message mentions, else the ones that changed.
  const mentioned = Object.entries(fieldNames).filter(([key]) =>
    said.toLowerCase().includes(key.replace("num_", "").replace("max_", "").replace("_", " ")) ||
    said.includes(key)
  ).map(([, name]) => name);
  const changed = differences(config, existing);
  const fields = mentioned.length ? mentioned : changed.map((c) => c.split(" ")[0]!);
  return new StreamConfigError(
    event.name,
    fields,
    `Cannot register event "${event.name}": the server rejected the stream config: ${said}` +
      (fields.length ? `; offending setting: ${fields.join(", ")}` : "") +
      (changed.length ? `; changed: ${changed.join(", ")}` : ""),
    { cause: error },
  );
}

/**
 * Refuse events of different names that map to one stream (`x.y` and `x-y` both use `x-y`):
 * registering one would take the other's subject away.
 *
 * @param events the events of one registry
 * @param registry what is being built, for the message, e.g. `Events`
 * @throws {TypeError} naming both events and the stream
 */
export function refuseSharedStreams(
  events: Iterable<Event<unknown, unknown>>,
  registry: string,
): void {
  const byStream = new Map<string, string>();
  for (const event of events) {
    const seen = byStream.get(event.streamName);
    if (seen !== undefined && seen !== event.name) {
      throw new TypeError(
        `Cannot build ${registry}: events "${seen}" and "${event.name}" both map to stream ` +
          `"${event.streamName}" (dots become dashes in stream names), and one stream carries one ` +
          "event; rename one of them",
      );
    }
    byStream.set(event.streamName, event.name);
  }
}

/**
 * An event's JetStream stream: config (milliseconds → nanoseconds, camelCase →
 * snake_case happens here) and create-or-update with clear errors.
 *
 * @module
 */
import {
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { StreamConfigError, StreamExistsError } from "../errors.ts";
import type { Event } from "./event.ts";

// Server error codes (nats-server errors.json).
const STREAM_NAME_IN_USE = 10058;
const STREAM_NOT_FOUND = 10059;

/** The stream config an event declares. Every field we own is set, so an update resets removed limits. */
export function streamConfig(
  event: Event<unknown, unknown>,
): Partial<StreamConfig> & { name: string } {
  const l = event.limits;
  const config: Partial<StreamConfig> & { name: string } = {
    name: event.streamName,
    subjects: [event.name],
    // Interest, as the wire protocol says; dead-letter events keep what they get.
    retention: (event as { retention?: string }).retention === "limits"
      ? RetentionPolicy.Limits
      : RetentionPolicy.Interest,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: l.age === undefined ? 0 : nanos(l.age),
    max_consumers: l.consumers ?? -1,
    max_msgs: l.messages ?? -1,
    max_bytes: l.bytes ?? -1,
    max_msg_size: l.messageSize ?? -1,
    num_replicas: l.replicas ?? 1,
  };
  if (event.description !== undefined) config.description = event.description;
  // Leave the server's default (2 minutes) when unset, so an update does not fight it.
  if (l.duplicateWindow !== undefined) config.duplicate_window = nanos(l.duplicateWindow);
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
}

/**
 * Create or update the event's stream.
 *
 * @throws {StreamExistsError} the stream exists, differs, and `update` is off
 * @throws {StreamConfigError} the server rejected the config; names the fields
 */
export async function registerStream(
  jsm: JetStreamManager,
  event: Event<unknown, unknown>,
  options: RegisterStreamsOptions = {},
): Promise<void> {
  const { create = true, update = true } = options;
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
      await updateStream(jsm, event, config);
    }
    return;
  }
  try {
    await jsm.streams.add(config);
    return;
  } catch (error) {
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
    const existing = await jsm.streams.info(config.name).catch(() => undefined);
    throw configError(event, config, existing?.config, error);
  }
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

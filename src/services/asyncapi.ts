/**
 * AsyncAPI 3.0 documents of services.
 *
 * @module
 */
import type { Actor } from "../actors/actor.ts";
import type { Event } from "../events/event.ts";
import { redactCredentials } from "../_redact.ts";
import {
  ACCEPT_ERROR,
  ACCEPT_PROGRESS,
  DELAY,
  MSG_ID,
  PROGRESS,
  REPLY,
  RESPONSE_ERROR,
  TRACE,
} from "../headers.ts";
import { type JsonSchema, rebaseRefs, toJsonSchema } from "./_json_schema.ts";
import type { Service } from "./service.ts";

/**
 * Options of `Services.asyncApi`.
 *
 * @example Title, version and servers
 * ```ts
 * import { Services } from "@walnats/walnats";
 *
 * const spec = new Services().add("shop").asyncApi({
 *   title: "shop",
 *   version: "1.0.0",
 *   servers: { production: "nats://nats.example:4222" },
 * });
 * ```
 */
export interface AsyncApiOptions {
  /** Describe only this service (named as in `Services.add`). @default all services */
  readonly service?: string;
  /** The document's `info.title`. @default the service's name, or "walnats" for all */
  readonly title?: string;
  /** The document's `info.version`. @default the service's version, or "0.0.0" for all */
  readonly version?: string;
  /** The document's `info.description`. @default the service's description, or none */
  readonly description?: string | undefined;
  /**
   * NATS servers by name, as URLs: `{ production: "nats://nats.example.com:4222" }`.
   * The URL's scheme becomes the protocol, its host and port the host. @default none
   */
  readonly servers?: Readonly<Record<string, string>>;
}

/**
 * A JSON object in an AsyncAPI document.
 *
 * @example A part of the document
 * ```ts
 * import { type AsyncApiObject, Services } from "@walnats/walnats";
 *
 * const doc = new Services().add("shop").asyncApi();
 * const operations: Record<string, AsyncApiObject> = doc.operations;
 * ```
 */
export type AsyncApiObject = { [key: string]: unknown };

/**
 * An AsyncAPI 3.0 document: a plain JSON value.
 *
 * @example Read the generated document
 * ```ts
 * import { type AsyncApiDocument, Services } from "@walnats/walnats";
 *
 * const doc: AsyncApiDocument = new Services().add("shop").asyncApi({ title: "shop" });
 * const channels = Object.keys(doc.channels);
 * ```
 */
export interface AsyncApiDocument {
  /** The AsyncAPI version. */
  asyncapi: "3.0.0";
  /** Title, version and description. */
  info: { title: string; version: string; description?: string };
  /** NATS servers, when given. */
  servers?: Record<string, { host: string; protocol: string; pathname?: string }>;
  /** `application/json`, the content type of events without another serializer. */
  defaultContentType: string;
  /** A channel per event (key and address: the event's name) and per reply. */
  channels: Record<string, AsyncApiObject>;
  /** `<service>.send.<event>` and `<service>.receive.<event>.<actor>`. */
  operations: Record<string, AsyncApiObject>;
  /** Messages, payload schemas and the walnats headers trait. */
  components: {
    messages: Record<string, AsyncApiObject>;
    schemas: Record<string, JsonSchema>;
    messageTraits: Record<string, AsyncApiObject>;
  };
}

const HEADERS_TRAIT = "walnats-headers";

/**
 * Build an AsyncAPI 3.0 document of the given services.
 *
 * @param services the services to describe
 * @param options title, version, description, servers
 * @returns the document
 * @throws {TypeError} for an invalid server URL
 */
export function asyncApiDocument(
  services: readonly Service[],
  options: AsyncApiOptions = {},
): AsyncApiDocument {
  // One declaration per event name; a request/response copy says more than the plain event.
  const events = new Map<string, Event<unknown, unknown>>();
  const see = (event: Event<unknown, unknown>) => {
    const seen = events.get(event.name);
    if (!seen || (seen.response === undefined && event.response !== undefined)) {
      events.set(event.name, event);
    }
  };
  for (const service of services) {
    service.emits.forEach(see);
    service.defines.forEach((actor) => see(actor.event));
  }

  const doc: AsyncApiDocument = {
    asyncapi: "3.0.0",
    info: {
      title: options.title ?? "walnats",
      version: options.version ?? "0.0.0",
      ...(options.description === undefined ? {} : { description: options.description }),
    },
    ...(options.servers === undefined ? {} : { servers: servers(options.servers) }),
    defaultContentType: "application/json",
    channels: {},
    operations: {},
    components: { messages: {}, schemas: {}, messageTraits: {} },
  };
  if (events.size > 0) doc.components.messageTraits[HEADERS_TRAIT] = headersTrait();
  for (const event of events.values()) addEvent(doc, event);

  for (const service of services) {
    for (const event of service.emits) {
      doc.operations[`${service.name}.send.${event.name}`] = {
        action: "send",
        channel: ref("channels", event.name),
        messages: [ref("channels", event.name, "messages", event.name)],
        summary: `${service.name} emits ${event.name}`,
        ...reply(events.get(event.name)!),
      };
    }
    for (const actor of service.defines) {
      const event = actor.event;
      doc.operations[`${service.name}.receive.${event.name}.${actor.name}`] = {
        action: "receive",
        channel: ref("channels", event.name),
        messages: [ref("channels", event.name, "messages", event.name)],
        summary: `${actor.name} (${service.name}) handles ${event.name}`,
        ...(actor.description === undefined ? {} : { description: actor.description }),
        ...reply(events.get(event.name)!),
        "x-walnats": consumer(actor),
      };
    }
  }
  return doc;
}

function addEvent(doc: AsyncApiDocument, event: Event<unknown, unknown>): void {
  const name = event.name;
  const description = event.description === undefined ? {} : { description: event.description };
  const { retention = "interest", ...limits } = event.limits;
  doc.channels[name] = {
    address: name,
    ...description,
    messages: { [name]: ref("components", "messages", name) },
    "x-walnats": {
      stream: event.streamName,
      retention,
      ...(Object.keys(limits).length === 0 ? {} : { limits }),
    },
  };
  doc.components.messages[name] = {
    name,
    title: name,
    ...(event.description === undefined ? {} : { summary: event.description }),
    contentType: contentType(event.serializer.name),
    payload: ref("components", "schemas", name),
    traits: [ref("components", "messageTraits", HEADERS_TRAIT)],
    "x-walnats": { serializer: event.serializer.name },
  };
  doc.components.schemas[name] = schemaAt(event.schema, name);

  if (event.response === undefined) return;
  const key = responseKey(name);
  doc.channels[replyKey(name)] = {
    address: null,
    description: `The inbox named in the ${REPLY} header of a request for ${name}`,
    messages: { [key]: ref("components", "messages", key) },
  };
  doc.components.messages[key] = {
    name: key,
    title: `Response to ${name}`,
    contentType: contentType(event.response.serializer.name),
    payload: ref("components", "schemas", key),
    headers: {
      type: "object",
      properties: {
        [RESPONSE_ERROR]: {
          type: "string",
          description: "Set, with an empty payload, when the actor could not produce a response " +
            `(sent only to requests with ${ACCEPT_ERROR})`,
        },
        [PROGRESS]: {
          type: "string",
          const: "1",
          description: "Set on a progress message (its payload is the JSON value the job " +
            `reported), which is not the response (sent only to requests with ${ACCEPT_PROGRESS})`,
        },
      },
    },
    "x-walnats": { serializer: event.response.serializer.name },
  };
  doc.components.schemas[key] = schemaAt(event.response.schema, key);
}

function reply(event: Event<unknown, unknown>): AsyncApiObject {
  if (event.response === undefined) return {};
  const channel = replyKey(event.name);
  return {
    reply: {
      address: {
        location: `$message.header#/${REPLY}`,
        description: "A core NATS inbox; the response is not persisted",
      },
      channel: ref("channels", channel),
      messages: [ref("channels", channel, "messages", responseKey(event.name))],
    },
  };
}

function consumer(actor: Actor<unknown, unknown>): AsyncApiObject {
  return {
    consumer: actor.consumerName,
    stream: actor.event.streamName,
    ackWait: actor.ackWait,
    ...(actor.maxAttempts === undefined ? {} : { maxAttempts: actor.maxAttempts }),
    maxAckPending: actor.maxAckPending,
  };
}

function headersTrait(): AsyncApiObject {
  return {
    headers: {
      type: "object",
      properties: {
        [MSG_ID]: {
          type: "string",
          description: "The emitter's uid: the stream drops a repeat within its duplicate window",
        },
        [TRACE]: { type: "string", description: "Trace id, passed to the actors' jobs" },
        [DELAY]: {
          type: "string",
          pattern: "^[0-9]+(\\.[0-9]+)?$",
          description: "Unix seconds (decimal) before which actors do not handle the message",
        },
        [REPLY]: {
          type: "string",
          description: "Inbox for the response, on requests of request/response events",
        },
        [ACCEPT_ERROR]: {
          type: "string",
          const: "1",
          description: `Set on a request whose caller reads the ${RESPONSE_ERROR} reply ` +
            "of an actor that gave up; other callers get no reply then",
        },
        [ACCEPT_PROGRESS]: {
          type: "string",
          const: "1",
          description: `Set on a request whose caller reads ${PROGRESS} messages on its inbox ` +
            "before the response; other callers get no progress",
        },
      },
    },
  };
}

// Serializer names are walnats' own (src/serializers); wrappers (gzip, hmac, encryption) are opaque bytes.
function contentType(serializer: string): string {
  switch (serializer) {
    case "json":
      return "application/json";
    case "text":
    case "date-time":
      return "text/plain";
    case "msgpack":
      return "application/vnd.msgpack";
    default:
      return "application/octet-stream";
  }
}

function schemaAt(schema: Event<unknown, unknown>["schema"], key: string): JsonSchema {
  return rebaseRefs(toJsonSchema(schema), `#/components/schemas/${pointer(key)}`);
}

function servers(urls: Readonly<Record<string, string>>): NonNullable<AsyncApiDocument["servers"]> {
  const out: NonNullable<AsyncApiDocument["servers"]> = {};
  for (const [name, url] of Object.entries(urls)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(
        `Invalid URL of server "${name}": ${JSON.stringify(redactCredentials(url))}`,
      );
    }
    if (parsed.host === "") {
      throw new TypeError(
        `Invalid URL of server "${name}": ${
          JSON.stringify(redactCredentials(url))
        } has no host (nats://host:port)`,
      );
    }
    out[name] = {
      host: parsed.host,
      protocol: parsed.protocol.slice(0, -1),
      ...(parsed.pathname === "" || parsed.pathname === "/" ? {} : { pathname: parsed.pathname }),
    };
  }
  return out;
}

// Event names are kebab-case segments joined by ".", never "_": these keys cannot collide with one.
function responseKey(event: string): string {
  return `${event}_response`;
}

function replyKey(event: string): string {
  return `${event}_reply`;
}

function ref(...path: string[]): { $ref: string } {
  return { $ref: `#/${path.map(pointer).join("/")}` };
}

function pointer(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

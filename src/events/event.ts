/**
 * The `Event` declaration: a name, a schema, limits and a serializer.
 *
 * @module
 */
import { checkDescription, checkName } from "../_names.ts";
import type { Serializer } from "../serializers/serializer.ts";
import { jsonSerializer } from "../serializers/json.ts";
import { checkLimits, type Limits } from "./limits.ts";
import { defaultSerializer, type StandardSchemaV1 } from "./schema.ts";

/**
 * Options of {@linkcode Event}.
 *
 * @example Describe an event and limit its stream
 * ```ts
 * import * as v from "valibot";
 * import { Event, type EventOptions } from "@walnats/walnats";
 *
 * const options: EventOptions<{ id: number }> = {
 *   description: "An order was paid.",
 *   limits: { age: 7 * 24 * 60 * 60 * 1000 },
 * };
 * const orderPaid = new Event("order-paid", v.object({ id: v.number() }), options);
 * ```
 */
export interface EventOptions<T> {
  /** Human-readable description, stored in the stream config and the AsyncAPI spec. */
  readonly description?: string;
  /** Stream limits. @default no limits */
  readonly limits?: Limits;
  /**
   * How messages become bytes.
   * @default the schema's serializer for `bytes()`, `text()` and `dateTime()`; JSON otherwise
   */
  readonly serializer?: Serializer<T>;
}

/**
 * The response side of an event made by {@linkcode Event.withResponse}.
 *
 * @example The response of a request/response event
 * ```ts
 * import * as v from "valibot";
 * import { Event, type ResponseSpec } from "@walnats/walnats";
 *
 * const getPrice = new Event("get-price", v.object({ sku: v.string() })).withResponse(v.number());
 * const spec: ResponseSpec<number> | undefined = getPrice.response; // schema and serializer
 * ```
 */
export interface ResponseSpec<R> {
  /** Validates the actor's return value (in the actor) and the response (in the caller). */
  readonly schema: StandardSchemaV1<unknown, R>;
  /** Encodes the response. */
  readonly serializer: Serializer<R>;
}

/**
 * An event: what happened, and the shape of its message. The name is the NATS
 * subject; the stream name is the name with `.` replaced by `-`. Events are
 * immutable values with no connection inside.
 *
 * @example Declare an event with a valibot schema
 * ```ts
 * import * as v from "valibot";
 * import { Event } from "@walnats/walnats";
 *
 * const userCreated = new Event(
 *   "user-created",
 *   v.object({ id: v.number(), email: v.pipe(v.string(), v.email()) }),
 *   { description: "A user has registered", limits: { age: 7 * 24 * 3600_000 } },
 * );
 * ```
 *
 * @typeParam T the message type (the schema's output)
 * @typeParam R the response type, `never` unless made with {@linkcode Event.withResponse}
 */
export class Event<T, R = never> {
  /** The event name, also the NATS subject. */
  readonly name: string;
  /** Validates messages on emit and on receive. */
  readonly schema: StandardSchemaV1<unknown, T>;
  /** Human-readable description. */
  readonly description: string | undefined;
  /** Stream limits. */
  readonly limits: Limits;
  /** How messages become bytes. */
  readonly serializer: Serializer<T>;
  /** The response of a request/response event, `undefined` for plain events. */
  readonly response: ResponseSpec<R> | undefined;

  /**
   * Declare an event.
   *
   * @param name kebab-case, `.` may separate segments (it becomes a subject hierarchy)
   * @param schema any Standard Schema v1 (valibot, zod, arktype, or `typed<T>()`)
   * @param options description, limits, serializer
   * @throws {TypeError} when the name or description is invalid (the message says why)
   * @throws {RangeError} when a limit is out of range (not positive, a duration the server
   * refuses, a `retention` other than `"interest"` or `"limits"`); the message names it
   */
  constructor(
    name: string,
    schema: StandardSchemaV1<unknown, T>,
    options: EventOptions<NoInfer<T>> = {},
  ) {
    checkName("event", name, true);
    if (typeof schema?.["~standard"]?.validate !== "function") {
      throw new TypeError(
        `Invalid schema of event "${name}": expected a Standard Schema (valibot, zod, arktype, typed<T>())`,
      );
    }
    checkDescription("event", name, options.description);
    checkLimits(name, options.limits ?? {});
    this.name = name;
    this.schema = schema;
    this.description = options.description;
    this.limits = Object.freeze({ ...options.limits });
    this.serializer = options.serializer ??
      (schema as { [defaultSerializer]?: Serializer<T> })[defaultSerializer] ??
      (jsonSerializer as Serializer<T>);
    this.response = undefined;
    if (new.target === Event) Object.freeze(this);
  }

  /** The JetStream stream name: the event name with `.` replaced by `-`. */
  get streamName(): string {
    return this.name.replaceAll(".", "-");
  }

  /**
   * A copy of this event that expects a response, for `request()`. The actor must
   * be declared with the same copy; its handler then must return `R`.
   *
   * @example Request/response
   * ```ts
   * import * as v from "valibot";
   * import { Event } from "@walnats/walnats";
   *
   * const countWords = new Event("count-words", v.string()).withResponse(v.number());
   * ```
   *
   * @param schema validates the response
   * @param serializer encodes the response @default as for events: by schema, else JSON
   * @returns a new event with the same name, schema and options, and a response
   */
  withResponse<R2>(
    schema: StandardSchemaV1<unknown, R2>,
    serializer?: Serializer<R2>,
  ): Event<T, R2> {
    if (typeof schema?.["~standard"]?.validate !== "function") {
      throw new TypeError(
        `Invalid response schema of event "${this.name}": expected a Standard Schema`,
      );
    }
    const copy = Object.create(Event.prototype) as Event<T, R2>;
    Object.assign(copy, this, {
      response: Object.freeze({
        schema,
        serializer: serializer ??
          (schema as { [defaultSerializer]?: Serializer<R2> })[defaultSerializer] ??
          (jsonSerializer as Serializer<R2>),
      }),
    });
    return Object.freeze(copy);
  }
}

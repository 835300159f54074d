/**
 * Standard Schema v1 (https://standardschema.dev), the interface valibot, zod
 * and arktype implement, plus walnats' own schemas for unvalidated, raw-bytes,
 * text and date-time events. Each of ours names its default serializer.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import type { Serializer } from "../serializers/serializer.ts";
import { bytesSerializer } from "../serializers/bytes.ts";
import {
  type DateTimeOptions,
  dateTimeSerializer,
  dateTimeSerializerOf,
} from "../serializers/date_time.ts";
import { textSerializer } from "../serializers/text.ts";

/**
 * The Standard Schema v1 interface (copied from the spec, as it recommends).
 *
 * @example A hand-written schema
 * ```ts
 * import { Event, type StandardSchemaV1 } from "@walnats/walnats";
 *
 * const positive: StandardSchemaV1<unknown, number> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (value) =>
 *       typeof value === "number" && value > 0
 *         ? { value }
 *         : { issues: [{ message: "expected a positive number" }] },
 *   },
 * };
 * const amountPaid = new Event("amount-paid", positive);
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": StandardSchemaV1.Props<Input, Output>;
}

/** Types of the Standard Schema v1 interface. */
export declare namespace StandardSchemaV1 {
  /** The Standard Schema properties interface. */
  export interface Props<Input = unknown, Output = Input> {
    /** The version number of the standard. */
    readonly version: 1;
    /** The vendor name of the schema library. */
    readonly vendor: string;
    /** Validates unknown input values. */
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    /** Inferred types associated with the schema. */
    readonly types?: Types<Input, Output> | undefined;
  }
  /** The result interface of the validate function. */
  export type Result<Output> = SuccessResult<Output> | FailureResult;
  /** The result interface if validation succeeds. */
  export interface SuccessResult<Output> {
    /** The typed output value. */
    readonly value: Output;
    /** The non-existent issues. */
    readonly issues?: undefined;
  }
  /** The result interface if validation fails. */
  export interface FailureResult {
    /** The issues of failed validation. */
    readonly issues: ReadonlyArray<Issue>;
  }
  /** The issue interface of the failure output. */
  export interface Issue {
    /** The error message of the issue. */
    readonly message: string;
    /** The path of the issue, if any. */
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  /** The path segment interface of the issue. */
  export interface PathSegment {
    /** The key representing a path segment. */
    readonly key: PropertyKey;
  }
  /** The Standard Schema types interface. */
  export interface Types<Input = unknown, Output = Input> {
    /** The input type of the schema. */
    readonly input: Input;
    /** The output type of the schema. */
    readonly output: Output;
  }
  /** Infers the output type of a Standard Schema. */
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<
    Schema["~standard"]["types"]
  >["output"];
}

/**
 * Where a walnats schema keeps the serializer it implies.
 *
 * @example The serializer a schema implies
 * ```ts
 * import { defaultSerializer, text } from "@walnats/walnats";
 *
 * const name = text()[defaultSerializer].name; // the text serializer's name
 * ```
 */
export const defaultSerializer: unique symbol = Symbol.for("walnats.defaultSerializer");

/**
 * A Standard Schema that also names the serializer its events use by default.
 *
 * @example A walnats schema and its serializer
 * ```ts
 * import { defaultSerializer, text, type WalnatsSchema } from "@walnats/walnats";
 *
 * const schema: WalnatsSchema<string> = text();
 * const serializer = schema[defaultSerializer];
 * ```
 */
export interface WalnatsSchema<T> extends StandardSchemaV1<T, T> {
  /** The serializer an event with this schema uses unless it is given another. */
  readonly [defaultSerializer]: Serializer<T>;
}

function schemaOf<T>(
  serializer: Serializer<T>,
  check: (value: unknown) => string | undefined,
): WalnatsSchema<T> {
  return {
    [defaultSerializer]: serializer,
    "~standard": {
      version: 1,
      vendor: "walnats",
      validate(value: unknown): StandardSchemaV1.Result<T> {
        const problem = check(value);
        return problem === undefined ? { value: value as T } : { issues: [{ message: problem }] };
      },
    },
  };
}

/**
 * A schema that accepts any value and only fixes the TypeScript type: an event
 * without run-time validation. Messages use JSON.
 *
 * @example An unvalidated event
 * ```ts
 * import { Event, typed } from "@walnats/walnats";
 *
 * interface User { id: number; name: string }
 * const userCreated = new Event("user-created", typed<User>());
 * ```
 *
 * @typeParam T the message type
 * @returns a schema that accepts every value as `T`
 */
export function typed<T>(): StandardSchemaV1<T, T> {
  return {
    "~standard": {
      version: 1,
      vendor: "walnats",
      validate: (value: unknown) => ({ value: value as T }),
    },
  };
}

/**
 * A schema for raw-bytes events: the payload is the message, unchanged.
 *
 * @example A raw-bytes event
 * ```ts
 * import { bytes, Event } from "@walnats/walnats";
 *
 * const imageUploaded = new Event("image-uploaded", bytes());
 * ```
 *
 * @returns a schema for `Uint8Array` messages, serialized as they are
 */
export function bytes(): WalnatsSchema<Uint8Array> {
  return schemaOf(
    bytesSerializer,
    (value) =>
      value instanceof Uint8Array ? undefined : `Expected a Uint8Array, got ${kind(value)}`,
  );
}

/**
 * A schema for plain-text events: the payload is the string's UTF-8 bytes.
 *
 * @example A text event
 * ```ts
 * import { Event, text } from "@walnats/walnats";
 *
 * const lineLogged = new Event("line-logged", text());
 * ```
 *
 * @returns a schema for string messages, serialized as UTF-8
 */
export function text(): WalnatsSchema<string> {
  return schemaOf(
    textSerializer,
    (value) => typeof value === "string" ? undefined : `Expected a string, got ${kind(value)}`,
  );
}

/**
 * A schema for date-time events: the payload is a bare ISO 8601 string (not
 * JSON-quoted), as the Python walnats' `datetime` events. Written as UTC with `+00:00`;
 * read with any offset, and without one (Python's `datetime.now()`, the Python Clock's
 * ticks) as `options.naive` says: UTC by default.
 *
 * @example A date-time event
 * ```ts
 * import { dateTime, Event } from "@walnats/walnats";
 *
 * const dayPassed = new Event("day-passed", dateTime());
 * // Ticks of a Python Clock on a host whose time zone is this host's:
 * const minutePassed = new Event("minute-passed", dateTime({ naive: "local" }));
 * ```
 *
 * @param options how to read a date-time without a time zone
 * @returns a schema for valid `Date` messages
 * @throws {TypeError} when `naive` is not `"utc"`, `"local"` or `"reject"`
 */
export function dateTime(options: DateTimeOptions = {}): WalnatsSchema<Date> {
  const serializer = options.naive === undefined
    ? dateTimeSerializer
    : dateTimeSerializerOf(options);
  return schemaOf(serializer, (value) => {
    if (!(value instanceof Date)) return `Expected a Date, got ${kind(value)}`;
    return Number.isNaN(value.getTime()) ? "Expected a valid Date, got Invalid Date" : undefined;
  });
}

function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return typeof value;
}

/**
 * Validate a value with a Standard Schema (sync or async) and return the output.
 *
 * @param schema the schema
 * @param value the value
 * @param where for the error message, e.g. `message of event "user-created"`
 * @throws {ValidationError} with the schema's issues
 */
export function validate<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
  where: string,
): T | Promise<T> {
  const result = schema["~standard"].validate(value);
  if (result instanceof Promise) return result.then((r) => unwrap(r, where));
  return unwrap(result, where);
}

/**
 * The output of a schema's result.
 *
 * @param where for the error message, e.g. `message of event "user-created"`
 * @throws {ValidationError} with the schema's issues
 */
export function unwrap<T>(result: StandardSchemaV1.Result<T>, where: string): T {
  if (result.issues === undefined) return result.value;
  throw new ValidationError(
    where,
    result.issues.map((issue) => ({
      message: issue.message,
      path: issue.path?.map((segment) =>
        typeof segment === "object" && segment !== null ? segment.key : segment
      ),
    })),
  );
}

/**
 * JSON Schema (draft-07, the dialect AsyncAPI 3.0 payloads default to) from an
 * event's Standard Schema.
 *
 * @module
 */
import { toJsonSchema as valibotToJsonSchema } from "@valibot/to-json-schema";
import type { StandardSchemaV1 } from "../events/schema.ts";
import { defaultSerializer } from "../events/schema.ts";

/**
 * A JSON Schema object (draft-07).
 *
 * @example The JSON Schemas of the messages
 * ```ts
 * import { type JsonSchema, Services } from "@walnats/walnats";
 *
 * const doc = new Services().add("shop").asyncApi();
 * const schemas: Record<string, JsonSchema> = doc.components.schemas;
 * ```
 */
export type JsonSchema = { [keyword: string]: unknown };

interface StandardJsonSchemaProps {
  readonly jsonSchema?: {
    readonly input?: (options: { target: string; libraryOptions?: unknown }) => unknown;
  };
}

/**
 * The JSON Schema of the messages a Standard Schema accepts, in this order of preference:
 * walnats' own schemas (`bytes()`, `text()`, `dateTime()`, `typed<T>()`); the schema's
 * Standard JSON Schema interface (`~standard.jsonSchema`, zod 4 and arktype have it);
 * valibot through its official converter `@valibot/to-json-schema`; a `toJsonSchema()` or
 * `toJSONSchema()` method. When none applies or the conversion fails, the result is `{}`
 * (any value) with a `description` saying why.
 *
 * Conversion errors never throw: a spec with a vague payload beats no spec.
 *
 * @param schema the event's (or response's) schema
 * @returns a draft-07 JSON Schema without `$schema`; internal `$ref`s stay relative to it
 */
export function toJsonSchema(schema: StandardSchemaV1<unknown, unknown>): JsonSchema {
  const props = schema["~standard"];
  const vendor = props.vendor;
  if (vendor === "walnats") return walnatsJsonSchema(schema);
  try {
    const standard = (props as StandardJsonSchemaProps).jsonSchema;
    if (typeof standard?.input === "function") {
      // Like valibot's and arktype's, zod's Date and other non-JSON parts become "any value".
      const libraryOptions = vendor === "zod" ? { unrepresentable: "any" } : undefined;
      return clean(standard.input({ target: "draft-07", libraryOptions }));
    }
    if (vendor === "valibot") {
      return clean(
        valibotToJsonSchema(schema as Parameters<typeof valibotToJsonSchema>[0], {
          target: "draft-07",
          typeMode: "input",
          errorMode: "ignore",
        }),
      );
    }
    const methods = schema as {
      toJsonSchema?: () => unknown;
      toJSONSchema?: () => unknown;
    };
    if (typeof methods.toJsonSchema === "function") return clean(methods.toJsonSchema());
    if (typeof methods.toJSONSchema === "function") return clean(methods.toJSONSchema());
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      description: `No JSON Schema: the ${vendor} schema could not be converted: ${reason}`,
    };
  }
  return {
    description: `No JSON Schema: the ${vendor} schema offers no JSON Schema conversion`,
  };
}

function walnatsJsonSchema(schema: StandardSchemaV1<unknown, unknown>): JsonSchema {
  const serializer = (schema as { [defaultSerializer]?: { name: string } })[defaultSerializer];
  switch (serializer?.name) {
    case "bytes":
      return { type: "string", format: "binary", description: "Raw bytes" };
    case "text":
      return { type: "string" };
    case "date-time":
      return { type: "string", format: "date-time" };
    default:
      return { description: "Any value: typed<T>() fixes only the TypeScript type" };
  }
}

function clean(value: unknown): JsonSchema {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`expected a JSON Schema object, got ${JSON.stringify(value)}`);
  }
  // A JSON round trip drops non-enumerable markers (zod hides `~standard` on its result).
  const { $schema: _, ...rest } = JSON.parse(JSON.stringify(value)) as JsonSchema;
  return rest;
}

/**
 * Rewrite the document-relative `$ref`s of a schema (`#/definitions/User`) for its
 * place in a larger document (`#/components/schemas/user-created/definitions/User`).
 *
 * @param schema the schema
 * @param pointer the JSON pointer of the schema in the document, e.g. `#/components/schemas/x`
 * @returns a copy with rewritten references
 */
export function rebaseRefs(schema: JsonSchema, pointer: string): JsonSchema {
  return walk(schema) as JsonSchema;
  function walk(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== "object" || value === null) return value;
    const out: JsonSchema = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = key === "$ref" && typeof item === "string" && item.startsWith("#")
        ? pointer + item.slice(1)
        : walk(item);
    }
    return out;
  }
}

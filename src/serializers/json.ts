/**
 * The JSON serializer, the default.
 *
 * @module
 */
import { SerializerError } from "../errors.ts";
import type { Serializer } from "./serializer.ts";
import { decodeUtf8 } from "./_utf8.ts";

const encoder = new TextEncoder();

/**
 * Compact JSON as UTF-8 (no spaces, like Python's `json.dumps(separators=(",", ":"))`).
 * The default serializer of events whose schema does not name another.
 *
 * @example Use JSON explicitly
 * ```ts
 * import { Event, jsonSerializer, typed } from "@walnats/walnats";
 *
 * const e = new Event("order-placed", typed<{ id: string }>(), { serializer: jsonSerializer });
 * ```
 */
// Typed `any` so that it fits an event of any message type (`Serializer<T>` for every T).
// deno-lint-ignore no-explicit-any
export const jsonSerializer: Serializer<any> = {
  name: "json",
  encode(message: unknown): Uint8Array {
    const text = JSON.stringify(message);
    if (text === undefined) {
      throw new SerializerError("json", `cannot encode ${typeof message} as JSON`);
    }
    return encoder.encode(text);
  },
  decode(data: Uint8Array): unknown {
    try {
      return JSON.parse(decodeUtf8(data));
    } catch (cause) {
      const reason = cause instanceof SyntaxError ? cause.message : "payload is not valid UTF-8";
      throw new SerializerError("json", `payload is not valid JSON: ${reason}`, { cause });
    }
  },
};

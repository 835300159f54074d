/**
 * MessagePack serializer, built on `@msgpack/msgpack`.
 *
 * @module
 */

import { Decoder, Encoder } from "@msgpack/msgpack";
import { SerializerError } from "../errors.ts";
import type { Serializer } from "./serializer.ts";

// Object properties holding `undefined` are left out, as JSON.stringify does, so that optional
// schema fields stay valid after a round trip (`undefined` elsewhere becomes nil).
const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

/**
 * MessagePack: a compact binary JSON, written as the Python walnats'
 * `MessagePackSerializer` (Python's `msgpack`) reads and writes it.
 *
 * Besides JSON values it keeps `Uint8Array` (as bin; decoded ones are views on the payload) and
 * `Date` (as the timestamp extension); as with JSON, object properties that are `undefined` are
 * left out and `bigint` cannot be encoded. 64-bit integers from other encoders decode as numbers,
 * exact up to 2^53 as with `JSON.parse`; maps decode as plain objects, and extension types other
 * than the timestamp as `ExtData`.
 *
 * @typeParam T the message type
 * @returns a serializer named `"msgpack"`
 * @throws {SerializerError} from `encode` for values MessagePack cannot hold (symbols, bigints,
 * nesting deeper than 100), and from `decode` for truncated, malformed or trailing bytes
 *
 * @example Send an event as MessagePack
 * ```ts
 * import { Event, msgpack, typed } from "@walnats/walnats";
 *
 * interface Tagged {
 *   id: number;
 *   tags: string[];
 * }
 * const itemTagged = new Event("item-tagged", typed<Tagged>(), { serializer: msgpack<Tagged>() });
 * const payload = await itemTagged.serializer.encode({ id: 1, tags: ["new"] });
 * console.log(payload.length); // 15 bytes; the JSON is 23
 * ```
 */
export function msgpack<T>(): Serializer<T> {
  return {
    name: "msgpack",
    encode(message: T): Uint8Array {
      try {
        return encoder.encode(message);
      } catch (error) {
        throw new SerializerError("msgpack", `cannot encode the message: ${reason(error)}`, {
          cause: error,
        });
      }
    },
    decode(data: Uint8Array): T {
      try {
        return decoder.decode(data) as T;
      } catch (error) {
        // Running out of bytes surfaces as the runtime's DataView RangeError, worded differently
        // by each runtime; extra bytes are a RangeError too, with a message worth keeping.
        const detail = error instanceof RangeError && !error.message.startsWith("Extra ")
          ? "payload ends too early"
          : reason(error);
        throw new SerializerError("msgpack", `invalid MessagePack data: ${detail}`, {
          cause: error,
        });
      }
    },
  };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

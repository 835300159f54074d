/**
 * The serializer interface: how a message becomes bytes on the wire and back.
 *
 * @module
 */
import type { MessageHeaders } from "../headers.ts";

/**
 * Turns messages into payload bytes and back. Either side may be async
 * (WebCrypto, CompressionStream). `decode` throws {@linkcode SerializerError}
 * (naming the serializer and the reason) for payloads it cannot read.
 *
 * @example A serializer of your own
 * ```ts
 * import * as v from "valibot";
 * import { Event, type Serializer } from "@walnats/walnats";
 *
 * const csv: Serializer<string[]> = {
 *   name: "csv",
 *   encode: (row) => new TextEncoder().encode(row.join(",")),
 *   decode: (data) => new TextDecoder().decode(data).split(","),
 * };
 * const rowAdded = new Event("row-added", v.array(v.string()), { serializer: csv });
 * ```
 *
 * @typeParam T the message type
 */
export interface Serializer<T> {
  /** A short name used in error messages and docs, e.g. `"json"` or `"gzip(json)"`. */
  readonly name: string;
  /** Encode a message into payload bytes. */
  encode(message: T): Uint8Array | Promise<Uint8Array>;
  /**
   * Decode payload bytes into a message (not yet validated against the schema).
   * A listener also passes the message's headers, for serializers whose message lives
   * partly in headers (the dead-letter event's); most ignore them.
   */
  decode(data: Uint8Array, headers?: MessageHeaders): T | Promise<T>;
}

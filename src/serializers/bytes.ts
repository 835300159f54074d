/**
 * The raw-bytes serializer.
 *
 * @module
 */
import type { Serializer } from "./serializer.ts";

/**
 * Payload bytes are the message: nothing is copied or changed.
 *
 * @example Declare a raw-bytes event
 * ```ts
 * import { bytes, bytesSerializer, Event } from "@walnats/walnats";
 *
 * const blob = new Event("blob-stored", bytes(), { serializer: bytesSerializer });
 * ```
 */
export const bytesSerializer: Serializer<Uint8Array> = {
  name: "bytes",
  encode: (message: Uint8Array): Uint8Array => message,
  decode: (data: Uint8Array): Uint8Array => data,
};

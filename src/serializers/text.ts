/**
 * The UTF-8 text serializer.
 *
 * @module
 */
import { SerializerError } from "../errors.ts";
import type { Serializer } from "./serializer.ts";
import { decodeUtf8 } from "./_utf8.ts";

const encoder = new TextEncoder();

/**
 * Strings as UTF-8 bytes. Invalid UTF-8 is a decode error, not replaced silently.
 *
 * @example Declare a text event
 * ```ts
 * import { Event, text, textSerializer } from "@walnats/walnats";
 *
 * const line = new Event("line-logged", text(), { serializer: textSerializer });
 * ```
 */
export const textSerializer: Serializer<string> = {
  name: "text",
  encode: (message: string): Uint8Array => encoder.encode(message),
  decode(data: Uint8Array): string {
    try {
      return decodeUtf8(data);
    } catch (cause) {
      throw new SerializerError("text", "payload is not valid UTF-8", { cause });
    }
  },
};

/**
 * The date-time serializer.
 *
 * @module
 */
import { SerializerError } from "../errors.ts";
import type { Serializer } from "./serializer.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
// ISO 8601 date-time with a time zone (Z or ±hh:mm), fractional seconds optional.
const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Dates as bare ISO 8601 strings (`2024-11-22T18:30:00.000Z`), not JSON-quoted,
 * so the Python walnats reads them as `datetime`. Decoding accepts any offset.
 *
 * @example Declare a date-time event
 * ```ts
 * import { dateTime, dateTimeSerializer, Event } from "@walnats/walnats";
 *
 * const tick = new Event("minute-passed", dateTime(), { serializer: dateTimeSerializer });
 * ```
 */
export const dateTimeSerializer: Serializer<Date> = {
  name: "date-time",
  encode: (message: Date): Uint8Array => encoder.encode(message.toISOString()),
  decode(data: Uint8Array): Date {
    let text: string;
    try {
      text = decoder.decode(data);
    } catch (cause) {
      throw new SerializerError("date-time", "payload is not valid UTF-8", { cause });
    }
    const date = new Date(text);
    if (!iso.test(text) || Number.isNaN(date.getTime())) {
      throw new SerializerError(
        "date-time",
        `payload is not an ISO 8601 date-time with a time zone: ${
          JSON.stringify(text.slice(0, 64))
        }`,
      );
    }
    return date;
  },
};

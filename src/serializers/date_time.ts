/**
 * The date-time serializer.
 *
 * @module
 */
import { SerializerError } from "../errors.ts";
import type { Serializer } from "./serializer.ts";
import { decodeUtf8 } from "./_utf8.ts";

const encoder = new TextEncoder();

/**
 * How to read a date-time that carries no time zone.
 *
 * @example Read naive date-times in the host's time zone
 * ```ts
 * import { dateTime, type DateTimeOptions, Event } from "@walnats/walnats";
 *
 * const options: DateTimeOptions = { naive: "local" };
 * const tick = new Event("minute-passed", dateTime(options));
 * ```
 */
export interface DateTimeOptions {
  /**
   * A date-time without a time zone (what Python's `datetime.now().isoformat()` writes, e.g.
   * `2026-12-03T03:49:18.001637`) or a plain date (`2026-12-03`, read as midnight):
   * `"utc"` reads it as UTC, `"local"` in this host's time zone, `"reject"` refuses it
   * (the payload cannot be decoded).
   * @default "utc"
   */
  readonly naive?: "utc" | "local" | "reject";
}

const NAIVE = new Set(["utc", "local", "reject"]);

// ISO 8601 as Python's `isoformat()` writes it and a little more: a date, or a date-time
// with minutes, optional seconds and fraction (any number of digits), and an optional
// zone: Z, ±hh, ±hh:mm, ±hhmm, or ±hh:mm:ss[.ffffff] (Python writes seconds in an offset
// when it has them).
const iso =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?(?::(\d{2})(?:\.(\d+))?)?)?)?$/;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : MONTH_DAYS[month - 1] ?? 0;
}

/** Milliseconds of a fraction's digits; digits past the millisecond are dropped. */
function fractionMs(digits: string | undefined): number {
  return digits === undefined ? 0 : Number(`${digits}00`.slice(0, 3));
}

/** The date, or why the text is not one. */
function read(text: string, naive: "utc" | "local" | "reject"): Date | string {
  const m = iso.exec(text);
  if (!m) return "not an ISO 8601 date or date-time";
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
    return "no such day";
  }
  if (hour > 23 || minute > 59 || second > 59) return "no such time of day";
  const ms = fractionMs(m[7]);
  const zoned = m[8] !== undefined || m[9] !== undefined;
  if (!zoned && naive === "reject") return "no time zone (this event reads only zoned date-times)";
  const date = new Date(0);
  if (!zoned && naive === "local") {
    date.setFullYear(year, month - 1, day);
    date.setHours(hour, minute, second, ms);
    return date;
  }
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  if (m[9] !== undefined) {
    const [oh, om, os] = [Number(m[10]), Number(m[11] ?? 0), Number(m[12] ?? 0)];
    if (oh > 23 || om > 59 || os > 59) return "no such time zone offset";
    const offset = ((oh * 60 + om) * 60 + os) * 1000 + fractionMs(m[13]);
    date.setTime(date.getTime() - (m[9] === "-" ? -offset : offset));
  }
  return date;
}

/**
 * Read an ISO 8601 date or date-time as the date-time serializer does: with a time zone
 * (`Z`, `+02:00`), without one (`2026-12-03T03:49:18.001637`, what Python's `isoformat()`
 * writes for a naive `datetime`), or a plain date (`2026-12-03`, midnight). Digits past the
 * millisecond are dropped. Use it for date-time fields inside JSON payloads, which the
 * Python walnats (pydantic) writes the same way.
 *
 * @example Read a date-time field written by a Python service
 * ```ts
 * import { parseDateTime } from "@walnats/walnats";
 *
 * const at = parseDateTime("2026-12-03T03:49:18.001637"); // read as UTC
 * console.log(at.toISOString()); // 2026-12-03T03:49:18.001Z
 * ```
 *
 * @param text the ISO 8601 text
 * @param options how to read a date-time without a time zone (UTC by default)
 * @returns the moment
 * @throws {RangeError} when the text is not an ISO 8601 date or date-time, names no real
 *   day or time, or has no time zone while `naive` is `"reject"`
 */
export function parseDateTime(text: string, options: DateTimeOptions = {}): Date {
  const result = read(text, checkNaive(options));
  if (typeof result === "string") {
    throw new RangeError(`Invalid date-time ${JSON.stringify(text.slice(0, 64))}: ${result}`);
  }
  return result;
}

function checkNaive(options: DateTimeOptions): "utc" | "local" | "reject" {
  const naive = options.naive ?? "utc";
  if (!NAIVE.has(naive)) {
    throw new TypeError(
      `Invalid date-time option naive: ${
        JSON.stringify(naive)
      }; expected "utc", "local" or "reject"`,
    );
  }
  return naive;
}

/**
 * A date-time serializer that reads naive date-times as `options.naive` says; see
 * {@linkcode dateTimeSerializer}. `dateTime({ naive })` picks it for an event.
 *
 * @example Refuse date-times without a time zone
 * ```ts
 * import { dateTime, dateTimeSerializerOf, Event } from "@walnats/walnats";
 *
 * const strict = dateTimeSerializerOf({ naive: "reject" });
 * const paid = new Event("invoice-due", dateTime(), { serializer: strict });
 * ```
 *
 * @param options how to read a date-time without a time zone
 * @returns the serializer
 * @throws {TypeError} when `naive` is not `"utc"`, `"local"` or `"reject"`
 */
export function dateTimeSerializerOf(options: DateTimeOptions = {}): Serializer<Date> {
  const naive = checkNaive(options);
  return {
    name: "date-time",
    // `+00:00`, not `Z`: Python's `datetime.fromisoformat` reads `Z` only from 3.11 on.
    encode: (message: Date): Uint8Array =>
      encoder.encode(message.toISOString().replace(/Z$/, "+00:00")),
    decode(data: Uint8Array): Date {
      let text: string;
      try {
        text = decodeUtf8(data);
      } catch (cause) {
        throw new SerializerError("date-time", "payload is not valid UTF-8", { cause });
      }
      const result = read(text, naive);
      if (typeof result === "string") {
        throw new SerializerError(
          "date-time",
          `payload ${JSON.stringify(text.slice(0, 64))} is ${
            result.startsWith("not") ? result : `not a date-time: ${result}`
          }`,
        );
      }
      return result;
    },
  };
}

/**
 * Dates as bare ISO 8601 strings, not JSON-quoted, as the Python walnats writes and reads
 * `datetime` events. Writes UTC with a `+00:00` offset (`2026-12-03T03:49:18.001+00:00`),
 * which every Python 3 `datetime.fromisoformat` reads. Reads any offset, `Z`, a date-time
 * without a time zone as UTC (Python's `datetime.now()` and the Python Clock's ticks write
 * those; see {@linkcode dateTimeSerializerOf} for local time or refusal), and a plain date
 * as midnight UTC. Digits past the millisecond are dropped.
 *
 * @example Declare a date-time event
 * ```ts
 * import { dateTime, dateTimeSerializer, Event } from "@walnats/walnats";
 *
 * const tick = new Event("minute-passed", dateTime(), { serializer: dateTimeSerializer });
 * ```
 */
export const dateTimeSerializer: Serializer<Date> = dateTimeSerializerOf();

/**
 * What a thrown value says, computed safely from anything a handler can throw: an
 * `Error`, a string, `null`, a symbol, an object whose `message` getter or `toString`
 * throws, a revoked proxy, a cyclic object, a string of megabytes. Used for logs, dead
 * letters and error replies, where a second failure while describing the first one
 * would leave a message neither handled nor given up on.
 *
 * @module
 */

/** Longest error text, in characters (a log line's worth; dead letters bound it further). */
const READ_LIMIT = 4096;
/** Longest stack, in characters. */
const STACK_LIMIT = 16 * 1024;

/**
 * `<name>: <message>` of an error, or a readable form of any other thrown value.
 * Never throws. Unbounded except by {@linkcode READ_LIMIT}; see {@linkcode boundedText}.
 */
export function errorText(error: unknown): string {
  try {
    return cut(describe(error), READ_LIMIT);
  } catch {
    return "(a thrown value that cannot be described)";
  }
}

/**
 * The stack of an error, if it has a readable one (without its first line when that
 * repeats the error text), or `undefined`. Never throws.
 */
export function errorStack(error: unknown): string | undefined {
  try {
    if (typeof error !== "object" || error === null) return undefined;
    const stack = (error as { stack?: unknown }).stack;
    if (typeof stack !== "string" || stack === "") return undefined;
    return cut(stack, STACK_LIMIT);
  } catch {
    return undefined;
  }
}

/**
 * `text` made safe for a header value or one log line and bounded: control characters
 * (CR, LF, tabs, NUL...) become spaces, and the result is at most `maxBytes` bytes of
 * UTF-8, cut at a character boundary and ended with `…` when cut.
 */
export function boundedText(text: string, maxBytes: number): string {
  // Every UTF-16 unit is at least one byte: more than `maxBytes` units never fit.
  // deno-lint-ignore no-control-regex -- control characters are what must go
  const clean = text.slice(0, maxBytes + 1).replace(/[\u0000-\u001f\u007f]+/g, " ");
  if (text.length <= maxBytes && encoder.encode(clean).length <= maxBytes) return clean;
  const room = maxBytes - 3; // "…" is 3 bytes
  let bytes = 0;
  let end = 0;
  for (const char of clean) {
    const point = char.codePointAt(0)!;
    const size = point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
    if (bytes + size > room) break;
    bytes += size;
    end += char.length;
  }
  return `${clean.slice(0, end)}…`;
}

const encoder = new TextEncoder();

function describe(error: unknown): string {
  switch (typeof error) {
    case "string":
      return error;
    case "symbol":
      return error.toString();
    case "undefined":
      return "undefined";
    case "object":
      if (error === null) return "null";
      return describeObject(error);
    case "function":
      return `function ${read(() => (error as { name?: unknown }).name) ?? ""}`.trim();
    default:
      return String(error);
  }
}

function describeObject(error: object): string {
  const name = read(() => (error as { name?: unknown }).name);
  const message = read(() => (error as { message?: unknown }).message);
  if (isError(error) || (name !== undefined && message !== undefined)) {
    const n = name ?? "Error";
    return message ? `${n}: ${message}` : n;
  }
  if (message !== undefined && message !== "") return message;
  const text = read(() => String(error));
  if (text !== undefined && text !== "[object Object]") return text;
  const json = read(() => JSON.stringify(error));
  if (json !== undefined) return json;
  return text ?? "(an object that cannot be described)";
}

function isError(value: object): boolean {
  return isInstance(value, Error);
}

/**
 * `value instanceof type`, false where that throws (a revoked proxy, a proxy whose
 * `getPrototypeOf` trap throws): a thrown value is the handler's, whatever it is.
 */
export function isInstance(
  value: unknown,
  type: abstract new (...args: never[]) => unknown,
): boolean {
  try {
    return value instanceof type;
  } catch {
    return false;
  }
}

/** The value of `get()` as text when it is a string (or a finite number), else `undefined`. */
function read(get: () => unknown): string | undefined {
  try {
    const value = get();
    if (typeof value === "string") return cut(value, READ_LIMIT);
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    return undefined;
  } catch {
    return undefined;
  }
}

function cut(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

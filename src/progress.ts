/**
 * Job progress as it travels: the value a handler reports (`job.progress(value)`), its
 * size limit, and its JSON form. Shared by the actors (which send it) and the requester
 * (which receives it), so it lives outside both.
 *
 * @module
 */

/**
 * What a handler may report as progress: a number (e.g. a percentage) or a small JSON
 * value (at most {@linkcode MAX_PROGRESS_BYTES} bytes as JSON).
 *
 * @example Report a count of steps done
 * ```ts
 * import type { ProgressValue } from "@walnats/walnats";
 *
 * const progress: ProgressValue = { done: 3, total: 10, step: "resize" };
 * ```
 */
export type ProgressValue =
  | number
  | string
  | boolean
  | null
  | readonly ProgressValue[]
  | { readonly [key: string]: ProgressValue };

/**
 * The largest progress value, in bytes of its JSON (UTF-8). Progress is a hint sent
 * several times a second: a result belongs in the response.
 *
 * @example Keep a status line within the limit
 * ```ts
 * import { MAX_PROGRESS_BYTES } from "@walnats/walnats";
 *
 * const line = (text: string): string => text.slice(0, MAX_PROGRESS_BYTES / 4);
 * ```
 */
export const MAX_PROGRESS_BYTES = 1024;

const encoder = new TextEncoder();

/**
 * Check a progress value and return its JSON.
 *
 * @param value what the handler reported
 * @param actor the actor's name, for the error
 * @returns the JSON text
 * @throws {TypeError} when it is not a finite number or a JSON value
 * @throws {RangeError} when its JSON is larger than {@linkcode MAX_PROGRESS_BYTES}
 */
export function progressJson(value: unknown, actor: string): string {
  const where = `Cannot report progress of a job of actor "${actor}"`;
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new TypeError(`${where}: ${value} is not a finite number`);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`${where}: the value is not JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  if (json === undefined) {
    throw new TypeError(
      `${where}: expected a number or a JSON value, got ${
        value === undefined ? "undefined" : typeof value
      }`,
    );
  }
  // One byte per character for ASCII; count exactly only when it could matter.
  if (json.length > MAX_PROGRESS_BYTES / 3) {
    const bytes = encoder.encode(json).length;
    if (bytes > MAX_PROGRESS_BYTES) {
      throw new RangeError(
        `${where}: ${bytes} bytes of JSON, at most ${MAX_PROGRESS_BYTES}; report a summary ` +
          "(a number or a few fields) and return the result as the response",
      );
    }
  }
  return json;
}

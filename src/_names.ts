/**
 * Name checks shared by events and actors (the same rules the linter reports).
 *
 * @module
 */

/** Longest stream or consumer name: the server stores each as a directory name. */
export const MAX_NAME_LENGTH = 255;

// Whitespace, the subject wildcards, path separators and control characters.
// deno-lint-ignore no-control-regex
const forbidden = /[\s*>/\\\x00-\x1f\x7f]/u;
const kebabSegment = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Check an event or actor name; throw a `TypeError` that names it and says what is wrong.
 *
 * @param kind "event" or "actor"
 * @param name the name to check
 * @param dots whether `.` may separate kebab-case segments (subjects may, consumers may not)
 */
export function checkName(kind: "event" | "actor", name: string, dots: boolean): void {
  const label = `Invalid ${kind} name ${JSON.stringify(name)}`;
  if (typeof name !== "string") throw new TypeError(`Invalid ${kind} name: expected a string`);
  if (name.length === 0) throw new TypeError(`${label}: the name is empty`);
  if (name.length > MAX_NAME_LENGTH) {
    throw new TypeError(
      `${
        label.slice(0, 80)
      }…: ${name.length} characters, the server allows at most ${MAX_NAME_LENGTH}`,
    );
  }
  const bad = name.match(forbidden);
  if (bad) {
    throw new TypeError(
      `${label}: ${JSON.stringify(bad[0])} at position ${bad.index} is not allowed by NATS ` +
        "(no whitespace, '*', '>', '/', '\\' or control characters)",
    );
  }
  if (!dots && name.includes(".")) {
    throw new TypeError(`${label}: '.' is not allowed in ${kind} names`);
  }
  const segments = dots ? name.split(".") : [name];
  if (!segments.every((segment) => kebabSegment.test(segment))) {
    throw new TypeError(
      `${label}: not kebab-case (lowercase letters and digits separated by single '-'` +
        (dots ? ", segments separated by '.'" : "") + ")",
    );
  }
}

/**
 * Check an optional description: not empty, at most 4096 characters.
 *
 * @param kind "event" or "actor"
 * @param name the owner's name
 * @param description the description
 */
export function checkDescription(kind: string, name: string, description?: string): void {
  if (description === undefined) return;
  if (typeof description !== "string" || description.trim() === "") {
    throw new TypeError(`Invalid description of ${kind} "${name}": must be a non-empty string`);
  }
  if (description.length > 4096) {
    throw new TypeError(
      `Invalid description of ${kind} "${name}": ${description.length} characters, at most 4096`,
    );
  }
}

/**
 * Errors that callers of walnats catch. Bad arguments throw the built-in
 * `TypeError` / `RangeError` instead.
 *
 * @module
 */

/** One problem reported by a Standard Schema validation. */
export interface ValidationIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where in the message, as property keys. */
  readonly path?: readonly PropertyKey[];
}

/** A message does not match its event's (or response's) schema. */
export class ValidationError extends Error {
  /** The schema's issues. */
  readonly issues: readonly ValidationIssue[];
  /**
   * Create the error.
   * @param where what was being validated, e.g. `message of event "user-created"`
   * @param issues the schema's issues
   * @param options the cause, if any
   */
  constructor(where: string, issues: readonly ValidationIssue[], options?: ErrorOptions) {
    const detail = issues.map((issue) => {
      const path = issue.path?.length ? `${issue.path.map(String).join(".")}: ` : "";
      return `${path}${issue.message}`;
    }).join("; ");
    super(`Invalid ${where}: ${detail}`, options);
    this.name = "ValidationError";
    this.issues = issues;
  }
}

/** A payload could not be encoded or decoded by a serializer. */
export class SerializerError extends Error {
  /** The serializer's name. */
  readonly serializer: string;
  /**
   * Create the error.
   * @param serializer the serializer's name
   * @param reason what was wrong with the payload
   * @param options the cause, if any
   */
  constructor(serializer: string, reason: string, options?: ErrorOptions) {
    super(`Serializer "${serializer}" failed: ${reason}`, options);
    this.name = "SerializerError";
    this.serializer = serializer;
  }
}

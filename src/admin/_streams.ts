/**
 * Telling walnats streams from others on a server, by the wire protocol's naming alone:
 * an event's stream has exactly one subject, the event name, and is named after it with
 * `.` → `-`; a dead-letter stream is such a stream whose subject starts `dead-letter.`.
 *
 * @module
 */
import type { StreamConfig } from "@nats-io/jetstream";

const DEAD_PREFIX = "dead-letter.";

/** The one subject of a walnats stream, or `undefined` when the stream is not walnats'. */
export function walnatsSubject(
  config: Pick<StreamConfig, "name" | "subjects">,
): string | undefined {
  const subjects = config.subjects ?? [];
  if (subjects.length !== 1) return undefined;
  const [subject = ""] = subjects;
  return subject.replaceAll(".", "-") === config.name ? subject : undefined;
}

/** Whether a walnats subject is a dead-letter event's. */
export function isDeadLetterSubject(subject: string): boolean {
  return subject.startsWith(DEAD_PREFIX);
}

/**
 * The actor of a dead-letter subject `dead-letter.<event>.<actor>` (the last segment: actor
 * names have no dots), and its event when spelled out (long names are hashed; the dead
 * letters' own headers name the event then).
 */
export function deadLetterOwner(subject: string): { actor: string; event: string } {
  const rest = subject.slice(DEAD_PREFIX.length);
  const dot = rest.lastIndexOf(".");
  return { actor: rest.slice(dot + 1), event: rest.slice(0, dot) };
}

/**
 * The log of an actor's failed pull requests. A server that cannot answer them (no
 * stream or consumer behind the actor, JetStream restarting) ends every request with
 * the same status, and a listener that logged each would print thousands of identical
 * lines: the first of each kind is logged in full, naming the cause and the fix, and its
 * repeats are counted and reported at most once per {@linkcode REPEAT_INTERVAL}, and
 * when the actor pulls normally again.
 *
 * @module
 */
import type { Logger } from "../_logger.ts";
import type { Actor } from "./actor.ts";

/** Repeats of one status are reported at most this often, ms. */
export const REPEAT_INTERVAL = 30_000;

/** Whether a pull status is a failure (not the end of a request that found nothing). */
export function isPullFailure(status: number): boolean {
  return status >= 400 && status !== 404 && status !== 408;
}

/** Failed pull requests of one actor, logged once per kind with a count of repeats. */
export class PullStatusLog {
  readonly #logger: Logger;
  readonly #actor: Actor<unknown, unknown>;
  readonly #now: () => number;
  /** Per kind (`status description`): repeats not reported yet, and since when. */
  readonly #kinds = new Map<string, { count: number; since: number; reported: number }>();

  constructor(logger: Logger, actor: Actor<unknown, unknown>, now: () => number = Date.now) {
    this.#logger = logger;
    this.#actor = actor;
    this.#now = now;
  }

  /** A request ended with a failure status. */
  failed(status: number, description: string): void {
    const key = `${status} ${description}`;
    const now = this.#now();
    const kind = this.#kinds.get(key);
    if (kind === undefined) {
      this.#kinds.set(key, { count: 0, since: now, reported: now });
      this.#logger.warn(this.#explain(status, description), {
        actor: this.#actor.name,
        status,
        description,
      });
      return;
    }
    kind.count += 1;
    if (now - kind.reported >= REPEAT_INTERVAL) this.#report(key, kind, now, "");
  }

  /** Whether failures were seen since the actor last pulled normally. */
  get active(): boolean {
    return this.#kinds.size > 0;
  }

  /**
   * The actor pulls normally again (or stops): report the repeats not reported yet, and
   * forget the kinds (the next failure is logged in full again).
   */
  recovered(end = " before it pulled normally again"): void {
    if (this.#kinds.size === 0) return;
    const now = this.#now();
    for (const [key, kind] of this.#kinds) {
      if (kind.count > 0) this.#report(key, kind, now, end);
    }
    this.#kinds.clear();
  }

  #report(
    key: string,
    kind: { count: number; since: number; reported: number },
    now: number,
    end: string,
  ): void {
    const seconds = Math.max(1, Math.round((now - kind.since) / 1000));
    this.#logger.warn(
      `pull requests of actor "${this.#actor.name}" ended ${kind.count} more times with ` +
        `"${key.trim()}" in ${seconds} s${end}`,
      { actor: this.#actor.name, status: key, repeats: kind.count, seconds },
    );
    kind.count = 0;
    kind.since = now;
    kind.reported = now;
  }

  #explain(status: number, description: string): string {
    const actor = this.#actor;
    const said = `${status}${description ? ` ${description}` : ""}`;
    const where = `consumer "${actor.consumerName}" on stream "${actor.event.streamName}"`;
    if (status === 503) {
      return `pull requests of actor "${actor.name}" get ${said} (no responders): the server ` +
        `has no ${where}, or JetStream is restarting. Call Actors.register() before listen() ` +
        `(Events.register() creates the events' streams); meanwhile the listener checks and ` +
        `recreates what is missing, and pulls again with backoff (repeats are counted)`;
    }
    if (status === 409 && /max\s*waiting/i.test(description)) {
      return `too many pull requests for actor "${actor.name}" (${said}): more listeners ` +
        `than the ${where} lets wait; pulling again with backoff (repeats are counted)`;
    }
    return `pull request of actor "${actor.name}" ended: ${said}; pulling again with backoff ` +
      `(repeats are counted)`;
  }
}

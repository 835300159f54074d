/**
 * Rates between two statuses: messages emitted per second for each event, messages
 * handled per second for each actor.
 *
 * @module
 */
import type { Status } from "./status.ts";

/**
 * Per-second rates between two statuses (keys: event name; `<event>/<actor>` for actors).
 *
 * @example Print how fast an actor works
 * ```ts
 * import type { Rates } from "@walnats/walnats/admin";
 *
 * const line = (r: Rates): string => `${r.actors["user-created/send-welcome"]?.handled ?? 0}/s`;
 * ```
 */
export interface Rates {
  /** Seconds between the two statuses. */
  readonly seconds: number;
  /** Messages emitted per second (growth of the stream's last sequence). */
  readonly events: Readonly<Record<string, { readonly emitted: number }>>;
  /**
   * Per actor: messages delivered per second (growth of the last delivered sequence) and
   * handled per second (delivered and no longer in flight: acked, or terminated).
   */
  readonly actors: Readonly<
    Record<string, { readonly delivered: number; readonly handled: number }>
  >;
}

/**
 * The rates between an earlier and a later status of the same system. Events and actors
 * missing from either are left out; a counter that went down (a stream recreated) counts 0.
 *
 * @example Rates of a watched status
 * ```ts ignore
 * let previous: Status | undefined;
 * for await (const status of admin.watch({ signal })) {
 *   if (previous) console.log(rates(previous, status).events);
 *   previous = status;
 * }
 * ```
 *
 * @param previous the earlier status
 * @param current the later status
 * @returns messages per second
 */
export function rates(previous: Status, current: Status): Rates {
  const seconds = Math.max((Date.parse(current.time) - Date.parse(previous.time)) / 1000, 1e-3);
  const per = (before: number, after: number) => Math.max(after - before, 0) / seconds;
  const events: Record<string, { emitted: number }> = {};
  const earlierEvents = new Map(previous.events.map((e) => [e.name, e]));
  for (const e of current.events) {
    const before = earlierEvents.get(e.name);
    if (before) events[e.name] = { emitted: per(before.lastSeq, e.lastSeq) };
  }
  const actors: Record<string, { delivered: number; handled: number }> = {};
  const earlierActors = new Map(previous.actors.map((a) => [`${a.event}/${a.name}`, a]));
  for (const a of current.actors) {
    const key = `${a.event}/${a.name}`;
    const before = earlierActors.get(key);
    if (!before) continue;
    actors[key] = {
      delivered: per(before.delivered, a.delivered),
      handled: per(before.delivered - before.inFlight, a.delivered - a.inFlight),
    };
  }
  return { seconds, events, actors };
}

/**
 * One service of a system, as {@linkcode Services} records it.
 *
 * @module
 */
import type { Actor } from "../actors/actor.ts";
import type { Event } from "../events/event.ts";

/**
 * A service: a deployable program that emits events and runs actors. Only a
 * description: walnats does not care where events come from, but specs and
 * diagrams of the whole system do.
 *
 * @example List the services and what they emit
 * ```ts
 * import { type Service, Services } from "@walnats/walnats";
 *
 * const services = new Services().add("shop").add("mailer");
 * const names = services.services.map((service: Service) => service.name);
 * ```
 */
export interface Service {
  /** The service's name: the title of its AsyncAPI document and its box in diagrams. */
  readonly name: string;
  /** The service's version, its AsyncAPI `info.version`. */
  readonly version: string;
  /** What the service does, its AsyncAPI `info.description`. */
  readonly description: string | undefined;
  /** The events it emits (sends), in the order given. */
  readonly emits: readonly Event<unknown, unknown>[];
  /** The actors it defines and runs (it receives their events), in the order given. */
  readonly defines: readonly Actor<unknown, unknown>[];
}

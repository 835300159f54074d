/**
 * `Services`: a description of the services of a system, for AsyncAPI specs and
 * event-storming diagrams.
 *
 * @module
 */
import type { Actor } from "../actors/actor.ts";
import type { Actors } from "../actors/actors.ts";
import type { Event } from "../events/event.ts";
import type { Events } from "../events/events.ts";
import { type AsyncApiDocument, asyncApiDocument, type AsyncApiOptions } from "./asyncapi.ts";
import { d2Diagram, type DiagramOptions, mermaidDiagram } from "./diagrams.ts";
import type { Service } from "./service.ts";

/**
 * Options of {@linkcode Services.add}.
 *
 * @example Declare what a service emits and defines
 * ```ts
 * import * as v from "valibot";
 * import { Event, Services } from "@walnats/walnats";
 *
 * const orderPaid = new Event("order-paid", v.object({ id: v.number() }));
 * const services = new Services().add("billing", { version: "1.2.0", emits: [orderPaid] });
 * ```
 */
export interface ServiceOptions {
  /** The service's version, its AsyncAPI `info.version`. @default "0.0.0" */
  readonly version?: string;
  /** What the service does, its AsyncAPI `info.description`. @default none */
  readonly description?: string;
  /** The events the service emits: an `Events` registry or a list of events. @default none */
  // deno-lint-ignore no-explicit-any
  readonly emits?: Events | Iterable<Event<any, any>>;
  /**
   * The actors the service defines, that is runs: an `Actors` registry or a list of
   * actors. The service receives the actors' events. @default none
   */
  // deno-lint-ignore no-explicit-any
  readonly defines?: Actors | Iterable<Actor<any, any>>;
}

/**
 * A description of the services of a system: which events each emits and which
 * actors each runs. Walnats itself does not need it; it turns the system into an
 * [AsyncAPI 3.0](https://www.asyncapi.com/docs/reference/specification/v3.0.0)
 * document (message payloads as JSON Schema derived from the events' schemas) and
 * into [event-storming](https://en.wikipedia.org/wiki/Event_storming) diagrams in
 * [D2](https://d2lang.com) and [Mermaid](https://mermaid.js.org).
 *
 * The `walnats` CLI (`cli.ts`) prints the same from a module that exports `services`.
 *
 * @example Describe two services and print a diagram
 * ```ts
 * import * as v from "valibot";
 * import { Actor, Actors, Event, Events, Services } from "@walnats/walnats";
 *
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 * const sendWelcome = new Actor("send-welcome", userCreated, () => {});
 *
 * const services = new Services()
 *   .add("users", { version: "1.2.0", emits: new Events(userCreated) })
 *   .add("notifications", { defines: new Actors(sendWelcome) });
 *
 * console.log(services.mermaid());
 * const spec = services.asyncApi({ title: "shop", version: "1.0.0" });
 * console.log(JSON.stringify(spec, null, 2));
 * ```
 */
export class Services {
  readonly #services: Service[] = [];

  /** The services added so far, in order. */
  get services(): readonly Service[] {
    return [...this.#services];
  }

  /**
   * Add a service, described by its name, the events it emits and the actors it
   * defines (runs).
   *
   * @param name the service's name, unique among the services
   * @param options version, description, emitted events, defined actors
   * @returns this, to chain calls
   * @throws {TypeError} for an empty or repeated name, or something in `emits` /
   *   `defines` that is not an event / actor
   */
  add(name: string, options: ServiceOptions = {}): this {
    if (typeof name !== "string" || name.trim() === "") {
      throw new TypeError(`Invalid service name ${JSON.stringify(name)}: the name is empty`);
    }
    if (this.#services.some((service) => service.name === name)) {
      throw new TypeError(`Cannot add service "${name}" twice`);
    }
    const version = options.version ?? "0.0.0";
    if (typeof version !== "string" || version === "") {
      throw new TypeError(`Invalid version of service "${name}": expected a non-empty string`);
    }
    if (options.description !== undefined && typeof options.description !== "string") {
      throw new TypeError(`Invalid description of service "${name}": expected a string`);
    }
    const emits = listOf(options.emits, "events", name);
    for (const event of emits) {
      if (!isEvent(event)) {
        throw new TypeError(`Invalid event emitted by service "${name}": expected an Event`);
      }
    }
    const defines = listOf(options.defines, "actors", name);
    for (const actor of defines) {
      const { name: actorName, event } = (actor ?? {}) as Partial<Actor<unknown, unknown>>;
      if (typeof actorName !== "string" || !isEvent(event)) {
        throw new TypeError(`Invalid actor defined by service "${name}": expected an Actor`);
      }
    }
    this.#services.push(Object.freeze({
      name,
      version,
      description: options.description,
      emits: Object.freeze(emits as Event<unknown, unknown>[]),
      defines: Object.freeze(defines as Actor<unknown, unknown>[]),
    }));
    return this;
  }

  /**
   * An AsyncAPI 3.0 document of all services, or of one (`options.service`): a
   * channel per event, a `send` operation per event a service emits, a `receive`
   * operation per actor, a message per event with its JSON Schema payload, and a
   * reply per request/response event.
   *
   * @example Save one document per service
   * ```ts ignore
   * for (const { name } of services.services) {
   *   const spec = services.asyncApi({ service: name });
   *   await Deno.writeTextFile(`${name}.asyncapi.json`, JSON.stringify(spec, null, 2));
   * }
   * ```
   *
   * @param options one service, the title, version, description and servers
   * @returns a fresh document (a plain JSON value; change it as you like)
   * @throws {TypeError} for an unknown `service` or an invalid server URL
   */
  asyncApi(options: AsyncApiOptions = {}): AsyncApiDocument {
    if (options.service === undefined) return asyncApiDocument(this.#services, options);
    const service = this.#services.find((s) => s.name === options.service);
    if (!service) {
      throw new TypeError(
        `Unknown service "${options.service}"; the services are: ${
          this.#services.map((s) => `"${s.name}"`).join(", ") || "none"
        }`,
      );
    }
    return asyncApiDocument([service], {
      title: service.name,
      version: service.version,
      description: service.description,
      ...options,
    });
  }

  /**
   * A [D2](https://d2lang.com) diagram: services as containers of their actors,
   * events as ovals, arrows from a service to the events it emits and from an event
   * to the actors that handle it. Render it with `d2 arch.d2 arch.svg`.
   *
   * @param options direction and colours
   * @returns the D2 source, ending with a newline
   */
  d2(options: DiagramOptions = {}): string {
    return d2Diagram(this.#services, options);
  }

  /**
   * A [Mermaid](https://mermaid.js.org) flowchart of the same picture as
   * {@linkcode Services.d2}: services as subgraphs of their actors, events as
   * stadiums. GitHub renders it inside a ```` ```mermaid ```` block.
   *
   * @param options direction and colours
   * @returns the Mermaid source, ending with a newline
   */
  mermaid(options: DiagramOptions = {}): string {
    return mermaidDiagram(this.#services, options);
  }
}

function listOf(value: unknown, field: "events" | "actors", service: string): unknown[] {
  if (value === undefined) return [];
  if (typeof value === "object" && value !== null && Array.isArray(Reflect.get(value, field))) {
    return [...Reflect.get(value, field)];
  }
  if (typeof value === "object" && value !== null && Symbol.iterator in value) {
    return [...(value as Iterable<unknown>)];
  }
  throw new TypeError(
    `Invalid ${field === "events" ? "emits" : "defines"} of service "${service}": expected ${
      field === "events" ? "Events or a list of events" : "Actors or a list of actors"
    }`,
  );
}

function isEvent(value: unknown): value is Event<unknown, unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as Event<unknown, unknown>).name === "string" &&
    typeof (value as Event<unknown, unknown>).schema?.["~standard"]?.validate === "function";
}

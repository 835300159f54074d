/**
 * Event-storming diagrams of services in D2 and Mermaid.
 *
 * @module
 */
import type { Event } from "../events/event.ts";
import type { Service } from "./service.ts";

/**
 * Options of `Services.d2` and `Services.mermaid`.
 *
 * @example A top-down diagram without colors
 * ```ts
 * import { Services } from "@walnats/walnats";
 *
 * const mermaid = new Services().add("shop").mermaid({ direction: "down", colors: false });
 * ```
 */
export interface DiagramOptions {
  /** Where the diagram flows, services in the order they were added. @default "right" */
  readonly direction?: "right" | "left" | "down" | "up";
  /**
   * Event-storming colours: services orange, events red, actors blue. Off, the
   * renderer's theme decides. @default true
   */
  readonly colors?: boolean;
}

// Event storming's sticky notes (https://en.wikipedia.org/wiki/Event_storming), as in the Python walnats.
const COLORS = {
  service: { stroke: "#f39c12", fill: "#fef4e6" },
  event: { stroke: "#e74c3c", fill: "#fcebea" },
  actor: { stroke: "#2980b9", fill: "#e9f2fb" },
  arrow: "#2c3e50",
} as const;

const DIRECTIONS = { right: "LR", left: "RL", down: "TB", up: "BT" } as const;

/** What both diagrams draw. */
interface Picture {
  readonly services: readonly {
    readonly service: Service;
    /** Actor names, once each: an actor of several events is one box with several arrows in. */
    readonly actors: readonly {
      readonly name: string;
      readonly description?: string | undefined;
    }[];
  }[];
  readonly events: readonly Event<unknown, unknown>[];
  /** service name → event name */
  readonly emits: readonly (readonly [string, string])[];
  /** event name → service name and actor name */
  readonly handles: readonly (readonly [string, string, string])[];
}

function picture(services: readonly Service[], options: DiagramOptions): Picture {
  const direction = options.direction ?? "right";
  if (!(direction in DIRECTIONS)) {
    throw new TypeError(
      `Invalid diagram direction ${
        JSON.stringify(direction)
      }: expected "right", "left", "down" or "up"`,
    );
  }
  const events = new Map<string, Event<unknown, unknown>>();
  const emits: [string, string][] = [];
  const handles: [string, string, string][] = [];
  const boxes = services.map((service) => {
    const actors = new Map<string, { name: string; description?: string | undefined }>();
    for (const event of service.emits) {
      if (!events.has(event.name)) events.set(event.name, event);
      if (!emits.some(([s, e]) => s === service.name && e === event.name)) {
        emits.push([service.name, event.name]);
      }
    }
    for (const actor of service.defines) {
      if (!events.has(actor.event.name)) events.set(actor.event.name, actor.event);
      if (!actors.has(actor.name)) {
        actors.set(actor.name, { name: actor.name, description: actor.description });
      }
      handles.push([actor.event.name, service.name, actor.name]);
    }
    return { service, actors: [...actors.values()] };
  });
  return { services: boxes, events: [...events.values()], emits, handles };
}

/**
 * A D2 diagram of services, events and actors.
 *
 * @param services the services
 * @param options direction and colours
 * @returns the D2 source
 * @throws {TypeError} for an unknown direction
 */
export function d2Diagram(services: readonly Service[], options: DiagramOptions = {}): string {
  const pic = picture(services, options);
  const colors = options.colors ?? true;
  const style = (c: { stroke: string; fill: string }) =>
    colors ? [`style: {stroke: "${c.stroke}"; fill: "${c.fill}"}`] : [];
  const tooltip = (description: string | undefined) =>
    description === undefined ? [] : [`tooltip: ${JSON.stringify(description)}`];

  const serviceKeys = new Map(
    pic.services.map(({ service }) => [service.name, d2Key(service.name)]),
  );
  // A top-level key names one thing: an event named like a service gets its own key and a label.
  const taken = new Set(serviceKeys.values());
  const eventKeys = new Map<string, string>();
  for (const event of pic.events) {
    let key = d2Key(event.name);
    if (taken.has(key)) key = d2Key(`${event.name} (event)`);
    taken.add(key);
    eventKeys.set(event.name, key);
  }

  const lines = [`direction: ${options.direction ?? "right"}`, ""];
  for (const { service, actors } of pic.services) {
    const children = actors.flatMap((actor) =>
      d2Block(d2Key(actor.name), [...style(COLORS.actor), ...tooltip(actor.description)])
    );
    lines.push(...d2Block(serviceKeys.get(service.name)!, [
      ...style(COLORS.service),
      ...tooltip(service.description),
      ...children,
    ]));
  }
  for (const event of pic.events) {
    const key = eventKeys.get(event.name)!;
    lines.push(...d2Block(key, [
      ...(key === d2Key(event.name) ? [] : [`label: ${JSON.stringify(event.name)}`]),
      "shape: oval",
      ...style(COLORS.event),
      ...tooltip(event.description),
    ]));
  }
  lines.push("");
  const arrow = colors ? `: {style: {stroke: "${COLORS.arrow}"}}` : "";
  for (const [service, event] of pic.emits) {
    lines.push(`${serviceKeys.get(service)} -> ${eventKeys.get(event)}${arrow}`);
  }
  for (const [event, service, actor] of pic.handles) {
    lines.push(`${eventKeys.get(event)} -> ${serviceKeys.get(service)}.${d2Key(actor)}${arrow}`);
  }
  return lines.join("\n") + "\n";
}

function d2Block(key: string, body: readonly string[]): string[] {
  if (body.length === 0) return [key];
  return [`${key}: {`, ...body.map((line) => `  ${line}`), "}"];
}

// D2's keywords cannot name shapes unquoted, and "." nests, so anything but plain words is quoted.
const D2_KEYWORDS = new Set([
  "label",
  "shape",
  "style",
  "icon",
  "tooltip",
  "link",
  "near",
  "width",
  "height",
  "top",
  "left",
  "direction",
  "constraint",
  "class",
  "classes",
  "vars",
  "layers",
  "scenarios",
  "steps",
  "grid-rows",
  "grid-columns",
  "grid-gap",
  "vertical-gap",
  "horizontal-gap",
  "source-arrowhead",
  "target-arrowhead",
  "filled",
  "language",
]);

function d2Key(name: string): string {
  return /^[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*$/.test(name) && !D2_KEYWORDS.has(name.toLowerCase())
    ? name
    : JSON.stringify(name);
}

/**
 * A Mermaid flowchart of services, events and actors.
 *
 * @param services the services
 * @param options direction and colours
 * @returns the Mermaid source
 * @throws {TypeError} for an unknown direction
 */
export function mermaidDiagram(
  services: readonly Service[],
  options: DiagramOptions = {},
): string {
  const pic = picture(services, options);
  const colors = options.colors ?? true;
  const lines = [`flowchart ${DIRECTIONS[options.direction ?? "right"]}`];
  if (colors) {
    for (const [kind, c] of Object.entries(COLORS)) {
      if (typeof c === "object") lines.push(`  classDef ${kind} fill:${c.fill},stroke:${c.stroke}`);
    }
  }
  // Ids made of names would trip over keywords ("end") and punctuation: derive safe unique ones.
  const used = new Set<string>();
  const id = (prefix: string, name: string) => {
    const base = `${prefix}_${name}`.replace(/[^A-Za-z0-9]+/g, "_");
    let candidate = base;
    for (let i = 2; used.has(candidate); i++) candidate = `${base}_${i}`;
    used.add(candidate);
    return candidate;
  };
  const label = (name: string) => `"${name.replaceAll('"', "#quot;")}"`;
  const classes = { service: [] as string[], event: [] as string[], actor: [] as string[] };

  const serviceIds = new Map<string, string>();
  const actorIds = new Map<string, string>();
  for (const { service, actors } of pic.services) {
    const sid = id("svc", service.name);
    serviceIds.set(service.name, sid);
    classes.service.push(sid);
    if (actors.length === 0) {
      lines.push(`  ${sid}[${label(service.name)}]`);
      continue;
    }
    lines.push(`  subgraph ${sid} [${label(service.name)}]`);
    for (const actor of actors) {
      const aid = id(`act_${service.name}`, actor.name);
      actorIds.set(`${service.name}\n${actor.name}`, aid);
      classes.actor.push(aid);
      lines.push(`    ${aid}[${label(actor.name)}]`);
    }
    lines.push("  end");
  }
  const eventIds = new Map<string, string>();
  for (const event of pic.events) {
    const eid = id("evt", event.name);
    eventIds.set(event.name, eid);
    classes.event.push(eid);
    lines.push(`  ${eid}([${label(event.name)}])`);
  }
  for (const [service, event] of pic.emits) {
    lines.push(`  ${serviceIds.get(service)} --> ${eventIds.get(event)}`);
  }
  for (const [event, service, actor] of pic.handles) {
    lines.push(`  ${eventIds.get(event)} --> ${actorIds.get(`${service}\n${actor}`)}`);
  }
  if (colors) {
    for (const [kind, ids] of Object.entries(classes)) {
      if (ids.length > 0) lines.push(`  class ${ids.join(",")} ${kind}`);
    }
    if (pic.emits.length + pic.handles.length > 0) {
      lines.push(`  linkStyle default stroke:${COLORS.arrow}`);
    }
  }
  return lines.join("\n") + "\n";
}

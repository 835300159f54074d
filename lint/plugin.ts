/**
 * A `deno lint` plugin that reports walnats declarations which would throw at
 * construction, where their values are literals in the source: bad event and
 * actor names, empty or too long descriptions, limits and actor options that are
 * not positive. The codes and their meaning follow the Python walnats' flake8
 * linter (`WNS001`…); codes it did not have are marked *(walnats for Deno and Bun)*.
 *
 * | code | rule | message |
 * |---|---|---|
 * | WNS001 | `walnats/event-name` | event name is empty |
 * | WNS002 | `walnats/event-name` | event name is too long (over 255 characters) |
 * | WNS003 | `walnats/event-name` | event name has invalid symbols (whitespace, `*`, `>`, `/`, `\`, control characters) |
 * | WNS004 | `walnats/event-name` | event name should use kebab-case (segments may be separated by `.`) |
 * | WNS005 | `walnats/event-description` | event description is empty |
 * | WNS006 | `walnats/event-description` | event description is too long (over 4096 characters) |
 * | WNS011 | `walnats/limits` | limit must be positive |
 * | WNS012 | `walnats/limits` | age must be in milliseconds (a literal under 1000 looks like seconds) |
 * | WNS013 | `walnats/limits` | limit out of range: not an integer, or replicas over 5 *(walnats for Deno and Bun)* |
 * | WNS021 | `walnats/actor-name` | actor name is empty |
 * | WNS022 | `walnats/actor-name` | actor name is too long |
 * | WNS023 | `walnats/actor-name` | actor name has invalid symbols (as events, and `.`) |
 * | WNS024 | `walnats/actor-name` | actor name should use kebab-case |
 * | WNS025 | `walnats/actor-description` | actor description is empty |
 * | WNS026 | `walnats/actor-description` | actor description is too long |
 * | WNS027 | `walnats/actor-options` | actor option must be positive: `ackWait`, `jobTimeout` (milliseconds), `maxAttempts`, `maxAckPending`, `maxJobs` (integers) *(walnats for Deno and Bun)* |
 *
 * It looks at `new Event(...)` and `new Actor(...)` where `Event` / `Actor` are
 * imported from walnats (a specifier containing `walnats`, or a path ending in
 * `/mod.ts`), also through a namespace import (`new walnats.Event(...)`), and at
 * object literals typed as walnats' `Limits` (`const l: Limits = {...}`,
 * `{...} satisfies Limits`). Values computed at run time are left to the
 * constructors, which throw the same errors.
 *
 * @example Enable the plugin in deno.json
 * ```json
 * {
 *   "lint": {
 *     "plugins": ["jsr:@walnats/walnats/lint"]
 *   }
 * }
 * ```
 *
 * Silence one report with `// deno-lint-ignore walnats/limits`, or a rule with
 * `"rules": { "exclude": ["walnats/limits"] }`.
 *
 * @module
 */
import {
  checkDescription as throwOnDescription,
  checkName,
  MAX_NAME_LENGTH,
} from "../src/_names.ts";
import { checkLimits, type Limits } from "../src/events/limits.ts";

/**
 * Every code the plugin reports, with its message.
 *
 * @example The message of a code
 * ```ts ignore
 * import { CODES } from "@walnats/walnats/lint";
 *
 * console.log(CODES.WNS001); // "event name is empty"
 * ```
 */
export const CODES = {
  WNS001: "event name is empty",
  WNS002: "event name is too long",
  WNS003: "event name has invalid symbols",
  WNS004: "event name should use kebab-case",
  WNS005: "event description is empty",
  WNS006: "event description is too long",
  WNS011: "limit must be positive",
  WNS012: "age must be in milliseconds",
  WNS013: "limit out of range",
  WNS021: "actor name is empty",
  WNS022: "actor name is too long",
  WNS023: "actor name has invalid symbols",
  WNS024: "actor name should use kebab-case",
  WNS025: "actor description is empty",
  WNS026: "actor description is too long",
  WNS027: "actor option must be positive",
} as const;

/**
 * A code the plugin reports, e.g. `"WNS001"`.
 *
 * @example A code the plugin reports
 * ```ts ignore
 * import { type Code, CODES } from "@walnats/walnats/lint";
 *
 * const code: Code = "WNS004";
 * console.log(`${code} ${CODES[code]}`); // "WNS004 event name should use kebab-case"
 * ```
 */
export type Code = keyof typeof CODES;

/**
 * One problem found by a check.
 *
 * @example Print a violation
 * ```ts ignore
 * import { checkEventName, type Violation } from "@walnats/walnats/lint";
 *
 * const violation: Violation | undefined = checkEventName("UserCreated");
 * if (violation) console.log(violation.message, "-", violation.hint);
 * ```
 */
export interface Violation {
  /** The stable code. */
  readonly code: Code;
  /** `"<code> <message>"`, e.g. `"WNS001 event name is empty"`. */
  readonly message: string;
  /** What exactly is wrong: the error the constructor would throw. */
  readonly hint: string;
}

// The characters _names.ts rejects, to tell "invalid symbols" from "not kebab-case".
// deno-lint-ignore no-control-regex
const SYMBOLS = /[\s*>/\\\x00-\x1f\x7f]/u;

function violation(code: Code, hint: string): Violation {
  return { code, message: `${code} ${CODES[code]}`, hint };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function nameViolation(kind: "event" | "actor", name: string): Violation | undefined {
  const dots = kind === "event";
  try {
    checkName(kind, name, dots);
    return undefined;
  } catch (error) {
    const base = kind === "event" ? 0 : 20;
    let n: number;
    if (name.length === 0) n = 1;
    else if (name.length > MAX_NAME_LENGTH) n = 2;
    else if (SYMBOLS.test(name) || (!dots && name.includes("."))) n = 3;
    else n = 4;
    return violation(`WNS0${String(base + n).padStart(2, "0")}` as Code, reason(error));
  }
}

/**
 * Check an event name as `new Event(name, ...)` does.
 *
 * @example
 * ```ts
 * import { checkEventName } from "./plugin.ts";
 *
 * checkEventName("Bad Name")?.code; // "WNS003"
 * ```
 *
 * @param name the name
 * @returns the violation (WNS001–WNS004), or `undefined` for a good name
 */
export function checkEventName(name: string): Violation | undefined {
  return nameViolation("event", name);
}

/**
 * Check an actor name as `new Actor(name, ...)` does.
 *
 * @example Check an actor name
 * ```ts ignore
 * import { checkActorName } from "@walnats/walnats/lint";
 *
 * checkActorName("send welcome")?.code; // "WNS023"
 * checkActorName("send-welcome"); // undefined
 * ```
 *
 * @param name the name
 * @returns the violation (WNS021–WNS024), or `undefined` for a good name
 */
export function checkActorName(name: string): Violation | undefined {
  return nameViolation("actor", name);
}

/**
 * Check the `description` option of an event or an actor.
 *
 * @example Check a description
 * ```ts ignore
 * import { checkDescription } from "@walnats/walnats/lint";
 *
 * checkDescription("event", "", "user-created")?.code; // "WNS005"
 * ```
 *
 * @param kind whose description
 * @param description the description
 * @param owner the event's or actor's name, for the hint
 * @returns the violation (WNS005/WNS006 for events, WNS025/WNS026 for actors), or `undefined`
 */
export function checkDescription(
  kind: "event" | "actor",
  description: string,
  owner = "…",
): Violation | undefined {
  try {
    throwOnDescription(kind, owner, description);
    return undefined;
  } catch (error) {
    const empty = description.trim() === "";
    const code = kind === "event" ? (empty ? "WNS005" : "WNS006") : (empty ? "WNS025" : "WNS026");
    return violation(code, reason(error));
  }
}

const LIMITS: readonly string[] = [
  "age",
  "consumers",
  "messages",
  "bytes",
  "messageSize",
  "replicas",
  "duplicateWindow",
] satisfies (keyof Limits)[];

/**
 * Check one limit as `new Event(name, schema, { limits })` does, and whether `age`
 * looks like seconds.
 *
 * @example Catch an age in seconds
 * ```ts ignore
 * import { checkLimit } from "@walnats/walnats/lint";
 *
 * checkLimit("age", 60, "user-created")?.code; // "WNS012": 60 ms, meant 60 seconds?
 * ```
 *
 * @param key the limit, e.g. `"age"`; unknown keys are the type checker's business
 * @param value its value
 * @param event the event's name, for the hint
 * @returns the violation (WNS011–WNS013), or `undefined`
 */
export function checkLimit(key: string, value: number, event = "…"): Violation | undefined {
  if (!LIMITS.includes(key)) return undefined;
  try {
    checkLimits(event, { [key]: value });
  } catch (error) {
    return violation(value <= 0 ? "WNS011" : "WNS013", reason(error));
  }
  if (key === "age" && value < 1000) {
    return violation(
      "WNS012",
      `age is in milliseconds: ${value} ms is under a second; for ${value} seconds write ${value}_000`,
    );
  }
  return undefined;
}

// As the Actor constructor checks them (tests/lint/plugin_test.ts holds the two together).
const ACTOR_DURATIONS: readonly string[] = ["ackWait", "jobTimeout"];
const ACTOR_COUNTS: readonly string[] = ["maxAttempts", "maxAckPending", "maxJobs"];

/**
 * Check a numeric option of `new Actor(name, event, handler, options)`.
 *
 * @example Check a numeric actor option
 * ```ts ignore
 * import { checkActorOption } from "@walnats/walnats/lint";
 *
 * checkActorOption("ackWait", 0)?.code; // "WNS027"
 * ```
 *
 * @param key the option, e.g. `"ackWait"`; other options are not checked here
 * @param value its value
 * @returns the violation (WNS027), or `undefined`
 */
export function checkActorOption(key: string, value: number): Violation | undefined {
  const integer = ACTOR_COUNTS.includes(key);
  if (!integer && !ACTOR_DURATIONS.includes(key)) return undefined;
  const ok = integer
    ? Number.isSafeInteger(value) && value > 0
    : Number.isFinite(value) && value > 0;
  if (ok) return undefined;
  return violation(
    "WNS027",
    `${key} must be a positive ${integer ? "integer" : "number of milliseconds"}, got ${value}`,
  );
}

type Node = Deno.lint.Node;

function isWalnatsSource(source: string): boolean {
  return source.includes("walnats") || source.endsWith("/mod.ts");
}

/** Local names under which this file imported walnats' Event, Actor, Limits, or the whole module. */
interface Bindings {
  readonly event: Set<string>;
  readonly actor: Set<string>;
  readonly limits: Set<string>;
  readonly namespace: Set<string>;
}

const bindingsCache = new WeakMap<Deno.lint.Program, Bindings>();

function bindings(program: Deno.lint.Program): Bindings {
  const cached = bindingsCache.get(program);
  if (cached) return cached;
  const found: Bindings = {
    event: new Set(),
    actor: new Set(),
    limits: new Set(),
    namespace: new Set(),
  };
  for (const statement of program.body) {
    if (statement.type !== "ImportDeclaration" || !isWalnatsSource(statement.source.value)) {
      continue;
    }
    for (const specifier of statement.specifiers) {
      if (specifier.type === "ImportNamespaceSpecifier") {
        found.namespace.add(specifier.local.name);
      } else if (specifier.type === "ImportSpecifier") {
        const imported = specifier.imported.type === "Identifier"
          ? specifier.imported.name
          : specifier.imported.value;
        if (imported === "Event") found.event.add(specifier.local.name);
        if (imported === "Actor") found.actor.add(specifier.local.name);
        if (imported === "Limits") found.limits.add(specifier.local.name);
      }
    }
  }
  bindingsCache.set(program, found);
  return found;
}

function refersTo(node: Node, locals: Set<string>, member: string, b: Bindings): boolean {
  if (node.type === "Identifier") return locals.has(node.name);
  if (node.type === "MemberExpression" && !node.computed) {
    return node.object.type === "Identifier" && b.namespace.has(node.object.name) &&
      node.property.type === "Identifier" && node.property.name === member;
  }
  return false;
}

function typeRefersTo(node: Node, b: Bindings): boolean {
  if (node.type !== "TSTypeReference") return false;
  const name = node.typeName;
  if (name.type === "Identifier") return b.limits.has(name.name);
  return name.type === "TSQualifiedName" && name.left.type === "Identifier" &&
    b.namespace.has(name.left.name) && name.right.name === "Limits";
}

function stringValue(node: Node | undefined): string | undefined {
  if (node?.type === "Literal" && typeof node.value === "string") return node.value;
  if (node?.type === "TemplateLiteral" && node.expressions.length === 0) {
    return node.quasis[0]?.cooked;
  }
  return undefined;
}

const FOLD: Record<string, (a: number, b: number) => number> = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
  "/": (a, b) => a / b,
  "%": (a, b) => a % b,
  "**": (a, b) => a ** b,
};

// Literal numbers and arithmetic on them (`-1`, `7 * 24 * 3600_000`); anything else is run-time.
function numberValue(node: Node | undefined): number | undefined {
  if (node === undefined) return undefined;
  if (node.type === "Literal" && typeof node.value === "number") {
    // The AST's value of a literal with separators (3600_000) is NaN; its source is exact.
    return Number.isNaN(node.value) ? Number(node.raw.replaceAll("_", "")) : node.value;
  }
  if (node.type === "UnaryExpression" && (node.operator === "-" || node.operator === "+")) {
    const value = numberValue(node.argument);
    return value === undefined ? undefined : node.operator === "-" ? -value : value;
  }
  if (node.type === "BinaryExpression" && node.operator in FOLD) {
    const left = numberValue(node.left);
    const right = numberValue(node.right);
    return left === undefined || right === undefined
      ? undefined
      : FOLD[node.operator]?.(left, right);
  }
  return undefined;
}

function properties(node: Node | undefined): [string, Node][] {
  if (node?.type !== "ObjectExpression") return [];
  const out: [string, Node][] = [];
  for (const property of node.properties) {
    if (property.type !== "Property" || property.computed) continue;
    const key = property.key.type === "Identifier" ? property.key.name : stringValue(property.key);
    if (key !== undefined) out.push([key, property.value as Node]);
  }
  return out;
}

function option(node: Node | undefined, key: string): Node | undefined {
  return properties(node).find(([name]) => name === key)?.[1];
}

function report(ctx: Deno.lint.RuleContext, node: Node, found: Violation | undefined): void {
  if (found) ctx.report({ node, message: found.message, hint: found.hint });
}

function reportLimits(ctx: Deno.lint.RuleContext, limits: Node | undefined, event?: string): void {
  for (const [key, value] of properties(limits)) {
    const number = numberValue(value);
    if (number !== undefined) report(ctx, value, checkLimit(key, number, event));
  }
}

/** A visitor of the `new Event(...)` / `new Actor(...)` calls of walnats in a file. */
function onNew(
  kind: "event" | "actor",
  visit: (ctx: Deno.lint.RuleContext, args: Node[]) => void,
): Deno.lint.Rule {
  return {
    create(ctx) {
      const b = bindings(ctx.sourceCode.ast);
      const locals = kind === "event" ? b.event : b.actor;
      if (locals.size === 0 && b.namespace.size === 0) return {};
      const member = kind === "event" ? "Event" : "Actor";
      return {
        NewExpression(node) {
          if (refersTo(node.callee, locals, member, b)) visit(ctx, node.arguments as Node[]);
        },
      };
    },
  };
}

/**
 * The plugin: rules `walnats/event-name`, `walnats/event-description`,
 * `walnats/limits`, `walnats/actor-name`, `walnats/actor-description` and
 * `walnats/actor-options`.
 *
 * @example Enable the plugin in deno.json
 * ```jsonc
 * {
 *   "lint": { "plugins": ["jsr:@walnats/walnats/lint"] }
 * }
 * ```
 */
const plugin: Deno.lint.Plugin = {
  name: "walnats",
  rules: {
    "event-name": onNew("event", (ctx, [name]) => {
      const value = stringValue(name);
      if (name && value !== undefined) report(ctx, name, checkEventName(value));
    }),
    "event-description": onNew("event", (ctx, [name, , options]) => {
      const node = option(options, "description");
      const value = stringValue(node);
      if (node && value !== undefined) {
        report(ctx, node, checkDescription("event", value, stringValue(name)));
      }
    }),
    "actor-name": onNew("actor", (ctx, [name]) => {
      const value = stringValue(name);
      if (name && value !== undefined) report(ctx, name, checkActorName(value));
    }),
    "actor-description": onNew("actor", (ctx, [name, , , options]) => {
      const node = option(options, "description");
      const value = stringValue(node);
      if (node && value !== undefined) {
        report(ctx, node, checkDescription("actor", value, stringValue(name)));
      }
    }),
    "actor-options": onNew("actor", (ctx, [, , , options]) => {
      for (const [key, value] of properties(options)) {
        const number = numberValue(value);
        if (number !== undefined) report(ctx, value, checkActorOption(key, number));
      }
    }),
    limits: {
      create(ctx) {
        const b = bindings(ctx.sourceCode.ast);
        if (b.event.size === 0 && b.limits.size === 0 && b.namespace.size === 0) return {};
        return {
          NewExpression(node) {
            if (refersTo(node.callee, b.event, "Event", b)) {
              const [name, , options] = node.arguments as Node[];
              reportLimits(ctx, option(options, "limits"), stringValue(name));
            }
          },
          VariableDeclarator(node) {
            const type = node.id.type === "Identifier" ? node.id.typeAnnotation : undefined;
            if (type && typeRefersTo(type.typeAnnotation, b)) {
              reportLimits(ctx, node.init ?? undefined);
            }
          },
          TSSatisfiesExpression(node) {
            if (typeRefersTo(node.typeAnnotation, b)) reportLimits(ctx, node.expression);
          },
          TSAsExpression(node) {
            if (typeRefersTo(node.typeAnnotation, b)) reportLimits(ctx, node.expression);
          },
        };
      },
    },
  },
};

export default plugin;

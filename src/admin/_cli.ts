/**
 * The admin commands of the walnats command line: `status` and `dead-letters`. `cli.ts`
 * hands them their arguments.
 *
 * @module
 */
import { credsAuthenticator } from "@nats-io/nats-core";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Actor } from "../actors/actor.ts";
import { sleep } from "../_async.ts";
import type { ConnectionOptions } from "../connection.ts";
import type { Event } from "../events/event.ts";
import { type Admin, type AdminOptions, connectAdmin } from "./admin.ts";
import type { DeadLetterEntry, DeadLetterFilter, RedriveResult } from "./dead_letters.ts";
import { type Rates, rates } from "./rates.ts";
import type { Status } from "./status.ts";

/** Where the commands write. */
export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Exit codes of the admin commands. */
export const EXIT = {
  ok: 0,
  /** status: unhealthy or too many dead letters; dead letters left behind; a bad module. */
  failed: 1,
  usage: 2,
  /** Cannot connect, or the server refused. */
  server: 3,
} as const;

export const ADMIN_USAGE = `Admin commands (a NATS server):
  status                      events, actors, dead letters and running instances
  dead-letters list           dead letters with their reason, attempts and a payload preview
  dead-letters show ACTOR SEQ one dead letter with its headers and payload
  dead-letters redrive        re-emit dead letters to their event, then delete them
  dead-letters retry ACTOR SEQ  redrive one dead letter
  dead-letters purge          delete dead letters (needs --actor, --event, --reason or --all)

Connection (every admin command):
  --server URL        NATS server(s), comma-separated (default: $NATS_URL, then nats://127.0.0.1:4222)
  --user NAME --password TEXT   user and password
  --token TEXT        token
  --creds FILE        a credentials (.creds) file
  --module PATH       a module whose exported Events / Actors (or Event / Actor values)
                      limit what is shown (default: every walnats stream on the server)

status:
  --json              print the status as JSON (with --watch: one JSON line per refresh)
  --watch             redraw every --interval ms, with rates per second, until interrupted
                      (while the server cannot be reached it says so and keeps trying)
  --interval MS       refresh period of --watch (default: 2000)
  --wait MS           how long to wait for running listeners to answer (default: 500)
  --max-dead N        exit 1 when more than N dead letters are stored
  Exit code: 0 healthy; 1 an actor or instance is unhealthy, a consumer or stream is
  missing, a stream has no leader or an offline replica, or dead letters exceed
  --max-dead; 3 the server cannot be reached.

dead-letters:
  --actor NAME  --event NAME  --reason REASON   which dead letters
  --limit N           at most N (list: 100 unless given)
  --dry-run           redrive, retry: say what would be done, change nothing
  --all               purge: every dead letter of every actor
  --json              print JSON (redrive, retry: { "redriven": N, ... })
  Exit code: 0 done; 1 some dead letters could not be redriven (they stay);
  3 the server cannot be reached.
`;

/** The options of every admin command that connects: server, credentials, declarations. */
export const CONNECTION_FLAGS = {
  server: { type: "string" },
  user: { type: "string" },
  password: { type: "string" },
  token: { type: "string" },
  creds: { type: "string" },
  module: { type: "string" },
} as const;

const OPTIONS = {
  ...CONNECTION_FLAGS,
  json: { type: "boolean", default: false },
  watch: { type: "boolean", default: false },
  interval: { type: "string" },
  wait: { type: "string" },
  "max-dead": { type: "string" },
  actor: { type: "string" },
  event: { type: "string" },
  reason: { type: "string" },
  limit: { type: "string" },
  "dry-run": { type: "boolean", default: false },
  all: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>[
  "values"
];

export class UsageError extends Error {}

/** How many dead letters `dead-letters list` shows without --limit. */
const LIST_LIMIT = 100;

/**
 * Run `status` or `dead-letters` (`command`) with the rest of the arguments.
 * @returns the exit code
 */
export async function adminMain(
  command: "status" | "dead-letters",
  args: readonly string[],
  output: Output,
): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: OPTIONS,
    }));
  } catch (error) {
    output.stderr(`walnats: ${message(error)}\n\n${ADMIN_USAGE}`);
    return EXIT.usage;
  }
  if (values.help) {
    output.stdout(ADMIN_USAGE);
    return EXIT.ok;
  }
  let admin: Admin;
  try {
    const declarations = values.module === undefined ? {} : await load(values.module);
    check(command, values, positionals);
    try {
      admin = await connectAdmin(connectionOptions(values), declarations);
    } catch (error) {
      output.stderr(`walnats: ${message(error)}\n`);
      return EXIT.server;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      output.stderr(`walnats: ${error.message}\n\n${ADMIN_USAGE}`);
      return EXIT.usage;
    }
    output.stderr(`walnats: ${message(error)}\n`);
    return EXIT.failed;
  }
  try {
    return command === "status"
      ? await status(admin, values, output)
      : await deadLetters(admin, positionals, values, output);
  } catch (error) {
    if (error instanceof UsageError) {
      output.stderr(`walnats: ${error.message}\n\n${ADMIN_USAGE}`);
      return EXIT.usage;
    }
    // Not found, ambiguous names: the user's input; the server's refusals: the server.
    const usage = error instanceof TypeError || error instanceof RangeError;
    output.stderr(`walnats: ${message(error)}\n`);
    return usage ? EXIT.failed : EXIT.server;
  } finally {
    await admin.close();
  }
}

function check(command: string, values: Values, positionals: readonly string[]): void {
  const number = (name: "interval" | "wait" | "max-dead" | "limit", min: number) => {
    const raw = values[name];
    if (raw === undefined) return;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
    }
  };
  number("interval", 1);
  number("wait", 0);
  number("max-dead", 0);
  number("limit", 0);
  if (command === "status" && positionals.length > 0) {
    throw new UsageError(`status takes no arguments, got ${JSON.stringify(positionals.join(" "))}`);
  }
  if (values.user !== undefined && values.password === undefined) {
    throw new UsageError("--user needs --password");
  }
}

export function connectionOptions(values: Values): ConnectionOptions {
  const servers = (values.server ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222")
    .split(",").map((s) => s.trim()).filter(Boolean);
  // Keep reconnecting (watch, dashboard); a first connection that fails still fails at once.
  const options: ConnectionOptions = { servers, name: "walnats-cli", maxReconnectAttempts: -1 };
  if (values.user !== undefined) {
    options.user = values.user;
    if (values.password !== undefined) options.pass = values.password;
  }
  if (values.token !== undefined) options.token = values.token;
  if (values.creds !== undefined) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(values.creds);
    } catch (error) {
      throw new UsageError(
        `cannot read --creds file ${JSON.stringify(values.creds)}: ${message(error)}`,
      );
    }
    options.authenticator = credsAuthenticator(creds);
  }
  return options;
}

/** Events and actors a module exports (registries or single values), duck-typed. */
export async function load(specifier: string): Promise<AdminOptions> {
  const url = /^[a-z][a-z0-9+.-]*:/i.test(specifier) && !/^[a-z]:[\\/]/i.test(specifier)
    ? specifier
    : pathToFileURL(resolve(process.cwd(), specifier)).href;
  let module: Record<string, unknown>;
  try {
    module = await import(url);
  } catch (error) {
    throw new Error(`cannot load module "${specifier}": ${message(error)}`);
  }
  const events: Event<unknown, unknown>[] = [];
  const actors: Actor<unknown, unknown>[] = [];
  const isEvent = (x: unknown): x is Event<unknown, unknown> =>
    typeof (x as Event<unknown>)?.name === "string" &&
    typeof (x as Event<unknown>)?.streamName === "string" &&
    typeof (x as Event<unknown>)?.serializer === "object";
  const isActor = (x: unknown): x is Actor<unknown, unknown> =>
    typeof (x as Actor<unknown>)?.consumerName === "string" && isEvent((x as Actor<unknown>).event);
  for (const value of Object.values(module)) {
    const v = value as { events?: unknown; actors?: unknown };
    if (isActor(value)) actors.push(value);
    else if (isEvent(value)) events.push(value);
    else if (Array.isArray(v?.actors) && v.actors.every(isActor)) actors.push(...v.actors);
    else if (Array.isArray(v?.events) && v.events.every(isEvent)) events.push(...v.events);
  }
  if (events.length === 0 && actors.length === 0) {
    throw new Error(
      `module "${specifier}" exports no walnats Events, Actors, Event or Actor values ` +
        `(its exports: ${Object.keys(module).join(", ") || "none"})`,
    );
  }
  return {
    ...(events.length > 0 ? { events } : {}),
    ...(actors.length > 0 ? { actors: [...new Set(actors)] } : {}),
  };
}

// --- status ---------------------------------------------------------------------------

async function status(admin: Admin, values: Values, output: Output): Promise<number> {
  const wait = values.wait === undefined ? 500 : Number(values.wait);
  const maxDead = values["max-dead"] === undefined ? undefined : Number(values["max-dead"]);
  const verdict = (s: Status) =>
    s.healthy && (maxDead === undefined || s.deadLetters <= maxDead) ? EXIT.ok : EXIT.failed;
  if (!values.watch) {
    const s = await admin.status({ wait });
    if (values.json) output.stdout(JSON.stringify(s, null, 2) + "\n");
    else output.stdout(renderStatus(s, undefined, maxDead));
    return verdict(s);
  }
  const interval = values.interval === undefined ? 2000 : Number(values.interval);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let code: number = EXIT.ok;
  try {
    let previous: Status | undefined;
    while (!stop.signal.aborted) {
      try {
        for await (const s of admin.watch({ interval, signal: stop.signal })) {
          const r = previous ? rates(previous, s) : undefined;
          if (values.json) output.stdout(JSON.stringify({ ...s, rates: r ?? null }) + "\n");
          // Home, clear to the end: the table redraws in place.
          else output.stdout(`\x1b[H\x1b[J${renderStatus(s, r, maxDead)}`);
          code = verdict(s);
          previous = s;
        }
      } catch (error) {
        // The server went away (restart, failover): say so, keep the last table's place, and
        // try again next interval; the connection reconnects by itself.
        const line = `cannot read the status (${new Date().toISOString()}): ${
          message(error)
        }; retrying every ${interval} ms`;
        if (values.json) output.stdout(JSON.stringify({ error: line }) + "\n");
        else output.stdout(`\x1b[H\x1b[J${line}\n`);
        code = EXIT.server;
        previous = undefined;
        await sleep(interval, stop.signal);
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return code;
}

/** The status as tables for a terminal. */
export function renderStatus(s: Status, r: Rates | undefined, maxDead?: number): string {
  const out: string[] = [];
  const js = s.server.jetstream;
  out.push(
    `nats-server ${s.server.version} (${s.server.name}${
      s.server.cluster ? `, cluster ${s.server.cluster}` : ""
    }) · JetStream: ${size(js.storage)} stored, ${size(js.memory)} in memory, ` +
      `${js.streams} streams, ${js.consumers} consumers · ${s.time}`,
    "",
  );
  const rate = (n: number | undefined) => n === undefined ? "-" : n.toFixed(1);
  out.push(table(
    ["EVENT", "MESSAGES", "BYTES", "FIRST", "LAST", "LAST EMIT", "EMIT/S", "CONSUMERS", "REPLICAS"],
    s.events.map((e) => [
      e.exists ? e.name : `${e.name} (missing)`,
      String(e.messages),
      size(e.bytes),
      String(e.firstSeq),
      String(e.lastSeq),
      ago(e.lastTime, s.time),
      rate(r?.events[e.name]?.emitted),
      String(e.consumers),
      e.cluster
        ? `${e.replicas} (leader ${e.cluster.leader || "none"}${
          e.cluster.replicas.some((x) => x.lag > 0 || !x.current || x.offline)
            ? `; ${
              e.cluster.replicas.map((x) => `${x.name}${x.offline ? " offline" : ` lag ${x.lag}`}`)
                .join(", ")
            }`
            : ""
        })`
        : String(e.replicas),
    ]),
    [1, 2, 3, 4, 6, 7],
  ));
  out.push("");
  out.push(table(
    [
      "ACTOR",
      "EVENT",
      "PENDING",
      "IN FLIGHT",
      "REDELIVERED",
      "WAITING",
      "DEAD",
      "INSTANCES",
      "RUNNING",
      "HANDLED/S",
      "LAST DELIVERY",
      "STATE",
    ],
    s.actors.map((a) => [
      a.name,
      a.event,
      String(a.pending),
      String(a.inFlight),
      String(a.redelivered),
      String(a.waiting),
      String(a.deadLetters),
      a.instances.length === 0
        ? "0"
        : `${a.instances.filter((i) => i.healthy).length}/${a.instances.length} healthy`,
      String(a.running),
      rate(r?.actors[`${a.event}/${a.name}`]?.handled),
      ago(a.lastDelivery, s.time),
      !a.exists ? "MISSING" : a.healthy ? "ok" : "UNHEALTHY",
    ]),
    [2, 3, 4, 5, 6, 8, 9],
  ));
  if (s.instances.length > 0) {
    out.push("");
    out.push(table(
      ["INSTANCE", "RUNTIME", "ACTORS", "RUNNING", "LAST SEEN", "STATE"],
      s.instances.map((i) => [
        `${i.host}:${i.pid}`,
        i.runtime,
        i.actors.map((a) => a.name).join(","),
        String(i.running),
        ago(i.lastSeen, s.time),
        i.healthy ? "ok" : "UNHEALTHY",
      ]),
      [3],
    ));
  }
  const problems = [...s.problems];
  if (maxDead !== undefined && s.deadLetters > maxDead) {
    problems.push(`${s.deadLetters} dead letters stored, more than --max-dead ${maxDead}`);
  }
  out.push("");
  out.push(
    problems.length === 0
      ? `healthy · ${s.deadLetters} dead letters`
      : `PROBLEMS:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
  );
  return out.join("\n") + "\n";
}

// --- dead letters ---------------------------------------------------------------------

async function deadLetters(
  admin: Admin,
  positionals: readonly string[],
  values: Values,
  output: Output,
): Promise<number> {
  const [sub, ...rest] = positionals;
  const filter: DeadLetterFilter = {
    ...(values.actor === undefined ? {} : { actor: values.actor }),
    ...(values.event === undefined ? {} : { event: values.event }),
    ...(values.reason === undefined ? {} : { reason: values.reason }),
    ...(values.limit === undefined ? {} : { limit: Number(values.limit) }),
  };
  const json = (value: unknown) => output.stdout(JSON.stringify(value, null, 2) + "\n");
  const needs = (n: number) => {
    if (rest.length !== n) {
      throw new UsageError(
        `dead-letters ${sub} takes ${n === 0 ? "no arguments" : "ACTOR SEQ"}, got ${
          JSON.stringify(rest.join(" "))
        }`,
      );
    }
  };
  const seqOf = (raw: string) => {
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new UsageError(`SEQ must be an integer >= 1, got ${JSON.stringify(raw)}`);
    }
    return n;
  };
  const [actorArg = "", seqArg = ""] = rest;
  const event = values.event === undefined ? {} : { event: values.event };
  switch (sub) {
    case "list": {
      needs(0);
      // A listing is for reading: the first 100 unless told (one more tells whether there are).
      const limit = filter.limit ?? LIST_LIMIT;
      const found = await admin.deadLetters.list({ ...filter, limit: limit + 1 });
      const letters = found.slice(0, limit);
      if (found.length > limit) {
        output.stderr(
          `walnats: showing the first ${limit} dead letters; there are more (--limit N)\n`,
        );
      }
      if (values.json) json(letters.map(entryJson));
      else {
        output.stdout(
          letters.length === 0 ? "no dead letters\n" : table(
            ["SEQ", "ACTOR", "EVENT", "REASON", "ATTEMPTS", "STORED", "ERROR", "PAYLOAD"],
            letters.map((d) => [
              String(d.seq),
              d.actor,
              d.event,
              d.reason,
              String(d.attempts),
              d.time,
              cut(d.error, 60),
              cut(d.preview, 60),
            ]),
            [0, 4],
          ) + "\n",
        );
      }
      return EXIT.ok;
    }
    case "show": {
      needs(2);
      const d = await admin.deadLetters.show(actorArg, seqOf(seqArg), event);
      if (!d) {
        output.stderr(`walnats: no dead letter ${seqArg} of actor "${actorArg}"\n`);
        return EXIT.failed;
      }
      if (values.json) json(entryJson(d));
      else output.stdout(renderEntry(d));
      return EXIT.ok;
    }
    case "redrive": {
      needs(0);
      const result = await admin.deadLetters.redrive({ ...filter, dryRun: values["dry-run"] });
      report(result, values.json, output);
      return result.failed.length > 0 ? EXIT.failed : EXIT.ok;
    }
    case "retry": {
      needs(2);
      const result = await admin.deadLetters.retry(actorArg, seqOf(seqArg), {
        ...event,
        dryRun: values["dry-run"],
      });
      report(result, values.json, output);
      return result.failed.length > 0 ? EXIT.failed : EXIT.ok;
    }
    case "purge": {
      needs(0);
      if (!values.all && Object.keys(filter).length === 0) {
        throw new UsageError(
          "dead-letters purge deletes for good: select with --actor, --event or --reason, or pass --all",
        );
      }
      const result = await admin.deadLetters.purge(filter);
      if (values.json) json(result);
      else output.stdout(`purged ${result.purged} dead letters\n`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(
        sub === undefined
          ? "dead-letters needs a subcommand: list, show, redrive, retry or purge"
          : `unknown dead-letters subcommand ${JSON.stringify(sub)}`,
      );
  }
}

function report(result: RedriveResult, asJson: boolean, output: Output): void {
  if (asJson) {
    output.stdout(JSON.stringify(result, null, 2) + "\n");
  } else {
    const verb = result.dryRun ? "would redrive" : "redriven";
    const lines = [`${verb} ${result.redriven} dead letters`];
    if (result.duplicates > 0) {
      lines[0] += ` (${result.duplicates} had been re-emitted by an interrupted run: not again)`;
    }
    for (const i of result.items) {
      lines.push(
        `  ${i.actor} #${i.seq} → ${i.event}${result.dryRun ? "" : ` (message ${i.eventSeq})`}`,
      );
    }
    output.stdout(lines.join("\n") + "\n");
    for (const f of result.failed) {
      output.stderr(`walnats: dead letter ${f.stream} #${f.seq} stays: ${f.error}\n`);
    }
  }
  if (result.alsoDeliveredTo.length > 0 && result.redriven > 0) {
    output.stderr(
      `walnats: note: a redriven message goes to every actor of its event; ${
        result.dryRun ? "these would get it too" : "these got it too"
      }: ${result.alsoDeliveredTo.join(", ")}\n`,
    );
  }
}

/** A dead letter as JSON: the payload in base64, and as text when it is UTF-8. */
function entryJson(d: DeadLetterEntry): Record<string, unknown> {
  const { payload, ...rest } = d;
  return { ...rest, payload: base64(payload), payloadText: utf8(payload) };
}

function renderEntry(d: DeadLetterEntry): string {
  const text = utf8(d.payload);
  return [
    `dead letter ${d.stream} #${d.seq}, stored ${d.time}`,
    `actor:     ${d.actor}`,
    `event:     ${d.event} (message ${d.streamSeq}, emitted ${d.timestamp || "?"})`,
    `reason:    ${d.reason} after ${d.attempts} attempts`,
    `error:     ${d.error}`,
    "headers:",
    ...Object.entries(d.headers).map(([k, v]) => `  ${k}: ${v}`),
    text === null ? `payload (${d.payload.length} bytes, base64):` : "payload:",
    text ?? base64(d.payload),
    "",
  ].join("\n");
}

// --- formatting -----------------------------------------------------------------------

function table(head: string[], rows: string[][], right: number[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => right.includes(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))
      .join("  ").trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let n = bytes;
  let unit = "B";
  for (const u of units) {
    if (n < 1024) break;
    n /= 1024;
    unit = u;
  }
  return `${n.toFixed(1)} ${unit}`;
}

function ago(time: string | null, now: string): string {
  if (time === null) return "-";
  const s = Math.max(0, (Date.parse(now) - Date.parse(time)) / 1000);
  if (s < 1) return "now";
  if (s < 120) return `${Math.round(s)}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

function cut(text: string, max: number): string {
  const one = text.replaceAll(/\s+/g, " ");
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function utf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

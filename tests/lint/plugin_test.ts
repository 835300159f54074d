import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { Actor, Event, typed } from "../../mod.ts";
import plugin, {
  checkActorName,
  checkActorOption,
  checkDescription,
  checkEventName,
  checkLimit,
  CODES,
} from "../../lint/plugin.ts";

const isDeno = "Deno" in globalThis;
// `deno lint` plugins run in Deno only; the pure checks above them run everywhere.
const denoOnly = isDeno ? {} : { skip: "deno lint plugins run only in Deno (Deno.lint)" };

const fixtures = new URL("./fixtures/", import.meta.url);
const codeOf = (v: { code: string } | undefined) => v?.code;

test("lint CODES keep the Python walnats linter's numbering and meaning", () => {
  assert.deepEqual(CODES, {
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
  });
});

test("checkEventName reports WNS001 to WNS004", () => {
  assert.equal(codeOf(checkEventName("")), "WNS001");
  assert.equal(codeOf(checkEventName("a".repeat(256))), "WNS002");
  for (const name of ["Bad Name", "orders.*", "a>b", "a/b", "tab\there", "nul\x00"]) {
    assert.equal(codeOf(checkEventName(name)), "WNS003", name);
  }
  for (const name of ["userCreated", "user_created", "-user", "user--created", "a..b", "é"]) {
    assert.equal(codeOf(checkEventName(name)), "WNS004", name);
  }
  for (const name of ["user-created", "orders.paid-v2", "a".repeat(255), "x1"]) {
    assert.equal(checkEventName(name), undefined, name);
  }
});

test("checkEventName gives the message and the constructor's error as the hint", () => {
  assert.deepEqual(checkEventName("Bad Name"), {
    code: "WNS003",
    message: "WNS003 event name has invalid symbols",
    hint: `Invalid event name "Bad Name": " " at position 3 is not allowed by NATS ` +
      "(no whitespace, '*', '>', '/', '\\' or control characters)",
  });
});

test("checkActorName reports WNS021 to WNS024, dots included as invalid symbols", () => {
  assert.equal(codeOf(checkActorName("")), "WNS021");
  assert.equal(codeOf(checkActorName("a".repeat(256))), "WNS022");
  assert.equal(codeOf(checkActorName("send.email")), "WNS023");
  assert.equal(codeOf(checkActorName("send email")), "WNS023");
  assert.equal(codeOf(checkActorName("SendEmail")), "WNS024");
  assert.equal(checkActorName("send-email"), undefined);
});

test("checkDescription reports empty and too long descriptions of events and actors", () => {
  assert.equal(codeOf(checkDescription("event", "")), "WNS005");
  assert.equal(codeOf(checkDescription("event", " \n")), "WNS005");
  assert.equal(codeOf(checkDescription("event", "x".repeat(4097))), "WNS006");
  assert.equal(checkDescription("event", "x".repeat(4096)), undefined);
  assert.equal(codeOf(checkDescription("actor", "")), "WNS025");
  assert.equal(codeOf(checkDescription("actor", "x".repeat(4097))), "WNS026");
  assert.match(checkDescription("actor", "", "send-email")!.hint, /actor "send-email"/);
});

test("checkLimit reports non-positive limits, out-of-range ones and an age in seconds", () => {
  assert.equal(codeOf(checkLimit("age", 0)), "WNS011");
  assert.equal(codeOf(checkLimit("messages", -1)), "WNS011");
  assert.equal(codeOf(checkLimit("duplicateWindow", -5)), "WNS011");
  assert.equal(codeOf(checkLimit("bytes", 1.5)), "WNS013");
  assert.equal(codeOf(checkLimit("replicas", 6)), "WNS013");
  assert.equal(codeOf(checkLimit("age", 60)), "WNS012");
  assert.match(checkLimit("age", 60)!.hint, /for 60 seconds write 60_000/);
  assert.equal(checkLimit("age", 60_000), undefined);
  assert.equal(checkLimit("replicas", 5), undefined);
  assert.equal(checkLimit("maxAge", 0), undefined, "unknown keys are the type checker's");
});

test("checkActorOption reports non-positive durations and counts", () => {
  assert.equal(codeOf(checkActorOption("ackWait", 0)), "WNS027");
  assert.equal(codeOf(checkActorOption("jobTimeout", -1)), "WNS027");
  assert.equal(codeOf(checkActorOption("maxAttempts", 1.5)), "WNS027");
  assert.equal(codeOf(checkActorOption("maxAckPending", 0)), "WNS027");
  assert.equal(codeOf(checkActorOption("maxJobs", -2)), "WNS027");
  assert.equal(checkActorOption("ackWait", 0.5), undefined);
  assert.equal(checkActorOption("maxJobs", 1), undefined);
  assert.equal(checkActorOption("retryDelay", 0), undefined);
});

// The plugin must flag exactly what the constructors reject.
const event = new Event("probe", typed<number>());
const noop = () => {};
const throws = (f: () => unknown) => {
  try {
    f();
    return false;
  } catch {
    return true;
  }
};

test("lint checks agree with the Event and Actor constructors", () => {
  const names = [
    "",
    "a".repeat(255),
    "a".repeat(256),
    "ok",
    "user-created",
    "orders.paid",
    "a..b",
    ".a",
    "Bad Name",
    "a*",
    "a>",
    "a/b",
    "a\\b",
    "a\u007f",
    "UPPER",
    "snake_case",
    "trailing-",
    "x.y-z.w",
    "ü",
  ];
  for (const name of names) {
    assert.equal(
      checkEventName(name) !== undefined,
      throws(() => new Event(name, typed())),
      `event ${JSON.stringify(name)}`,
    );
    assert.equal(
      checkActorName(name) !== undefined,
      throws(() => new Actor(name, event, noop)),
      `actor ${JSON.stringify(name)}`,
    );
  }
  for (const description of ["", " ", "ok", "x".repeat(4096), "x".repeat(4097)]) {
    assert.equal(
      checkDescription("event", description) !== undefined,
      throws(() => new Event("e", typed(), { description })),
    );
    assert.equal(
      checkDescription("actor", description) !== undefined,
      throws(() => new Actor("a", event, noop, { description })),
    );
  }
  const values = [-1, 0, 0.5, 1, 1.5, 5, 6, 1000, Number.POSITIVE_INFINITY];
  for (const key of ["age", "consumers", "messages", "bytes", "messageSize", "replicas"]) {
    for (const value of values) {
      const flagged = checkLimit(key, value);
      assert.equal(
        flagged !== undefined && flagged.code !== "WNS012",
        throws(() => new Event("e", typed(), { limits: { [key]: value } })),
        `limit ${key}: ${value}`,
      );
    }
  }
  for (const key of ["ackWait", "jobTimeout", "maxAttempts", "maxAckPending", "maxJobs"]) {
    for (const value of values) {
      assert.equal(
        checkActorOption(key, value) !== undefined,
        throws(() => new Actor("a", event, noop, { [key]: value })),
        `actor option ${key}: ${value}`,
      );
    }
  }
});

// --- The plugin itself, in Deno ---

type Diagnostic = { id: string; message: string; hint?: string; range: [number, number] };

function lint(source: string, file = "main.ts"): Diagnostic[] {
  // deno-lint-ignore no-explicit-any
  const lintApi = (globalThis as any).Deno.lint;
  return lintApi.runPlugin(plugin, file, source);
}

/** `[line, code]` of each diagnostic, and of each `// expect: CODE…` comment. */
function lines(
  source: string,
  diagnostics: Diagnostic[],
): { actual: string[]; expected: string[] } {
  const lineOf = (offset: number) => source.slice(0, offset).split("\n").length;
  const actual = diagnostics.map((d) => `${lineOf(d.range[0])} ${d.message.split(" ")[0]}`);
  const expected = source.split("\n").flatMap((line, i) =>
    (line.match(/\/\/ expect: (.*)$/)?.[1]?.split(/\s+/) ?? []).map((code) => `${i + 1} ${code}`)
  );
  return { actual: actual.sort(), expected: expected.sort() };
}

test("lint plugin reports every expected code on the bad fixture", denoOnly, () => {
  const source = readFileSync(new URL("bad.ts", fixtures), "utf8");
  const { actual, expected } = lines(source, lint(source, "bad.ts"));
  assert.deepEqual(actual, expected);
});

test("lint plugin is quiet on the good fixture", denoOnly, () => {
  const source = readFileSync(new URL("good.ts", fixtures), "utf8");
  assert.deepEqual(lint(source, "good.ts"), []);
});

test("lint plugin names the rule and gives the constructor's error as a hint", denoOnly, () => {
  const [diagnostic] = lint(
    'import { Event } from "jsr:@walnats/walnats";\nnew Event("Bad Name", s);\n',
  );
  assert.equal(diagnostic?.id, "walnats/event-name");
  assert.equal(diagnostic?.message, "WNS003 event name has invalid symbols");
  assert.match(diagnostic.hint!, /^Invalid event name "Bad Name"/);
});

test("lint plugin reports too long names and descriptions", denoOnly, () => {
  const long = "a".repeat(256);
  const text = "x".repeat(4097);
  const source = [
    'import { Actor, Event } from "@walnats/walnats";',
    `const e = new Event("${long}", s, { description: "${text}" });`,
    `new Actor("${long}", e, f, { description: "${text}" });`,
  ].join("\n");
  assert.deepEqual(
    lint(source).map((d) => d.message.split(" ")[0]).sort(),
    ["WNS002", "WNS006", "WNS022", "WNS026"],
  );
});

test("lint plugin ignores Event and Actor that are not walnats'", denoOnly, () => {
  const source = [
    'import { Event } from "./my_events.ts";',
    'import * as dom from "./dom.ts";',
    'new Event("Not Ours", s, { limits: { age: 0 } });',
    'new dom.Actor("Not Ours");',
    'new Event("click");',
  ].join("\n");
  assert.deepEqual(lint(source), []);
});

test("lint plugin folds literal arithmetic and leaves run-time values alone", denoOnly, () => {
  const source = [
    'import { Event } from "npm:walnats";',
    "new Event(name, s, { limits: { age: 1 - 1, messages: n, bytes: 2 ** 10 } });",
    "new Event(`also-${name}`, s);",
  ].join("\n");
  assert.deepEqual(lint(source).map((d) => d.message), ["WNS011 limit must be positive"]);
});

test("deno lint runs the plugin from a config's lint.plugins", denoOnly, async () => {
  const run = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["lint", "--json", "--config", "tests/lint/fixtures/lint.json", "tests/lint/fixtures/"],
      { cwd: new URL("../../", import.meta.url).pathname, stdio: ["ignore", "pipe", "inherit"] },
    );
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => stdout += chunk);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
  });
  assert.equal(run.code, 1, "problems found make deno lint fail");
  const report = JSON.parse(run.stdout) as {
    diagnostics: { filename: string; code: string; message: string }[];
    errors: unknown[];
  };
  assert.deepEqual(report.errors, []);
  const files = new Set(report.diagnostics.map((d) => d.filename.split("/").pop()));
  assert.deepEqual([...files], ["bad.ts"]);
  const source = readFileSync(new URL("bad.ts", fixtures), "utf8");
  const expected = source.match(/\/\/ expect: .*$/gm)!.flatMap((m) => m.slice(11).split(/\s+/));
  assert.equal(report.diagnostics.length, expected.length);
  assert.ok(report.diagnostics.every((d) => d.code.startsWith("walnats/")));
});

// Shared pieces of the fault-injection suite: loggers, a retrying emitter, child
// subscriber processes run by the same runtime as the test, and peak RSS readings.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import * as v from "valibot";
import { type ConnectionOptions, Event, type Logger } from "../../mod.ts";
import { sleep, sourceUrl } from "../_helpers.ts";

/** The event every fault test uses: one id per message, so completions can be counted. */
export function idEvent(name: string, replicas?: number): Event<{ id: number }> {
  return new Event(name, v.object({ id: v.number() }), {
    limits: replicas === undefined ? {} : { replicas },
  });
}

/** A logger that keeps lines (and echoes them when WALNATS_TEST_VERBOSE is set). */
export function recordingLogger(lines: string[]): Logger {
  const keep = (level: string) => (message: string) => {
    lines.push(`${level} ${message}`);
    if (process.env.WALNATS_TEST_VERBOSE) console.error(`[${level}] ${message}`);
  };
  return { error: keep("error"), warn: keep("warn"), info: keep("info") };
}

/** Connection options for a test that takes servers away: reconnect fast, never give up. */
export function resilient(servers: string | readonly string[]): ConnectionOptions {
  return {
    servers: typeof servers === "string" ? servers : [...servers],
    reconnectTimeWait: 250,
    maxReconnectAttempts: -1,
  };
}

/**
 * Send `count` messages with ids `from..from+count-1`, `parallel` at a time, retrying each
 * (same id, so the stream's duplicate window drops repeats) until `send` resolves.
 * `onSent` runs after each success with the number sent so far.
 */
export async function sendAll(
  count: number,
  send: (id: number) => Promise<unknown>,
  { from = 0, parallel = 32, onSent, deadline = 120_000 }: {
    from?: number;
    parallel?: number;
    onSent?: (sent: number) => void | Promise<void>;
    deadline?: number;
  } = {},
): Promise<{ retries: number }> {
  let next = from;
  let sent = 0;
  let retries = 0;
  const end = Date.now() + deadline;
  async function lane() {
    while (next < from + count) {
      const id = next++;
      for (;;) {
        try {
          await send(id);
          break;
        } catch (error) {
          if (Date.now() > end) throw error;
          retries += 1;
          await sleep(100);
        }
      }
      sent += 1;
      await onSent?.(sent);
    }
  }
  await Promise.all(Array.from({ length: parallel }, lane));
  return { retries };
}

/** Whether the test runs under Deno (else Bun or Node.js). */
export const isDeno = "Deno" in globalThis;

/** Options of a child subscriber (see `_subscriber.ts`). */
export interface SubscriberPlan {
  servers: string | string[];
  event: string;
  actor: string;
  /** `record`: append the id to `out` and return; `block`: append `start <id>` and hang. */
  mode: "record" | "block";
  out: string;
  maxJobs?: number;
  ackWait?: number;
  /** Milliseconds each recorded job takes. @default 0 */
  jobMs?: number;
  pollDelay?: number;
}

/** A child process running `_subscriber.ts` with the test's runtime. */
export interface Subscriber {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves once the child listens. */
  readonly ready: Promise<void>;
  /** Resolves with the exit code (or signal) when the child ends. */
  readonly exited: Promise<number | string>;
  /** What the child wrote to stderr (its warnings). */
  readonly stderr: string[];
}

const script = fileURLToPath(sourceUrl("./_subscriber.ts", import.meta.url));
const root = fileURLToPath(new URL("../../", import.meta.url));

/** Start a subscriber process (Deno: `deno run -A`, Bun: `bun`, Node.js: `node`). */
export function startSubscriber(plan: SubscriberPlan): Subscriber {
  const args = isDeno ? ["run", "-A", script, JSON.stringify(plan)] : [
    script,
    JSON.stringify(plan),
  ];
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const stderr: string[] = [];
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    stderr.push(chunk);
    if (process.env.WALNATS_TEST_VERBOSE) process.stderr.write(`[child ${child.pid}] ${chunk}`);
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1));
  });
  const ready = new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("listening\n")) resolve();
    });
    exited.then((code) =>
      reject(new Error(`subscriber exited (${code}) before listening: ${stderr.join("")}`))
    );
  });
  ready.catch(() => {});
  return { child, pid: child.pid!, ready, exited, stderr };
}

/** Stop a subscriber gracefully (SIGTERM), killing it if it takes longer than `ms`. */
export async function stopSubscriber(sub: Subscriber, ms = 15_000): Promise<number | string> {
  signal(sub.pid, "SIGTERM");
  const timer = setTimeout(() => signal(sub.pid, "SIGKILL"), ms);
  const code = await sub.exited;
  clearTimeout(timer);
  return code;
}

/** Send a signal by pid, ignoring a process that is gone. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Peak resident set size of a live process in bytes (Linux `VmHWM`), or undefined. */
export function peakRss(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** Lines of a file (empty when it does not exist yet). */
export function lines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

/** `n` bytes as MiB with one decimal. */
export function mib(n: number | undefined): string {
  return n === undefined ? "?" : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

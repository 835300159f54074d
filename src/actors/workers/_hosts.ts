/**
 * One worker of a pool, whatever it runs on: a Web Worker (`"thread"`) or a child
 * process of the same runtime (`"process"`).
 *
 * Why processes: Deno's `Worker.terminate()` does not stop a worker that is busy in
 * JavaScript (denoland/deno#35657: it keeps a core busy and the process alive), and a
 * Web Worker that runs out of memory takes the whole Deno process down. A child process
 * can be killed and can die alone, on both runtimes.
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { encodeFrame, FrameReader } from "./_frames.ts";
import type { AbortKind, FromWorker, ToWorker } from "./_protocol.ts";

/**
 * Where workers run: `"thread"` (Web Workers) or `"process"` (child processes).
 *
 * @example Busy workers of a pool
 * ```ts
 * import type { Health, WorkerKind } from "@walnats/walnats";
 *
 * const busy = (health: Health, kind: WorkerKind): number => health.workers[kind].busy;
 * ```
 */
export type WorkerKind = "thread" | "process";

/** What a host reports to its pool. */
export interface HostEvents {
  message(message: FromWorker): void;
  /** The worker is gone on its own (crash, exit): called at most once, never after `kill()`. */
  exit(reason: string): void;
}

/** A running worker. */
export interface Host {
  /**
   * Send a message; `transfer` moves buffers to a Web Worker instead of copying.
   * @throws when the message cannot be cloned
   */
  send(message: ToWorker, transfer?: ArrayBuffer[]): void;
  /** Tell the worker that job `id`'s signal aborted (Web Workers; a no-op for processes). */
  abort(id: number, kind: AbortKind): void;
  /** Stop the worker at once; resolves when it is gone. */
  kill(): Promise<void>;
}

/** How to start hosts. */
export interface HostOptions {
  /** Extra arguments for the runtime that runs worker processes, before the entry script. */
  readonly processArgs?: readonly string[] | undefined;
}

const threadEntry = new URL("./_worker_main.ts", import.meta.url);
const processEntry = new URL("./_process_main.ts", import.meta.url);

/** Start a worker of `kind`. */
export function spawnHost(kind: WorkerKind, events: HostEvents, options: HostOptions = {}): Host {
  return kind === "thread" ? spawnThread(events) : spawnProcess(events, options);
}

function spawnThread(events: HostEvents): Host {
  const worker = new Worker(threadEntry.href, { type: "module", name: "walnats-thread" });
  const flag = new Int32Array(new SharedArrayBuffer(8));
  let gone = false;
  const die = (reason: string) => {
    if (gone) return;
    gone = true;
    worker.terminate();
    events.exit(reason);
  };
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    if (gone) return;
    if (event.data.type === "exit") die(`the worker exited with code ${event.data.code}`);
    else events.message(event.data);
  };
  worker.onerror = (event: ErrorEvent) => {
    // Unhandled, a worker's error is rethrown in the listener and ends the process.
    event.preventDefault();
    die(`uncaught error in the worker: ${event.message}`);
  };
  worker.onmessageerror = () => die("a message from the worker could not be deserialized");
  // Bun: the worker ended (exit, fatal error).
  worker.addEventListener("close", () => die("the worker closed"));
  worker.postMessage({ type: "init", flag: flag.buffer as SharedArrayBuffer } satisfies ToWorker);
  return {
    send(message, transfer) {
      worker.postMessage(message, transfer ?? []);
    },
    abort(id, kind) {
      Atomics.store(flag, 1, kind);
      Atomics.store(flag, 0, id);
      if (!gone) worker.postMessage({ type: "abort", id, kind } satisfies ToWorker);
    },
    kill() {
      if (!gone) {
        gone = true;
        worker.terminate();
      }
      return Promise.resolve();
    },
  };
}

function runtimeArgs(options: HostOptions): string[] {
  const extra = [...(options.processArgs ?? [])];
  const entry = processEntry.protocol === "file:" ? fileURLToPath(processEntry) : processEntry.href;
  const deno = (globalThis as { Deno?: DenoPermissions }).Deno;
  if (!deno) return [...extra, entry];
  return ["run", "--quiet", ...denoPermissionFlags(deno), ...extra, entry];
}

interface DenoPermissions {
  permissions: {
    querySync(descriptor: { name: string; command?: string }): { state: string };
  };
}

/**
 * Why worker processes cannot start here, if they cannot: Deno needs to run its own
 * binary and to read the environment to pass it on.
 * @returns the reason, or `undefined` when they can
 */
export function processProblem(): string | undefined {
  const deno = (globalThis as { Deno?: DenoPermissions }).Deno;
  if (!deno) return undefined;
  const missing = [
    deno.permissions.querySync({ name: "run", command: process.execPath }).state !== "granted" &&
    "--allow-run",
    deno.permissions.querySync({ name: "env" }).state !== "granted" && "--allow-env",
  ].filter(Boolean);
  return missing.length
    ? `Deno needs ${missing.join(" and ")} to start worker processes`
    : undefined;
}

/** The listener's permissions that are granted without lists, as `deno run` flags. */
function denoPermissionFlags(deno: DenoPermissions): string[] {
  const names = ["read", "write", "net", "env", "sys", "run", "ffi", "import"];
  const granted = names.filter((name) => {
    try {
      return deno.permissions.querySync({ name }).state === "granted";
    } catch {
      return false; // a permission this Deno does not know
    }
  });
  return granted.length === names.length
    ? ["--allow-all"]
    : granted.map((name) => `--allow-${name}`);
}

function spawnProcess(events: HostEvents, options: HostOptions): Host {
  const child = spawn(process.execPath, runtimeArgs(options), {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const reader = new FrameReader();
  let gone = false;
  let killed = false;
  const exited = new Promise<void>((resolve) => {
    let done = false;
    const end = (reason: string) => {
      if (done) return;
      done = true;
      resolve();
      if (!gone) {
        gone = true;
        events.exit(reason);
      }
    };
    child.once("exit", (code, signal) => {
      end(
        signal
          ? `the worker process was killed by ${signal}`
          : `the worker process exited with code ${code}`,
      );
    });
    child.once("error", (error) => end(`the worker process failed: ${error.message}`));
  });
  const kill = () => {
    if (!killed) {
      killed = true;
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  child.stdin!.on("error", () => {}); // EPIPE after a crash: the exit event reports it
  child.stdout!.on("data", (chunk: Uint8Array) => {
    if (gone) return;
    let messages: unknown[];
    try {
      messages = reader.push(chunk);
    } catch (error) {
      gone = true;
      kill();
      events.exit((error as Error).message);
      return;
    }
    for (const message of messages) if (!gone) events.message(message as FromWorker);
  });
  return {
    send(message) {
      const frame = encodeFrame(message);
      if (!gone) child.stdin!.write(frame);
    },
    abort() {},
    kill() {
      gone = true;
      kill();
      return exited;
    },
  };
}

/**
 * Entry script of the Web Workers behind `executeIn: "thread"`.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import type { FromWorker, ToWorker } from "./_protocol.ts";
import { serve } from "./_serve.ts";

interface WorkerScope {
  postMessage?: (message: unknown) => void;
  onmessage: ((event: { data: ToWorker }) => void) | null;
  close?: () => void;
  Deno?: { exit(code?: number): never };
  process?: { exit(code?: number): never };
}

const scope = globalThis as unknown as WorkerScope;
// A Web Worker (Deno, Bun) has a global postMessage; a Node.js worker thread has a parent port.
const port = typeof scope.postMessage === "function" ? undefined : parentPort;

function post(message: FromWorker): void {
  if (port) port.postMessage(message);
  else scope.postMessage!(message);
}

// Deno reports no event when a worker closes or exits on its own: say so first, so that
// the listener fails the running job at once instead of at its timeout.
function announceExit<T extends object>(owner: T | undefined, key: keyof T): void {
  const original = owner?.[key];
  if (typeof original !== "function") return;
  try {
    Object.defineProperty(owner, key, {
      value(code?: number) {
        post({ type: "exit", code: typeof code === "number" ? code : 0 });
        return original.call(owner, code);
      },
      configurable: true,
      writable: true,
    });
  } catch {
    // not redefinable here: the job then fails by its timeout
  }
}
announceExit(scope, "close");
announceExit(scope.Deno, "exit");
announceExit(scope.process, "exit");

const handle = serve(post);
if (port) port.on("message", handle);
else scope.onmessage = (event) => handle(event.data);

/**
 * Entry script of the worker processes behind `executeIn: "process"`: frames on
 * stdin and stdout, logs to stderr. Exits when stdin closes (the listener is gone).
 *
 * @module
 */
import process from "node:process";
import { encodeFrame, FrameReader } from "./_frames.ts";
import type { FromWorker, ToWorker } from "./_protocol.ts";
import { serve } from "./_serve.ts";

// stdout carries frames: what handlers print goes to stderr.
const stdout = process.stdout;
const write = stdout.write.bind(stdout) as (chunk: Uint8Array) => boolean;
const toStderr = process.stderr.write.bind(process.stderr);
stdout.write = toStderr as typeof stdout.write;
console.log = console.error;
console.info = console.error;
console.debug = console.error;

function post(message: FromWorker): void {
  write(encodeFrame(message));
}

const handle = serve(post);
const reader = new FrameReader();
process.stdin.on("data", (chunk: Uint8Array) => {
  for (const message of reader.push(chunk)) handle(message as ToWorker);
});
process.stdin.on("end", () => process.exit(0));

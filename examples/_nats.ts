/**
 * Where the examples find NATS: `NATS_URL` when it is set, else a nats-server that the
 * example starts on a free port and stops when it ends (`await using`).
 */
import process from "node:process";
import { startNatsServer } from "@walnats/walnats/testing";

/** A NATS server URL, and what to dispose when the example is done. */
export interface ExampleNats extends AsyncDisposable {
  readonly url: string;
}

/** `NATS_URL`, or a nats-server of our own (needs the `nats-server` binary). */
export async function exampleNats(): Promise<ExampleNats> {
  const given = process.env.NATS_URL;
  if (given) return { url: given, [Symbol.asyncDispose]: () => Promise.resolve() };
  const server = await startNatsServer();
  return { url: server.url, [Symbol.asyncDispose]: () => server[Symbol.asyncDispose]() };
}

/** Which runtime runs the example, for its first line. */
export const runtime: string = "Deno" in globalThis
  ? "Deno"
  : "Bun" in globalThis
  ? "Bun"
  : "another runtime";

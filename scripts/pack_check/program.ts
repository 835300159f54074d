// The program scripts/pack_check.sh type-checks and runs in fresh projects that installed
// the packed tarball (npm and Node.js, Bun, Deno): it imports every entry point by the
// package's name and emits, handles and requests against a real nats-server.
import * as v from "valibot";
import { Actor, Actors, Event, Events, type Logger } from "@walnats/walnats";
import { startNatsServer } from "@walnats/walnats/testing";
import { otel } from "@walnats/walnats/otel";
import { PrometheusMiddleware } from "@walnats/walnats/prometheus";
import { type CliOutput, main } from "@walnats/walnats/cli";
import { connectAdmin } from "@walnats/walnats/admin";

const orderPlaced = new Event("pack-order-placed", v.object({ id: v.number() }));
const sum = new Event("pack-sum", v.object({ a: v.number(), b: v.number() }))
  .withResponse(v.number());

const tracing = otel();
const metrics = new PrometheusMiddleware();
const handled: number[] = [];
const shipOrder = new Actor("pack-ship-order", orderPlaced, (order) => {
  handled.push(order.id);
}, { middlewares: [tracing.middleware, metrics] });
const adder = new Actor("pack-adder", sum, ({ a, b }) => a + b);
const quiet: Logger = { error: console.error, warn: console.error, info() {} };

await using server = await startNatsServer();
await using events = await new Events(orderPlaced, sum).connect(server.url, {
  emitHooks: [tracing.emitHook],
});
await events.register();
await using actors = await new Actors(shipOrder, adder).connect(server.url);
await actors.register();
const stop = new AbortController();
const listening = actors.listen({ signal: stop.signal, logger: quiet });

await events.emit(orderPlaced, { id: 7 }, { sync: true });
const answer: number = await events.request(sum, { a: 2, b: 3 }, { timeout: 10_000 });
for (let i = 0; i < 200 && handled.length === 0; i++) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const admin = await connectAdmin(server.url, { events: [orderPlaced, sum] });
const status = await admin.status();
await admin.close();
stop.abort();
await listening;

const exposition = await metrics.registry.metrics();
let usage = "";
const output: CliOutput = { stdout: (text) => usage += text, stderr: (text) => usage += text };
const code = await main(["--help"], output);

const problems = [
  answer === 5 ? "" : `request answered ${answer}, not 5`,
  handled[0] === 7 ? "" : `handled ${JSON.stringify(handled)}, not [7]`,
  exposition.includes('actor="pack-ship-order"') ? "" : "no metrics for the actor",
  status.events.some((e) => e.name === "pack-order-placed") ? "" : "admin status lacks the event",
  code === 0 && usage.includes("Usage: walnats") ? "" : `cli main(--help) gave ${code}`,
].filter(Boolean);
if (problems.length > 0) throw new Error(`pack check program: ${problems.join("; ")}`);
console.log("pack check program: emit, handle, request, metrics and cli ok");

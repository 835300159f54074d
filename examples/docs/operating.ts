// Samples of docs/operating.md (type-checked with `deno check examples/`).
// #region status
import process from "node:process";
import { connectAdmin } from "@walnats/walnats/admin";

await using admin = await connectAdmin(process.env.NATS_URL ?? "nats://localhost:4222");
const status = await admin.status(); // waits 500 ms for running listeners to answer
for (const actor of status.actors) {
  console.log(actor.name, actor.pending, actor.inFlight, actor.deadLetters, actor.instances.length);
}
if (!status.healthy) console.error(status.problems.join("\n"));
// #endregion status

// #region dead-letters
for (const letter of await admin.deadLetters.list({ actor: "send-welcome", limit: 20 })) {
  console.log(letter.seq, letter.reason, letter.attempts, letter.error, letter.preview);
}
// After fixing the cause: re-emit them (each once), then they are deleted.
const result = await admin.deadLetters.redrive({
  actor: "send-welcome",
  filter: (letter) => letter.error.includes("mail server"),
});
console.log(`${result.redriven} redriven, ${result.failed.length} left`);
// #endregion dead-letters

// #region metrics
import { createServer } from "node:http";
import { Registry } from "prom-client";
import { BacklogMetrics, PrometheusMiddleware } from "@walnats/walnats/prometheus";

const registry = new Registry();
// Job counters, from the listeners: put it in your actors' middlewares.
export const jobs = new PrometheusMiddleware({ registry });
// Backlog gauges, from the server: one poller is enough (they describe the whole system).
export const backlog = new BacklogMetrics(admin.connection, { registry, interval: 15_000 });
createServer(async (_request, response) => {
  response.setHeader("content-type", registry.contentType);
  response.end(await registry.metrics());
}).listen(9464);
// #endregion metrics

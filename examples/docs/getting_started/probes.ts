// probes.ts: HTTP probes for an orchestrator (Kubernetes, Nomad, a load balancer).
import { createServer, type Server } from "node:http";
import type { ConnectedActors } from "@walnats/walnats";

export function serveProbes(actors: ConnectedActors, port: number): Server {
  return createServer((request, response) => {
    if (request.url === "/livez") {
      // Liveness: the process answers. Never ask NATS here: during a NATS outage every
      // worker would fail it and be restarted, which fixes nothing (the listener
      // reconnects and heals by itself) and aborts the jobs that were running.
      response.end("ok");
    } else if (request.url === "/readyz") {
      // Readiness: listening, connected, no actor healing. 503 while NATS is down or
      // being healed from: the worker is taken out of rotation, not restarted.
      const health = actors.health();
      response.statusCode = health.listening && health.healthy ? 200 : 503;
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify(health));
    } else {
      response.statusCode = 404;
      response.end();
    }
  }).listen(port);
}

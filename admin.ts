/**
 * The admin API of walnats: the status of a system (server, events, actors, running
 * instances, dead letters) and dead-letter management (list, show, redrive, retry, purge).
 * `walnats status`, `walnats dead-letters`, the dashboard and the backlog metrics use it.
 *
 * @example Print the status and redrive an actor's dead letters
 * ```ts ignore
 * import { connectAdmin } from "@walnats/walnats/admin";
 *
 * await using admin = await connectAdmin("nats://localhost:4222");
 * const status = await admin.status();
 * for (const a of status.actors) console.log(a.name, a.pending, a.inFlight, a.deadLetters);
 * const { redriven } = await admin.deadLetters.redrive({ actor: "send-welcome" });
 * ```
 *
 * @module
 */
export { connectAdmin } from "./src/admin/admin.ts";
export { DeadLetters, preview, redriveUid } from "./src/admin/dead_letters.ts";
export { rates } from "./src/admin/rates.ts";
export { serveDashboard } from "./src/dashboard/dashboard.ts";

export type { Admin, AdminOptions, StatusOptions, WatchOptions } from "./src/admin/admin.ts";
export type {
  DeadLetterEntry,
  DeadLetterFilter,
  RedriveOptions,
  RedriveResult,
} from "./src/admin/dead_letters.ts";
export type { InstanceStatus } from "./src/admin/instances.ts";
export type { Rates } from "./src/admin/rates.ts";
export type {
  Dashboard,
  DashboardJob,
  DashboardOptions,
  DashboardSnapshot,
} from "./src/dashboard/dashboard.ts";
export type {
  ActorInstance,
  ActorStatus,
  EventStatus,
  ServerStatus,
  Status,
  StreamCluster,
} from "./src/admin/status.ts";

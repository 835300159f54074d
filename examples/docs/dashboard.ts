// Samples of docs/operating.md (type-checked with `deno check examples/`).
// #region serve
import { serveDashboard } from "@walnats/walnats/admin";

export async function dashboardUntilAborted(url: string, signal: AbortSignal): Promise<void> {
  const dashboard = await serveDashboard(url, {
    port: 4280, // 0: any free port (see dashboard.port)
    hostname: "127.0.0.1", // the default: only this machine
    allowRedrive: false, // the default: a read-only page
    interval: 2000, // how often the status is read and pushed, ms
    signal, // or: await dashboard.close()
  });
  console.info(`dashboard on ${dashboard.url}`);
  await dashboard.closed;
}
// #endregion serve

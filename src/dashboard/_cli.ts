/**
 * `walnats dashboard`: serve the dashboard until interrupted (SIGINT, SIGTERM). `cli.ts`
 * hands it its arguments. Connection flags and `--module` are those of the admin commands.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import {
  CONNECTION_FLAGS,
  connectionOptions,
  EXIT,
  load,
  type Output,
  UsageError,
} from "../admin/_cli.ts";
import type { AdminOptions } from "../admin/admin.ts";
import { serveDashboard } from "./dashboard.ts";

export const DASHBOARD_USAGE = `Dashboard:
  dashboard           serve a live page of events, actors, running jobs and dead letters
  --port N            the port (default: 4280; 0: any free port)
  --host ADDRESS      the address to bind (default: 127.0.0.1; 0.0.0.0 exposes it to the network)
  --allow-redrive     show redrive buttons and accept redrive requests (default: read-only)
  --interval MS       how often the status is read and pushed (default: 2000)
  (and the connection options and --module of the admin commands)
  It runs until interrupted; exit code 1 when the port cannot be used, 3 when the
  server cannot be reached.
`;

const OPTIONS = {
  ...CONNECTION_FLAGS,
  port: { type: "string" },
  host: { type: "string" },
  "allow-redrive": { type: "boolean", default: false },
  interval: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/**
 * Run `walnats dashboard` until `signal` aborts (by default on SIGINT or SIGTERM).
 * @returns the exit code
 */
export async function dashboardMain(
  args: readonly string[],
  output: Output,
  signal: AbortSignal = interrupted(),
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: false }));
  } catch (error) {
    output.stderr(`walnats: ${message(error)}\n\n${DASHBOARD_USAGE}`);
    return EXIT.usage;
  }
  if (values.help) {
    output.stdout(DASHBOARD_USAGE);
    return EXIT.ok;
  }
  let declarations: AdminOptions = {};
  let port: number;
  let interval: number | undefined;
  let connection;
  try {
    port = integer("port", values.port ?? "4280", 0, 65535);
    interval = values.interval === undefined
      ? undefined
      : integer("interval", values.interval, 1, 2 ** 31 - 1);
    if (values.user !== undefined && values.password === undefined) {
      throw new UsageError("--user needs --password");
    }
    // It reads only the connection flags, which both commands parse alike.
    connection = connectionOptions(
      values as unknown as Parameters<typeof connectionOptions>[0],
    );
    if (values.module !== undefined) declarations = await load(values.module);
  } catch (error) {
    const usage = error instanceof UsageError;
    output.stderr(`walnats: ${message(error)}\n${usage ? `\n${DASHBOARD_USAGE}` : ""}`);
    return usage ? EXIT.usage : EXIT.failed;
  }
  let dashboard;
  try {
    dashboard = await serveDashboard(connection, {
      ...declarations,
      port,
      hostname: values.host ?? "127.0.0.1",
      allowRedrive: values["allow-redrive"],
      ...(interval === undefined ? {} : { interval }),
      signal,
    });
  } catch (error) {
    output.stderr(`walnats: ${message(error)}\n`);
    return /Cannot serve the dashboard/.test(message(error)) ? EXIT.failed : EXIT.server;
  }
  output.stdout(
    `walnats dashboard on ${dashboard.url} (${
      values["allow-redrive"] ? "redrive allowed" : "read-only"
    }); interrupt to stop\n`,
  );
  await dashboard.closed;
  output.stdout("walnats dashboard stopped\n");
  return EXIT.ok;
}

function integer(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/** Aborts on the first SIGINT or SIGTERM. */
function interrupted(): AbortSignal {
  const controller = new AbortController();
  const stop = () => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    controller.abort();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return controller.signal;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

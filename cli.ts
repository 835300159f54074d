#!/usr/bin/env node
/**
 * The walnats command line: the status of a running system and its dead letters
 * (`status`, `dead-letters`, against a NATS server; see docs/operating.md), and AsyncAPI 3.0
 * documents and event-storming diagrams of the `Services` a module exports.
 *
 * ```sh
 * walnats status --server nats://localhost:4222 --max-dead 0   # a deploy gate
 * walnats dead-letters redrive --actor send-welcome --dry-run
 * walnats dashboard --port 4280 --allow-redrive                # a live page, until interrupted
 * deno run -A jsr:@walnats/walnats/cli asyncapi ./services.ts > asyncapi.json
 * deno run -A jsr:@walnats/walnats/cli d2 ./services.ts | d2 - arch.svg
 * bun cli.ts mermaid ./services.ts --direction down
 * npx walnats asyncapi ./services.js   # the npm package's bin (built JavaScript)
 * ```
 *
 * The module must export the `Services` as `services` (or name the export with
 * `--export`). Output goes to standard output; errors go to standard error with
 * exit code 1 (the module) or 2 (the command line).
 *
 * @example Describe a system in a module for the CLI
 * ```ts
 * // services.ts
 * import * as v from "valibot";
 * import { Event, Events, Services } from "@walnats/walnats";
 *
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 * const services = new Services().add("users", { emits: new Events(userCreated) });
 * export { services };
 * ```
 *
 * @module
 */
import { realpathSync } from "node:fs";
import process from "node:process";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ADMIN_USAGE, adminMain } from "./src/admin/_cli.ts";
import { DASHBOARD_USAGE, dashboardMain } from "./src/dashboard/_cli.ts";
import type { AsyncApiOptions } from "./src/services/asyncapi.ts";
import type { DiagramOptions } from "./src/services/diagrams.ts";
import type { Services } from "./src/services/services.ts";

const USAGE = `Usage: walnats <command> [arguments] [options]

${ADMIN_USAGE}
${DASHBOARD_USAGE}
Module commands: walnats <command> <module> [options]
  asyncapi   print the AsyncAPI 3.0 document (JSON) of all services, or of one
  d2         print a D2 diagram of services, events and actors
  mermaid    print a Mermaid flowchart of services, events and actors
  help       print this help

<module> is a path (relative to the working directory) or URL of a module that
exports a walnats Services value.

Options:
  --export NAME       the module's export to use (default: services)
  --service NAME      asyncapi: only this service
  --title TEXT        asyncapi: info.title of the combined document (default: walnats)
  --doc-version TEXT  asyncapi: info.version (default: 0.0.0, or the service's version)
  --server NAME=URL   asyncapi: a NATS server, e.g. prod=nats://nats.example.com:4222 (repeatable)
  --direction DIR     d2, mermaid: right (default), left, down or up
  --no-colors         d2, mermaid: leave colours to the renderer's theme
`;

/**
 * Where {@linkcode main} writes.
 *
 * @example Capture the output of the command line
 * ```ts ignore
 * import { type CliOutput, main } from "@walnats/walnats/cli";
 *
 * let text = "";
 * const output: CliOutput = { stdout: (chunk) => text += chunk, stderr: (chunk) => text += chunk };
 * await main(["mermaid", "./services.ts"], output);
 * ```
 */
export interface CliOutput {
  /** Standard output: the document or diagram. */
  stdout(text: string): void;
  /** Standard error: usage and errors. */
  stderr(text: string): void;
}

const processOutput: CliOutput = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/**
 * Run the command line.
 *
 * @example Run the command line from a script
 * ```ts ignore
 * import { main } from "@walnats/walnats/cli";
 *
 * const code = await main(["asyncapi", "./services.ts"]);
 * Deno.exit(code);
 * ```
 *
 * @param args the arguments after the program, e.g. `["d2", "./services.ts"]`
 * @param output where to write @default the process's standard output and error
 * @returns the exit code: 0 done, 1 the module could not be used (status: unhealthy, or
 *   too many dead letters), 2 bad command line, 3 the NATS server cannot be reached
 */
export async function main(
  args: readonly string[],
  output: CliOutput = processOutput,
): Promise<number> {
  if (args[0] === "status" || args[0] === "dead-letters") {
    return await adminMain(args[0], args.slice(1), output);
  }
  // The dashboard runs until interrupted (SIGINT, SIGTERM).
  if (args[0] === "dashboard") return await dashboardMain(args.slice(1), output);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        export: { type: "string", default: "services" },
        service: { type: "string" },
        title: { type: "string" },
        "doc-version": { type: "string" },
        server: { type: "string", multiple: true },
        direction: { type: "string" },
        "no-colors": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    output.stderr(`walnats: ${message(error)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, specifier, ...rest] = positionals;
  if (values.help || command === "help" || command === undefined) {
    (command === undefined && !values.help ? output.stderr : output.stdout)(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (!["asyncapi", "d2", "mermaid"].includes(command)) {
    output.stderr(`walnats: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  if (specifier === undefined || rest.length > 0) {
    output.stderr(
      `walnats: ${command} takes exactly one module, got ${
        rest.length + (specifier ? 1 : 0)
      }\n\n${USAGE}`,
    );
    return 2;
  }

  const services = await load(specifier, values.export, output);
  if (services === undefined) return 1;

  try {
    if (command === "asyncapi") {
      const options: AsyncApiOptions = {
        ...(values.service === undefined ? {} : { service: values.service }),
        ...(values.title === undefined ? {} : { title: values.title }),
        ...(values["doc-version"] === undefined ? {} : { version: values["doc-version"] }),
        ...(values.server === undefined ? {} : { servers: serverOptions(values.server) }),
      };
      output.stdout(JSON.stringify(services.asyncApi(options), null, 2) + "\n");
    } else {
      const options: DiagramOptions = {
        direction: (values.direction ?? "right") as NonNullable<DiagramOptions["direction"]>,
        colors: !values["no-colors"],
      };
      output.stdout(command === "d2" ? services.d2(options) : services.mermaid(options));
    }
  } catch (error) {
    // Bad option values (an unknown service or direction) are the command line's fault.
    output.stderr(`walnats: ${message(error)}\n`);
    return 2;
  }
  return 0;
}

async function load(
  specifier: string,
  exportName: string,
  output: CliOutput,
): Promise<Services | undefined> {
  const url = /^[a-z][a-z0-9+.-]*:/i.test(specifier) && !/^[a-z]:[\\/]/i.test(specifier)
    ? specifier
    : pathToFileURL(resolve(process.cwd(), specifier)).href;
  let module: Record<string, unknown>;
  try {
    module = await import(url);
  } catch (error) {
    output.stderr(`walnats: cannot load module "${specifier}": ${message(error)}\n`);
    return undefined;
  }
  if (!(exportName in module)) {
    const names = Object.keys(module).map((name) => `"${name}"`).join(", ") || "none";
    output.stderr(
      `walnats: module "${specifier}" has no export "${exportName}" (its exports: ${names}); ` +
        `export your Services as "${exportName}" or name the export with --export\n`,
    );
    return undefined;
  }
  const value = module[exportName] as Partial<Services> | null | undefined;
  // Duck-typed: the module may import walnats from another copy (jsr:, npm:, a path).
  if (
    typeof value?.asyncApi !== "function" || typeof value.d2 !== "function" ||
    typeof value.mermaid !== "function"
  ) {
    output.stderr(
      `walnats: export "${exportName}" of module "${specifier}" is not a walnats Services ` +
        `(new Services().add(...))\n`,
    );
    return undefined;
  }
  return value as Services;
}

function serverOptions(pairs: readonly string[]): Record<string, string> {
  const servers: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new TypeError(`Invalid --server ${JSON.stringify(pair)}: expected NAME=URL`);
    servers[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return servers;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether this module is the program: Deno and Bun say so in `import.meta.main`; Node.js
 * before 24 does not, so compare the script it started (through a bin symlink or not).
 */
function isMain(): boolean {
  const main = (import.meta as { main?: boolean }).main;
  if (typeof main === "boolean") return main;
  const script = process.argv[1];
  if (script === undefined || !import.meta.url.startsWith("file:")) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  // Under Deno, the socket of a connection the server refused (a bad login) may report its
  // reset after nats.js has let go of it, as an uncaught error: the command has already said
  // why it failed, so that reset must not replace its exit code.
  process.on("uncaughtException", (error: Error & { code?: string; syscall?: string }) => {
    if (error.code === "ECONNRESET" && error.syscall === "read") return;
    console.error(error);
    process.exit(1);
  });
  process.exitCode = await main(process.argv.slice(2));
}

/**
 * The publisher: declares its events to the server and emits them.
 *
 *     deno run -A examples/hello/publisher.ts Ada Grace Barbara
 *     bun examples/hello/publisher.ts Ada Grace Barbara
 */
import { Events } from "@walnats/walnats";
import { natsUrl, userRegistered } from "./events.ts";

/** Emit one `user-registered` event per name, waiting for the stream to store each. */
export async function publish(url: string, names: string[]): Promise<void> {
  await using events = await new Events(userRegistered).connect(url);
  await events.register();
  const run = Date.now().toString(36);
  for (const [i, name] of names.entries()) {
    const { seq, duplicate } = await events.emit(userRegistered, { id: i + 1, name }, {
      // Emitting twice with one uid (within the stream's duplicate window) stores it once.
      uid: `user-${run}-${i + 1}`,
      sync: true,
    });
    console.log(
      `publisher: emitted user-registered #${seq} for ${name}${duplicate ? " (duplicate)" : ""}`,
    );
  }
}

if (import.meta.main) {
  const names = globalThis.process.argv.slice(2);
  await publish(natsUrl, names.length ? names : ["Ada", "Grace", "Barbara"]);
}

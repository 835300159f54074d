/**
 * Request/response: a publisher emits an event and waits for the actor's answer.
 * Shows a typed answer, a failure reported at once (`ResponseError`), and a request
 * nobody answers (`RequestTimeoutError`).
 *
 *     deno run -A examples/request_response.ts
 *     bun examples/request_response.ts
 */
import * as v from "valibot";
import {
  Actor,
  Actors,
  Event,
  Events,
  type Logger,
  RequestTimeoutError,
  ResponseError,
  UnrecoverableError,
} from "@walnats/walnats";
import { exampleNats, runtime } from "./_nats.ts";

// #region declare
// The request's copy of an event: a string in, a number back.
const countWords = new Event("count-words", v.pipe(v.string(), v.maxLength(10_000)))
  .withResponse(v.number());
// Another event with a response, whose actor may refuse a message.
const divide = new Event("divide", v.object({ a: v.number(), b: v.number() }))
  .withResponse(v.number());
// An event whose actor does not run in this example: its requests time out.
const translate = new Event("translate", v.string()).withResponse(v.string());

// Actors are declared with the same copies; their handlers must return the response type.
const wordCounter = new Actor("count-words", countWords, (text) => text.split(/\s+/).length);
const divider = new Actor("divide", divide, ({ a, b }) => {
  // Retrying cannot help: terminate the message, and the caller hears it at once.
  if (b === 0) throw new UnrecoverableError("cannot divide by zero");
  return a / b;
});
// #endregion declare

await using nats = await exampleNats();
console.log(`request_response: ${runtime}, NATS at ${nats.url}`);

await using events = await new Events(countWords, divide, translate).connect(nats.url);
await events.register();
await using actors = await new Actors(wordCounter, divider).connect(nats.url);
await actors.register();

// The listener runs in the background until `stop` aborts.
const quiet: Logger = { error() {}, warn() {}, info() {} }; // the example prints its own lines
const stop = new AbortController();
const listening = actors.listen({ signal: stop.signal, logger: quiet });

// #region request
const words = await events.request(countWords, "the quick brown fox jumps over the lazy dog");
console.log(`request_response: count-words answered ${words}`); // typed as number

const answers = await Promise.all([6, 3, 2].map((b) => events.request(divide, { a: 12, b })));
console.log(`request_response: divide answered ${answers.join(", ")}`);

try {
  await events.request(divide, { a: 1, b: 0 });
} catch (error) {
  if (!(error instanceof ResponseError)) throw error;
  console.log(`request_response: divide by zero failed at once: ${error.message}`);
}

try {
  await events.request(translate, "hello", { timeout: 500 });
} catch (error) {
  if (!(error instanceof RequestTimeoutError)) throw error;
  console.log(`request_response: translate timed out: ${error.message}`);
}
// #endregion request

stop.abort();
await listening;
console.log("request_response: done");

/**
 * Dead letters for operators: list and show them, redrive them to their event, retry
 * one, purge them. Redrive loses nothing and doubles nothing: each dead letter is
 * re-emitted with a uid derived from it (`redrive:<dead-letter stream>:<seq>:<stored ms>`)
 * as a JetStream publish that waits for the stream's ack, and only then deleted. A run
 * interrupted between the two is run again: the event's stream drops the second copy as
 * a duplicate (within its duplicate window, 2 minutes unless the event sets
 * `limits.duplicateWindow`) and the dead letter is deleted then.
 *
 * @module
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
  type StreamInfo,
} from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import type { Actor } from "../actors/actor.ts";
import { MAX_NAME_LENGTH } from "../_names.ts";
import { MSG_ID } from "../headers.ts";
import { readDeadLetter } from "./_dead_letter_format.ts";
import { deadLetterOwner, isDeadLetterSubject, walnatsSubject } from "./_streams.ts";

/**
 * One stored dead letter: where it is, why it died, and the original message.
 *
 * @example Print a dead letter
 * ```ts
 * import type { DeadLetterEntry } from "@walnats/walnats/admin";
 *
 * const line = (d: DeadLetterEntry): string =>
 *   `#${d.seq} ${d.actor} ${d.reason} after ${d.attempts} attempts: ${d.error}`;
 * ```
 */
export interface DeadLetterEntry {
  /** The dead-letter stream. */
  readonly stream: string;
  /** The dead letter's sequence in that stream: its id for `show`, `retry`. */
  readonly seq: number;
  /** When the dead letter was stored, ISO 8601. */
  readonly time: string;
  /** The actor that gave up. */
  readonly actor: string;
  /** The original event (its name, the subject to redrive to). */
  readonly event: string;
  /** `failed`, `unrecoverable`, `undecodable` or `invalid-response`. */
  readonly reason: string;
  /** The last error's message. */
  readonly error: string;
  /** Attempts made. */
  readonly attempts: number;
  /** The original message's sequence in the event's stream. */
  readonly streamSeq: number;
  /** When the original was emitted, ISO 8601 (empty when unknown). */
  readonly timestamp: string;
  /** The original message's headers (first value of each). */
  readonly headers: Readonly<Record<string, string>>;
  /** The original payload, byte for byte (decode it with the event's serializer). */
  readonly payload: Uint8Array;
  /** The payload as text, cut to 200 characters, for people. */
  readonly preview: string;
}

/**
 * Which dead letters: by actor and event name, by reason, by any predicate.
 *
 * @example Select one actor's failures
 * ```ts
 * import type { DeadLetterFilter } from "@walnats/walnats/admin";
 *
 * const filter: DeadLetterFilter = { actor: "send-welcome", reason: "failed" };
 * ```
 */
export interface DeadLetterFilter {
  /** Only this actor's dead letters. @default every actor */
  readonly actor?: string;
  /** Only dead letters of this event. @default every event */
  readonly event?: string;
  /** Only dead letters with this reason. @default any */
  readonly reason?: string;
  /** Only dead letters for which this returns true. @default all */
  readonly filter?: (entry: DeadLetterEntry) => boolean;
  /** At most this many (in order of the streams, oldest first). @default unlimited */
  readonly limit?: number;
}

/**
 * Options of {@linkcode DeadLetters.redrive}.
 *
 * @example A dry run over ten dead letters
 * ```ts
 * import type { RedriveOptions } from "@walnats/walnats/admin";
 *
 * const options: RedriveOptions = { actor: "send-welcome", limit: 10, dryRun: true };
 * ```
 */
export interface RedriveOptions extends DeadLetterFilter {
  /** Say what would be redriven, change nothing. @default false */
  readonly dryRun?: boolean;
  /** Stop early. */
  readonly signal?: AbortSignal;
}

/**
 * What a redrive did.
 *
 * @example Report a redrive
 * ```ts
 * import type { RedriveResult } from "@walnats/walnats/admin";
 *
 * const line = (r: RedriveResult): string =>
 *   `${r.redriven} redriven, ${r.failed.length} failed`;
 * ```
 */
export interface RedriveResult {
  /** Dead letters re-emitted (or, in a dry run, that would be) and deleted. */
  readonly redriven: number;
  /** Of those, how many the event's stream had already stored (an earlier, interrupted run). */
  readonly duplicates: number;
  /** Whether it was a dry run. */
  readonly dryRun: boolean;
  /** The dead letters handled: stream, seq, event, and the new message's sequence. */
  readonly items: readonly {
    readonly stream: string;
    readonly seq: number;
    readonly actor: string;
    readonly event: string;
    /** Sequence of the re-emitted message in the event's stream (0 in a dry run). */
    readonly eventSeq: number;
    readonly duplicate: boolean;
  }[];
  /** Dead letters that could not be redriven (they stay), with why. */
  readonly failed: readonly {
    readonly stream: string;
    readonly seq: number;
    readonly error: string;
  }[];
  /**
   * Other actors of the redriven events: a redriven message goes to every actor of its
   * event, not only to the one that gave up.
   */
  readonly alsoDeliveredTo: readonly string[];
}

/**
 * Dead letters of the actors on a server (`admin.deadLetters`).
 *
 * @example Redrive one actor's dead letters
 * ```ts ignore
 * import { connectAdmin } from "@walnats/walnats/admin";
 *
 * await using admin = await connectAdmin("nats://localhost:4222");
 * const { redriven } = await admin.deadLetters.redrive({ actor: "send-welcome" });
 * ```
 */
export class DeadLetters {
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;
  readonly #actors: readonly Actor<unknown, unknown>[] | undefined;

  /**
   * Dead letters through a JetStream manager and client (`connectAdmin` makes one:
   * `admin.deadLetters`).
   *
   * @param jsm the JetStream manager to read and delete with
   * @param js the JetStream client to redrive with
   * @param actors declared actors (their dead-letter streams), or every dead-letter stream
   */
  constructor(
    jsm: JetStreamManager,
    js: JetStreamClient,
    actors?: readonly Actor<unknown, unknown>[],
  ) {
    this.#jsm = jsm;
    this.#js = js;
    this.#actors = actors;
  }

  /**
   * The dead letters, oldest first per stream.
   *
   * @example List the last failures of an actor
   * ```ts ignore
   * for (const d of await admin.deadLetters.list({ actor: "send-welcome", limit: 20 })) {
   *   console.log(d.seq, d.reason, d.error, d.preview);
   * }
   * ```
   *
   * @param options which dead letters, how many
   * @returns the dead letters found
   */
  async list(options: DeadLetterFilter = {}): Promise<DeadLetterEntry[]> {
    checkLimit(options.limit);
    const out: DeadLetterEntry[] = [];
    for await (const [entry] of this.#each(options)) out.push(entry);
    return out;
  }

  /**
   * One dead letter by its stream and sequence, or `undefined` when it is gone.
   *
   * @example Show a dead letter's payload
   * ```ts ignore
   * const d = await admin.deadLetters.show("send-welcome", 3);
   * console.log(d?.headers, new TextDecoder().decode(d?.payload));
   * ```
   *
   * @param actor the actor's name, or its dead-letter stream's name
   * @param seq the dead letter's sequence in its stream
   * @param options the event, when two events have actors of that name
   * @returns the dead letter
   * @throws {TypeError} no dead-letter stream of that actor, or several (name the event)
   */
  async show(
    actor: string,
    seq: number,
    options: { readonly event?: string } = {},
  ): Promise<DeadLetterEntry | undefined> {
    const stream = await this.#streamOf(actor, options.event);
    const msg = await this.#get(stream, seq);
    return msg ? entryOf(stream, msg) : undefined;
  }

  /**
   * Redrive dead letters: re-emit each to its event with a uid derived from the dead
   * letter, wait for the event's stream to store it, then delete the dead letter. A dead
   * letter whose re-emit fails stays (and is reported in `failed`).
   *
   * @example Redrive what failed for a reason since fixed
   * ```ts ignore
   * const result = await admin.deadLetters.redrive({
   *   actor: "send-welcome",
   *   filter: (d) => d.error.includes("mail server down"),
   * });
   * console.log(`${result.redriven} redriven`);
   * ```
   *
   * @param options which dead letters, how many, dry run
   * @returns what was redriven
   */
  async redrive(options: RedriveOptions = {}): Promise<RedriveResult> {
    checkLimit(options.limit);
    return await this.#redrive(options);
  }

  async #redrive(options: RedriveOptions & Scope): Promise<RedriveResult> {
    const dryRun = options.dryRun ?? false;
    const items: RedriveResult["items"][number][] = [];
    const failed: { stream: string; seq: number; error: string }[] = [];
    const events = new Map<string, Set<string>>();
    for await (const [entry, msg] of this.#each(options)) {
      options.signal?.throwIfAborted();
      const actors = events.get(entry.event) ?? new Set<string>();
      actors.add(entry.actor);
      events.set(entry.event, actors);
      if (dryRun) {
        items.push({
          stream: entry.stream,
          seq: entry.seq,
          actor: entry.actor,
          event: entry.event,
          eventSeq: 0,
          duplicate: false,
        });
        continue;
      }
      try {
        const ack = await this.#reemit(entry.stream, msg);
        items.push({
          stream: entry.stream,
          seq: entry.seq,
          actor: entry.actor,
          event: entry.event,
          eventSeq: ack.seq,
          duplicate: ack.duplicate,
        });
      } catch (error) {
        failed.push({ stream: entry.stream, seq: entry.seq, error: errorText(error) });
      }
    }
    const alsoDeliveredTo: string[] = [];
    for (const [event, actors] of events) {
      const stream = event.replaceAll(".", "-");
      try {
        for await (const c of this.#jsm.consumers.list(stream)) {
          if (c.config.durable_name && !actors.has(c.name)) {
            alsoDeliveredTo.push(`${c.name} (${event})`);
          }
        }
      } catch {
        // The stream is gone: the redrive itself reported it.
      }
    }
    return {
      redriven: items.length,
      duplicates: items.filter((i) => i.duplicate).length,
      dryRun,
      items,
      failed,
      alsoDeliveredTo,
    };
  }

  /**
   * Redrive one dead letter by its sequence.
   *
   * @example Retry one dead letter
   * ```ts ignore
   * const { redriven } = await admin.deadLetters.retry("send-welcome", 3);
   * ```
   *
   * @param actor the actor's name, or its dead-letter stream's name
   * @param seq the dead letter's sequence
   * @param options the event, when two events have actors of that name; a dry run
   * @returns what was redriven (`redriven: 0` and `failed` when it could not be)
   * @throws {TypeError} no dead-letter stream of that actor, or several (name the event)
   * @throws {RangeError} no dead letter with that sequence
   */
  async retry(
    actor: string,
    seq: number,
    options: { readonly event?: string; readonly dryRun?: boolean } = {},
  ): Promise<RedriveResult> {
    const stream = await this.#streamOf(actor, options.event);
    const msg = await this.#get(stream, seq);
    if (!msg) {
      throw new RangeError(
        `Cannot retry dead letter ${seq} of actor "${actor}": stream "${stream}" has no message ${seq} ` +
          "(already redriven, purged, or expired); list them with `walnats dead-letters list`",
      );
    }
    return await this.#redrive({ dryRun: options.dryRun ?? false, streams: [stream], only: seq });
  }

  /**
   * Delete dead letters. Without a reason or filter each selected stream is purged at once;
   * with one, the matching dead letters are deleted one by one.
   *
   * @example Purge one actor's dead letters
   * ```ts ignore
   * const { purged } = await admin.deadLetters.purge({ actor: "send-welcome" });
   * ```
   *
   * @param options which dead letters
   * @returns how many were deleted
   */
  async purge(options: DeadLetterFilter = {}): Promise<{ purged: number }> {
    checkLimit(options.limit);
    let purged = 0;
    if (
      options.reason === undefined && options.filter === undefined && options.limit === undefined
    ) {
      for (const stream of await this.#streams(options)) {
        purged += (await this.#jsm.streams.purge(stream.config.name)).purged;
      }
      return { purged };
    }
    const selected: DeadLetterEntry[] = [];
    for await (const [entry] of this.#each(options)) selected.push(entry);
    for (const entry of selected) {
      if (await this.#delete(entry.stream, entry.seq)) purged++;
    }
    return { purged };
  }

  async #reemit(stream: string, msg: StoredMsg): Promise<{ seq: number; duplicate: boolean }> {
    const letter = readDeadLetter(msg);
    const h = natsHeaders();
    for (const [key, values] of letter.allHeaders) {
      // JetStream's own headers (the original uid, publish expectations) do not carry over.
      if (key.toLowerCase().startsWith("nats-")) continue;
      for (const value of values) h.append(key, value);
    }
    h.set(MSG_ID, redriveUid(stream, msg));
    const ack = await this.#js.publish(letter.event, letter.payload, { headers: h });
    // Stored (or already stored by an interrupted run): now the dead letter may go.
    await this.#delete(stream, msg.seq);
    return { seq: ack.seq, duplicate: ack.duplicate };
  }

  async *#each(
    options: DeadLetterFilter & Scope,
  ): AsyncGenerator<[DeadLetterEntry, StoredMsg]> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return;
    let count = 0;
    const streams = options.streams ?? (await this.#streams(options)).map((s) => s.config.name);
    for (const stream of streams) {
      let seq = options.only ?? 1;
      while (true) {
        const msg = options.only === undefined
          ? await this.#next(stream, seq)
          : seq === options.only
          ? await this.#get(stream, seq)
          : undefined;
        if (!msg) break;
        seq = msg.seq + 1;
        let entry: DeadLetterEntry;
        try {
          entry = entryOf(stream, msg);
        } catch {
          continue; // Not a dead letter (published there by hand): not ours to touch.
        }
        if (options.actor !== undefined && entry.actor !== options.actor) continue;
        if (options.event !== undefined && entry.event !== options.event) continue;
        if (options.reason !== undefined && entry.reason !== options.reason) continue;
        if (options.filter && !options.filter(entry)) continue;
        yield [entry, msg];
        if (++count >= limit) return;
      }
    }
  }

  /** The dead-letter streams that may hold the selected dead letters. */
  async #streams(options: DeadLetterFilter): Promise<StreamInfo[]> {
    const out: StreamInfo[] = [];
    if (this.#actors !== undefined) {
      for (const a of this.#actors) {
        if (!a.deadLetters) continue;
        if (options.actor !== undefined && a.name !== options.actor) continue;
        if (options.event !== undefined && a.event.name !== options.event) continue;
        try {
          out.push(await this.#jsm.streams.info(a.deadLetters.streamName));
        } catch (error) {
          if (!(error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND)) throw error;
        }
      }
      return out;
    }
    for await (const s of this.#jsm.streams.list()) {
      const subject = walnatsSubject(s.config);
      if (subject === undefined || !isDeadLetterSubject(subject)) continue;
      const owner = deadLetterOwner(subject);
      // A shortened actor name (very long names) is a prefix of the actor's name.
      if (options.actor !== undefined && !options.actor.startsWith(owner.actor)) continue;
      // Names too long to spell out are hashed: such a stream may hold any event's letters
      // (the letters' own headers tell); a spelled-out one names its event.
      const spelled = `dead-letter.${options.event}.${owner.actor}`.length <= MAX_NAME_LENGTH;
      if (options.event !== undefined && owner.event !== options.event && spelled) continue;
      out.push(s);
    }
    return out.sort((a, b) => a.config.name.localeCompare(b.config.name));
  }

  /** The one dead-letter stream of an actor (by actor name or stream name). */
  async #streamOf(actor: string, event: string | undefined): Promise<string> {
    const streams = await this.#streams({
      ...(actor.startsWith("dead-letter-") ? {} : { actor }),
      ...(event === undefined ? {} : { event }),
    });
    const named = streams.filter((s) => s.config.name === actor);
    if (named.length === 1) return actor;
    const candidates = streams.filter((s) => {
      const owner = deadLetterOwner(s.config.subjects[0] ?? "");
      return owner.actor === actor && (event === undefined || owner.event === event ||
        s.config.name === `dead-letter-${event.replaceAll(".", "-")}-${actor}`);
    });
    const [only] = candidates;
    if (only && candidates.length === 1) return only.config.name;
    if (candidates.length === 0) {
      throw new TypeError(
        `No dead letters of actor "${actor}"${event ? ` of event "${event}"` : ""}: ` +
          "no dead-letter stream on the server (the actor never gave up on a message, or its " +
          "dead letters were deleted)",
      );
    }
    throw new TypeError(
      `Actor name "${actor}" is used by several events (${
        candidates.map((s) => s.config.name).join(", ")
      }): name the event (--event) or the dead-letter stream`,
    );
  }

  async #get(stream: string, seq: number): Promise<StoredMsg | undefined> {
    if (!Number.isSafeInteger(seq) || seq < 1) {
      throw new RangeError(`Invalid dead-letter sequence ${seq}: expected an integer >= 1`);
    }
    try {
      return (await this.#jsm.streams.getMessage(stream, { seq })) ?? undefined;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === NO_MESSAGE) return undefined;
      throw error;
    }
  }

  /** The first message at or after `seq`. */
  async #next(stream: string, seq: number): Promise<StoredMsg | undefined> {
    try {
      const request = { seq, next_by_subj: ">" } as unknown as { seq: number };
      return (await this.#jsm.streams.getMessage(stream, request)) ?? undefined;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === NO_MESSAGE) return undefined;
      throw error;
    }
  }

  /** Delete one message; false when it was already gone. */
  async #delete(stream: string, seq: number): Promise<boolean> {
    try {
      return await this.#jsm.streams.deleteMessage(stream, seq, false);
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === NO_MESSAGE) return false;
      throw error;
    }
  }
}

const { NoMessageFound: NO_MESSAGE, StreamNotFound: STREAM_NOT_FOUND } = JetStreamApiCodes;

/** Internal narrowing of a selection: these streams only, this one sequence only. */
interface Scope {
  readonly streams?: readonly string[];
  readonly only?: number;
}

/**
 * The uid of a dead letter's redrive: the same for every run over the same dead letter,
 * different for any other (the stored time tells a recreated stream's seq 1 from the
 * old one's).
 *
 * @example The uid a redrive gives a dead letter
 * ```ts
 * import { redriveUid } from "@walnats/walnats/admin";
 *
 * const uid = redriveUid("dead-letter-order-placed-ship", { seq: 3, time: new Date(0) });
 * // "redrive:dead-letter-order-placed-ship:3:0"
 * ```
 *
 * @param stream the dead-letter stream
 * @param msg the stored dead letter (its sequence and time)
 * @returns the uid (`Nats-Msg-Id`) of its re-emit
 */
export function redriveUid(
  stream: string,
  msg: { readonly seq: number; readonly time: Date },
): string {
  return `redrive:${stream}:${msg.seq}:${msg.time.getTime()}`;
}

function entryOf(stream: string, msg: StoredMsg): DeadLetterEntry {
  const letter = readDeadLetter(msg);
  return {
    stream,
    seq: msg.seq,
    time: msg.time.toISOString(),
    actor: letter.actor,
    event: letter.event,
    reason: letter.reason,
    error: letter.error,
    attempts: letter.attempts,
    streamSeq: letter.streamSeq,
    timestamp: letter.timestamp,
    headers: letter.headers,
    payload: letter.payload,
    preview: preview(letter.payload),
  };
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/g;

/**
 * A payload as text for people: UTF-8 (invalid bytes as U+FFFD), control characters
 * escaped as `\xNN`, cut to `max` characters.
 *
 * @example Preview a payload
 * ```ts
 * import { preview } from "@walnats/walnats/admin";
 *
 * preview(new TextEncoder().encode('{"id":1}\n')); // '{"id":1}\\x0a'
 * ```
 *
 * @param payload the bytes
 * @param max characters to keep @default 200
 * @returns the text
 */
export function preview(payload: Uint8Array, max = 200): string {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(payload.subarray(0, max * 4));
  const clean = text.replace(
    CONTROL,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new RangeError(`Invalid dead-letter limit ${limit}: expected an integer >= 0`);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

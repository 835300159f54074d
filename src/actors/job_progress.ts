/**
 * Where a job's progress goes: to a requester that asked for it (its `Walnats-Reply`
 * inbox, marked `Walnats-Progress`), and to the status subject that dashboards follow;
 * the latest value of each running job is also kept for `health()`. Sent with core NATS
 * publishes, which leave the message's ack alone, at most once per
 * {@linkcode PROGRESS_INTERVAL} per job (the last value wins).
 *
 * @module
 */
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";
import { ACCEPT_PROGRESS, PROGRESS, REPLY } from "../headers.ts";
import type { ProgressValue } from "../progress.ts";
import type { JobMetadata } from "./job.ts";

/** At most one progress publish per job this often, ms; values in between are coalesced. */
export const PROGRESS_INTERVAL = 200;

/**
 * Core subject prefix of progress updates: `$WALNATS.progress.<actor>`. The leading `$`
 * keeps it apart from event subjects (kebab-case) and so from every stream.
 */
export const PROGRESS_SUBJECT = "$WALNATS.progress";

/**
 * At most this many jobs' progress in one `health()`, all actors together (the earliest
 * started first): the listener's heartbeat carries `health()`, and 64 values of at most
 * 1 KiB keep it far below the server's message size limit.
 */
export const MAX_PROGRESS_JOBS = 64;

/**
 * A running job's latest progress, as `health()` shows it and the status subject carries
 * it (with `actor` and `event` there, and `done: true` once the job ended).
 *
 * @example Print the running jobs of a listener
 * ```ts
 * import type { ConnectedActors, RunningJobProgress } from "@walnats/walnats";
 *
 * const line = (job: RunningJobProgress): string =>
 *   `#${job.seq} attempt ${job.attempt}: ${JSON.stringify(job.progress)}`;
 * const print = (actors: ConnectedActors): void =>
 *   Object.values(actors.health().actors).forEach((a) => a.progress.map(line).forEach(console.info));
 * ```
 */
export interface RunningJobProgress {
  /** The message's stream sequence. */
  readonly seq: number;
  /** Which attempt runs. */
  readonly attempt: number;
  /** When the job started, epoch ms. */
  readonly started: number;
  /** When the job last reported progress, epoch ms. */
  readonly updated: number;
  /** The value last reported. */
  readonly progress: ProgressValue;
}

const encoder = new TextEncoder();
let progressHeaders: MsgHdrs | undefined;

/** The progress of one job: its latest value and the throttled publishes. */
export class JobProgress {
  readonly seq: number;
  readonly attempt: number;
  readonly started: number;
  updated = 0;
  readonly #board: ProgressBoard;
  readonly #inbox: string | undefined;
  #json = "null";
  #pending = false;
  #sentAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ended = false;

  constructor(board: ProgressBoard, seq: number, attempt: number, started: number, inbox?: string) {
    this.#board = board;
    this.seq = seq;
    this.attempt = attempt;
    this.started = started;
    this.#inbox = inbox;
  }

  /** The latest value. */
  get value(): ProgressValue {
    return JSON.parse(this.#json);
  }

  /** A new value (checked JSON): publish now, or when the interval since the last is over. */
  update(json: string): void {
    if (this.#ended) return;
    this.#json = json;
    this.updated = Date.now();
    this.#pending = true;
    if (this.#timer !== undefined) return;
    const wait = this.#sentAt + PROGRESS_INTERVAL - performance.now();
    if (wait <= 0) this.#send();
    else this.#timer = setTimeout(this.#flush, wait);
  }

  /** The job ended: send what is pending (before the response), then say it is done. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending) this.#send();
    this.#board.publishStatus(this, this.#json, true);
    this.#board.jobs.delete(this);
  }

  readonly #flush = (): void => {
    this.#timer = undefined;
    if (this.#pending && !this.#ended) this.#send();
  };

  #send(): void {
    this.#pending = false;
    this.#sentAt = performance.now();
    const nc = this.#board.nc;
    if (nc.isClosed()) return;
    try {
      if (this.#inbox !== undefined) {
        if (progressHeaders === undefined) {
          progressHeaders = natsHeaders();
          progressHeaders.set(PROGRESS, "1");
        }
        nc.publish(this.#inbox, encoder.encode(this.#json), { headers: progressHeaders });
      }
      this.#board.publishStatus(this, this.#json, false);
    } catch (error) {
      // Progress is a hint: a failed publish (closing connection) must not fail the job.
      this.#board.onError(error);
    }
  }
}

/** The progress of one actor's running jobs. */
export class ProgressBoard {
  readonly nc: NatsConnection;
  readonly actor: string;
  readonly event: string;
  /** Running jobs that reported progress. */
  readonly jobs: Set<JobProgress> = new Set();
  readonly onError: (error: unknown) => void;
  readonly #subject: string;

  /**
   * @param nc where to publish
   * @param actor the actor's name
   * @param event the actor's event name
   * @param onError told when a publish fails
   */
  constructor(
    nc: NatsConnection,
    actor: string,
    event: string,
    onError: (error: unknown) => void,
  ) {
    this.nc = nc;
    this.actor = actor;
    this.event = event;
    this.onError = onError;
    this.#subject = `${PROGRESS_SUBJECT}.${actor}`;
  }

  /**
   * A job's first report: keep track of it. Progress goes to the requester only when
   * the request said it accepts progress.
   *
   * @param attempt the job's attempt
   * @param metadata the delivery's metadata
   * @param headers the message's headers
   * @param started when the job started, `performance.now()` (NaN: now)
   */
  open(
    attempt: number,
    metadata: JobMetadata,
    headers: MsgHdrs | undefined,
    started: number,
  ): JobProgress {
    const inbox = headers?.has(ACCEPT_PROGRESS) ? headers.get(REPLY) || undefined : undefined;
    const now = performance.now();
    const startedAt = Date.now() - (Number.isNaN(started) ? 0 : now - started);
    const job = new JobProgress(this, metadata.streamSeq, attempt, Math.round(startedAt), inbox);
    this.jobs.add(job);
    return job;
  }

  /**
   * The running jobs' latest progress, in the order they first reported.
   * @param limit at most this many
   */
  snapshot(limit: number): RunningJobProgress[] {
    const out: RunningJobProgress[] = [];
    for (const job of this.jobs) {
      if (out.length >= limit) break;
      out.push({
        seq: job.seq,
        attempt: job.attempt,
        started: job.started,
        updated: job.updated,
        progress: job.value,
      });
    }
    return out;
  }

  /** Publish a job's progress (or its end) on the status subject. */
  publishStatus(job: JobProgress, json: string, done: boolean): void {
    if (this.nc.isClosed()) return;
    const body = `{"actor":${JSON.stringify(this.actor)},"event":${
      JSON.stringify(this.event)
    },"seq":${job.seq},"attempt":${job.attempt},"started":${job.started},"updated":${job.updated},"progress":${json}${
      done ? ',"done":true' : ""
    }}`;
    try {
      this.nc.publish(this.#subject, encoder.encode(body));
    } catch (error) {
      this.onError(error);
    }
  }
}

/** Where a running job keeps its progress (`JobControl` is one). */
export interface ProgressHolder {
  /** The job's progress: made on its first report, `null` once the job ended. */
  progress: JobProgress | null | undefined;
  /** When the job's clock started (`performance.now()`), or NaN before. */
  readonly started: number;
}

/**
 * A job reported progress (checked JSON): start tracking it on its first report; ignore
 * reports after it ended (a handler that ignored its abort).
 */
export function reportProgress(
  control: ProgressHolder,
  board: ProgressBoard,
  attempt: number,
  metadata: JobMetadata,
  headers: MsgHdrs | undefined,
  json: string,
): void {
  if (control.progress === null) return;
  (control.progress ??= board.open(attempt, metadata, headers, control.started)).update(json);
}

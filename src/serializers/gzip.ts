/**
 * A serializer wrapper that gzip-compresses another serializer's payloads.
 *
 * @module
 */

import { SerializerError } from "../errors.ts";
import type { Serializer } from "./serializer.ts";

/**
 * Options for {@linkcode gzip}.
 *
 * @example Accept up to 1 MiB decompressed
 * ```ts
 * import { gzip, type GzipOptions, jsonSerializer } from "@walnats/walnats";
 *
 * const options: GzipOptions = { maxSize: 1024 * 1024 };
 * const serializer = gzip(jsonSerializer, options);
 * ```
 */
export interface GzipOptions {
  /**
   * The largest decompressed payload `decode` accepts, in bytes. Decompression stops as soon as
   * the output grows past it, so a small "zip bomb" cannot exhaust memory: a decode holds at most
   * about twice this much.
   *
   * @default {16777216} (16 MiB)
   */
  maxSize?: number;
}

const DEFAULT_MAX_SIZE = 16 * 1024 * 1024;
// Deflate expands at most about 1032 times, and a runtime may inflate a whole input chunk into
// one buffer: feeding slices of maxSize / 1024 bounds each step's output to about maxSize.
const MAX_EXPANSION = 1024;
const MIN_SLICE = 1024;
const MAX_SLICE = 64 * 1024;

/**
 * Compress another serializer's payloads with gzip (`CompressionStream`), as the Python walnats'
 * `GZipSerializer` does, so either side reads the other's messages. Worth it for large, repetitive
 * messages; for small ones the gzip header and trailer (18 bytes) outweigh the gain.
 *
 * The compression level is the runtime's default: `CompressionStream` has no level option.
 *
 * @typeParam T the message type
 * @param inner the serializer whose payloads are compressed
 * @param options the decompression limit
 * @returns a serializer named `gzip(<inner name>)`
 * @throws {RangeError} if `maxSize` is not a positive integer
 * @throws {SerializerError} from `decode` for data that is not gzip, truncated or corrupt, or
 * that decompresses to more than `maxSize` bytes; errors of the inner serializer pass through
 *
 * @example Compress large reports
 * ```ts
 * import { Event, gzip, msgpack, typed } from "@walnats/walnats";
 *
 * interface Report {
 *   rows: string[];
 * }
 * const reportReady = new Event("report-ready", typed<Report>(), {
 *   // Refuse payloads that inflate beyond 1 MiB.
 *   serializer: gzip(msgpack<Report>(), { maxSize: 1024 * 1024 }),
 * });
 * const payload = await reportReady.serializer.encode({ rows: Array(1000).fill("la la la") });
 * console.log(reportReady.serializer.name, payload.length); // "gzip(msgpack)", about 110 (not 9 KB)
 * ```
 */
export function gzip<T>(inner: Serializer<T>, options: GzipOptions = {}): Serializer<T> {
  const maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
  if (!Number.isSafeInteger(maxSize) || maxSize <= 0) {
    throw new RangeError(
      `Cannot create gzip serializer: maxSize must be a positive integer, got ${maxSize}`,
    );
  }
  return new GzipSerializer(inner, maxSize);
}

class GzipSerializer<T> implements Serializer<T> {
  readonly name: string;
  readonly #inner: Serializer<T>;
  readonly #maxSize: number;
  readonly #slice: number;

  constructor(inner: Serializer<T>, maxSize: number) {
    this.name = `gzip(${inner.name})`;
    this.#inner = inner;
    this.#maxSize = maxSize;
    this.#slice = Math.min(MAX_SLICE, Math.max(MIN_SLICE, Math.floor(maxSize / MAX_EXPANSION)));
  }

  async encode(message: T): Promise<Uint8Array> {
    const data = await this.#inner.encode(message);
    const stream = new CompressionStream("gzip");
    const writer = stream.writable.getWriter();
    // Settled as the output is read; a failure would surface through the reader as well.
    writer.write(data as Uint8Array<ArrayBuffer>).catch(() => {});
    writer.close().catch(() => {});
    // Without a limit, readAll always returns the output.
    return (await readAll(stream.readable.getReader(), Infinity))!;
  }

  async decode(data: Uint8Array): Promise<T> {
    return await this.#inner.decode(await this.#decompress(data));
  }

  async #decompress(data: Uint8Array): Promise<Uint8Array> {
    const stream = new DecompressionStream("gzip");
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    feed(writer, data, this.#slice).catch(() => {});
    let output: Uint8Array | undefined;
    try {
      output = await readAll(reader, this.#maxSize);
    } catch (error) {
      throw new SerializerError(this.name, `invalid gzip data: ${reason(error)}`, { cause: error });
    }
    if (output === undefined) {
      throw new SerializerError(
        this.name,
        `decompressed payload is larger than the limit of ${this.#maxSize} bytes`,
      );
    }
    return output;
  }
}

/** Write `data` in slices, each after the previous one was taken (the stream's backpressure). */
async function feed(
  writer: WritableStreamDefaultWriter<Uint8Array<ArrayBuffer>>,
  data: Uint8Array,
  slice: number,
): Promise<void> {
  // Payloads live in ordinary ArrayBuffers; the type says ArrayBufferLike to allow shared ones.
  const bytes = data as Uint8Array<ArrayBuffer>;
  for (let start = 0; start < bytes.length; start += slice) {
    await writer.write(bytes.subarray(start, start + slice));
  }
  await writer.close();
}

/**
 * Read a byte stream to the end and join the chunks; `undefined` (after cancelling the stream)
 * as soon as more than `limit` bytes came out.
 */
async function readAll(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const output = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    output.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return output;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Framing for worker processes: messages cross stdin/stdout as
 * `"WNF1"` + length (u32 LE) + the runtime's structured-clone bytes (`node:v8`),
 * so Dates, Maps, typed arrays, … survive as they do through postMessage.
 *
 * @module
 */
import { deserialize, serialize } from "node:v8";

const MAGIC = [0x57, 0x4e, 0x46, 0x31]; // "WNF1"
const HEAD = 8;

/**
 * Encode one message as a frame.
 * @throws when the value cannot be cloned (functions, symbols, …)
 */
export function encodeFrame(message: unknown): Uint8Array {
  const body = serialize(message);
  const frame = new Uint8Array(HEAD + body.length);
  frame.set(MAGIC, 0);
  new DataView(frame.buffer).setUint32(4, body.length, true);
  frame.set(body, HEAD);
  return frame;
}

/** Collects chunks of a byte stream and yields whole messages. */
export class FrameReader {
  #buffer: Uint8Array = new Uint8Array(0);

  /**
   * Add a chunk; return the messages it completes.
   * @throws {TypeError} when the stream is not made of frames (someone else wrote to it)
   */
  push(chunk: Uint8Array): unknown[] {
    if (this.#buffer.length === 0) {
      this.#buffer = chunk;
    } else {
      const joined = new Uint8Array(this.#buffer.length + chunk.length);
      joined.set(this.#buffer);
      joined.set(chunk, this.#buffer.length);
      this.#buffer = joined;
    }
    const messages: unknown[] = [];
    let at = 0;
    const b = this.#buffer;
    while (b.length - at >= HEAD) {
      if (
        b[at] !== MAGIC[0] || b[at + 1] !== MAGIC[1] || b[at + 2] !== MAGIC[2] ||
        b[at + 3] !== MAGIC[3]
      ) {
        throw new TypeError("Unexpected bytes on the worker channel (not a walnats frame)");
      }
      const length = new DataView(b.buffer, b.byteOffset + at + 4, 4).getUint32(0, true);
      if (b.length - at - HEAD < length) break;
      messages.push(deserialize(b.subarray(at + HEAD, at + HEAD + length)));
      at += HEAD + length;
    }
    this.#buffer = at === b.length ? new Uint8Array(0) : b.slice(at);
    return messages;
  }
}

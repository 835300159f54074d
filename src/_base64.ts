/**
 * Base64 (RFC 4648) on every runtime: the runtime's own `Uint8Array.prototype.toBase64` and
 * `Uint8Array.fromBase64` where it has them (Deno, Bun), `btoa` and `atob` where it has not
 * (Node.js 20 to 24).
 *
 * @module
 */

type Alphabet = "base64" | "base64url";

interface NativeDecoder {
  fromBase64?: (text: string, options: { alphabet: Alphabet }) => Uint8Array<ArrayBuffer>;
}
type NativeEncoder = Uint8Array & { toBase64?: (options: { alphabet: Alphabet }) => string };

/** Encode bytes as base64 (with padding). */
export function toBase64(bytes: Uint8Array, alphabet: Alphabet = "base64"): string {
  const native = (bytes as NativeEncoder).toBase64;
  if (native !== undefined) return native.call(bytes, { alphabet });
  let binary = "";
  // Chunks keep the argument list of fromCharCode short.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  const text = btoa(binary);
  return alphabet === "base64" ? text : text.replaceAll("+", "-").replaceAll("/", "_");
}

/**
 * Decode base64, with or without its padding (ASCII whitespace is skipped).
 * @throws {SyntaxError} when `text` is not base64 of that alphabet
 */
export function fromBase64(text: string, alphabet: Alphabet = "base64"): Uint8Array<ArrayBuffer> {
  const native = (Uint8Array as NativeDecoder).fromBase64;
  if (native !== undefined) return native.call(Uint8Array, text, { alphabet });
  if (alphabet === "base64url" ? /[+/]/.test(text) : /[-_]/.test(text)) {
    throw new SyntaxError(`Not ${alphabet}: a character of the other alphabet`);
  }
  let binary: string;
  try {
    binary = atob(alphabet === "base64" ? text : text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch (error) {
    throw new SyntaxError(`Not ${alphabet}: ${(error as Error).message}`);
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

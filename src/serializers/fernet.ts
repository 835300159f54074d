/**
 * A serializer wrapper that encrypts another serializer's payloads as Fernet tokens.
 *
 * @module
 */

import { SerializerError } from "../errors.ts";
import type { Serializer } from "./serializer.ts";

/**
 * Options for {@linkcode fernet}.
 *
 * @example Reject tokens older than an hour
 * ```ts
 * import { fernet, jsonSerializer } from "@walnats/walnats";
 *
 * const key = Deno.env.get("FERNET_KEY") ?? "";
 * const serializer = fernet(jsonSerializer, key, { ttl: 60 * 60 * 1000 });
 * ```
 */
export interface FernetOptions {
  /**
   * The age after which `decode` rejects a token, in milliseconds. When it is set, tokens
   * stamped more than 60 seconds in the future are rejected too (the spec's clock skew), as
   * Python's `Fernet.decrypt(token, ttl)` does.
   *
   * @default {undefined} tokens never expire
   */
  ttl?: number;
  /**
   * The clock, in milliseconds since the Unix epoch: it stamps new tokens and judges their age.
   *
   * @default {Date.now}
   */
  now?: () => number;
}

/** Options the tests need and users must not have: a fixed IV makes equal messages visible. */
interface FernetInternalOptions extends FernetOptions {
  iv?: () => Uint8Array;
}

const VERSION = 0x80;
const BLOCK = 16;
const DIGEST = 32;
/** Version, timestamp and IV: what precedes the ciphertext. */
const PREFIX = 1 + 8 + BLOCK;
const MAX_CLOCK_SKEW = 60_000;

/**
 * Encrypt and sign another serializer's payloads as [Fernet](https://github.com/fernet/spec)
 * tokens (AES-128-CBC, then HMAC-SHA256 over the version, timestamp, IV and ciphertext), as the
 * Python walnats' `FernetSerializer` does with `cryptography.fernet`: either side reads the
 * other's messages. The payload is the token's url-safe base64 text.
 *
 * The key is imported once, on first use. Generate one with Python's `Fernet.generate_key()`,
 * or encode 32 random bytes as url-safe base64.
 *
 * @typeParam T the message type
 * @param inner the serializer whose payloads are encrypted
 * @param key 32 bytes in url-safe base64 (44 characters with the padding): the signing key, then
 * the encryption key
 * @param options a time-to-live for tokens and the clock
 * @returns a serializer named `fernet(<inner name>)`
 * @throws {TypeError} if the key is not 32 bytes of url-safe base64
 * @throws {RangeError} if `ttl` is not a positive number
 * @throws {SerializerError} from `decode` for tokens that are not url-safe base64, too short, of
 * another version, expired or from the future (with `ttl`), signed with another key or altered,
 * or that do not decrypt; errors of the inner serializer pass through
 *
 * @example Exchange encrypted messages with the Python walnats
 * ```ts
 * import { fernet, jsonSerializer } from "@walnats/walnats";
 *
 * // From Python: Fernet.generate_key().decode(); keep it out of the source.
 * const key = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
 * const encrypted = fernet(jsonSerializer, key, { ttl: 24 * 60 * 60 * 1000 });
 * const payload = await encrypted.encode({ secret: "s3cr3t" });
 * console.log(new TextDecoder().decode(payload)); // "gAAAAA…"
 * console.log(await encrypted.decode(payload)); // { secret: "s3cr3t" }
 * ```
 */
export function fernet<T>(
  inner: Serializer<T>,
  key: string,
  options: FernetOptions = {},
): Serializer<T> {
  const bytes = typeof key === "string" ? decodeBase64Url(new TextEncoder().encode(key)) : null;
  if (bytes === null || bytes.length !== 32) {
    throw new TypeError(
      "Cannot create Fernet serializer: the key must be 32 bytes in url-safe base64",
    );
  }
  const { ttl } = options;
  if (ttl !== undefined && !(ttl > 0 && Number.isFinite(ttl))) {
    throw new RangeError(
      `Cannot create Fernet serializer: ttl must be a positive number of milliseconds, got ${ttl}`,
    );
  }
  return new FernetSerializer(inner, bytes, options as FernetInternalOptions);
}

interface FernetKeys {
  signing: CryptoKey;
  encryption: CryptoKey;
}

class FernetSerializer<T> implements Serializer<T> {
  readonly name: string;
  readonly #inner: Serializer<T>;
  readonly #secret: Uint8Array<ArrayBuffer>;
  readonly #ttl: number | undefined;
  readonly #now: () => number;
  readonly #iv: () => Uint8Array;
  #keys: Promise<FernetKeys> | undefined;

  constructor(
    inner: Serializer<T>,
    secret: Uint8Array<ArrayBuffer>,
    options: FernetInternalOptions,
  ) {
    this.name = `fernet(${inner.name})`;
    this.#inner = inner;
    this.#secret = secret;
    this.#ttl = options.ttl;
    this.#now = options.now ?? Date.now;
    this.#iv = options.iv ?? (() => crypto.getRandomValues(new Uint8Array(BLOCK)));
  }

  async encode(message: T): Promise<Uint8Array> {
    const data = await this.#inner.encode(message);
    const keys = await this.#cryptoKeys();
    const iv = this.#iv() as Uint8Array<ArrayBuffer>;
    const ciphertext = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-CBC", iv },
        keys.encryption,
        data as Uint8Array<ArrayBuffer>,
      ),
    );
    const token = new Uint8Array(PREFIX + ciphertext.length + DIGEST);
    token[0] = VERSION;
    new DataView(token.buffer).setBigUint64(1, BigInt(Math.floor(this.#now() / 1000)));
    token.set(iv, 1 + 8);
    token.set(ciphertext, PREFIX);
    const signed = token.subarray(0, PREFIX + ciphertext.length);
    const digest = await crypto.subtle.sign("HMAC", keys.signing, signed);
    token.set(new Uint8Array(digest), signed.length);
    return encodeBase64Url(token);
  }

  async decode(data: Uint8Array): Promise<T> {
    const token = decodeBase64Url(data);
    if (token === null) throw this.#error("token is not valid url-safe base64");
    if (token.length < PREFIX + DIGEST) throw this.#error("token is too short");
    if (token[0] !== VERSION) {
      throw this.#error(`unsupported token version 0x${token[0]!.toString(16).padStart(2, "0")}`);
    }
    if (this.#ttl !== undefined) {
      const stamped = Number(new DataView(token.buffer).getBigUint64(1)) * 1000;
      const now = this.#now();
      if (stamped + this.#ttl < now) throw this.#error("token has expired");
      if (stamped > now + MAX_CLOCK_SKEW) {
        throw this.#error("token timestamp is too far in the future");
      }
    }
    const keys = await this.#cryptoKeys();
    const signed = token.subarray(0, token.length - DIGEST);
    const digest = token.subarray(token.length - DIGEST);
    // WebCrypto compares in constant time.
    if (!await crypto.subtle.verify("HMAC", keys.signing, digest, signed)) {
      throw this.#error("signature does not match");
    }
    const ciphertext = signed.subarray(PREFIX);
    if (ciphertext.length === 0 || ciphertext.length % BLOCK !== 0) {
      throw this.#error("ciphertext is not a whole number of 16-byte blocks");
    }
    let plaintext: ArrayBuffer;
    try {
      plaintext = await crypto.subtle.decrypt(
        { name: "AES-CBC", iv: token.subarray(1 + 8, PREFIX) },
        keys.encryption,
        ciphertext,
      );
    } catch (error) {
      throw this.#error("decryption failed: bad padding", error);
    }
    return await this.#inner.decode(new Uint8Array(plaintext));
  }

  #error(reason: string, cause?: unknown): SerializerError {
    return new SerializerError(this.name, reason, cause === undefined ? undefined : { cause });
  }

  #cryptoKeys(): Promise<FernetKeys> {
    return this.#keys ??= importKeys(this.#secret);
  }
}

async function importKeys(secret: Uint8Array<ArrayBuffer>): Promise<FernetKeys> {
  const [signing, encryption] = await Promise.all([
    crypto.subtle.importKey(
      "raw",
      secret.subarray(0, 16),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    ),
    crypto.subtle.importKey("raw", secret.subarray(16), "AES-CBC", false, ["encrypt", "decrypt"]),
  ]);
  return { signing, encryption };
}

// Url-safe base64 (RFC 4648 §5), with the padding the spec writes: the runtimes' own
// `Uint8Array.prototype.toBase64` / `Uint8Array.fromBase64` (Deno and Bun have both).
interface Base64Codec {
  fromBase64(text: string, options: { alphabet: "base64url" }): Uint8Array<ArrayBuffer>;
}
const ascii = new TextDecoder("ascii");
const encoder = new TextEncoder();

/** Url-safe base64 with padding, as ASCII bytes. */
function encodeBase64Url(bytes: Uint8Array): Uint8Array {
  const text = (bytes as Uint8Array & { toBase64(o: { alphabet: "base64url" }): string })
    .toBase64({ alphabet: "base64url" });
  return encoder.encode(text);
}

/** Decode url-safe base64 given as ASCII bytes, with or without the padding; `null` if invalid. */
function decodeBase64Url(text: Uint8Array): Uint8Array<ArrayBuffer> | null {
  try {
    return (Uint8Array as unknown as Base64Codec).fromBase64(ascii.decode(text), {
      alphabet: "base64url",
    });
  } catch {
    return null;
  }
}

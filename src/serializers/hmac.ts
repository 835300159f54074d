/**
 * A serializer wrapper that signs another serializer's payloads with HMAC.
 *
 * @module
 */

import { SerializerError } from "../errors.ts";
import type { Serializer } from "./serializer.ts";

/**
 * A hash function for {@linkcode hmac}.
 *
 * @example Sign with SHA-512
 * ```ts
 * import { hmac, type HmacHash, jsonSerializer } from "@walnats/walnats";
 *
 * const hash: HmacHash = "SHA-512";
 * const serializer = hmac(jsonSerializer, "a long shared secret", { hash });
 * ```
 */
export type HmacHash = "SHA-256" | "SHA-512";

/**
 * Options for {@linkcode hmac}.
 *
 * @example Sign with SHA-256
 * ```ts
 * import { hmac, type HmacOptions, jsonSerializer } from "@walnats/walnats";
 *
 * const options: HmacOptions = { hash: "SHA-256" };
 * const serializer = hmac(jsonSerializer, "a long shared secret", options);
 * ```
 */
export interface HmacOptions {
  /**
   * The hash function, when the key is given as bytes or a string; a `CryptoKey` carries its own
   * (SHA-1 and SHA-384 keys work too). The default matches the Python walnats'
   * `HMACSerializer` (`sha512`).
   *
   * @default {"SHA-512"}
   */
  hash?: HmacHash;
}

const DIGEST_LENGTHS: Readonly<Record<string, number>> = {
  "SHA-1": 20,
  "SHA-256": 32,
  "SHA-384": 48,
  "SHA-512": 64,
};

/**
 * Sign another serializer's payloads with HMAC, so that a consumer rejects messages that were
 * altered or made without the key. The payload is the digest followed by the inner payload, as
 * in the Python walnats' `HMACSerializer`, so either side reads the other's messages (with the
 * same key and hash). The message is signed, not encrypted: anyone can still read it.
 *
 * A key given as bytes or a string (UTF-8) is imported once, on first use. Use a random key at
 * least as long as the digest (32 bytes for SHA-256, 64 for SHA-512).
 *
 * @typeParam T the message type
 * @param inner the serializer whose payloads are signed
 * @param key an HMAC `CryptoKey` usable to sign and verify, or the raw key as bytes or a string
 * @param options the hash function
 * @returns a serializer named after the hash and the inner serializer, e.g. `hmac-sha512(json)`
 * @throws {RangeError} if the key is empty
 * @throws {TypeError} if the hash is not supported, or a `CryptoKey` is not an HMAC key that may
 * sign and verify, or its hash differs from `options.hash`
 * @throws {SerializerError} from `decode` when the payload is shorter than the digest or the
 * signature does not match (wrong key, altered payload); errors of the inner serializer pass
 * through
 *
 * @example Sign JSON
 * ```ts
 * import { hmac, jsonSerializer } from "@walnats/walnats";
 *
 * // Shared by every service that emits or handles the event; keep it out of the source.
 * const key = crypto.getRandomValues(new Uint8Array(64));
 * const signed = hmac(jsonSerializer, key);
 * const payload = await signed.encode({ amount: 10 });
 * console.log(signed.name, payload.length); // "hmac-sha512(json)", 64 + 13 bytes
 * console.log(await signed.decode(payload)); // { amount: 10 }
 * ```
 */
export function hmac<T>(
  inner: Serializer<T>,
  key: CryptoKey | Uint8Array | string,
  options: HmacOptions = {},
): Serializer<T> {
  if (typeof key === "string" || key instanceof Uint8Array) {
    const hash = options.hash ?? "SHA-512";
    if (!Object.hasOwn(DIGEST_LENGTHS, hash)) {
      throw new TypeError(`Cannot create HMAC serializer: unsupported hash "${hash}"`);
    }
    const bytes = typeof key === "string" ? new TextEncoder().encode(key) : key.slice();
    if (bytes.length === 0) throw new RangeError("Cannot create HMAC serializer: the key is empty");
    return new HmacSerializer(inner, hash, () => importKey(bytes, hash));
  }
  if (key.algorithm.name !== "HMAC") {
    throw new TypeError(
      `Cannot create HMAC serializer: the key is for "${key.algorithm.name}", not "HMAC"`,
    );
  }
  if (!key.usages.includes("sign") || !key.usages.includes("verify")) {
    throw new TypeError('Cannot create HMAC serializer: the key must allow "sign" and "verify"');
  }
  const hash =
    (key.algorithm as typeof key.algorithm & { readonly hash: { readonly name: string } })
      .hash.name;
  if (options.hash !== undefined && options.hash !== hash) {
    throw new TypeError(
      `Cannot create HMAC serializer: the key's hash "${hash}" differs from hash "${options.hash}"`,
    );
  }
  if (!Object.hasOwn(DIGEST_LENGTHS, hash)) {
    throw new TypeError(`Cannot create HMAC serializer: unsupported hash "${hash}"`);
  }
  return new HmacSerializer(inner, hash, () => Promise.resolve(key));
}

class HmacSerializer<T> implements Serializer<T> {
  readonly name: string;
  readonly #inner: Serializer<T>;
  readonly #digestLength: number;
  readonly #loadKey: () => Promise<CryptoKey>;
  #key: Promise<CryptoKey> | undefined;

  constructor(inner: Serializer<T>, hash: string, loadKey: () => Promise<CryptoKey>) {
    this.name = `hmac-${hash.replace("-", "").toLowerCase()}(${inner.name})`;
    this.#inner = inner;
    this.#digestLength = DIGEST_LENGTHS[hash]!; // checked by the factories
    this.#loadKey = loadKey;
  }

  async encode(message: T): Promise<Uint8Array> {
    const data = await this.#inner.encode(message);
    const digest = await crypto.subtle.sign(
      "HMAC",
      await this.#cryptoKey(),
      data as Uint8Array<ArrayBuffer>,
    );
    const payload = new Uint8Array(digest.byteLength + data.byteLength);
    payload.set(new Uint8Array(digest));
    payload.set(data, digest.byteLength);
    return payload;
  }

  async decode(data: Uint8Array): Promise<T> {
    if (data.length < this.#digestLength) {
      throw new SerializerError(
        this.name,
        `payload shorter than the digest (${data.length} of ${this.#digestLength} bytes)`,
      );
    }
    const bytes = data as Uint8Array<ArrayBuffer>;
    const digest = bytes.subarray(0, this.#digestLength);
    const body = bytes.subarray(this.#digestLength);
    // WebCrypto compares in constant time.
    if (!await crypto.subtle.verify("HMAC", await this.#cryptoKey(), digest, body)) {
      throw new SerializerError(this.name, "signature does not match");
    }
    return await this.#inner.decode(body);
  }

  #cryptoKey(): Promise<CryptoKey> {
    return this.#key ??= this.#loadKey();
  }
}

function importKey(bytes: Uint8Array<ArrayBuffer>, hash: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash }, false, ["sign", "verify"]);
}

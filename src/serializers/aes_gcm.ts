/**
 * A serializer wrapper that encrypts another serializer's payloads with AES-GCM, with key
 * rotation.
 *
 * @module
 */

import { SerializerError } from "../errors.ts";
import type { Serializer } from "./serializer.ts";

/**
 * The keys of an {@linkcode aesGcm} serializer, by id.
 *
 * @example Encrypt with the current key, decrypt with any
 * ```ts
 * import { aesGcm, type AesGcmKeys, jsonSerializer } from "@walnats/walnats";
 *
 * const keys: AesGcmKeys = {
 *   current: "2026",
 *   keys: { "2026": crypto.getRandomValues(new Uint8Array(32)) },
 * };
 * const serializer = aesGcm(jsonSerializer, keys);
 * ```
 */
export interface AesGcmKeys {
  /** The id of the key that encrypts new messages; it must be one of `keys`. */
  current: string;
  /**
   * Every key that may still have to decrypt a message, by id: AES-GCM `CryptoKey`s (allowed to
   * decrypt, and to encrypt for the current one) or raw keys of 16, 24 or 32 bytes. Ids are
   * 1 to 255 bytes of UTF-8 and travel in every payload in the clear.
   */
  keys: Readonly<Record<string, CryptoKey | Uint8Array>>;
}

const VERSION = 1;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const MAX_KEY_ID_LENGTH = 255;

/**
 * Encrypt and authenticate another serializer's payloads with AES-GCM. Each message gets a fresh
 * random 96-bit nonce and names the key that encrypted it, so keys can rotate without downtime:
 * add the new key to `keys` everywhere, then make it `current`, and drop the old key once no
 * message encrypted with it can still be delivered. Random nonces are safe for about 2^32
 * messages per key: rotate well before that.
 *
 * Payload layout (all of it authenticated; everything before the nonce is the associated data):
 *
 * | bytes | content |
 * |---|---|
 * | 1 | format version, `0x01` |
 * | 1 | key id length `n` (1 to 255) |
 * | n | key id, UTF-8 |
 * | 12 | nonce |
 * | rest | ciphertext, then the 16-byte tag |
 *
 * Keys given as bytes are imported once, on first use. The Python walnats has no such format:
 * use the `fernet` serializer to exchange encrypted messages with it.
 *
 * @typeParam T the message type
 * @param inner the serializer whose payloads are encrypted
 * @param keys the keys by id and the id of the one that encrypts
 * @returns a serializer named `aes-gcm(<inner name>)`
 * @throws {TypeError} if `current` is not one of `keys`, or a `CryptoKey` is not an AES-GCM key
 * with the usages it needs
 * @throws {RangeError} if a key id is empty or longer than 255 bytes, or a raw key is not 16, 24
 * or 32 bytes long
 * @throws {SerializerError} from `decode` for a truncated payload, an unknown format version or
 * key id, and when decryption fails (wrong key, altered payload); errors of the inner serializer
 * pass through
 *
 * @example Encrypt JSON, then rotate the key
 * ```ts
 * import { aesGcm, jsonSerializer } from "@walnats/walnats";
 *
 * const january = crypto.getRandomValues(new Uint8Array(32));
 * const february = crypto.getRandomValues(new Uint8Array(32));
 * const before = aesGcm(jsonSerializer, { current: "2025-01", keys: { "2025-01": january } });
 * const after = aesGcm(jsonSerializer, {
 *   current: "2025-02",
 *   keys: { "2025-01": january, "2025-02": february },
 * });
 * const payload = await before.encode({ card: "4242" });
 * console.log(await after.decode(payload)); // { card: "4242" }: in flight during the rotation
 * ```
 */
export function aesGcm<T>(inner: Serializer<T>, keys: AesGcmKeys): Serializer<T> {
  const slots = new Map<string, KeySlot>();
  for (const [id, key] of Object.entries(keys.keys)) {
    slots.set(id, keySlot(id, key, id === keys.current));
  }
  const current = slots.get(keys.current);
  if (current === undefined) {
    throw new TypeError(
      `Cannot create AES-GCM serializer: current key id "${keys.current}" is not in keys`,
    );
  }
  return new AesGcmSerializer(inner, current, slots);
}

/** A key and its header, with the `CryptoKey` imported on first use. */
class KeySlot {
  /** Version, key id length and key id: the start of every payload made with this key. */
  readonly header: Uint8Array<ArrayBuffer>;
  readonly #load: () => Promise<CryptoKey>;
  #key: Promise<CryptoKey> | undefined;

  constructor(header: Uint8Array<ArrayBuffer>, load: () => Promise<CryptoKey>) {
    this.header = header;
    this.#load = load;
  }

  cryptoKey(): Promise<CryptoKey> {
    return this.#key ??= this.#load();
  }
}

function keySlot(id: string, key: CryptoKey | Uint8Array, current: boolean): KeySlot {
  const idBytes = new TextEncoder().encode(id);
  if (idBytes.length === 0 || idBytes.length > MAX_KEY_ID_LENGTH) {
    throw new RangeError(
      `Cannot create AES-GCM serializer: key id "${id}" must be 1 to ${MAX_KEY_ID_LENGTH} bytes of UTF-8, got ${idBytes.length}`,
    );
  }
  const header = new Uint8Array(2 + idBytes.length);
  header[0] = VERSION;
  header[1] = idBytes.length;
  header.set(idBytes, 2);
  if (key instanceof Uint8Array) {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
      throw new RangeError(
        `Cannot create AES-GCM serializer: key "${id}" must be 16, 24 or 32 bytes long, got ${key.length}`,
      );
    }
    const bytes = key.slice();
    return new KeySlot(
      header,
      () => crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]),
    );
  }
  if (key.algorithm.name !== "AES-GCM") {
    throw new TypeError(
      `Cannot create AES-GCM serializer: key "${id}" is for "${key.algorithm.name}", not "AES-GCM"`,
    );
  }
  const usages: ("encrypt" | "decrypt")[] = current ? ["encrypt", "decrypt"] : ["decrypt"];
  for (const usage of usages) {
    if (!key.usages.includes(usage)) {
      throw new TypeError(
        `Cannot create AES-GCM serializer: key "${id}" must allow "${usage}"`,
      );
    }
  }
  return new KeySlot(header, () => Promise.resolve(key));
}

class AesGcmSerializer<T> implements Serializer<T> {
  readonly name: string;
  readonly #inner: Serializer<T>;
  readonly #current: KeySlot;
  readonly #slots: ReadonlyMap<string, KeySlot>;

  constructor(inner: Serializer<T>, current: KeySlot, slots: ReadonlyMap<string, KeySlot>) {
    this.name = `aes-gcm(${inner.name})`;
    this.#inner = inner;
    this.#current = current;
    this.#slots = slots;
  }

  async encode(message: T): Promise<Uint8Array> {
    const data = await this.#inner.encode(message);
    const { header } = this.#current;
    const nonceEnd = header.length + NONCE_LENGTH;
    const payload = new Uint8Array(nonceEnd + data.length + TAG_LENGTH);
    payload.set(header);
    const nonce = crypto.getRandomValues(payload.subarray(header.length, nonceEnd));
    const ciphertext = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: header },
      await this.#current.cryptoKey(),
      data as Uint8Array<ArrayBuffer>,
    );
    payload.set(new Uint8Array(ciphertext), nonceEnd);
    return payload;
  }

  async decode(data: Uint8Array): Promise<T> {
    if (data.length < 2) throw new SerializerError(this.name, "payload is truncated");
    if (data[0] !== VERSION) {
      throw new SerializerError(this.name, `unsupported payload version ${data[0]}`);
    }
    const headerEnd = 2 + data[1]!;
    const nonceEnd = headerEnd + NONCE_LENGTH;
    if (data.length < nonceEnd + TAG_LENGTH) {
      throw new SerializerError(this.name, "payload is truncated");
    }
    const bytes = data as Uint8Array<ArrayBuffer>;
    const id = new TextDecoder().decode(bytes.subarray(2, headerEnd));
    const slot = this.#slots.get(id);
    if (slot === undefined) {
      throw new SerializerError(this.name, `unknown key id ${JSON.stringify(id)}`);
    }
    let plaintext: ArrayBuffer;
    try {
      plaintext = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: bytes.subarray(headerEnd, nonceEnd),
          additionalData: bytes.subarray(0, headerEnd),
        },
        await slot.cryptoKey(),
        bytes.subarray(nonceEnd),
      );
    } catch (error) {
      throw new SerializerError(
        this.name,
        `decryption failed with key ${JSON.stringify(id)}: wrong key or altered payload`,
        { cause: error },
      );
    }
    return await this.#inner.decode(new Uint8Array(plaintext));
  }
}

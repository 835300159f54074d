/**
 * CloudEvents metadata, carried as `ce-*` headers.
 *
 * @module
 */

/**
 * CloudEvents 1.0 context attributes, as given to {@linkcode CloudEvent}.
 *
 * @example CloudEvents headers for an emit
 * ```ts
 * import { CloudEvent, type CloudEventAttributes } from "@walnats/walnats";
 *
 * const attributes: CloudEventAttributes = {
 *   id: crypto.randomUUID(),
 *   source: "/shop",
 *   type: "com.example.order.paid",
 * };
 * const headers = new CloudEvent(attributes).headers(); // [["ce-id", ...], ...]
 * ```
 */
export interface CloudEventAttributes {
  /** Identifies the event; unique per source. */
  readonly id: string;
  /** The context in which the event happened (a URI reference). */
  readonly source: string;
  /** The kind of event, e.g. `com.example.object.deleted.v2`. */
  readonly type: string;
  /** The CloudEvents version. @default "1.0" */
  readonly specversion?: string;
  /** The payload's content type, e.g. `application/json`. */
  readonly datacontenttype?: string;
  /** The payload's schema (a URI). */
  readonly dataschema?: string;
  /** The subject of the event within the source. */
  readonly subject?: string;
  /**
   * When the event happened. Written as the Python walnats writes it: ISO 8601 UTC with
   * microseconds when there is a fraction, e.g. `2026-12-03T03:49:18.001000Z`, else
   * `2026-12-03T03:49:18Z`.
   */
  readonly time?: Date;
  /** Extension attributes (lowercase alphanumeric names). */
  readonly extensions?: Readonly<Record<string, string>>;
}

const attributeName = /^[a-z0-9]{1,20}$/;

/**
 * `ce-time` as the Python walnats writes it (`f"{time.isoformat()}Z"` of a naive UTC
 * `datetime`): seconds, then six fraction digits only when the fraction is not zero.
 */
function formatTime(time: Date): string {
  const iso = time.toISOString(); // 2026-12-03T03:49:18.001Z
  const ms = time.getUTCMilliseconds();
  return `${iso.slice(0, iso.length - 5)}${ms === 0 ? "" : `.${String(ms).padStart(3, "0")}000`}Z`;
}

/**
 * CloudEvents 1.0 metadata for `emit({ meta })`. The attributes travel as
 * `ce-<attribute>` NATS headers, as the Python walnats writes them; without a `uid`, the
 * event's `id` is also the message's dedup id (`Nats-Msg-Id`), as in the Python walnats, so
 * emitting the same CloudEvent twice within the stream's duplicate window stores it once.
 *
 * @example Emit with CloudEvents metadata
 * ```ts
 * import { CloudEvent } from "@walnats/walnats";
 *
 * const meta = new CloudEvent({ id: "a1", source: "/shop", type: "com.example.order.placed" });
 * console.log(meta.headers()); // [["ce-id", "a1"], ["ce-source", "/shop"], ...]
 * ```
 */
export class CloudEvent {
  /** The attributes. */
  readonly attributes: CloudEventAttributes;

  /**
   * Check and keep the attributes.
   * @param attributes id, source, type and the optional attributes
   * @throws {TypeError} when a required attribute is empty or an extension name is invalid
   */
  constructor(attributes: CloudEventAttributes) {
    for (const key of ["id", "source", "type"] as const) {
      if (typeof attributes[key] !== "string" || attributes[key] === "") {
        throw new TypeError(`Invalid CloudEvent: "${key}" must be a non-empty string`);
      }
    }
    for (const name of Object.keys(attributes.extensions ?? {})) {
      if (!attributeName.test(name)) {
        throw new TypeError(
          `Invalid CloudEvent extension ${
            JSON.stringify(name)
          }: names are 1-20 lowercase letters or digits`,
        );
      }
    }
    this.attributes = attributes;
  }

  /**
   * The `ce-*` headers, in the order the Python walnats writes them.
   * @returns pairs of header name and value
   */
  headers(): [string, string][] {
    const a = this.attributes;
    const headers: [string, string][] = [
      ["ce-id", a.id],
      ["ce-source", a.source],
      ["ce-type", a.type],
      ["ce-specversion", a.specversion ?? "1.0"],
    ];
    if (a.datacontenttype) headers.push(["ce-datacontenttype", a.datacontenttype]);
    if (a.dataschema) headers.push(["ce-dataschema", a.dataschema]);
    if (a.subject) headers.push(["ce-subject", a.subject]);
    if (a.time) headers.push(["ce-time", formatTime(a.time)]);
    for (const [name, value] of Object.entries(a.extensions ?? {})) {
      headers.push([`ce-${name}`, value]);
    }
    return headers;
  }
}

/**
 * Which attempt a delivery is. The server counts deliveries; walnats counts attempts,
 * and a message delivered before its `Walnats-Delay` (naked with the remaining time)
 * did not use one.
 *
 * @module
 */
import type { Delivery } from "./delivery.ts";

/** One actor's early deliveries by stream sequence, while their messages are unsettled. */
export class Attempts {
  readonly #early = new Map<number, number>();

  /** `delivery` came before its delay ended and was given back. */
  early(delivery: Delivery): void {
    const seq = delivery.metadata.streamSeq;
    this.#early.set(seq, (this.#early.get(seq) ?? 0) + 1);
  }

  /** `delivery` is settled for good (acked or given up): forget its early deliveries. */
  forget(delivery: Delivery): void {
    if (this.#early.size > 0) this.#early.delete(delivery.metadata.streamSeq);
  }

  /**
   * The attempt `delivery` is. This process remembers the early deliveries it gave
   * back; for others, a message delivered again and stored before its delay ended was
   * delivered early once.
   *
   * @param delayUntil the message's `Walnats-Delay`, epoch ms, if it has one
   */
  of(delivery: Delivery, delayUntil: number | undefined): number {
    const { metadata } = delivery;
    const early = (this.#early.size > 0 ? this.#early.get(metadata.streamSeq) : undefined) ??
      (delayUntil !== undefined && metadata.timestamp < delayUntil && metadata.delivered > 1
        ? 1
        : 0);
    return Math.max(1, metadata.delivered - early);
  }
}

import { addressKey } from '../limits/address-key.js';

/** Slots a window is cut into: a charge is let go one to two slots (`windowMs / 8`) after its session expired. */
const SLOTS = 8;

/**
 * Bytes of recovery sessions this node kept in Redis for one client address's dropped connections,
 * over the last `windowMs` (`limits.maxRecoveryBytesPerIp`; see README "Limits"). A kept session
 * lives `windowMs` in Redis (less when restored, which claims it), so what one address holds there
 * at once is at most `maxBytes`: without it a client that connects, subscribes to 1,000 long
 * channel names and kills its connection, in a loop, kept about 450 KB a drop for the whole
 * window (650 MB from one process in a minute).
 *
 * A charge is counted until `windowMs` after the end of the slot after its own: never less than the
 * session it stands for lives. Time is the monotonic clock (`performance.now()`): a wall clock
 * stepped back would hold the charges that much longer. Memory: per address with a charge in the
 * window, at most `SLOTS + 1` numbers; addresses are let go once their charges expire.
 */
export class KeptSessionBudget {
  private readonly slotMs: number;
  /** Per address: bytes charged per slot (slot index → bytes), oldest first, and their sum. */
  private readonly addresses = new Map<string, { slots: Map<number, number>; total: number }>();
  private sweptSlot = 0;

  constructor(
    readonly maxBytes: number,
    private readonly windowMs: number,
  ) {
    this.slotMs = Math.max(1, Math.ceil(windowMs / SLOTS));
  }

  /**
   * Charges `bytes` to `client` (its `addressKey`: an IPv6 client by its /64) if that keeps it within
   * `maxBytes`; false (nothing charged) if not.
   */
  charge(client: string, bytes: number, now = performance.now()): boolean {
    const address = addressKey(client);
    const slot = Math.floor(now / this.slotMs);
    this.sweep(slot);
    let entry = this.addresses.get(address);
    if (entry) this.expire(entry, slot);
    if ((entry?.total ?? 0) + bytes > this.maxBytes) return false;
    if (!entry) this.addresses.set(address, (entry = { slots: new Map(), total: 0 }));
    entry.slots.set(slot, (entry.slots.get(slot) ?? 0) + bytes);
    entry.total += bytes;
    return true;
  }

  /** Bytes counted for `client` (its `addressKey`) now. */
  held(client: string, now = performance.now()): number {
    const entry = this.addresses.get(addressKey(client));
    if (!entry) return 0;
    this.expire(entry, Math.floor(now / this.slotMs));
    return entry.total;
  }

  /** Addresses with a charge still counted (for the specs). */
  get size(): number {
    return this.addresses.size;
  }

  /** Drops the charges of `entry` whose sessions have all expired by slot `now`. */
  private expire(entry: { slots: Map<number, number>; total: number }, now: number): void {
    for (const [slot, bytes] of entry.slots) {
      // Charged within slot `slot`: its session expires `windowMs` after the write lands, a few ms
      // after the charge; let go a whole slot later than that, so never before the session.
      if ((slot + 2) * this.slotMs + this.windowMs > now * this.slotMs) break;
      entry.slots.delete(slot);
      entry.total -= bytes;
    }
  }

  /** Once a slot: lets go of addresses whose charges all expired (they may never drop again). */
  private sweep(slot: number): void {
    if (slot === this.sweptSlot) return;
    this.sweptSlot = slot;
    for (const [address, entry] of this.addresses) {
      this.expire(entry, slot);
      if (entry.total === 0) this.addresses.delete(address);
    }
  }
}

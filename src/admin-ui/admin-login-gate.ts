import { ConcurrencyLimit } from '../auth/concurrency-limit.js';
import { addressKey } from '../limits/address-key.js';

/**
 * What bounds the bcrypt work of Admin UI logins, about 0.1 s of CPU each. Constants, like bcrypt's
 * cost: unlimited, 100 wrong logins at once held the event loop for seconds (every socket of the
 * node waited, `/ready` took 8.9 s), when bcrypt still ran on it. On its worker thread
 * (`BcryptWorker`), it still takes CPU time the node's sockets need.
 */
export const ADMIN_LOGIN_LIMITS = {
  /** Password checks of the node running at once (its one worker thread runs them one after another). */
  checksAtOnce: 1,
  /** Further checks waiting for one of those; a login beyond them is refused at once. */
  waiting: 8,
  /** Failed logins (and checks still running) one client address may have in a window. */
  failuresPerAddress: 5,
  /** The window, from the address's first counted login. */
  windowMs: 60_000,
} as const;

export type AdminLoginLimits = { readonly [K in keyof typeof ADMIN_LOGIN_LIMITS]: number };

/** `too_many_failures`: the address used up its failed logins of the window; `busy`: the node's checks and queue are full. */
export type AdminLoginRefusal = 'too_many_failures' | 'busy';

/** One address's logins of its current window: failed ones and those still being checked. */
interface Budget {
  readonly start: number;
  used: number;
}

/** Addresses remembered before expired windows are swept (a flood from many addresses stays bounded). */
const SWEEP_AT = 1000;

/**
 * Waits as long as a check took before the next may start. On the event loop, checks back to back
 * kept a readiness probe waiting behind every connection that came before it (seconds, under a
 * burst). On a worker thread they hold no socket up, but a burst of logins would still keep a core
 * busy, all of a one-CPU container's: resting as long leaves at least half of it to the node.
 */
export function restAfterCheck(checkMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, checkMs).unref());
}

/**
 * Admits Admin UI logins to their password check: at most `failuresPerAddress` per client address
 * and window, counted when admitted (a burst cannot overshoot by arriving before the first check
 * ends) and given back when the password matched; and at most `checksAtOnce` checks of the node at
 * once, each followed by `rest`, `waiting` more in line. A login refused is refused before its
 * check, so it costs no bcrypt.
 */
export class AdminLoginGate {
  private readonly slots: ConcurrencyLimit;
  private readonly budgets = new Map<string, Budget>();

  constructor(
    private readonly limits: AdminLoginLimits = ADMIN_LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
    private readonly rest: (checkMs: number) => Promise<void> = restAfterCheck,
  ) {
    this.slots = new ConcurrencyLimit(limits.checksAtOnce);
  }

  /**
   * Runs `check` for a login from `address` (once a slot is free) when both limits allow it, or
   * names the one that refuses it. `check` resolves true when the password matched: the login is
   * then given back to the address; otherwise (false, or a rejection) it stays counted as failed
   * until the address's window ends. An address counts under its `addressKey` (an IPv6 client by its /64).
   */
  attempt(client: string, check: () => Promise<boolean>): AdminLoginRefusal | undefined {
    const address = addressKey(client);
    const now = this.now();
    const current = this.budgets.get(address);
    const open = current !== undefined && now - current.start < this.limits.windowMs;
    if (open && current.used >= this.limits.failuresPerAddress) return 'too_many_failures';
    if (this.slots.active >= this.limits.checksAtOnce && this.slots.queued >= this.limits.waiting) return 'busy';
    let budget: Budget;
    if (open) {
      budget = current;
    } else {
      if (!current && this.budgets.size >= SWEEP_AT) this.sweep(now);
      budget = { start: now, used: 0 };
      this.budgets.set(address, budget);
    }
    budget.used++;
    void this.slots
      .run(() => this.checkThenRest(check))
      .then(
        (matched) => {
          if (matched) this.giveBack(address, budget);
        },
        () => undefined,
      );
    return undefined;
  }

  /** Addresses with failed logins in their window now (for tests). */
  get addresses(): number {
    return this.budgets.size;
  }

  /** Runs `check`, then holds its slot for `rest`. */
  private async checkThenRest(check: () => Promise<boolean>): Promise<boolean> {
    const started = performance.now();
    try {
      return await check();
    } finally {
      await this.rest(performance.now() - started);
    }
  }

  private giveBack(address: string, budget: Budget): void {
    budget.used--;
    if (budget.used === 0 && this.budgets.get(address) === budget) this.budgets.delete(address);
  }

  private sweep(now: number): void {
    for (const [address, budget] of this.budgets) {
      if (now - budget.start >= this.limits.windowMs) this.budgets.delete(address);
    }
  }
}

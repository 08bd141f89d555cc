// Global caps of the forwarding proxy. Each request, each buffered body byte, each TXID wait and
// each open upgraded connection (WebSocket) takes from an allowance and gives back when done; an empty allowance is answered 503 +
// Retry-After instead of queueing, so memory stays bounded whatever clients send.

/** A counter with a ceiling: take() refuses instead of going over. */
export class Allowance {
  #inUse = 0;
  constructor(
    /** What is counted, for the 503 text (e.g. "concurrent requests"). */
    readonly what: string,
    readonly limit: number,
    /** The setting's environment variable, named in the 503 text. */
    readonly env: string,
  ) {}

  get inUse(): number {
    return this.#inUse;
  }

  /** Takes `amount` when it fits under the limit; false (and nothing taken) otherwise. */
  take(amount = 1): boolean {
    if (this.#inUse + amount > this.limit) return false;
    this.#inUse += amount;
    return true;
  }

  give(amount = 1): void {
    this.#inUse = Math.max(0, this.#inUse - amount);
  }

  /** Text for the 503 answer. */
  exhausted(): string {
    return `litefs-node forward: over capacity (${this.what}: limit ${this.limit}, ${this.env}); retry shortly`;
  }
}

export interface ProxyBudgets {
  readonly requests: Allowance;
  readonly bodyBytes: Allowance;
  readonly txidWaits: Allowance;
  /** Upgraded connections hold no body memory but two sockets each for as long as they last. */
  readonly upgrades: Allowance;
}

export function createProxyBudgets(limits: {
  maxRequests: number;
  bodyBudgetBytes: number;
  maxTxidWaits: number;
  maxUpgrades: number;
}): ProxyBudgets {
  return {
    requests: new Allowance("concurrent requests", limits.maxRequests, "LITEFS_FORWARD_MAX_REQUESTS"),
    bodyBytes: new Allowance("buffered request body bytes", limits.bodyBudgetBytes, "LITEFS_FORWARD_BODY_BUDGET"),
    txidWaits: new Allowance("reads waiting for a TXID", limits.maxTxidWaits, "LITEFS_FORWARD_MAX_TXID_WAITS"),
    upgrades: new Allowance(
      "open upgraded connections (WebSockets)",
      limits.maxUpgrades,
      "LITEFS_FORWARD_MAX_UPGRADES",
    ),
  };
}

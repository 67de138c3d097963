/**
 * What a notification says: the JSON body of each kind, built from indexed events, with amounts in token units
 * and base units, times in ISO and unix, and a link into the console. Token symbols and decimals are read once
 * per token (ERC-20 `symbol()` / `decimals()`; unknown tokens fall back to the address and 0 decimals).
 */
import { Contract, ZeroAddress, formatUnits, getAddress, type Provider } from "ethers";

/** The kinds of notification. */
export type NotificationType =
  "approval.requested" | "operation.queued" | "budget.threshold" | "breaker.tripped" | "paused" | "session.expiring";

/** A time, both ways. */
export interface TimeFact {
  unix: number;
  iso: string;
}

/** A token amount, both ways. */
export interface AmountFact {
  token: string;
  symbol: string;
  decimals: number;
  /** Base units (decimal string). */
  base: string;
  /** Token units (`formatUnits(base, decimals)`). */
  units: string;
}

/** The JSON body of a notification (the fields after `link` depend on `type`). */
export interface NotificationBody {
  id: string;
  type: NotificationType;
  chainId: string;
  account: string;
  /** When it happened on chain (block time), or when the notifier noticed it (`session.expiring`). */
  at: TimeFact;
  block?: string;
  txHash?: string;
  /** Where to answer it in the console. */
  link: string;
  [field: string]: unknown;
}

/** A time as {@link TimeFact}. */
export function timeFact(unix: bigint | number): TimeFact {
  const n = Number(unix);
  return { unix: n, iso: new Date(n * 1000).toISOString() };
}

interface TokenInfo {
  symbol: string;
  decimals: number;
}

const ERC20_METADATA = ["function symbol() view returns (string)", "function decimals() view returns (uint8)"];

/** Reads and caches token symbols and decimals. */
export class TokenBook {
  private readonly cache = new Map<string, Promise<TokenInfo>>();

  constructor(
    private readonly provider: Provider,
    /** Known tokens (lower-case address → info), e.g. from the CLI's registry. */
    known: ReadonlyMap<string, TokenInfo> = new Map(),
  ) {
    this.cache.set(ZeroAddress, Promise.resolve({ symbol: "ETH", decimals: 18 }));
    for (const [a, t] of known) this.cache.set(a.toLowerCase(), Promise.resolve(t));
  }

  /** Symbol and decimals of `token`. */
  info(token: string): Promise<TokenInfo> {
    const key = token.toLowerCase();
    let p = this.cache.get(key);
    if (!p) {
      const c = new Contract(token, ERC20_METADATA, this.provider);
      p = Promise.all([
        (c.symbol() as Promise<string>).catch(() => getAddress(token)),
        (c.decimals() as Promise<bigint>).then(Number).catch(() => 0),
      ]).then(([symbol, decimals]) => ({ symbol, decimals }));
      this.cache.set(key, p);
    }
    return p;
  }

  /** `base` of `token` as an {@link AmountFact}. */
  async amount(token: string, base: bigint): Promise<AmountFact> {
    const t = await this.info(token);
    return {
      token: getAddress(token),
      symbol: t.symbol,
      decimals: t.decimals,
      base: base.toString(),
      units: formatUnits(base, t.decimals),
    };
  }
}

/** `<consoleUrl>/#/<route>` without a doubled slash. */
export function consoleLink(consoleUrl: string, route: string): string {
  return `${consoleUrl.replace(/\/+$/, "")}/#/${route}`;
}

/**
 * {@link TokenBook}: symbol and decimals of the tokens the console shows, read on chain (`symbol()`,
 * `decimals()`) once and cached; `ETH` for the zero address. A registry (from `--token` / reins.config.json)
 * names tokens ahead of time so balances list them.
 */
import { Contract, ZeroAddress, getAddress, type Provider } from "ethers";

/** A token as the pages show it. */
export interface TokenMeta {
  address: string;
  symbol: string;
  decimals: number;
}

const ERC20 = [
  "function symbol() view returns (string)",
  "function decimals() view returns (uint8)",
  "function balanceOf(address) view returns (uint256)",
];

/** Token metadata, read once per address. */
export class TokenBook {
  private readonly cache = new Map<string, TokenMeta>();

  /** `known`: tokens named ahead (their symbols win; decimals are always read on chain). */
  constructor(
    private readonly provider: Provider,
    readonly known: { symbol: string; address: string }[] = [],
  ) {}

  /** Symbol and decimals of `address` (zero address: ETH, 18). Unknown contracts: the address, 0 decimals. */
  async meta(address: string): Promise<TokenMeta> {
    const a = getAddress(address);
    if (a === ZeroAddress) return { address: a, symbol: "ETH", decimals: 18 };
    const hit = this.cache.get(a);
    if (hit) return hit;
    const c = new Contract(a, ERC20, this.provider);
    let decimals = 0;
    let symbol = this.known.find((k) => getAddress(k.address) === a)?.symbol ?? a;
    try {
      decimals = Number(await c.getFunction("decimals")());
    } catch {
      /* no decimals(): base units */
    }
    if (symbol === a) {
      try {
        symbol = String(await c.getFunction("symbol")());
      } catch {
        /* keep the address */
      }
    }
    const meta = { address: a, symbol, decimals };
    this.cache.set(a, meta);
    return meta;
  }

  /** Balance of `holder` in `token` (ETH for the zero address). */
  async balance(token: string, holder: string): Promise<bigint> {
    if (getAddress(token) === ZeroAddress) return this.provider.getBalance(holder);
    const c = new Contract(token, ERC20, this.provider);
    return BigInt(await c.getFunction("balanceOf")(holder));
  }
}

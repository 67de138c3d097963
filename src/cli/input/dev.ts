/**
 * The typed input of `reins dev`, parsed from the command line before anything starts (no I/O).
 */
import path from "node:path";
import { str, type Invocation } from "../args.js";
import { UsageError } from "../errors.js";

/** What `reins dev` runs with. */
export interface DevInput {
  /** Chain id of the anvil chain (e.g. 84532 to rehearse Base Sepolia). */
  chainId: bigint;
  /** anvil's loopback port; 0 = a free one. */
  port: number;
  /** Alto's loopback port; 0 = a free one. */
  bundlerPort: number;
  /** Absolute folder the deployment record `<chainId>.json` is written to. */
  deploymentsDir: string;
  /** Absolute file the `export` lines are also written to. */
  envFile?: string;
  json: boolean;
}

/** A TCP port flag: 0 (any free port) or 1…65535. */
export function parsePort(raw: string, flag: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65_535) {
    throw new UsageError(`${flag}: expected a port 0…65535 (0 = any free port), got ${raw}`);
  }
  return Number(raw);
}

/** A chain id: a positive integer below 2^53 (what wallets and anvil accept). */
export function parseChainId(raw: string): bigint {
  if (!/^\d{1,16}$/.test(raw) || BigInt(raw) === 0n || BigInt(raw) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new UsageError(`--chain-id: expected a positive integer (e.g. 31337 or 84532), got ${raw}`);
  }
  return BigInt(raw);
}

/** Parse `reins dev`'s options. */
export function parseDevInput(inv: Invocation): DevInput {
  for (const g of ["rpc", "bundler", "deployment", "direct"] as const) {
    if (inv.options[g] !== undefined) {
      throw new UsageError(
        `reins dev starts its own chain and bundler: --${g} does not apply (use --port / --bundler-port)`,
      );
    }
  }
  const envFile = str(inv, "write-env");
  return {
    chainId: parseChainId(str(inv, "chain-id") ?? "31337"),
    port: parsePort(str(inv, "port") ?? "8545", "--port"),
    bundlerPort: parsePort(str(inv, "bundler-port") ?? "4337", "--bundler-port"),
    deploymentsDir: path.resolve(str(inv, "deployments") ?? process.env.REINS_DEPLOYMENTS ?? ".reins-dev"),
    ...(envFile !== undefined ? { envFile: path.resolve(envFile) } : {}),
    json: inv.json,
  };
}

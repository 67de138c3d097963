/**
 * The global options of every command, resolved once from the command line, the environment and
 * `reins.config.json` (flags win over the environment, the environment over the file) and validated before the
 * command acts: URLs, the deployment record's location and the token registry. {@link CliContext} reads only this.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { isAddress } from "ethers";
import { flag, list, str, type Invocation } from "../args.js";
import { UsageError } from "../errors.js";

/** A token named on the command line, in the environment or in the config file. */
export interface TokenEntry {
  address: string;
  /** Declared decimals: only checked against `decimals()` on chain, never trusted over it. */
  decimals?: number;
}

/** The resolved global options. */
export interface GlobalInput {
  /** JSON-RPC endpoint (http or https). */
  rpcUrl: string;
  /** Bundler endpoint, if any. */
  bundlerUrl?: string;
  /** `--direct`: `handleOps` from the acting key on a non-dev chain. */
  direct: boolean;
  /** `--deployment` / `REINS_DEPLOYMENT`: an explicit record (absolute path). */
  deploymentFile?: string;
  /** Folder of `<chainId>.json` records (absolute). */
  deploymentsDir: string;
  /** Whether that folder was chosen (else the packaged records are a fallback). */
  deploymentsChosen: boolean;
  /** Symbol (upper case) → token. */
  tokens: Record<string, TokenEntry>;
  json: boolean;
}

/** The optional `reins.config.json`. */
interface ConfigFile {
  rpc?: string;
  bundler?: string;
  deployments?: string;
  tokens?: Record<string, string | { address: string; decimals?: number }>;
}

function url(raw: string, what: string, httpOnly: boolean): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`${what}: not a URL: ${raw}`);
  }
  if (httpOnly && u.protocol !== "http:" && u.protocol !== "https:")
    throw new UsageError(`${what}: must be http(s): ${raw}`);
  return raw;
}

const TOKEN_SPEC = /^([A-Za-z0-9_.-]+)=(0x[0-9a-fA-F]{40})(?::(\d{1,2}))?$/;

/** Resolve and validate the global options of `inv`. Throws {@link UsageError}. */
export function parseGlobals(inv: Invocation): GlobalInput {
  const explicitConfig = str(inv, "config");
  const configFile = path.resolve(explicitConfig ?? "reins.config.json");
  let config: ConfigFile = {};
  if (explicitConfig !== undefined || existsSync(configFile)) {
    try {
      config = JSON.parse(readFileSync(configFile, "utf8")) as ConfigFile;
    } catch (e) {
      throw new UsageError(`config ${configFile}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  const rpcUrl = url(
    str(inv, "rpc") ?? process.env.REINS_RPC_URL ?? config.rpc ?? "http://127.0.0.1:8545",
    "--rpc",
    true,
  );
  const bundlerRaw = str(inv, "bundler") ?? process.env.REINS_BUNDLER_URL ?? config.bundler;
  const dirFlag = str(inv, "deployments") ?? process.env.REINS_DEPLOYMENTS;
  const deploymentsDir = dirFlag
    ? path.resolve(dirFlag)
    : config.deployments
      ? path.resolve(path.dirname(configFile), config.deployments)
      : path.resolve("deployments");
  const deploymentFlag = str(inv, "deployment") ?? process.env.REINS_DEPLOYMENT;

  const tokens: Record<string, TokenEntry> = {};
  for (const [sym, v] of Object.entries(config.tokens ?? {})) {
    const entry = typeof v === "string" ? { address: v } : v;
    if (!isAddress(entry.address)) throw new UsageError(`config tokens.${sym}: not an address: ${entry.address}`);
    tokens[sym.toUpperCase()] = entry;
  }
  const fromEnv = (process.env.REINS_TOKENS ?? "").split(",").filter((t) => t.trim() !== "");
  for (const [what, raw] of [
    ...fromEnv.map((t) => ["REINS_TOKENS", t.trim()] as const),
    ...list(inv, "token").map((t) => ["--token", t] as const),
  ]) {
    const m = TOKEN_SPEC.exec(raw);
    if (!m) throw new UsageError(`${what}: expected SYMBOL=0xaddress[:decimals], got ${raw}`);
    if (!isAddress(m[2])) throw new UsageError(`${what} ${m[1]}: not an address: ${m[2]}`);
    tokens[m[1].toUpperCase()] = { address: m[2], ...(m[3] !== undefined ? { decimals: Number(m[3]) } : {}) };
  }
  return {
    rpcUrl,
    ...(bundlerRaw ? { bundlerUrl: url(bundlerRaw, "--bundler", false) } : {}),
    direct: flag(inv, "direct"),
    ...(deploymentFlag ? { deploymentFile: path.resolve(deploymentFlag) } : {}),
    deploymentsDir,
    deploymentsChosen: !!dirFlag || !!config.deployments,
    tokens,
    json: inv.json,
  };
}

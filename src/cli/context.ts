/**
 * What every chain command needs, resolved and checked before anything is sent: the RPC (and its chain id),
 * the deployment record for that chain, the token registry, keys from the environment, the transport, and the
 * account (an address with code).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { Contract, JsonRpcProvider, Network, Wallet, ZeroAddress, getAddress, isAddress, type Provider } from "ethers";
import { BundlerSender } from "../client/transport/bundler.js";
import { DirectSender } from "../client/transport/direct.js";
import type { OperationSender } from "../client/transport/sender.js";
import { ReinsOwner, type ReinsDeployment } from "../client/owner.js";
import { parseAmount } from "../client/units.js";
import { PolicyError } from "../client/errors.js";
import type { TokenRegistry } from "../client/policy.js";
import {
  DeploymentRecordError,
  clientDeployment,
  packagedDeploymentsDir,
  readDeploymentRecord,
  type DeploymentRecord,
} from "../deploy/records.js";
import { OwnerValidator__factory } from "../../types/ethers-contracts/index.js";
import { str, type Invocation } from "./args.js";
import { parseGlobals, type GlobalInput } from "./input/globals.js";
import { FailureError, UsageError } from "./errors.js";

/** A resolved token. */
export interface Token {
  symbol: string;
  address: string;
  decimals: number;
}

const NATIVE: Token = { symbol: "ETH", address: ZeroAddress, decimals: 18 };

/** Parse an address argument; `what` names it in the one-line error. */
export function parseAddress(raw: string | undefined, what: string): string {
  if (raw === undefined || raw === "") throw new UsageError(`${what} is required`);
  if (!isAddress(raw)) throw new UsageError(`${what}: not an address: ${raw}`);
  return getAddress(raw);
}

/** Parse a bytes32 id (session id, queue id). */
export function parseId(raw: string, what: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(raw)) throw new UsageError(`${what}: not a 32-byte hex id: ${raw}`);
  return raw.toLowerCase();
}

/** Parse a decimal amount in whole tokens; too many decimals / malformed → {@link UsageError}. */
export function parseHumanAmount(raw: string, token: Token, what = "amount"): bigint {
  try {
    return parseAmount(raw, token.decimals, what);
  } catch (e) {
    if (e instanceof PolicyError) {
      if (e.reason === "too many decimals") {
        throw new UsageError(`${what}: ${raw} has more than ${token.decimals} decimals (${token.symbol})`);
      }
      throw new UsageError(`${what}: not a decimal amount: ${raw}`);
    }
    throw e;
  }
}

/** A private key from environment variable `name` (no network); unset or invalid → {@link UsageError}. */
export function readKey(name: string, role: string): Wallet {
  const raw = process.env[name];
  if (!raw) throw new UsageError(`environment variable ${name} (${role} private key) is not set`);
  try {
    return new Wallet(raw.startsWith("0x") ? raw : `0x${raw}`);
  } catch {
    throw new UsageError(`environment variable ${name} does not hold a valid private key`);
  }
}

/** Everything a chain command needs. Built lazily: `--help` and usage errors never touch the network. */
export class CliContext {
  readonly inv: Invocation;
  /** The global options, resolved and validated once. */
  readonly globals: GlobalInput;
  private providerValue?: JsonRpcProvider;
  private chain?: bigint;
  private dev?: boolean;
  private deploymentValue?: { record: DeploymentRecord; reins: ReinsDeployment; file: string };
  private readonly tokenCache = new Map<string, Token>();

  constructor(inv: Invocation, globals: GlobalInput = inv.globals ?? parseGlobals(inv)) {
    this.inv = inv;
    this.globals = globals;
  }

  get rpcUrl(): string {
    return this.globals.rpcUrl;
  }

  get bundlerUrl(): string | undefined {
    return this.globals.bundlerUrl;
  }

  /** Connect (one `eth_chainId` with a timeout: an unreachable RPC fails fast with one line). */
  async provider(): Promise<JsonRpcProvider> {
    if (this.providerValue) return this.providerValue;
    const url = this.rpcUrl;
    let chainId: bigint;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as { result?: string; error?: { message: string } };
      if (!body.result) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
      chainId = BigInt(body.result);
    } catch (e) {
      throw new FailureError(`cannot reach the RPC at ${url}: ${(e as Error).message}`);
    }
    const provider = new JsonRpcProvider(url, Network.from(chainId), {
      staticNetwork: true,
      batchMaxCount: 1,
      cacheTimeout: -1, // no 250 ms request cache: a read right after a write must see it
    });
    provider.pollingInterval = 250;
    this.chain = chainId;
    this.providerValue = provider;
    return provider;
  }

  async chainId(): Promise<bigint> {
    await this.provider();
    return this.chain!;
  }

  /** Hardhat/EDR, anvil or ganache. */
  async isDevChain(): Promise<boolean> {
    if (this.dev === undefined) {
      try {
        const version = String(await (await this.provider()).send("web3_clientVersion", []));
        this.dev = /hardhat|edr|anvil|ganache/i.test(version);
      } catch {
        this.dev = false;
      }
    }
    return this.dev;
  }

  get deploymentsDir(): string {
    return this.globals.deploymentsDir;
  }

  /**
   * The deployment record of this chain; refuses a record for another chain ("wrong network") and a chain on
   * which the contracts are not deployed.
   */
  async deployment(): Promise<{ record: DeploymentRecord; reins: ReinsDeployment; file: string }> {
    if (this.deploymentValue) return this.deploymentValue;
    const chainId = await this.chainId();
    const explicit = this.globals.deploymentFile;
    let file = explicit ?? path.join(this.deploymentsDir, `${chainId}.json`);
    // No folder chosen and no ./deployments record: the records shipped with the package (same CREATE2 addresses).
    if (!explicit && !this.globals.deploymentsChosen && !existsSync(file)) {
      const packaged = path.join(packagedDeploymentsDir(), `${chainId}.json`);
      if (existsSync(packaged)) file = packaged;
    }
    if (!existsSync(file)) {
      throw new UsageError(
        explicit
          ? `deployment file ${file} does not exist`
          : `no deployment record for chain ${chainId} at ${file} (run reins deploy, or pass --deployment)`,
      );
    }
    let record: DeploymentRecord;
    try {
      record = readDeploymentRecord(file);
    } catch (e) {
      if (e instanceof DeploymentRecordError) throw new UsageError(e.message);
      throw e;
    }
    const c = record.contracts;
    if (BigInt(record.chainId) !== chainId) {
      throw new UsageError(
        `wrong network: deployment file ${file} is for chain ${record.chainId}, the RPC ${this.rpcUrl} is chain ${chainId}`,
      );
    }
    const provider = await this.provider();
    if ((await provider.getCode(c.AgentSessions)) === "0x") {
      throw new UsageError(
        `Reins is not deployed on chain ${chainId} (no code at AgentSessions ${c.AgentSessions}); run reins deploy`,
      );
    }
    const reins: ReinsDeployment = clientDeployment(record);
    this.deploymentValue = { record, reins, file };
    return this.deploymentValue;
  }

  /**
   * Symbol → address (+ decimals when given) from the config file, `REINS_TOKENS` (`SYM=0x…[,SYM=0x…]`, as
   * printed by `reins dev`) and `--token` flags, later ones winning.
   */
  registry(): Record<string, { address: string; decimals?: number }> {
    return this.globals.tokens;
  }

  /** Resolve `ETH`, a registry symbol or an address to a token with its decimals (read on chain if needed). */
  async token(ref: string): Promise<Token> {
    if (ref.toUpperCase() === "ETH") return NATIVE;
    const key = ref.toUpperCase();
    const cached = this.tokenCache.get(key);
    if (cached) return cached;
    const registry = this.registry();
    let symbol: string;
    let address: string;
    let decimals: number | undefined;
    if (registry[key]) {
      symbol = key;
      address = getAddress(registry[key].address);
      decimals = registry[key].decimals;
    } else if (isAddress(ref)) {
      address = getAddress(ref);
      symbol = Object.entries(registry).find(([, t]) => getAddress(t.address) === address)?.[0] ?? address;
      decimals = registry[symbol]?.decimals;
    } else {
      throw new UsageError(
        `unknown token "${ref}" (use an address, ETH, --token ${ref}=0x…, or tokens in reins.config.json)`,
      );
    }
    const provider = await this.provider();
    if ((await provider.getCode(address)) === "0x") throw new UsageError(`token ${symbol}: no contract at ${address}`);
    // The chain decides the decimals: a declared `:decimals` (--token or reins.config.json) is only checked
    // against `decimals()`, never trusted over it (7 declared for a 6-decimal token would move 10x the amount).
    let onChain: number | undefined;
    try {
      const erc20 = new Contract(address, ["function decimals() view returns (uint8)"], provider);
      onChain = Number(await erc20.getFunction("decimals")());
    } catch {
      onChain = undefined;
    }
    if (onChain !== undefined && decimals !== undefined && onChain !== decimals) {
      throw new UsageError(
        `token ${symbol}: declared with ${decimals} decimals, but decimals() of ${address} returns ${onChain}; ` +
          `fix or drop the :decimals`,
      );
    }
    if (onChain !== undefined) decimals = onChain;
    if (decimals === undefined) {
      throw new UsageError(
        `token ${symbol}: ${address} has no decimals() (give them: --token ${symbol}=${address}:<decimals>)`,
      );
    }
    if (symbol === address) {
      try {
        const erc20 = new Contract(address, ["function symbol() view returns (string)"], provider);
        symbol = String(await erc20.getFunction("symbol")());
      } catch {
        /* keep the address */
      }
    }
    const token = { symbol, address, decimals };
    this.tokenCache.set(key, token);
    this.tokenCache.set(address.toUpperCase(), token);
    return token;
  }

  /** Every token the registry names, resolved (for balances). */
  async knownTokens(): Promise<Token[]> {
    const out: Token[] = [];
    for (const sym of Object.keys(this.registry())) out.push(await this.token(sym));
    return out;
  }

  /** A {@link TokenRegistry} for the policy builder, covering `refs`. */
  async policyRegistry(refs: string[]): Promise<TokenRegistry> {
    const out: TokenRegistry = {};
    for (const ref of refs) {
      if (ref.toUpperCase() === "ETH") continue;
      const t = await this.token(ref);
      out[ref] = { address: t.address, decimals: t.decimals };
    }
    return out;
  }

  /** A private key from environment variable `name`, connected to the provider. */
  async key(name: string, role: string): Promise<Wallet> {
    return readKey(name, role).connect(await this.provider());
  }

  /** The transport for account operations: the bundler, or `handleOps` from `submitter` on dev chains. */
  async sender(submitter: Wallet): Promise<OperationSender> {
    const bundler = this.bundlerUrl;
    if (bundler) {
      const sender = new BundlerSender(bundler);
      const chainId = await this.chainId();
      let bundlerChain: bigint;
      try {
        bundlerChain = await sender.chainId();
      } catch (e) {
        throw new FailureError(`cannot reach the bundler at ${bundler}: ${(e as Error).message}`);
      }
      if (bundlerChain !== chainId) {
        throw new UsageError(`wrong network: the bundler is on chain ${bundlerChain}, the RPC on chain ${chainId}`);
      }
      return sender;
    }
    if (!(await this.isDevChain()) && !this.globals.direct) {
      throw new UsageError(
        `chain ${await this.chainId()} is not a dev chain: pass --bundler <url> (or --direct to call EntryPoint.handleOps from ${submitter.address})`,
      );
    }
    return new DirectSender(submitter);
  }

  /** A Reins account argument: a valid address with code on this chain. */
  async account(raw: string | undefined): Promise<string> {
    const account = parseAddress(raw, "account");
    const provider = await this.provider();
    if ((await provider.getCode(account)) === "0x") {
      throw new UsageError(`unknown account ${account}: no code at this address on chain ${await this.chainId()}`);
    }
    return account;
  }

  /** The account's owner (OwnerValidator). */
  async ownerOf(account: string): Promise<string> {
    const { reins } = await this.deployment();
    const validator = OwnerValidator__factory.connect(reins.ownerValidator, await this.provider());
    return getAddress(await validator.ownerOf(account));
  }

  /**
   * An owner client for an existing account, after checking that the owner key (env `keyEnv`, else
   * `--owner-key-env`, else `REINS_OWNER_KEY`) is the account's owner.
   */
  async owner(account: string, keyEnv?: string): Promise<ReinsOwner> {
    const { reins } = await this.deployment();
    const envName = keyEnv ?? str(this.inv, "owner-key-env") ?? "REINS_OWNER_KEY";
    const key = await this.key(envName, "owner");
    const onChain = await this.ownerOf(account);
    if (onChain === ZeroAddress)
      throw new UsageError(
        `account ${account} is not a Reins account of this deployment (no owner in OwnerValidator ${reins.ownerValidator})`,
      );
    if (onChain !== key.address) {
      throw new UsageError(`${envName} is ${key.address}, but the owner of ${account} is ${onChain}`);
    }
    return new ReinsOwner({
      owner: key,
      provider: await this.provider(),
      deployment: reins,
      sender: await this.sender(key),
      account,
    });
  }

  /** Close the provider (lets the process exit). */
  close(): void {
    this.providerValue?.destroy();
  }
}

export type { Provider };

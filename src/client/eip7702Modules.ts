/**
 * What is installed on a delegated EOA: every module `ReinsAccount7702` holds besides the root validator, found
 * from the account's `ModuleInstalled` (and `FallbackInstalled`, which names a handler's selector) events and
 * checked one by one with `isModuleInstalled`, next to the account's own count (`moduleCount`). A downgrade must
 * remove all of them: the contract refuses `deinitialize` while any remains.
 */
import { getAddress, type Log, type Provider } from "ethers";
import { MODULE_TYPE_FALLBACK, MODULE_TYPE_VALIDATOR } from "../account/encoding.js";
import { ReinsAccount7702__factory } from "../../types/ethers-contracts/index.js";
import { ReinsError } from "./errors.js";

/** A module installed on the account (never the root validator, which `deinitialize` removes by itself). */
export interface InstalledModule {
  /** ERC-7579 module type: 1 validator, 2 executor, 3 fallback handler, 4 hook. */
  moduleTypeId: bigint;
  /** The module's address. */
  module: string;
  /** For a fallback handler: the selector it serves (its uninstall data starts with it). */
  selector?: string;
}

/** The account's installed modules, as its events and `isModuleInstalled` show them, and its own count. */
export interface InstalledModules {
  /** Every module the events name that is still installed (the root validator excluded). */
  modules: InstalledModule[];
  /** How many the account itself counts (`moduleCount`). */
  count: bigint;
  /** Whether `modules` holds all of them (`modules.length === count`); false when the scan started too late. */
  complete: boolean;
}

/** Where to scan the account's events. */
export interface ModuleScanOptions {
  /** First block to scan (default 0; the block of the first delegation is enough). */
  fromBlock?: number;
  /** Blocks per `eth_getLogs` call (default: the whole range; halved on a provider's refusal, down to one). */
  chunkSize?: number;
}

const account7702 = ReinsAccount7702__factory.createInterface();

/** `eth_getLogs` over `[from, to]` for `address` and `topics0`, halving the range when the provider refuses it. */
async function scanLogs(
  provider: Provider,
  address: string,
  topics0: string[],
  from: number,
  to: number,
  chunkSize?: number,
): Promise<Log[]> {
  const logs: Log[] = [];
  let size = Math.max(1, chunkSize ?? to - from + 1);
  for (let start = from; start <= to;) {
    const end = Math.min(to, start + size - 1);
    try {
      logs.push(...(await provider.getLogs({ address, fromBlock: start, toBlock: end, topics: [topics0] })));
    } catch (e) {
      if (end === start) throw e; // Providers cap the range or the result count: retry with half the range.
      size = Math.max(1, Math.ceil((end - start + 1) / 2));
      continue;
    }
    start = end + 1;
  }
  return logs;
}

/**
 * The modules installed on the delegated EOA `account`: the candidates its events name (deduplicated),
 * each checked with `isModuleInstalled`, minus the root validator; and the account's `moduleCount`. Throws a
 * `config` {@link ReinsError} when the account does not answer `moduleCount` (not a `ReinsAccount7702`).
 */
export async function installedModules(
  provider: Provider,
  account: string,
  opts: ModuleScanOptions = {},
): Promise<InstalledModules> {
  const acct = ReinsAccount7702__factory.connect(account, provider);
  let count: bigint;
  let root: string;
  try {
    [count, root] = await Promise.all([acct.moduleCount(), acct.rootValidator()]);
  } catch (e) {
    throw new ReinsError("config", `${account} does not answer moduleCount(): not a ReinsAccount7702 delegation`, {
      account,
      cause: e,
    });
  }
  const head = await provider.getBlockNumber();
  const from = opts.fromBlock ?? 0;
  const topics = [
    account7702.getEvent("ModuleInstalled").topicHash,
    account7702.getEvent("FallbackInstalled").topicHash,
  ];
  const logs = await scanLogs(provider, account, topics, from, head, opts.chunkSize);
  const seen = new Set<string>();
  const modules: InstalledModule[] = [];
  for (const log of logs) {
    const parsed = account7702.parseLog(log);
    if (!parsed) continue;
    let candidate: InstalledModule;
    if (parsed.name === "FallbackInstalled") {
      candidate = {
        moduleTypeId: MODULE_TYPE_FALLBACK,
        module: getAddress(parsed.args.handler),
        selector: parsed.args.selector,
      };
    } else {
      const moduleTypeId = BigInt(parsed.args.moduleTypeId);
      if (moduleTypeId === MODULE_TYPE_FALLBACK) continue; // named with its selector by FallbackInstalled
      candidate = { moduleTypeId, module: getAddress(parsed.args.module) };
    }
    if (candidate.moduleTypeId === MODULE_TYPE_VALIDATOR && candidate.module === getAddress(root)) continue;
    const key = `${candidate.moduleTypeId}:${candidate.module}:${candidate.selector ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (await acct.isModuleInstalled(candidate.moduleTypeId, candidate.module, candidate.selector ?? "0x")) {
      modules.push(candidate);
    }
  }
  return { modules, count, complete: BigInt(modules.length) === count };
}

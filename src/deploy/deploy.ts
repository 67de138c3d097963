/**
 * Deterministic, idempotent deployment of the Reins contracts.
 *
 * `deployReins` makes sure the chain singletons exist (the deterministic-deployment proxy and EntryPoint
 * v0.8: installed on dev chains, required elsewhere), then deploys every contract of the plan
 * (`./plan.ts`) through the proxy, skipping those whose code is already at their CREATE2 address, and
 * records the addresses in `deployments/<chainId>.json`. Running it again deploys nothing and leaves the
 * file byte-for-byte unchanged.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { getAddress, type Signer, type TransactionResponse } from "ethers";
import {
  DETERMINISTIC_DEPLOYER,
  ENTRYPOINT_V08,
  deployDeterministic,
  ensureDeterministicDeployer,
  ensureEntryPoint,
  type RpcProvider,
} from "../infra/singletons.js";
import {
  addressesOf,
  buildPlan,
  type ArtifactLike,
  type ArtifactSource,
  type ContractName,
  type ReinsAddresses,
} from "./plan.js";

/** Options of {@link deployReins}. */
export interface DeployOptions {
  /** Where to read the artifacts from (`hre.artifacts` in a Hardhat script). Default: the `artifacts/` folder. */
  artifacts?: ArtifactSource;
  /** Progress lines ("deployed X at …", "X already at … (skipped)"). Default: silent. */
  log?: (line: string) => void;
  /** Folder for `<chainId>.json`; `null` writes nothing. Default: `deployments/` in the working directory. */
  deploymentsDir?: string | null;
}

/** What {@link deployReins} did, and the addresses. */
export interface DeployResult {
  chainId: number;
  entryPoint: string;
  addresses: ReinsAddresses;
  /** Contracts this run deployed, in order (empty on a rerun). */
  deployed: ContractName[];
  /** Chain singletons this run installed (dev chains only): "DeterministicDeployer", "EntryPoint". */
  singletonsInstalled: string[];
  /** Contracts already on chain, left alone. */
  skipped: ContractName[];
  /** Gas used by the deployment transaction of each contract this run deployed. */
  gasUsed: Partial<Record<ContractName, bigint>>;
  /** The deployment record written, or `undefined` when `deploymentsDir` is `null`. */
  file?: string;
}

import type { DeploymentRecord } from "./records.js";
export {
  DeploymentRecordError,
  clientDeployment,
  loadDeployment,
  parseDeploymentRecord,
  readDeploymentRecord,
  type DeploymentRecord,
  type LoadDeploymentOptions,
} from "./records.js";

/** Reads artifacts straight from Hardhat's `artifacts/` JSON files (`<source>/<Contract>.json`). */
export function artifactsFromDirectory(root = path.resolve("artifacts")): ArtifactSource {
  return {
    async readArtifact(fullyQualifiedName: string): Promise<ArtifactLike> {
      const [source, contract] = fullyQualifiedName.split(":");
      if (!source || !contract) throw new Error(`artifact name ${fullyQualifiedName} is not "<source>:<Contract>"`);
      const file = path.join(root, source, `${contract}.json`);
      try {
        return JSON.parse(await readFile(file, "utf8")) as ArtifactLike;
      } catch (e) {
        throw new Error(`cannot read artifact ${file} (run \`npx hardhat compile\` first): ${(e as Error).message}`);
      }
    },
  };
}

/** Dev chains (Hardhat/EDR, anvil, ganache) get the singletons installed; on other chains they must exist. */
export async function isDevChain(provider: RpcProvider): Promise<boolean> {
  try {
    const version = String(await provider.send("web3_clientVersion", []));
    return /hardhat|edr|anvil|ganache/i.test(version);
  } catch {
    return false;
  }
}

async function hasCode(provider: RpcProvider, address: string): Promise<boolean> {
  return (await provider.getCode(address)) !== "0x";
}

/** A view of `signer` that remembers the transactions it sends (to read their gas from the receipts). */
function recording(signer: Signer): { signer: Signer; sent: TransactionResponse[] } {
  const sent: TransactionResponse[] = [];
  const proxy = new Proxy(signer, {
    get(target, prop) {
      if (prop === "sendTransaction") {
        return async (tx: Parameters<Signer["sendTransaction"]>[0]) => {
          const response = await target.sendTransaction(tx);
          sent.push(response);
          return response;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { signer: proxy, sent };
}

/**
 * Deploy every Reins contract that is missing on `signer`'s chain, at its deterministic address.
 * Throws a one-line error when the chain lacks the deterministic-deployment proxy or EntryPoint v0.8 and
 * is not a dev chain on which they can be installed.
 */
export async function deployReins(signer: Signer, options: DeployOptions = {}): Promise<DeployResult> {
  const log = options.log ?? (() => {});
  const provider = signer.provider as RpcProvider | null;
  if (!provider) throw new Error("deployReins: the signer has no provider");
  const chainId = Number((await provider.getNetwork()).chainId);

  // Everything is decided before the first transaction: a broken plan costs no gas.
  const plan = await buildPlan(options.artifacts ?? artifactsFromDirectory());
  const dev = await isDevChain(provider);
  const singletonsInstalled: string[] = [];

  if (!(await hasCode(provider, DETERMINISTIC_DEPLOYER))) {
    if (!dev) {
      throw new Error(
        `chain ${chainId} has no deterministic-deployment proxy at ${DETERMINISTIC_DEPLOYER}: ` +
          `deploy it first with its pre-signed transaction (Arachnid's deterministic-deployment-proxy), then rerun`,
      );
    }
    await ensureDeterministicDeployer(provider);
    singletonsInstalled.push("DeterministicDeployer");
    log(`installed the deterministic-deployment proxy at ${DETERMINISTIC_DEPLOYER} (dev chain)`);
  }

  if (!(await hasCode(provider, ENTRYPOINT_V08))) {
    if (!dev) {
      throw new Error(
        `chain ${chainId} has no EntryPoint v0.8 at its canonical address ${ENTRYPOINT_V08}: Reins accounts need it`,
      );
    }
    await ensureEntryPoint(signer);
    singletonsInstalled.push("EntryPoint");
    log(`deployed EntryPoint v0.8 at ${ENTRYPOINT_V08}`);
  } else {
    log(`EntryPoint v0.8 already at ${ENTRYPOINT_V08} (skipped)`);
  }

  const deployed: ContractName[] = [];
  const skipped: ContractName[] = [];
  const gasUsed: Partial<Record<ContractName, bigint>> = {};
  const rec = recording(signer);
  for (const step of plan) {
    if (await hasCode(provider, step.address)) {
      skipped.push(step.name);
      log(`${step.name} already at ${step.address} (skipped)`);
      continue;
    }
    const before = rec.sent.length;
    const result = await deployDeterministic(rec.signer, step.salt, step.initCode);
    if (getAddress(result.address) !== step.address) {
      throw new Error(`${step.name} landed at ${result.address}, not the planned ${step.address}`);
    }
    const tx = rec.sent[before];
    const receipt = tx ? await tx.wait() : null;
    if (receipt) gasUsed[step.name] = receipt.gasUsed;
    deployed.push(step.name);
    log(`deployed ${step.name} at ${step.address}${receipt ? ` (gas ${receipt.gasUsed})` : ""}`);
  }

  const addresses = addressesOf(plan);
  const result: DeployResult = {
    chainId,
    entryPoint: ENTRYPOINT_V08,
    addresses,
    deployed,
    singletonsInstalled,
    skipped,
    gasUsed,
  };
  if (options.deploymentsDir !== null) {
    result.file = await writeDeploymentRecord(options.deploymentsDir ?? path.resolve("deployments"), {
      chainId,
      deterministicDeployer: getAddress(DETERMINISTIC_DEPLOYER),
      entryPoint: ENTRYPOINT_V08,
      contracts: addresses,
    });
  }
  return result;
}

/** The exact text of a deployment record: stable key order, two-space JSON, trailing newline. */
export function formatDeploymentRecord(record: DeploymentRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** Write `<dir>/<chainId>.json` unless it already holds exactly this content. Returns the path. */
export async function writeDeploymentRecord(dir: string, record: DeploymentRecord): Promise<string> {
  const file = path.join(dir, `${record.chainId}.json`);
  const text = formatDeploymentRecord(record);
  const current = await readFile(file, "utf8").catch(() => undefined);
  if (current !== text) {
    await mkdir(dir, { recursive: true });
    await writeFile(file, text);
  }
  return file;
}

/**
 * Deployment records: `deployments/<chainId>.json`, one per chain, written by `deployReins` / `reins deploy` and
 * shipped in the package. One reader ({@link loadDeployment}, {@link readDeploymentRecord}) and one validator
 * ({@link parseDeploymentRecord}) for the client, the CLI and the monitor.
 *
 * Node only (reads files). In a browser, import the record's addresses some other way and pass a
 * {@link ReinsDeployment} to the client directly.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getAddress, isAddress } from "ethers";
import type { ReinsDeployment } from "../client/owner.js";
import { CONTRACT_NAMES, type ReinsAddresses } from "./plan.js";

/** The content of `deployments/<chainId>.json`: addresses only, so reruns never churn the file. */
export interface DeploymentRecord {
  chainId: number;
  deterministicDeployer: string;
  entryPoint: string;
  contracts: ReinsAddresses;
}

/** A deployment record that is missing, unreadable or malformed (`kind` says which). */
export class DeploymentRecordError extends Error {
  override readonly name = "DeploymentRecordError" as const;
  constructor(
    /** "missing": no record at that place; "invalid": not JSON, or a field is absent or not an address. */
    readonly kind: "missing" | "invalid",
    message: string,
    /** The file concerned. */
    readonly file: string,
  ) {
    super(message);
  }
}

/** The contracts a record must name for the client to work (the others are optional). */
export const REQUIRED_CONTRACTS = ["ReinsAccountFactory", "OwnerValidator", "AgentSessions", "ReinsTimelock"] as const;

/**
 * Check a parsed record and normalise its addresses (checksummed). Throws {@link DeploymentRecordError} when a
 * field is missing or not an address. `source` names the file in error messages.
 */
export function parseDeploymentRecord(value: unknown, source = "deployment record"): DeploymentRecord {
  const bad = (what: string) => new DeploymentRecordError("invalid", `deployment file ${source}: ${what}`, source);
  if (typeof value !== "object" || value === null) throw bad("not a JSON object");
  const v = value as Record<string, unknown>;
  const chainId = Number(v.chainId);
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw bad("no chainId");
  const contracts = (typeof v.contracts === "object" && v.contracts !== null ? v.contracts : {}) as Record<
    string,
    unknown
  >;
  for (const name of REQUIRED_CONTRACTS) {
    const a = contracts[name];
    if (typeof a !== "string" || !isAddress(a)) throw bad(`no address for ${name}`);
  }
  const out = {} as ReinsAddresses;
  for (const name of CONTRACT_NAMES) {
    const a = contracts[name];
    if (a === undefined) continue;
    if (typeof a !== "string" || !isAddress(a)) throw bad(`${name} is not an address`);
    out[name] = getAddress(a);
  }
  const addr = (field: string): string => {
    const a = v[field];
    if (typeof a !== "string" || !isAddress(a)) throw bad(`${field} is not an address`);
    return getAddress(a);
  };
  return {
    chainId,
    deterministicDeployer: addr("deterministicDeployer"),
    entryPoint: addr("entryPoint"),
    contracts: out,
  };
}

/** Read and check one record file. Throws {@link DeploymentRecordError} ("missing" when the file does not exist). */
export function readDeploymentRecord(file: string): DeploymentRecord {
  if (!existsSync(file)) throw new DeploymentRecordError("missing", `deployment file ${file} does not exist`, file);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new DeploymentRecordError("invalid", `deployment file ${file}: ${(e as Error).message.split("\n")[0]}`, file);
  }
  return parseDeploymentRecord(json, file);
}

/**
 * The `deployments/` folder shipped with this package (the repository's own in a checkout): the nearest folder
 * above this module whose `package.json` is named `reins`.
 */
export function packagedDeploymentsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "reins") {
          return path.join(dir, "deployments");
        }
      } catch {
        /* not ours: keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error("cannot find the reins package folder above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Options of {@link loadDeployment}. */
export interface LoadDeploymentOptions {
  /** Folder of `<chainId>.json` records. Default: the records shipped in the package ({@link packagedDeploymentsDir}). */
  dir?: string;
}

/**
 * The deployment record of `chainId`: `<dir>/<chainId>.json`, by default the records shipped with Reins.
 * Throws {@link DeploymentRecordError} when there is none, it is malformed, or it is for another chain.
 *
 * ```ts
 * const record = loadDeployment(31337);
 * const owner = new ReinsOwner({ owner, provider, sender, deployment: clientDeployment(record) });
 * ```
 */
export function loadDeployment(chainId: number | bigint, options: LoadDeploymentOptions = {}): DeploymentRecord {
  const dir = options.dir ?? packagedDeploymentsDir();
  const file = path.join(dir, `${chainId}.json`);
  let record: DeploymentRecord;
  try {
    record = readDeploymentRecord(file);
  } catch (e) {
    if (e instanceof DeploymentRecordError && e.kind === "missing") {
      throw new DeploymentRecordError("missing", `no deployment record for chain ${chainId} at ${file}`, file);
    }
    throw e;
  }
  if (BigInt(record.chainId) !== BigInt(chainId)) {
    throw new DeploymentRecordError(
      "invalid",
      `deployment file ${file} is for chain ${record.chainId}, not ${chainId}`,
      file,
    );
  }
  return record;
}

/** The addresses the client ({@link ReinsOwner}, agent runtime) takes, from a deployment record. */
export function clientDeployment(record: DeploymentRecord): ReinsDeployment {
  const c = record.contracts;
  return {
    factory: c.ReinsAccountFactory,
    ownerValidator: c.OwnerValidator,
    sessions: c.AgentSessions,
    timelock: c.ReinsTimelock,
    ...(c.GuardianRecovery ? { recovery: c.GuardianRecovery } : {}),
    ...(c.ReinsAccount7702 ? { account7702: c.ReinsAccount7702 } : {}),
    ...(c.PasskeyValidator ? { passkeyValidator: c.PasskeyValidator } : {}),
  };
}

/**
 * The Reins deployment plan, as data.
 *
 * Every Reins contract is deployed through the deterministic-deployment proxy (CREATE2) with a fixed salt,
 * and constructor arguments that name other Reins contracts use their CREATE2 addresses. The whole set of
 * addresses is therefore a pure function of the compiled bytecode: the same on every chain, and computable
 * offline (no provider) from the artifacts alone.
 *
 * The addresses change whenever a contract's creation bytecode changes (source, compiler settings, or the
 * metadata hash solc appends, which covers comments too), so they are tied to one build of one release.
 */
import { AbiCoder, concat, getAddress, id } from "ethers";
import { create2Address } from "../infra/singletons.js";

/**
 * Who may unlock and withdraw the factory's EntryPoint stake. Part of the factory's constructor, hence of its
 * address: it must be the same on every chain. Override with `REINS_STAKE_OWNER` for a fork of the project.
 */
export const STAKE_OWNER: string = process.env.REINS_STAKE_OWNER ?? "0x000000000000000000000000000000000000dEaD";

/** Release tag that every salt is derived from. Bump it to move the whole set to new addresses. */
export const RELEASE = "reins.v0.1.0";

/** The Reins contracts, in deployment order (a contract comes after the contracts its constructor names). */
export const CONTRACT_NAMES = [
  "ReinsAccount",
  "ReinsAccountFactory",
  "ReinsAccount7702",
  "OwnerValidator",
  "PasskeyValidator",
  "ReinsTimelock",
  "AgentSessions",
  "GuardianRecovery",
  "CircuitBreaker",
  "RiskEngineEnvelope",
] as const;

/** Name of a contract of the deployment plan. */
export type ContractName = (typeof CONTRACT_NAMES)[number];

/** One address per Reins contract. */
export type ReinsAddresses = Record<ContractName, string>;

/** The minimal slice of an artifact the plan needs (Hardhat's `Artifact` satisfies it). */
export interface ArtifactLike {
  contractName: string;
  bytecode: string;
  linkReferences: Record<string, Record<string, unknown[]>>;
}

/** Anything that reads artifacts by fully qualified name: `hre.artifacts`, or a JSON reader over `artifacts/`. */
export interface ArtifactSource {
  readArtifact(fullyQualifiedName: string): Promise<ArtifactLike>;
}

/** Fully qualified artifact names (unambiguous even if a test contract reuses a name). */
export const ARTIFACTS: Record<ContractName, string> = {
  ReinsAccount: "contracts/account/ReinsAccount.sol:ReinsAccount",
  ReinsAccountFactory: "contracts/account/ReinsAccountFactory.sol:ReinsAccountFactory",
  ReinsAccount7702: "contracts/account/ReinsAccount7702.sol:ReinsAccount7702",
  OwnerValidator: "contracts/modules/OwnerValidator.sol:OwnerValidator",
  PasskeyValidator: "contracts/modules/PasskeyValidator.sol:PasskeyValidator",
  ReinsTimelock: "contracts/modules/ReinsTimelock.sol:ReinsTimelock",
  AgentSessions: "contracts/modules/AgentSessions.sol:AgentSessions",
  GuardianRecovery: "contracts/modules/GuardianRecovery.sol:GuardianRecovery",
  CircuitBreaker: "contracts/modules/CircuitBreaker.sol:CircuitBreaker",
  RiskEngineEnvelope: "contracts/modules/RiskEngineEnvelope.sol:RiskEngineEnvelope",
};

/**
 * Constructor arguments of each contract, as ABI types and a function of the addresses of the contracts
 * deployed before it. Keep in sync with the Solidity constructors.
 */
const CONSTRUCTORS: Record<ContractName, { types: string[]; args: (deps: Partial<ReinsAddresses>) => unknown[] }> = {
  ReinsAccount: { types: [], args: () => [] },
  ReinsAccountFactory: { types: ["address", "address"], args: (d) => [need(d, "ReinsAccount"), STAKE_OWNER] },
  ReinsAccount7702: { types: [], args: () => [] },
  OwnerValidator: { types: [], args: () => [] },
  // the ECDSA validator a guardian recovery of a passkey root hands the account to
  PasskeyValidator: { types: ["address"], args: (d) => [need(d, "OwnerValidator")] },
  ReinsTimelock: { types: [], args: () => [] },
  AgentSessions: { types: ["address"], args: (d) => [need(d, "ReinsTimelock")] },
  GuardianRecovery: { types: [], args: () => [] },
  CircuitBreaker: { types: ["address"], args: (d) => [need(d, "AgentSessions")] },
  RiskEngineEnvelope: { types: ["address"], args: (d) => [need(d, "AgentSessions")] },
};

function need(deps: Partial<ReinsAddresses>, name: ContractName): string {
  const address = deps[name];
  if (!address) throw new Error(`deploy plan: ${name} must come before the contracts whose constructor names it`);
  return address;
}

/** The fixed CREATE2 salt of a contract: `keccak256("reins.v0.1.0/<Name>")`. */
export function saltOf(name: ContractName): string {
  return id(`${RELEASE}/${name}`);
}

/** One step of the plan. */
export interface PlannedContract {
  name: ContractName;
  /** Fully qualified artifact name. */
  artifact: string;
  salt: string;
  /** ABI-encoded constructor arguments (`0x` when there are none). */
  constructorArgs: string;
  /** Creation bytecode followed by the constructor arguments: what the deterministic deployer runs. */
  initCode: string;
  /** CREATE2 address through the deterministic-deployment proxy. */
  address: string;
}

export type DeploymentPlan = PlannedContract[];

/** Creation bytecode of an artifact; refuses artifacts that still need library linking or are abstract. */
export function creationBytecode(artifact: ArtifactLike): string {
  if (Object.keys(artifact.linkReferences ?? {}).length > 0) {
    throw new Error(
      `deploy plan: ${artifact.contractName} has unlinked libraries; Reins contracts must not need linking`,
    );
  }
  if (!artifact.bytecode || artifact.bytecode === "0x") {
    throw new Error(`deploy plan: ${artifact.contractName} has no creation bytecode (abstract or interface?)`);
  }
  return artifact.bytecode;
}

/**
 * Build the plan from the artifacts: salts, constructor arguments, init code and CREATE2 address of every
 * contract, in deployment order. Offline: it reads artifacts and hashes, it never touches a chain.
 */
export async function buildPlan(artifacts: ArtifactSource): Promise<DeploymentPlan> {
  const coder = AbiCoder.defaultAbiCoder();
  const addresses: Partial<ReinsAddresses> = {};
  const plan: DeploymentPlan = [];
  for (const name of CONTRACT_NAMES) {
    const artifact = await artifacts.readArtifact(ARTIFACTS[name]);
    const ctor = CONSTRUCTORS[name];
    const constructorArgs = ctor.types.length === 0 ? "0x" : coder.encode(ctor.types, ctor.args(addresses));
    const initCode = concat([creationBytecode(artifact), constructorArgs]);
    const salt = saltOf(name);
    const address = getAddress(create2Address(salt, initCode));
    addresses[name] = address;
    plan.push({ name, artifact: ARTIFACTS[name], salt, constructorArgs, initCode, address });
  }
  return plan;
}

/** Every Reins address, computed offline from the artifacts. */
export async function computeAddresses(artifacts: ArtifactSource): Promise<ReinsAddresses> {
  return addressesOf(await buildPlan(artifacts));
}

/** The name → address map of a plan. */
export function addressesOf(plan: DeploymentPlan): ReinsAddresses {
  return Object.fromEntries(plan.map((step) => [step.name, step.address])) as ReinsAddresses;
}

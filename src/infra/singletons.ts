/**
 * Chain singletons Reins depends on: the deterministic-deployment proxy (Arachnid's CREATE2 factory)
 * and EntryPoint v0.8 at its canonical address. One helper, used by tests, scripts and `deploy/`.
 */
import { createRequire } from "node:module";
import { concat, getAddress, getCreate2Address, keccak256, type Provider, type Signer } from "ethers";

const require = createRequire(import.meta.url);

/** Arachnid's deterministic-deployment proxy, present on nearly every public chain. */
export const DETERMINISTIC_DEPLOYER = "0x4e59b44847b379578588920ca78fbf26c0b4956c";
/** Its runtime code: `salt ‖ initCode` in calldata, CREATE2, returns the 20-byte address. */
export const DETERMINISTIC_DEPLOYER_RUNTIME =
  "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3";

/** Canonical EntryPoint v0.8 address. */
export const ENTRYPOINT_V08 = "0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108";
/** The CREATE2 salt the canonical EntryPoint v0.8 build was deployed with (through the deterministic deployer). */
export const ENTRYPOINT_V08_SALT = "0x0a59dbff790c23c976a548690c27297883cc66b4c67024f9117b0238995e35e9";

interface Artifact {
  abi: unknown[];
  bytecode: string;
  deployedBytecode: string;
}

/** The canonical build shipped by `@account-abstraction/contracts` (not a local recompilation). */
export function entryPointArtifact(): Artifact {
  return require("@account-abstraction/contracts/artifacts/EntryPoint.json") as Artifact;
}

/** Any JSON-RPC capable provider (ethers JsonRpcProvider, HardhatEthersProvider, …). */
export interface RpcProvider extends Provider {
  /** A raw JSON-RPC request. */
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** CREATE2 address that the deterministic-deployment proxy gives `initCode` with `salt`. */
export function create2Address(salt: string, initCode: string): string {
  return getCreate2Address(DETERMINISTIC_DEPLOYER, salt, keccak256(initCode));
}

async function hasCode(provider: Provider, address: string): Promise<boolean> {
  return (await provider.getCode(address)) !== "0x";
}

/**
 * Make sure the deterministic-deployment proxy exists. On a dev chain (Hardhat, anvil) that lacks it,
 * its well-known runtime code is installed with `hardhat_setCode` / `anvil_setCode`. On any other
 * chain a missing proxy is an error (it must be deployed with its pre-signed transaction).
 */
export async function ensureDeterministicDeployer(provider: RpcProvider): Promise<boolean> {
  if (await hasCode(provider, DETERMINISTIC_DEPLOYER)) return false;
  for (const method of ["hardhat_setCode", "anvil_setCode"]) {
    try {
      await provider.send(method, [DETERMINISTIC_DEPLOYER, DETERMINISTIC_DEPLOYER_RUNTIME]);
      if (await hasCode(provider, DETERMINISTIC_DEPLOYER)) return true;
    } catch {
      /* not a dev chain that supports this method: try the next */
    }
  }
  throw new Error(
    `deterministic-deployment proxy ${DETERMINISTIC_DEPLOYER} is missing and this chain does not allow setCode`,
  );
}

/**
 * Deploy `initCode` through the deterministic-deployment proxy unless code already sits at its
 * CREATE2 address. Idempotent; returns the address and whether this call deployed it.
 */
export async function deployDeterministic(
  signer: Signer,
  salt: string,
  initCode: string,
  gasLimit?: bigint,
): Promise<{ address: string; deployed: boolean }> {
  const provider = signer.provider;
  if (!provider) throw new Error("deployDeterministic: signer has no provider");
  const address = create2Address(salt, initCode);
  if (await hasCode(provider, address)) return { address, deployed: false };
  const tx = await signer.sendTransaction({ to: DETERMINISTIC_DEPLOYER, data: concat([salt, initCode]), gasLimit });
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`deterministic deployment of ${address} failed`);
  if (!(await hasCode(provider, address))) throw new Error(`deterministic deployment left no code at ${address}`);
  return { address, deployed: true };
}

/**
 * EntryPoint v0.8 at `0x4337084D…F108`, deployed from the package's canonical artifact through the
 * deterministic-deployment proxy (installed first when a dev chain lacks it). Idempotent.
 */
export async function ensureEntryPoint(signer: Signer): Promise<{ address: string; deployed: boolean }> {
  const provider = signer.provider as RpcProvider | null;
  if (!provider) throw new Error("ensureEntryPoint: signer has no provider");
  if (await hasCode(provider, ENTRYPOINT_V08)) return { address: ENTRYPOINT_V08, deployed: false };
  await ensureDeterministicDeployer(provider);
  const result = await deployDeterministic(signer, ENTRYPOINT_V08_SALT, entryPointArtifact().bytecode, 8_000_000n);
  if (getAddress(result.address) !== getAddress(ENTRYPOINT_V08)) {
    throw new Error(`EntryPoint landed at ${result.address}, not the canonical ${ENTRYPOINT_V08}`);
  }
  return result;
}

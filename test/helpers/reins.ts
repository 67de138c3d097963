/**
 * Shared test fixture: EntryPoint v0.8 at its canonical address, the Reins implementation, factory and
 * owner validator, plus helpers that build, sign and send real UserOperations through `handleOps`.
 */
import { network } from "hardhat";
import { Wallet, ZeroHash, type BaseContract, type ContractTransactionReceipt, type Signer } from "ethers";
import { ENTRYPOINT_V08, ensureEntryPoint } from "../../src/infra/singletons.js";
import { encodeNonce, getUserOpHash, packUserOp, type UserOperation } from "../../src/userop/userop.js";
import { initializeCalldata, type ModuleInit } from "../../src/account/encoding.js";
import { IEntryPoint__factory } from "../../types/ethers-contracts/index.js";

export type Connection = Awaited<ReturnType<typeof network.create>>;
export type Ethers = Connection["ethers"];

export const EP_ARTIFACT = "@account-abstraction/contracts/interfaces/IEntryPoint.sol:IEntryPoint";

/** Gas limits that comfortably fit every test operation. */
export const DEFAULT_GAS = {
  callGasLimit: 1_000_000n,
  verificationGasLimit: 1_000_000n,
  preVerificationGas: 60_000n,
  maxFeePerGas: 2_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
};

export async function deployCore(ethers: Ethers) {
  const [deployer, bundler, stranger] = await ethers.getSigners();
  await ensureEntryPoint(deployer);
  const entryPoint = IEntryPoint__factory.connect(ENTRYPOINT_V08, deployer);
  const ownerValidator = await ethers.deployContract("OwnerValidator");
  const implementation = await ethers.deployContract("ReinsAccount");
  const factory = await ethers.deployContract("ReinsAccountFactory", [
    await implementation.getAddress(),
    deployer.address,
  ]);
  const chainId = (await ethers.provider.getNetwork()).chainId;
  return { deployer, bundler, stranger, entryPoint, ownerValidator, implementation, factory, chainId };
}

export type Core = Awaited<ReturnType<typeof deployCore>>;

/** Sign a raw 32-byte digest with a wallet (no EIP-191 prefix). */
export function signDigest(wallet: Wallet, digest: string): string {
  return wallet.signingKey.sign(digest).serialized;
}

export interface AccountHandle {
  address: string;
  owner: Wallet;
  initCall: string;
  salt: string;
}

/** Counterfactual account for `owner` with extra initial modules; not deployed yet. */
export async function counterfactualAccount(
  core: Core,
  owner: Wallet,
  modules: ModuleInit[] = [],
  salt: string = ZeroHash,
): Promise<AccountHandle> {
  const initCall = initializeCalldata(await core.ownerValidator.getAddress(), owner.address, modules);
  const address = await core.factory.getAccountAddress(initCall, salt);
  return { address, owner, initCall, salt };
}

export function factoryData(core: Core, handle: AccountHandle): { factory: string; factoryData: string } {
  return {
    factory: core.factory.target as string,
    factoryData: core.factory.interface.encodeFunctionData("createAccount", [handle.initCall, handle.salt]),
  };
}

/** Build an operation with the test defaults; `validator` picks the nonce key. */
export async function buildOp(
  core: Core,
  sender: string,
  validator: string,
  callData: string,
  overrides: Partial<UserOperation> = {},
): Promise<UserOperation> {
  const key = (BigInt(validator) << 32n) | 0n;
  const nonce = overrides.nonce ?? (await core.entryPoint.getNonce(sender, key));
  return { sender, nonce, callData, signature: "0x", ...DEFAULT_GAS, ...overrides };
}

export function opHash(core: Core, op: UserOperation): string {
  return getUserOpHash(op, ENTRYPOINT_V08, core.chainId);
}

/** Sign with the owner validator's scheme: 65-byte ECDSA over the userOpHash. */
export function signAsOwner(core: Core, op: UserOperation, owner: Wallet): UserOperation {
  return { ...op, signature: signDigest(owner, opHash(core, op)) };
}

/** Send operations in one `handleOps` bundle from `bundler`; returns the receipt. */
export async function handleOps(
  core: Core,
  ops: UserOperation[],
  bundler: Signer = core.bundler,
  beneficiary?: string,
): Promise<ContractTransactionReceipt> {
  const tx = await core.entryPoint
    .connect(bundler)
    .handleOps(ops.map(packUserOp), beneficiary ?? (await bundler.getAddress()), { gasLimit: 15_000_000n });
  return (await tx.wait())!;
}

/** Decode the UserOperationEvent(s) and revert reasons in a handleOps receipt. */
export function userOpEvents(core: Core, receipt: ContractTransactionReceipt) {
  const out: {
    success: boolean;
    actualGasUsed: bigint;
    actualGasCost: bigint;
    nonce: bigint;
    revertReason?: string;
  }[] = [];
  const reasons = new Map<bigint, string>();
  for (const log of receipt.logs) {
    const parsed = core.entryPoint.interface.parseLog(log);
    if (parsed?.name === "UserOperationRevertReason") reasons.set(parsed.args.nonce, parsed.args.revertReason);
  }
  for (const log of receipt.logs) {
    const parsed = core.entryPoint.interface.parseLog(log);
    if (parsed?.name === "UserOperationEvent") {
      out.push({
        success: parsed.args.success,
        actualGasUsed: parsed.args.actualGasUsed,
        actualGasCost: parsed.args.actualGasCost,
        nonce: parsed.args.nonce,
        revertReason: reasons.get(parsed.args.nonce),
      });
    }
  }
  return out;
}

/** Nonce key helper re-exported for tests. */
export { encodeNonce };

export function randomWallet(): Wallet {
  return new Wallet(Wallet.createRandom().privateKey);
}

export async function fund(ethers: Ethers, to: string, amount = 10n ** 19n) {
  const [deployer] = await ethers.getSigners();
  await (await deployer.sendTransaction({ to, value: amount })).wait();
}

export type AnyContract = BaseContract;

/**
 * EIP-7702 mode: an existing EOA becomes a Reins account at its own address by delegating to
 * `ReinsAccount7702`, its key the owner. Two ways in:
 * - {@link upgradeEoa}: one type-4 transaction the EOA sends to itself (delegation and `initialize` together; the
 *   EOA pays the gas), then the usual first-operation setup, also as the EOA's own transaction.
 * - {@link eip7702FirstOperation}: the EOA signs the delegation and the initialisation and pays nothing up front;
 *   the first UserOperation carries both (EntryPoint v0.8's `0x7702` initCode marker), and the account pays for it.
 * Leaving Reins on purpose is {@link downgradeEoa}: every installed module out (found from the account's events,
 * checked against its own count; sessions and queued requests end for good), then the delegation cleared.
 */
import {
  AbiCoder,
  Interface,
  ZeroAddress,
  getAddress,
  keccak256,
  type Authorization,
  type AuthorizationRequest,
  type Provider,
  type Signer,
  type TypedDataField,
} from "ethers";
import { accountInterface, executeCalldata, type ModuleInit } from "../account/encoding.js";
import { EIP7702_INITCODE_MARKER, type UserOperation } from "../userop/userop.js";
import { ReinsError } from "./errors.js";
import { installedModules, type InstalledModule, type ModuleScanOptions } from "./eip7702Modules.js";
import type { CreateAccountOptions, ReinsOwner } from "./owner.js";

/** A signer that can sign EIP-7702 authorisations (an ethers `Wallet` / `BaseWallet`). */
export interface AuthorizingSigner extends Signer {
  /** Sign an EIP-7702 authorisation (ethers fills the chain id and nonce when missing). */
  authorize(auth: AuthorizationRequest): Promise<Authorization>;
}

/** The functions of `ReinsAccount7702` the client calls. */
export const account7702Interface = new Interface([
  "function initialize(address rootValidator, bytes rootValidatorData, (uint256 moduleTypeId,address module,bytes initData)[] modules)",
  "function initializeWithSignature(address rootValidator, bytes rootValidatorData, (uint256 moduleTypeId,address module,bytes initData)[] modules, bytes signature)",
  "function deinitialize((uint256 moduleTypeId,address module,bytes deInitData)[] modules)",
  "function initNonce() view returns (uint256)",
  "function rootValidator() view returns (address)",
  "function isModuleInstalled(uint256 moduleTypeId, address module, bytes additionalContext) view returns (bool)",
  "function moduleCount() view returns (uint256)",
]);

/** The arguments of `initialize`, decoded from {@link ReinsOwner.initCall}. */
export interface InitializeArgs {
  rootValidator: string;
  rootValidatorData: string;
  modules: ModuleInit[];
}

/** A delegated EOA's state: where its code points, whether Reins is initialised there, and what is installed. */
export interface DelegationStatus {
  /** The implementation the EOA delegates to, or undefined when its code is not an EIP-7702 delegation. */
  delegate?: string;
  /** Whether the account has a Reins root validator (only meaningful when delegated to a Reins implementation). */
  initialized: boolean;
  /**
   * The installed modules besides the root validator (see {@link installedModules}); set when the delegate is a
   * `ReinsAccount7702` and the modules were asked for (the default).
   */
  modules?: InstalledModule[];
  /** How many modules the account itself counts (`moduleCount`); more than `modules` holds when the scan started late. */
  moduleCount?: bigint;
}

/** What {@link delegationStatus} reads besides the delegation. */
export interface DelegationStatusOptions extends ModuleScanOptions {
  /** List the installed modules (default true; one `eth_getLogs` scan of the account's events). */
  modules?: boolean;
}

const INITIALIZE_TYPES: Record<string, TypedDataField[]> = {
  Initialize: [
    { name: "implementation", type: "address" },
    { name: "rootValidator", type: "address" },
    { name: "rootValidatorData", type: "bytes" },
    { name: "modulesHash", type: "bytes32" },
    { name: "nonce", type: "uint256" },
  ],
};

/** The implementation an address's code delegates to (EIP-7702 `0xef0100 ‖ address`), or undefined. */
export function parseDelegation(code: string): string | undefined {
  const c = code.toLowerCase();
  if (c.length !== 2 + 46 || !c.startsWith("0xef0100")) return undefined;
  return getAddress("0x" + c.slice(8));
}

/**
 * Read the EIP-7702 delegation of `account`, whether Reins is initialised there and (unless `opts.modules` is
 * false) which modules are installed: `modules` and `moduleCount` are left out when the delegate is not a
 * `ReinsAccount7702` (it does not answer `moduleCount`).
 */
export async function delegationStatus(
  provider: Provider,
  account: string,
  opts: DelegationStatusOptions = {},
): Promise<DelegationStatus> {
  const delegate = parseDelegation(await provider.getCode(account));
  if (!delegate) return { initialized: false };
  let initialized = false;
  try {
    const data = await provider.call({ to: account, data: account7702Interface.encodeFunctionData("rootValidator") });
    const [root] = account7702Interface.decodeFunctionResult("rootValidator", data);
    initialized = root !== ZeroAddress;
  } catch {
    return { delegate, initialized: false };
  }
  if (opts.modules === false) return { delegate, initialized };
  let found;
  try {
    found = await installedModules(provider, account, opts);
  } catch (e) {
    if (e instanceof ReinsError && e.rule === "config") return { delegate, initialized }; // not a ReinsAccount7702
    throw e;
  }
  return { delegate, initialized, modules: found.modules, moduleCount: found.count };
}

/** Decode an `initialize` call (as {@link ReinsOwner.initCall} builds it) into its arguments. */
export function decodeInitialize(initCall: string): InitializeArgs {
  const [rootValidator, rootValidatorData, modules] = accountInterface.decodeFunctionData("initialize", initCall);
  return {
    rootValidator,
    rootValidatorData,
    modules: (modules as [bigint, string, string][]).map(([moduleTypeId, module, initData]) => ({
      moduleTypeId,
      module,
      initData,
    })),
  };
}

function modulesHash(modules: ModuleInit[]): string {
  return AbiCoder.defaultAbiCoder().encode(
    ["tuple(uint256,address,bytes)[]"],
    [modules.map((m) => [m.moduleTypeId, m.module, m.initData])],
  );
}

/**
 * The EOA's EIP-712 signature consenting to `args` on `implementation` (what `initializeWithSignature` checks):
 * domain "Reins 7702 Account" v1 on this chain with the EOA as verifying contract, for the account's current
 * `initNonce` (zero before any {@link downgradeEoa}). No deadline: the check runs in the validation phase, where
 * ERC-7562 bans reading the time; the nonce makes it good for one activation.
 */
export async function signInitialization(
  eoa: Signer,
  chainId: bigint,
  implementation: string,
  args: InitializeArgs,
  nonce: bigint,
): Promise<string> {
  const account = getAddress(await eoa.getAddress());
  return eoa.signTypedData(
    { name: "Reins 7702 Account", version: "1", chainId, verifyingContract: account },
    INITIALIZE_TYPES,
    {
      implementation: getAddress(implementation),
      rootValidator: getAddress(args.rootValidator),
      rootValidatorData: args.rootValidatorData,
      modulesHash: keccak256(modulesHash(args.modules)),
      nonce,
    },
  );
}

/** `ReinsAccount7702`'s ERC-7201 namespace (`reins.storage.ReinsAccount7702`); `initNonce` is its first slot. */
const STORAGE_7702_SLOT = "0xcb22a67a304d40c92aae8c0dd31615714cf1a5bc76409d754bbac0b0dd196100";

/**
 * The account's `initNonce`, read from its storage: EIP-7702 keeps storage when the delegation is cleared, so an
 * EOA that left Reins (nonce 1 or more) and has no code now still needs a consent for that nonce, not for 0.
 */
async function initNonceOf(provider: Provider, account: string): Promise<bigint> {
  return BigInt(await provider.getStorage(account, STORAGE_7702_SLOT));
}

async function chainIdOf(provider: Provider): Promise<bigint> {
  return (await provider.getNetwork()).chainId;
}

/** The owner's first-operation setup call (AgentSessions may cancel queued requests), as on a proxy account. */
function setupCall(owner: ReinsOwner): { target: string; data: string } {
  return {
    target: owner.deployment.timelock,
    data: owner.timelock.interface.encodeFunctionData("setCanceller", [owner.deployment.sessions, true]),
  };
}

/** The owner client's owner must be the EOA itself (its key is the account's owner). */
async function requireEoaOwner(owner: ReinsOwner, account: string): Promise<void> {
  const ownerAddress = await owner.ownerAddress();
  if (ownerAddress !== account) {
    throw new ReinsError("config", `EIP-7702: the owner (${ownerAddress}) must be the EOA ${account}`);
  }
}

/**
 * Make the EOA a Reins account in place, with transactions the EOA sends (and pays for) itself: a type-4
 * transaction to itself that delegates to `implementation` and calls `initialize` (only the EOA itself may), then
 * one more self-transaction for the setup call. An EOA already delegated to `implementation` and initialised is
 * left as it is (`alreadyInitialized`). The owner client's owner must be the EOA.
 */
export async function upgradeEoa(
  owner: ReinsOwner,
  eoa: AuthorizingSigner,
  implementation: string,
  opts: CreateAccountOptions = {},
): Promise<{ account: string; txHashes: string[]; alreadyInitialized: boolean }> {
  const account = getAddress(await eoa.getAddress());
  await requireEoaOwner(owner, account);
  const provider = owner.provider;
  const status = await delegationStatus(provider, account, { modules: false });
  if (status.delegate === getAddress(implementation) && status.initialized) {
    owner.useAccount(account);
    return { account, txHashes: [], alreadyInitialized: true };
  }
  const initCall = await owner.initCall(opts);
  const nonce = await provider.getTransactionCount(account, "pending");
  // The EOA sends the transaction, so its authorisation must name the nonce after the transaction's own.
  const auth = await eoa.authorize({ address: implementation, nonce: nonce + 1, chainId: await chainIdOf(provider) });
  const first = await eoa.sendTransaction({
    type: 4,
    to: account,
    data: initCall,
    authorizationList: [auth],
    nonce,
  });
  const r1 = await first.wait();
  if (!r1 || r1.status !== 1) throw new ReinsError("transport", `upgrade-eoa: transaction ${first.hash} failed`);
  const second = await eoa.sendTransaction({ to: account, data: executeCalldata(setupCall(owner)) });
  const r2 = await second.wait();
  if (!r2 || r2.status !== 1) throw new ReinsError("transport", `upgrade-eoa: setup transaction ${second.hash} failed`);
  owner.useAccount(account);
  return { account, txHashes: [r1.hash, r2.hash], alreadyInitialized: false };
}

/**
 * The EIP-7702 parts of a first UserOperation that makes the EOA a Reins account without the EOA sending a
 * transaction: its authorisation for `implementation` and the `0x7702` initCode carrying its signed
 * `initializeWithSignature`. Spread the result into the operation (`factory`, `factoryData`, `eip7702Auth`,
 * `eip7702Delegate`); the bundle transaction sets the delegation, the EntryPoint runs the initialisation before
 * validation, and a stranger who copies the initialisation gets the same configuration (the signature names it).
 */
export async function eip7702FirstOperation(
  owner: ReinsOwner,
  eoa: AuthorizingSigner,
  implementation: string,
  opts: CreateAccountOptions = {},
): Promise<Pick<UserOperation, "factory" | "factoryData" | "eip7702Auth" | "eip7702Delegate">> {
  const account = getAddress(await eoa.getAddress());
  await requireEoaOwner(owner, account);
  owner.useAccount(account);
  const provider = owner.provider;
  const chainId = await chainIdOf(provider);
  const args = decodeInitialize(await owner.initCall(opts));
  const nonce = await initNonceOf(provider, account);
  const signature = await signInitialization(eoa, chainId, implementation, args, nonce);
  const auth = await eoa.authorize({
    address: implementation,
    nonce: await provider.getTransactionCount(account, "pending"),
    chainId,
  });
  return {
    factory: EIP7702_INITCODE_MARKER,
    factoryData: account7702Interface.encodeFunctionData("initializeWithSignature", [
      args.rootValidator,
      args.rootValidatorData,
      args.modules.map((m) => [m.moduleTypeId, m.module, m.initData]),
      signature,
    ]),
    eip7702Auth: auth,
    eip7702Delegate: getAddress(implementation),
  };
}

/** A module `deinitialize` takes out: its type, address and `onUninstall` data (a fallback's starts with its selector). */
export interface ModuleRef {
  moduleTypeId: bigint;
  module: string;
  deInitData?: string;
}

/** What {@link downgradeEoa} did. */
export interface DowngradeResult {
  /** The `deinitialize` and the delegation-clearing transactions. */
  txHashes: string[];
  /** Every module `deinitialize` removed (the root validator besides). */
  removed: InstalledModule[];
}

/** The uninstall entry of an installed module: a fallback handler's data is its selector. */
function refOf(m: InstalledModule): ModuleRef {
  return { moduleTypeId: m.moduleTypeId, module: m.module, deInitData: m.selector ?? "0x" };
}

/**
 * Leave Reins on purpose: find every installed module ({@link installedModules}: the account's events, each
 * checked with `isModuleInstalled`), refuse with a `modules` {@link ReinsError} when they fall short of the
 * account's own `moduleCount` (scan from an earlier `fromBlock`), let the EOA call `deinitialize` on itself with all
 * of them (the contract reverts `ReinsAccount7702ModulesRemain` if any is left; then the root goes and the init
 * nonce moves on), and clear its delegation with a type-4 transaction authorising the zero address.
 * Uninstalling AgentSessions and the timelock ends their sessions and queued requests for good, and no other
 * validator or executor survives, so delegating back later starts clean.
 */
export async function downgradeEoa(eoa: AuthorizingSigner, opts: ModuleScanOptions = {}): Promise<DowngradeResult> {
  const provider = eoa.provider;
  if (!provider) throw new ReinsError("config", "downgrade-eoa: the EOA signer has no provider");
  const account = getAddress(await eoa.getAddress());
  if (!parseDelegation(await provider.getCode(account))) {
    throw new ReinsError("config", `downgrade-eoa: ${account} has no EIP-7702 delegation`);
  }
  const found = await installedModules(provider, account, opts);
  if (!found.complete) {
    const short = BigInt(found.modules.length) < found.count;
    throw new ReinsError(
      "modules",
      `downgrade-eoa: ${account} counts ${found.count} installed modules but its events from block ${opts.fromBlock ?? 0} ` +
        `show ${found.modules.length}` +
        (short ? "; scan from an earlier block" : "; the account's count and its events disagree: nothing sent"),
      { account, count: found.count, found: found.modules.length, fromBlock: opts.fromBlock ?? 0 },
    );
  }
  const out = await eoa.sendTransaction({
    to: account,
    data: account7702Interface.encodeFunctionData("deinitialize", [
      found.modules.map(refOf).map((m) => [m.moduleTypeId, m.module, m.deInitData ?? "0x"]),
    ]),
  });
  const r1 = await out.wait();
  if (!r1 || r1.status !== 1) throw new ReinsError("transport", `downgrade-eoa: deinitialize ${out.hash} failed`);
  const nonce = await provider.getTransactionCount(account, "pending");
  const auth = await eoa.authorize({ address: ZeroAddress, nonce: nonce + 1, chainId: await chainIdOf(provider) });
  const clear = await eoa.sendTransaction({ type: 4, to: account, authorizationList: [auth], nonce });
  const r2 = await clear.wait();
  if (!r2 || r2.status !== 1) throw new ReinsError("transport", `downgrade-eoa: clearing ${clear.hash} failed`);
  return { txHashes: [r1.hash, r2.hash], removed: found.modules };
}

/**
 * Calldata encoders for the Reins account: ERC-7579 execution modes and payloads, the `execute` /
 * `executeUserOp` wrappers and the factory's `initialize` call. Pure functions, no provider needed.
 */
import { AbiCoder, Interface, concat, getAddress, solidityPacked, toBeHex, zeroPadValue } from "ethers";

/** ERC-7579 call type: one call. */
export const CALLTYPE_SINGLE = 0x00;
/** ERC-7579 call type: a batch of calls. */
export const CALLTYPE_BATCH = 0x01;
/** ERC-7579 call type: delegatecall. */
export const CALLTYPE_DELEGATECALL = 0xff;
/** ERC-7579 exec type: revert on failure. */
export const EXECTYPE_DEFAULT = 0x00;
/** ERC-7579 exec type: try (a failure does not revert, it is reported). */
export const EXECTYPE_TRY = 0x01;

/** ERC-7579 module type id of a validator. */
export const MODULE_TYPE_VALIDATOR = 1n;
/** ERC-7579 module type id of an executor. */
export const MODULE_TYPE_EXECUTOR = 2n;
/** ERC-7579 module type id of a fallback handler. */
export const MODULE_TYPE_FALLBACK = 3n;
/** ERC-7579 module type id of a hook. */
export const MODULE_TYPE_HOOK = 4n;

/** One call of an ERC-7579 execution. */
export interface Call {
  target: string;
  value?: bigint;
  data?: string;
}

/** An ERC-7579 mode: `callType (1) ‖ execType (1) ‖ unused (4) ‖ selector (4) ‖ payload (22)`. */
export function encodeMode(callType: number, execType = EXECTYPE_DEFAULT): string {
  return zeroPadValue(toBeHex((BigInt(callType) << 248n) | (BigInt(execType) << 240n)), 32);
}

/** Execution mode: one call, revert on failure. */
export const MODE_SINGLE = encodeMode(CALLTYPE_SINGLE);
/** Execution mode: batch, revert on failure. */
export const MODE_BATCH = encodeMode(CALLTYPE_BATCH);
/** Execution mode: delegatecall. */
export const MODE_DELEGATECALL = encodeMode(CALLTYPE_DELEGATECALL);
/** Execution mode: one call, try. */
export const MODE_SINGLE_TRY = encodeMode(CALLTYPE_SINGLE, EXECTYPE_TRY);
/** Execution mode: batch, try. */
export const MODE_BATCH_TRY = encodeMode(CALLTYPE_BATCH, EXECTYPE_TRY);

/** Single execution payload: `target (20) ‖ value (32) ‖ callData`. */
export function encodeSingle(call: Call): string {
  return solidityPacked(
    ["address", "uint256", "bytes"],
    [getAddress(call.target), call.value ?? 0n, call.data ?? "0x"],
  );
}

/** Batch execution payload: `abi.encode(Execution[])`. */
export function encodeBatch(calls: Call[]): string {
  return AbiCoder.defaultAbiCoder().encode(
    ["tuple(address,uint256,bytes)[]"],
    [calls.map((c) => [getAddress(c.target), c.value ?? 0n, c.data ?? "0x"])],
  );
}

/** Delegatecall payload: `target (20) ‖ callData`. */
export function encodeDelegate(target: string, data: string): string {
  return solidityPacked(["address", "bytes"], [getAddress(target), data]);
}

/** The account functions the encoders use (`execute`, `executeUserOp`, `initialize`, module management). */
export const accountInterface = new Interface([
  "function execute(bytes32 mode, bytes executionCalldata)",
  "function executeUserOp((address sender,uint256 nonce,bytes initCode,bytes callData,bytes32 accountGasLimits,uint256 preVerificationGas,bytes32 gasFees,bytes paymasterAndData,bytes signature) userOp, bytes32 userOpHash)",
  "function initialize(address rootValidator, bytes rootValidatorData, (uint256 moduleTypeId,address module,bytes initData)[] modules)",
  "function installModule(uint256 moduleTypeId, address module, bytes initData)",
  "function uninstallModule(uint256 moduleTypeId, address module, bytes deInitData)",
  "function upgradeToAndCall(address newImplementation, bytes data)",
]);

/** `execute(mode, payload)` calldata for one call or a batch (a single call when `calls` has one element). */
export function executeCalldata(calls: Call | Call[], execType = EXECTYPE_DEFAULT): string {
  if (!Array.isArray(calls)) {
    return accountInterface.encodeFunctionData("execute", [encodeMode(CALLTYPE_SINGLE, execType), encodeSingle(calls)]);
  }
  return accountInterface.encodeFunctionData("execute", [encodeMode(CALLTYPE_BATCH, execType), encodeBatch(calls)]);
}

/** `executeUserOp.selector ‖ inner`: routes the execution phase through the validator's policy. */
export function wrapExecuteUserOp(innerExecuteCalldata: string): string {
  return concat([accountInterface.getFunction("executeUserOp")!.selector, innerExecuteCalldata]);
}

/** A module to install when the account is created. */
export interface ModuleInit {
  moduleTypeId: bigint;
  module: string;
  initData: string;
}

/** `initialize(...)` calldata that the factory commits to in the account's address. */
export function initializeCalldata(
  rootValidator: string,
  rootValidatorData: string,
  modules: ModuleInit[] = [],
): string {
  return accountInterface.encodeFunctionData("initialize", [
    rootValidator,
    rootValidatorData,
    modules.map((m) => [m.moduleTypeId, m.module, m.initData]),
  ]);
}

/**
 * Obtain a struct-log trace of the validation phase of real UserOperations from a node (Hardhat/EDR, geth,
 * anvil): `debug_traceCall` of `EntryPoint.handleOps` on a block (no state change), or
 * `debug_traceTransaction` of a mined `handleOps` transaction.
 */
import { Interface, dataLength, getAddress, toQuantity } from "ethers";
import { isEip7702InitCode, unpackUserOp, type PackedUserOperation } from "../userop/userop.js";
import { CALL_OPCODES, EXTCODE_OPCODES, stackItem, toAddress } from "./evm.js";
import type { OpEntities, StructLog, ValidationTrace } from "./types.js";

/** Anything that speaks JSON-RPC (ethers `JsonRpcProvider`, Hardhat's `ethers.provider`, …). */
export interface JsonRpcSender {
  /** A raw JSON-RPC request. */
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** What {@link traceValidation} traces: a bundle to simulate, or a mined transaction. */
export type TraceRequest =
  | {
      entryPoint: string;
      /** The bundle: `handleOps(ops, beneficiary)` is traced with `debug_traceCall` (state untouched). */
      ops: readonly PackedUserOperation[];
      /** EOA the call is made from (handleOps requires `msg.sender == tx.origin`). Default: first `eth_accounts`. */
      from?: string;
      /** Default: `from`. */
      beneficiary?: string;
      /** Default 16,000,000 (under EDR's 2^24 per-transaction cap). */
      gasLimit?: bigint;
      /** Default "latest". */
      blockTag?: string;
    }
  | {
      entryPoint: string;
      /** A mined transaction calling `handleOps`: traced with `debug_traceTransaction`. */
      txHash: string;
    };

/** Size and speed of one trace. */
export interface TraceStats {
  steps: number;
  /** Size of the struct logs re-serialised as JSON. */
  bytes: number;
  /** Wall time of the RPC call. */
  ms: number;
}

/** A {@link ValidationTrace} with the bundle and the cost of obtaining it. */
export interface TracedBundle extends ValidationTrace {
  packedOps: PackedUserOperation[];
  stats: TraceStats;
}

/** Struct-logger options: memory is needed (KECCAK256 preimages, call selectors); storage maps are not. */
export const TRACER_OPTIONS = { enableMemory: true, disableStorage: true } as const;

const HANDLE_OPS = new Interface([
  "function handleOps((address sender,uint256 nonce,bytes initCode,bytes callData,bytes32 accountGasLimits," +
    "uint256 preVerificationGas,bytes32 gasFees,bytes paymasterAndData,bytes signature)[] ops, address beneficiary)",
]);

interface RawTrace {
  failed: boolean;
  returnValue: string;
  structLogs: StructLog[];
}

/** The ERC-4337 entities of a packed operation. */
export function entitiesOf(op: PackedUserOperation): OpEntities {
  const u = unpackUserOp(op);
  if (isEip7702InitCode(op.initCode)) {
    // EIP-7702: no factory; the sender exists (delegated) and initialises itself when init data follows the marker.
    return { sender: u.sender, paymaster: u.paymaster, eip7702Init: dataLength(op.initCode) > 20 };
  }
  return { sender: u.sender, factory: u.factory, paymaster: u.paymaster };
}

/** Encode `handleOps(ops, beneficiary)`. */
export function encodeHandleOps(ops: readonly PackedUserOperation[], beneficiary: string): string {
  return HANDLE_OPS.encodeFunctionData("handleOps", [ops, beneficiary]);
}

/**
 * Trace `EntryPoint.handleOps` for a bundle (or a mined transaction) and return what {@link checkErc7562}
 * needs. The chain state is left unchanged (`debug_traceCall` executes on top of `blockTag` without
 * committing anything; `debug_traceTransaction` replays history).
 *
 * It also asks the node which accounts targeted by a call or EXTCODE* that ran no code do hold code, so
 * that OP-041 is exact even for calls that failed before entering their callee.
 */
export async function traceValidation(provider: JsonRpcSender, request: TraceRequest): Promise<TracedBundle> {
  const entryPoint = getAddress(request.entryPoint);
  let packedOps: PackedUserOperation[];
  let raw: RawTrace;
  let codeBlock: string;
  const t0 = Date.now();
  if ("txHash" in request) {
    const tx = (await provider.send("eth_getTransactionByHash", [request.txHash])) as {
      to: string | null;
      input: string;
      blockNumber: string | null;
    } | null;
    if (!tx || !tx.blockNumber) throw new Error(`traceValidation: transaction ${request.txHash} is not mined`);
    if (!tx.to || getAddress(tx.to) !== entryPoint) {
      throw new Error(`traceValidation: ${request.txHash} is not a call to the EntryPoint ${entryPoint}`);
    }
    packedOps = decodeHandleOps(tx.input);
    raw = (await provider.send("debug_traceTransaction", [request.txHash, TRACER_OPTIONS])) as RawTrace;
    codeBlock = toQuantity(BigInt(tx.blockNumber) - 1n);
  } else {
    packedOps = [...request.ops];
    const from = request.from ?? ((await provider.send("eth_accounts", [])) as string[])[0];
    if (!from) throw new Error("traceValidation: no `from` given and the node has no accounts");
    const call = {
      from,
      to: entryPoint,
      data: encodeHandleOps(packedOps, request.beneficiary ?? from),
      gas: toQuantity(request.gasLimit ?? 16_000_000n),
    };
    codeBlock = request.blockTag ?? "latest";
    raw = (await provider.send("debug_traceCall", [call, codeBlock, TRACER_OPTIONS])) as RawTrace;
  }
  const ms = Date.now() - t0;
  if (!raw || !Array.isArray(raw.structLogs)) throw new Error("traceValidation: the node returned no struct logs");
  const codeAddresses = await codeHoldersAmongUnentered(provider, raw.structLogs, codeBlock);
  return {
    entryPoint,
    ops: packedOps.map(entitiesOf),
    packedOps,
    structLogs: raw.structLogs,
    codeAddresses,
    failed: raw.failed,
    returnValue: raw.returnValue,
    stats: {
      steps: raw.structLogs.length,
      bytes: JSON.stringify(raw.structLogs, (_k, v) => (typeof v === "bigint" ? v.toString() : v)).length,
      ms,
    },
  };
}

/** Decode the operations of a `handleOps` call. */
export function decodeHandleOps(data: string): PackedUserOperation[] {
  const [ops] = HANDLE_OPS.decodeFunctionData("handleOps", data);
  return (ops as PackedUserOperation[]).map((o) => ({
    sender: getAddress(o.sender),
    nonce: BigInt(o.nonce),
    initCode: o.initCode,
    callData: o.callData,
    accountGasLimits: o.accountGasLimits,
    preVerificationGas: BigInt(o.preVerificationGas),
    gasFees: o.gasFees,
    paymasterAndData: o.paymasterAndData,
    signature: o.signature,
  }));
}

/** Targets of calls that opened no frame and of EXTCODE* that hold code at `blockTag` (lower case). */
async function codeHoldersAmongUnentered(
  provider: JsonRpcSender,
  logs: readonly StructLog[],
  blockTag: string,
): Promise<string[]> {
  const candidates = new Set<string>();
  for (let i = 0; i < logs.length; i++) {
    const log = logs[i];
    if (CALL_OPCODES.has(log.op) && logs[i + 1]?.depth !== log.depth + 1) candidates.add(toAddress(stackItem(log, 1)));
    else if (EXTCODE_OPCODES.has(log.op)) candidates.add(toAddress(stackItem(log, 0)));
  }
  const holders: string[] = [];
  for (const address of candidates) {
    const code = (await provider.send("eth_getCode", [address, blockTag])) as string;
    if (code !== "0x") holders.push(address);
  }
  return holders;
}

/**
 * Low-level helpers over struct logs: stack and memory access, address normalisation, opcode classes.
 */
import type { StructLog } from "./types.js";

/** Opcodes that open a call frame with a target address on the stack. */
export const CALL_OPCODES: ReadonlySet<string> = new Set(["CALL", "CALLCODE", "DELEGATECALL", "STATICCALL"]);
/** Opcodes that open a creation frame. */
export const CREATE_OPCODES: ReadonlySet<string> = new Set(["CREATE", "CREATE2"]);
/** Opcodes that inspect another account's code. */
export const EXTCODE_OPCODES: ReadonlySet<string> = new Set(["EXTCODESIZE", "EXTCODEHASH", "EXTCODECOPY"]);
/** Storage opcodes (persistent and transient; ERC-7562 OP-070 applies the same rules to both). */
export const STORAGE_OPCODES: ReadonlySet<string> = new Set(["SLOAD", "SSTORE", "TLOAD", "TSTORE"]);

/** `keccak256("")`: EXTCODEHASH of an account that exists but has no code. */
export const EMPTY_CODE_HASH = "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";

/** The `n`-th stack item from the top (0 = top), as a bigint; throws if the trace has no such item. */
export function stackItem(log: StructLog, n: number): bigint {
  const stack = log.stack;
  if (!stack || stack.length <= n) {
    throw new Error(`struct log at pc ${log.pc} (${log.op}) has no stack item ${n}: trace the stack`);
  }
  return BigInt(stack[stack.length - 1 - n]);
}

/** A 20-byte address from a stack word, lower case, `0x`-prefixed. */
export function toAddress(word: bigint | string): string {
  const v = typeof word === "bigint" ? word : BigInt(word);
  return "0x" + (v & ((1n << 160n) - 1n)).toString(16).padStart(40, "0");
}

/** `address` as a 32-byte word (left-padded, as Solidity mapping keys are), lower-case hex without `0x`. */
export function addressWord(address: string): string {
  return address.toLowerCase().replace(/^0x/, "").padStart(64, "0");
}

/**
 * Bytes `[offset, offset + size)` of the memory traced at `log`, as `0x` hex. Memory beyond what was traced
 * reads as zeros (as the EVM would after expansion). Returns undefined when the trace carries no memory.
 */
export function readMemory(log: StructLog, offset: bigint, size: bigint): string | undefined {
  if (!log.memory) return undefined;
  if (size === 0n) return "0x";
  const words = log.memory;
  const start = Number(offset);
  const len = Number(size);
  const firstWord = Math.floor(start / 32);
  const lastWord = Math.floor((start + len - 1) / 32);
  let hex = "";
  for (let w = firstWord; w <= lastWord; w++) {
    hex += w < words.length ? words[w].replace(/^0x/, "").padStart(64, "0") : "0".repeat(64);
  }
  const skip = (start - firstWord * 32) * 2;
  return "0x" + hex.slice(skip, skip + len * 2);
}

/** The `[offset, size]` stack positions of the input of a call opcode. */
function callInputPositions(op: string): [number, number] {
  return op === "CALL" || op === "CALLCODE" ? [3, 4] : [2, 3];
}

/** Call data of a CALL/CALLCODE/DELEGATECALL/STATICCALL step (needs memory). */
export function callInput(log: StructLog): string | undefined {
  const [o, s] = callInputPositions(log.op);
  return readMemory(log, stackItem(log, o), stackItem(log, s));
}

/** Size of the call data of a CALL/CALLCODE/DELEGATECALL/STATICCALL step (stack only). */
export function callInputSize(log: StructLog): bigint {
  return stackItem(log, callInputPositions(log.op)[1]);
}

/** Value sent by a CALL/CALLCODE step; 0 for DELEGATECALL/STATICCALL. */
export function callValue(log: StructLog): bigint {
  return log.op === "CALL" || log.op === "CALLCODE" ? stackItem(log, 2) : 0n;
}

/** RIP-7212's secp256r1 (P256VERIFY) precompile, which ERC-7562 OP-062 allows besides the core ones. */
export const P256VERIFY = 0x100n;

/**
 * Precompiles ERC-7562 OP-062 allows: the core computation precompiles of Cancun (0x01–0x0a), which access
 * nothing in the chain state or environment, and RIP-7212's P256VERIFY at 0x100.
 */
export function isCorePrecompile(address: string): boolean {
  const v = BigInt(address);
  return (v >= 1n && v <= 0x0an) || v === P256VERIFY;
}

/** Addresses in the range reserved for precompiles on some chain (0x01–0xffff). */
export function isPrecompileRange(address: string): boolean {
  const v = BigInt(address);
  return v >= 1n && v <= 0xffffn;
}

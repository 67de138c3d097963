/**
 * Types shared by the ERC-7562 validation-rules checker: struct-log traces as Hardhat/EDR (and geth) return
 * them, the validation frames found in them, and the violations reported.
 */

/** One step of a `debug_traceCall` / `debug_traceTransaction` struct-log trace (geth format). */
export interface StructLog {
  pc: number;
  op: string;
  gas: number;
  gasCost: number;
  /** Call depth; the transaction's top frame is depth 1. */
  depth: number;
  /** Stack, bottom first: the top of the stack is the LAST element. Hex quantities. */
  stack?: string[];
  /** Memory as 32-byte hex words (only with `enableMemory: true`). */
  memory?: string[];
  storage?: Record<string, string>;
  error?: string;
}

/** The ERC-4337 entities of one UserOperation, as the checker needs them. Addresses in any case. */
export interface OpEntities {
  sender: string;
  /** Set when the operation deploys its sender through `initCode`. */
  factory?: string;
  paymaster?: string;
  /**
   * EIP-7702 sender whose `initCode` is the `0x7702` marker with init call data: the EntryPoint has
   * `SenderCreator.initEip7702Sender` call the (already delegated) sender before validation. That frame runs the
   * sender's own code and is judged as the account's (the sender exists: it is not being deployed).
   */
  eip7702Init?: boolean;
}

/** Which entity a validation frame (and its sub-calls) is attributed to. */
export type EntityKind = "account" | "factory" | "paymaster";

/** Staking status of each entity (staked entities get the relaxed STO-031/032/033 and OP-080 rules). */
export interface StakeStatus {
  account?: boolean;
  /** Also governs STO-022: associated storage touched while the sender is being deployed. */
  factory?: boolean;
  paymaster?: boolean;
}

/** A validation trace ready for {@link checkErc7562}. */
export interface ValidationTrace {
  /** The EntryPoint whose `handleOps` was traced (exempt from the rules). */
  entryPoint: string;
  /** The operations of the bundle, in bundle order. */
  ops: OpEntities[];
  /** The struct logs of the whole `handleOps` call, with memory (KECCAK256 preimages, call selectors). */
  structLogs: StructLog[];
  /** Lower-case addresses known to hold code before the bundle (resolves OP-041 where the trace cannot). */
  codeAddresses?: string[];
  /** Whether `handleOps` reverted (e.g. `FailedOp`: an operation was refused). */
  failed?: boolean;
  /** Return / revert data of `handleOps`. */
  returnValue?: string;
}

/** A frame of the call tree reconstructed from a struct-log trace. */
export interface CallFrame {
  /** Index of this frame in {@link CallTree.frames}. */
  index: number;
  /** Parent frame index, -1 for the transaction's top frame. */
  parent: number;
  depth: number;
  /** Opcode that opened the frame (CALL, STATICCALL, DELEGATECALL, CALLCODE, CREATE, CREATE2; "TX" for the top). */
  opcode: string;
  /** Address whose code runs (lower case). For CREATE/CREATE2: the created address (0x0 if creation failed). */
  codeAddress: string;
  /** Address whose storage SLOAD/SSTORE touch (differs from codeAddress under DELEGATECALL/CALLCODE). */
  storageAddress: string;
  /** First step index executed in this frame. */
  start: number;
  /** Last step index executed in this frame or its children. */
  end: number;
  /** Step index (in the parent) of the opcode that opened the frame; -1 for the top frame. */
  openedAt: number;
  /** 4-byte selector of the call data, when memory was traced and the call had ≥ 4 bytes of input. */
  selector?: string;
}

/** The call tree of a trace: frames, and the frame that executes each step. */
export interface CallTree {
  frames: CallFrame[];
  /** `frameOfStep[i]` is the index of the frame executing `structLogs[i]`. */
  frameOfStep: Int32Array;
}

/** A top-level validation frame: a call the EntryPoint makes during the validation phase. */
export interface ValidationFrame {
  kind: EntityKind;
  /** Index of the operation in the bundle. */
  opIndex: number;
  /** The entity validated: sender (account), factory, or paymaster (lower case). */
  entity: string;
  /** The frame (a child of the EntryPoint's top frame). For the factory: the SenderCreator frame. */
  frame: CallFrame;
}

/** ERC-7562 rule identifiers reported by the checker. */
export type RuleId =
  | "OP-011"
  | "OP-012"
  | "OP-013"
  | "OP-031"
  | "OP-041"
  | "OP-054"
  | "OP-061"
  | "OP-062"
  | "OP-080"
  | "STO-021"
  | "STO-022"
  | "STO-031"
  | "STO-033";

/** One rule violation found in a validation trace. */
export interface Violation {
  rule: RuleId;
  /** Index of the operation in the bundle. */
  opIndex: number;
  /** Entity whose validation frame the violation occurred in. */
  entity: EntityKind;
  /** Contract whose code executed the offending opcode (lower case). */
  address: string;
  /** Name of `address` (or of `storageAddress` for storage rules) when a name map was supplied. */
  name?: string;
  opcode: string;
  /** Storage rules: the contract whose storage was touched (lower case). */
  storageAddress?: string;
  /** Storage rules: the slot accessed. */
  slot?: string;
  /** Call / EXTCODE* rules: the address targeted. */
  target?: string;
  depth: number;
  pc: number;
  /** Index of the first offending step in the struct logs. */
  step: number;
  /** How many steps hit the same rule at the same place (loops). */
  count: number;
  reason: string;
}

/** Options of {@link checkErc7562}. */
export interface CheckOptions {
  /** Staking of the entities (all operations of the trace). Default: nothing staked. */
  staked?: StakeStatus;
  /** Human names for addresses (any case), used in the report. */
  names?: Record<string, string>;
}

/**
 * ERC-7562 validation-scope rules over a struct-log trace of `EntryPoint.handleOps`.
 *
 * Rules checked, for every step executed in a validation frame (see {@link findValidationFrames}) except
 * the EntryPoint's own code:
 * - OP-011 banned opcodes; OP-080 BALANCE/SELFBALANCE (allowed for a staked entity);
 * - OP-012 GAS not immediately followed by a call;
 * - OP-031 CREATE2 other than the single one deploying the sender, in the factory frame;
 * - OP-041 call / EXTCODE* to an address without code (except the sender being deployed: OP-042);
 *   OP-062 calls to precompiles other than the core ones (0x01–0x0a) and RIP-7212's P256VERIFY (0x100);
 * - OP-054 EntryPoint calls other than `depositTo(sender)` from the sender or factory (OP-052) or the plain
 *   transfer from the sender (OP-053);
 * - OP-061 CALL with value to anyone but the EntryPoint;
 * - STO-021/022/031/032/033 storage (and transient storage, OP-070) outside the sender.
 */
import { keccak256 } from "ethers";
import {
  CALL_OPCODES,
  EMPTY_CODE_HASH,
  EXTCODE_OPCODES,
  STORAGE_OPCODES,
  addressWord,
  callInput,
  callInputSize,
  callValue,
  isCorePrecompile,
  isPrecompileRange,
  readMemory,
  stackItem,
  toAddress,
} from "./evm.js";
import { DEPOSIT_TO_SELECTOR, buildCallTree, findValidationFrames } from "./frames.js";
import type {
  CallFrame,
  CheckOptions,
  EntityKind,
  RuleId,
  StakeStatus,
  StructLog,
  ValidationFrame,
  ValidationTrace,
  Violation,
} from "./types.js";

/** Opcodes banned in validation (OP-011). BALANCE/SELFBALANCE are handled by OP-080. */
export const BANNED_OPCODES: ReadonlySet<string> = new Set([
  "GASPRICE",
  "GASLIMIT",
  "DIFFICULTY",
  "PREVRANDAO",
  "TIMESTAMP",
  "BASEFEE",
  "BLOCKHASH",
  "BLOBHASH",
  "BLOBBASEFEE",
  "NUMBER",
  "ORIGIN",
  "COINBASE",
  "CREATE",
  "SELFDESTRUCT",
  "INVALID",
]);

/** Banned for unstaked entities only (OP-080). */
export const STAKED_ONLY_OPCODES: ReadonlySet<string> = new Set(["BALANCE", "SELFBALANCE"]);

/** Largest offset `n` for which `keccak256(A ‖ x) + n` still counts as associated with `A`. */
export const MAX_ASSOCIATED_OFFSET = 128n;

/** A KECCAK256 input seen during validation, with its hash. */
export interface KeccakPreimage {
  /** The hashed bytes, `0x` hex. */
  data: string;
  /** `keccak256(data)` as a number (a potential mapping base slot). */
  hash: bigint;
}

/** Wrap bytes as a {@link KeccakPreimage}. */
export function keccakPreimage(data: string): KeccakPreimage {
  return { data: data.toLowerCase(), hash: BigInt(keccak256(data)) };
}

/**
 * Whether `slot` is associated with `address` (ERC-7562 definition): the slot equals `A` itself, or equals
 * `keccak256(A ‖ x) + n` for a KECCAK256 input seen during validation that starts with `A` left-padded to
 * 32 bytes, with `0 ≤ n ≤ 128`. (The reference bundler uses `n < 128`; the ERC text says `0..128`.)
 */
export function isAssociatedSlot(slot: bigint, address: string, preimages: readonly KeccakPreimage[]): boolean {
  if (slot === BigInt(address)) return true;
  const word = addressWord(address);
  for (const p of preimages) {
    if (p.data.length < 2 + 64 || p.data.slice(2, 66) !== word) continue;
    if (slot >= p.hash && slot - p.hash <= MAX_ASSOCIATED_OFFSET) return true;
  }
  return false;
}

/** KECCAK256 inputs executed in steps `[start, end]` (needs memory in the trace). */
export function collectKeccakPreimages(logs: readonly StructLog[], start = 0, end = logs.length - 1): KeccakPreimage[] {
  const seen = new Map<string, KeccakPreimage>();
  for (let i = start; i <= end; i++) {
    const log = logs[i];
    if (log.op !== "KECCAK256" && log.op !== "SHA3") continue;
    const data = readMemory(log, stackItem(log, 0), stackItem(log, 1));
    if (data === undefined) {
      throw new Error("collectKeccakPreimages: the trace has no memory; trace with { enableMemory: true }");
    }
    if (!seen.has(data)) seen.set(data, keccakPreimage(data));
  }
  return [...seen.values()];
}

/** Everything the storage rule needs to judge one access. */
export interface StorageAccess {
  /** SLOAD, SSTORE, TLOAD or TSTORE. */
  opcode: string;
  /** Contract whose storage is touched. */
  storageAddress: string;
  slot: bigint;
  /** The operation's sender. */
  sender: string;
  /** Whether the operation deploys its sender (has initCode). */
  creatingSender: boolean;
  /** The entity whose validation frame the access happens in, and its address. */
  entity: EntityKind;
  entityAddress: string;
  staked: StakeStatus;
  preimages: readonly KeccakPreimage[];
}

/**
 * Judge one storage access (STO-0xx). Returns the violated rule and a reason, or undefined when allowed.
 * Pure: unit-testable without a chain.
 */
export function checkStorageAccess(a: StorageAccess): { rule: RuleId; reason: string } | undefined {
  const where = a.storageAddress.toLowerCase();
  const sender = a.sender.toLowerCase();
  const slotHex = "0x" + a.slot.toString(16);
  if (where === sender) return undefined; // STO-010: the account's own storage
  const entityStaked = a.staked[a.entity] === true;
  // STO-021 / STO-022 first: a slot associated with the sender is allowed in any contract, the entity's own
  // storage included (as the reference bundlers do: an unstaked paymaster may keep a per-sender mapping).
  if (isAssociatedSlot(a.slot, sender, a.preimages)) {
    if (!a.creatingSender || a.staked.factory === true) return undefined;
    return {
      rule: "STO-022",
      reason: `slot ${slotHex} is associated with the sender, but the sender is being deployed and the factory is not staked`,
    };
  }
  if (a.entity !== "account" && where === a.entityAddress.toLowerCase()) {
    if (entityStaked) return undefined; // STO-031
    return { rule: "STO-031", reason: `unstaked ${a.entity} accesses its own storage (slot ${slotHex})` };
  }
  if (entityStaked) {
    if (a.entity !== "account" && isAssociatedSlot(a.slot, a.entityAddress, a.preimages)) return undefined; // STO-032
    if (a.opcode === "SLOAD" || a.opcode === "TLOAD") return undefined; // STO-033
    return {
      rule: "STO-033",
      reason: `staked ${a.entity} writes slot ${slotHex}, associated neither with the sender nor with itself`,
    };
  }
  return {
    rule: "STO-021",
    reason: `${a.opcode} of slot ${slotHex} in a contract other than the sender, not associated with the sender ${sender}`,
  };
}

interface Context {
  logs: readonly StructLog[];
  frames: readonly CallFrame[];
  frameOfStep: Int32Array;
  /** Frames by the step that opened them. */
  openedAt: Map<number, CallFrame>;
  entryPoint: string;
  hasCode: Set<string>;
  names: Map<string, string>;
  staked: StakeStatus;
  out: Map<string, Violation>;
}

function report(
  ctx: Context,
  vf: ValidationFrame,
  step: number,
  rule: RuleId,
  reason: string,
  extra: { slot?: string; storageAddress?: string; target?: string } = {},
): void {
  const log = ctx.logs[step];
  const frame = ctx.frames[ctx.frameOfStep[step]];
  const key = [rule, vf.opIndex, frame.codeAddress, log.pc, extra.slot, extra.storageAddress, extra.target].join("|");
  const existing = ctx.out.get(key);
  if (existing) {
    existing.count++;
    return;
  }
  ctx.out.set(key, {
    rule,
    opIndex: vf.opIndex,
    entity: vf.kind,
    address: frame.codeAddress,
    name: ctx.names.get(frame.codeAddress),
    opcode: log.op,
    ...extra,
    depth: log.depth,
    pc: log.pc,
    step,
    count: 1,
    reason,
  });
}

function label(ctx: Context, address: string): string {
  const name = ctx.names.get(address);
  return name ? `${name} (${address})` : address;
}

/** Whether `address` had code for the purposes of OP-041, from what the trace and the caller know. */
function knownToHaveCode(ctx: Context, address: string): boolean {
  return ctx.hasCode.has(address);
}

function checkFrame(ctx: Context, vf: ValidationFrame, trace: ValidationTrace, preimages: KeccakPreimage[]): void {
  const op = trace.ops[vf.opIndex];
  const sender = op.sender.toLowerCase();
  const creatingSender = op.factory !== undefined;
  const entityStaked = ctx.staked[vf.kind] === true;
  let senderCreated = false;
  const { logs } = ctx;
  for (let i = vf.frame.start; i <= vf.frame.end; i++) {
    const log = logs[i];
    const frame = ctx.frames[ctx.frameOfStep[i]];
    if (frame.codeAddress === ctx.entryPoint) continue; // the EntryPoint's own code is exempt
    const opc = log.op;
    if (BANNED_OPCODES.has(opc)) {
      report(ctx, vf, i, "OP-011", `banned opcode ${opc} in ${vf.kind} validation`);
    } else if (STAKED_ONLY_OPCODES.has(opc)) {
      if (!entityStaked)
        report(ctx, vf, i, "OP-080", `${opc} is allowed only for a staked entity; ${vf.kind} is unstaked`);
    } else if (opc === "CREATE2") {
      const created = ctx.openedAt.get(i)?.codeAddress;
      if (vf.kind === "factory" && !senderCreated && created === sender) {
        senderCreated = true; // OP-031: the one CREATE2 that deploys the sender
      } else {
        report(
          ctx,
          vf,
          i,
          "OP-031",
          `CREATE2 (of ${created ?? "nothing"}) other than the factory's single deployment of the sender`,
        );
      }
    } else if (opc === "GAS") {
      const next = logs[i + 1];
      if (!next || !CALL_OPCODES.has(next.op)) {
        report(ctx, vf, i, "OP-012", `GAS followed by ${next?.op ?? "nothing"}, not by a call opcode`);
      }
    } else if (CALL_OPCODES.has(opc)) {
      checkCall(ctx, vf, i, sender, creatingSender);
    } else if (EXTCODE_OPCODES.has(opc)) {
      const target = toAddress(stackItem(log, 0));
      if (creatingSender && target === sender) continue; // OP-042
      if (knownToHaveCode(ctx, target)) continue;
      const result = opc === "EXTCODECOPY" ? undefined : logs[i + 1]?.stack?.at(-1);
      const hasCode =
        result !== undefined &&
        (opc === "EXTCODESIZE"
          ? BigInt(result) !== 0n
          : BigInt(result) !== 0n && BigInt(result) !== BigInt(EMPTY_CODE_HASH));
      if (!hasCode) report(ctx, vf, i, "OP-041", `${opc} of ${target}, which has no code`, { target });
    } else if (STORAGE_OPCODES.has(opc)) {
      const slot = stackItem(log, 0);
      const verdict = checkStorageAccess({
        opcode: opc,
        storageAddress: frame.storageAddress,
        slot,
        sender,
        creatingSender,
        entity: vf.kind,
        entityAddress: vf.entity,
        staked: ctx.staked,
        preimages,
      });
      if (verdict) {
        report(ctx, vf, i, verdict.rule, `${verdict.reason} [storage of ${label(ctx, frame.storageAddress)}]`, {
          slot: "0x" + slot.toString(16).padStart(64, "0"),
          storageAddress: frame.storageAddress,
        });
      }
    }
  }
}

function checkCall(ctx: Context, vf: ValidationFrame, i: number, sender: string, creatingSender: boolean): void {
  const log = ctx.logs[i];
  const target = toAddress(stackItem(log, 1));
  const entered = ctx.openedAt.has(i);
  if (target === ctx.entryPoint) {
    // OP-052/053: depositTo, or the plain transfer (receive/fallback); OP-054: anything else.
    // OP-053: the plain transfer (receive/fallback), from the sender only.
    if (callInputSize(log) === 0n) {
      if (vf.kind === "account") return;
      report(ctx, vf, i, "OP-054", `${log.op} to the EntryPoint's fallback from the ${vf.kind} (only the sender may)`, {
        target,
      });
      return;
    }
    const input = callInput(log);
    const selector = input?.slice(0, 10);
    // OP-052: depositTo(sender), from the sender or the factory.
    if (selector === DEPOSIT_TO_SELECTOR && input !== undefined && input.length >= 74) {
      const beneficiary = ("0x" + input.slice(34, 74)).toLowerCase();
      if (beneficiary === sender.toLowerCase() && (vf.kind === "account" || vf.kind === "factory")) return;
      report(
        ctx,
        vf,
        i,
        "OP-054",
        `depositTo(${beneficiary}) from the ${vf.kind}: only depositTo(sender), from the sender or the factory`,
        { target },
      );
      return;
    }
    report(
      ctx,
      vf,
      i,
      "OP-054",
      `${log.op} to the EntryPoint with selector ${selector ?? "?"} (only depositTo(sender) or a plain transfer are allowed)`,
      { target },
    );
    return;
  }
  const value = callValue(log);
  if (value > 0n)
    report(ctx, vf, i, "OP-061", `${log.op} with value ${value} to ${label(ctx, target)}, not the EntryPoint`, {
      target,
    });
  if (entered || knownToHaveCode(ctx, target)) return;
  if (isPrecompileRange(target)) {
    if (!isCorePrecompile(target))
      report(ctx, vf, i, "OP-062", `${log.op} to ${target}, not a core precompile`, { target });
    return;
  }
  if (creatingSender && target === sender) return; // OP-042
  report(ctx, vf, i, "OP-041", `${log.op} to ${target}, which has no code`, { target });
}

/**
 * Check a `handleOps` trace against the ERC-7562 validation rules. Pure: no chain access.
 *
 * @param trace The trace (see {@link traceValidation}); must carry stack and memory.
 * @param options Staking status and names for the report.
 * @returns The violations, in trace order (one entry per rule and place; `count` tells repetitions).
 */
export function checkErc7562(trace: ValidationTrace, options: CheckOptions = {}): Violation[] {
  const entryPoint = trace.entryPoint.toLowerCase();
  const tree = buildCallTree(trace.structLogs, entryPoint);
  const validation = findValidationFrames(tree, entryPoint, trace.ops);
  const openedAt = new Map<number, CallFrame>();
  const hasCode = new Set<string>((trace.codeAddresses ?? []).map((a) => a.toLowerCase()));
  // A frame that ran code proves its callee had code before the bundle, unless the bundle created it.
  const created = new Set(
    tree.frames.filter((f) => f.opcode === "CREATE" || f.opcode === "CREATE2").map((f) => f.codeAddress),
  );
  for (const f of tree.frames) {
    if (f.openedAt >= 0) openedAt.set(f.openedAt, f);
    if (!created.has(f.codeAddress)) hasCode.add(f.codeAddress);
  }
  const names = new Map<string, string>();
  for (const [address, name] of Object.entries(options.names ?? {})) names.set(address.toLowerCase(), name);
  const ctx: Context = {
    logs: trace.structLogs,
    frames: tree.frames,
    frameOfStep: tree.frameOfStep,
    openedAt,
    entryPoint,
    hasCode,
    names,
    staked: options.staked ?? {},
    out: new Map(),
  };
  const preimagesByOp = new Map<number, KeccakPreimage[]>();
  for (const vf of validation) {
    const list = preimagesByOp.get(vf.opIndex) ?? [];
    list.push(...collectKeccakPreimages(trace.structLogs, vf.frame.start, vf.frame.end));
    preimagesByOp.set(vf.opIndex, list);
  }
  for (const vf of validation) checkFrame(ctx, vf, trace, preimagesByOp.get(vf.opIndex) ?? []);
  return [...ctx.out.values()].sort((a, b) => a.step - b.step);
}

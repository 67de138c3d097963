/**
 * Call-tree reconstruction from struct logs, and the frames of the ERC-4337 validation phase in a trace of
 * `EntryPoint.handleOps`.
 */
import { id } from "ethers";
import { CALL_OPCODES, CREATE_OPCODES, callInput, stackItem, toAddress } from "./evm.js";
import type { CallFrame, CallTree, OpEntities, StructLog, ValidationFrame } from "./types.js";

const selectorOf = (signature: string) => id(signature).slice(0, 10);

/** `SenderCreator.createSender(bytes)`: the EntryPoint deploys a sender through it. */
export const CREATE_SENDER_SELECTOR = selectorOf("createSender(bytes)");
/** `SenderCreator.initEip7702Sender(address,bytes)`: the EntryPoint initialises an EIP-7702 sender through it. */
export const INIT_EIP7702_SENDER_SELECTOR = selectorOf("initEip7702Sender(address,bytes)");
/** `IAccount.validateUserOp(PackedUserOperation,bytes32,uint256)` (v0.7/v0.8). */
export const VALIDATE_USEROP_SELECTOR = selectorOf(
  "validateUserOp((address,uint256,bytes,bytes,bytes32,uint256,bytes32,bytes,bytes),bytes32,uint256)",
);
/** `IPaymaster.validatePaymasterUserOp(PackedUserOperation,bytes32,uint256)` (v0.7/v0.8). */
export const VALIDATE_PAYMASTER_SELECTOR = selectorOf(
  "validatePaymasterUserOp((address,uint256,bytes,bytes,bytes32,uint256,bytes32,bytes,bytes),bytes32,uint256)",
);
/** `IStakeManager.depositTo(address)`: the one EntryPoint method validation code may call (OP-052). */
export const DEPOSIT_TO_SELECTOR = selectorOf("depositTo(address)");

/**
 * Rebuild the call tree of a struct-log trace. A frame exists for every call or creation that executed
 * at least one step (calls to code-less accounts and precompiles execute none, so they open no frame).
 *
 * @param logs The struct logs (stack required; memory optional, used for call selectors).
 * @param topAddress The address the transaction (or call) was sent to.
 */
export function buildCallTree(logs: readonly StructLog[], topAddress: string): CallTree {
  const top = topAddress.toLowerCase();
  const frames: CallFrame[] = [
    {
      index: 0,
      parent: -1,
      depth: logs[0]?.depth ?? 1,
      opcode: "TX",
      codeAddress: top,
      storageAddress: top,
      start: 0,
      end: logs.length - 1,
      openedAt: -1,
    },
  ];
  const frameOfStep = new Int32Array(logs.length);
  const open: CallFrame[] = [frames[0]];
  for (let i = 0; i < logs.length; i++) {
    const log = logs[i];
    while (open.length > 1 && log.depth < open[open.length - 1].depth) {
      const done = open.pop() as CallFrame;
      done.end = i - 1;
      // A creation frame returns the new address (0 on failure) onto the caller's stack.
      if (CREATE_OPCODES.has(done.opcode)) done.codeAddress = toAddress(stackItem(log, 0));
    }
    const current = open[open.length - 1];
    frameOfStep[i] = current.index;
    const next = logs[i + 1];
    if (!next || next.depth !== log.depth + 1) continue;
    if (CALL_OPCODES.has(log.op)) {
      const target = toAddress(stackItem(log, 1));
      const input = callInput(log);
      const frame: CallFrame = {
        index: frames.length,
        parent: current.index,
        depth: next.depth,
        opcode: log.op,
        codeAddress: target,
        storageAddress: "", // resolved below (the caller may be an unfinished CREATE)
        start: i + 1,
        end: logs.length - 1,
        openedAt: i,
        selector: input !== undefined && input.length >= 10 ? input.slice(0, 10) : undefined,
      };
      frames.push(frame);
      open.push(frame);
    } else if (CREATE_OPCODES.has(log.op)) {
      const frame: CallFrame = {
        index: frames.length,
        parent: current.index,
        depth: next.depth,
        opcode: log.op,
        codeAddress: "0x" + "0".repeat(40), // known when the frame returns
        storageAddress: "",
        start: i + 1,
        end: logs.length - 1,
        openedAt: i,
      };
      frames.push(frame);
      open.push(frame);
    }
  }
  // Storage context: a DELEGATECALL/CALLCODE frame uses its caller's (parents come first in `frames`).
  for (const f of frames) {
    f.storageAddress =
      f.opcode === "DELEGATECALL" || f.opcode === "CALLCODE" ? frames[f.parent].storageAddress : f.codeAddress;
  }
  return { frames, frameOfStep };
}

/**
 * The validation frames of a `handleOps` trace: the calls the EntryPoint's top frame makes to
 * `SenderCreator.createSender` (factory), `validateUserOp` (account) and `validatePaymasterUserOp`
 * (paymaster), in order, up to the first call the EntryPoint makes to itself (`innerHandleOp`: the
 * execution phase). Everything the EntryPoint executes itself is left out: it is exempt from ERC-7562.
 *
 * Frames are matched to operations in bundle order. With memory traced, calls are recognised by selector;
 * without it, by target address (sender → account, paymaster → paymaster, anything else → factory).
 *
 * @param tree The call tree of the trace ({@link buildCallTree} with the EntryPoint as top address).
 * @param entryPoint The EntryPoint address.
 * @param ops The entities of the bundle's operations, in bundle order.
 */
export function findValidationFrames(
  tree: CallTree,
  entryPoint: string,
  ops: readonly OpEntities[],
): ValidationFrame[] {
  const ep = entryPoint.toLowerCase();
  const root = tree.frames[0];
  if (!root || root.codeAddress !== ep) {
    throw new Error(`findValidationFrames: the trace's top frame is ${root?.codeAddress}, not the EntryPoint ${ep}`);
  }
  const lower = ops.map((o) => ({
    sender: o.sender.toLowerCase(),
    factory: o.factory?.toLowerCase(),
    paymaster: o.paymaster?.toLowerCase(),
    eip7702Init: o.eip7702Init === true,
  }));
  const result: ValidationFrame[] = [];
  let nextOp = 0; // first operation whose account has not been validated yet
  let lastAccountOp = -1;
  for (const frame of tree.frames) {
    if (frame.parent !== root.index) continue;
    if (frame.codeAddress === ep) break; // innerHandleOp: the execution phase starts
    const sel = frame.selector;
    const target = frame.codeAddress;
    const senderOp = lower.findIndex((o, j) => j >= nextOp && o.sender === target);
    if (sel === INIT_EIP7702_SENDER_SELECTOR) {
      // EIP-7702 initialisation: the sender's own code, before its validateUserOp (which still matches the op).
      const initOp = lower.findIndex((o, j) => j >= nextOp && o.eip7702Init);
      if (initOp >= 0) result.push({ kind: "account", opIndex: initOp, entity: lower[initOp].sender, frame });
      continue;
    }
    if (sel === VALIDATE_USEROP_SELECTOR || (sel === undefined && senderOp >= 0)) {
      if (senderOp < 0) continue;
      result.push({ kind: "account", opIndex: senderOp, entity: target, frame });
      lastAccountOp = senderOp;
      nextOp = senderOp + 1;
    } else if (
      sel === VALIDATE_PAYMASTER_SELECTOR ||
      (sel === undefined && lastAccountOp >= 0 && lower[lastAccountOp].paymaster === target)
    ) {
      if (lastAccountOp < 0) continue;
      result.push({ kind: "paymaster", opIndex: lastAccountOp, entity: target, frame });
    } else if (sel === CREATE_SENDER_SELECTOR || sel === undefined) {
      const factoryOp = lower.findIndex((o, j) => j >= nextOp && o.factory !== undefined);
      if (factoryOp < 0) continue;
      result.push({ kind: "factory", opIndex: factoryOp, entity: lower[factoryOp].factory as string, frame });
    }
  }
  return result;
}

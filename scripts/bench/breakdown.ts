/**
 * Gas attribution for one mined transaction: rebuild the call tree from a `debug_traceTransaction` struct-log
 * trace and give every call (including calls to precompiles, which open no frame) its inclusive gas — the
 * caller's gas just before the call opcode minus its gas at the next step of the same frame, so the call
 * opcode's own cost (cold account access, value transfer, new account) is charged to the callee — and its
 * exclusive gas split by opcode class (SSTORE, SLOAD, LOG, KECCAK256, rest).
 *
 * EDR (Hardhat's in-process chain) implements the struct logger only (no `callTracer`), hence the rebuild.
 */
import { Interface } from "ethers";
import { CALL_OPCODES, CREATE_OPCODES, callInput, stackItem, toAddress } from "../../src/erc7562/evm.js";
import type { StructLog } from "../../src/erc7562/types.js";

/** Gas of one call node. */
export interface GasNode {
  /** `Name.function` (or the address / selector when unknown). */
  label: string;
  /** Gas of the call including everything below it and the call opcode's own cost. */
  inclusive: number;
  /** `inclusive` minus the children's `inclusive`. */
  exclusive: number;
  /** Exclusive gas by opcode class. */
  ops: { sstore: number; sload: number; log: number; keccak: number; other: number };
  children: GasNode[];
}

/** Names for the addresses and selectors that appear in a trace. */
export interface Labels {
  /** Lower-case address → contract name. */
  addresses: Map<string, string>;
  /** ABIs whose function selectors should be decoded. */
  interfaces: Interface[];
}

interface RawTrace {
  gas: number;
  failed: boolean;
  structLogs: StructLog[];
}

function selectorName(labels: Labels, input: string | undefined): string {
  if (!input || input.length < 10) return input === "0x" ? "(value)" : "(fallback)";
  const selector = input.slice(0, 10).toLowerCase();
  for (const iface of labels.interfaces) {
    const fn = iface.getFunction(selector);
    if (fn) return fn.name;
  }
  return selector;
}

function addressName(labels: Labels, address: string): string {
  const a = address.toLowerCase();
  const known = labels.addresses.get(a);
  if (known) return known;
  const v = BigInt(a);
  if (v === 1n) return "ecrecover";
  if (v > 0n && v <= 0x11n) return `precompile(${v})`;
  return a.slice(0, 10) + "…";
}

/**
 * Trace `txHash` and return the call tree rooted at the transaction's target, with `gasUsed - root.inclusive`
 * reported as an `(intrinsic: 21000 + calldata)` child of a synthetic root.
 */
export async function gasBreakdown(
  provider: { send(method: string, params: unknown[]): Promise<unknown> },
  txHash: string,
  labels: Labels,
): Promise<GasNode> {
  const receipt = (await provider.send("eth_getTransactionReceipt", [txHash])) as { gasUsed: string; to: string };
  const tx = (await provider.send("eth_getTransactionByHash", [txHash])) as { input: string; to: string };
  const raw = (await provider.send("debug_traceTransaction", [
    txHash,
    { enableMemory: true, disableStorage: true },
  ])) as RawTrace;
  const logs = raw.structLogs;
  const gasUsed = Number(BigInt(receipt.gasUsed));

  const empty = () => ({ sstore: 0, sload: 0, log: 0, keccak: 0, other: 0 });
  const root: GasNode = {
    label: `${addressName(labels, tx.to)}.${selectorName(labels, tx.input)}`,
    inclusive: 0,
    exclusive: 0,
    ops: empty(),
    children: [],
  };
  // Walk the steps with an explicit stack of open frames (depth → node).
  const stack: { node: GasNode; depth: number }[] = [{ node: root, depth: logs[0]?.depth ?? 1 }];
  for (let i = 0; i < logs.length; i++) {
    const log = logs[i];
    while (stack.length > 1 && log.depth < stack[stack.length - 1].depth) stack.pop();
    const current = stack[stack.length - 1].node;
    const isCall = CALL_OPCODES.has(log.op) || CREATE_OPCODES.has(log.op);
    if (!isCall) {
      const op = log.op;
      const cost = log.gasCost;
      if (op === "SSTORE") current.ops.sstore += cost;
      else if (op === "SLOAD") current.ops.sload += cost;
      else if (op.startsWith("LOG")) current.ops.log += cost;
      else if (op === "KECCAK256" || op === "SHA3") current.ops.keccak += cost;
      else current.ops.other += cost;
      continue;
    }
    // The next step of this frame gives the call's inclusive cost.
    let j = i + 1;
    while (j < logs.length && logs[j].depth > log.depth) j++;
    const after = j < logs.length ? logs[j].gas : log.gas - log.gasCost;
    const target = CREATE_OPCODES.has(log.op) ? "(create)" : toAddress(stackItem(log, 1));
    const label = CREATE_OPCODES.has(log.op)
      ? `${log.op}`
      : `${addressName(labels, target)}.${
          BigInt(target) <= 0x11n && BigInt(target) > 0n ? "" : selectorName(labels, callInput(log))
        }`.replace(/\.$/, "");
    const child: GasNode = { label, inclusive: log.gas - after, exclusive: 0, ops: empty(), children: [] };
    current.children.push(child);
    if (logs[i + 1]?.depth === log.depth + 1) stack.push({ node: child, depth: log.depth + 1 });
    else child.ops.other += child.inclusive; // precompile or code-less account: no frame
  }
  const executed = logs.length ? logs[0].gas - (logs[logs.length - 1].gas - logs[logs.length - 1].gasCost) : 0;
  root.inclusive = executed;
  finish(root);
  return {
    label: "transaction",
    inclusive: gasUsed,
    exclusive: 0,
    ops: empty(),
    children: [
      {
        label: "(intrinsic: 21000 + calldata; minus refunds)",
        inclusive: gasUsed - executed,
        exclusive: gasUsed - executed,
        ops: empty(),
        children: [],
      },
      root,
    ],
  };
}

function finish(node: GasNode): void {
  for (const c of node.children) finish(c);
  if (node.children.length || node.exclusive === 0) {
    node.exclusive = node.inclusive - node.children.reduce((s, c) => s + c.inclusive, 0);
  }
}

/** Render the tree as indented text lines down to `maxDepth`, hiding nodes below `minGas`. */
export function renderBreakdown(node: GasNode, maxDepth = 8, minGas = 0, indent = ""): string[] {
  const o = node.ops;
  const parts = [
    o.sstore && `sstore ${o.sstore}`,
    o.sload && `sload ${o.sload}`,
    o.log && `log ${o.log}`,
    o.keccak && `keccak ${o.keccak}`,
  ].filter(Boolean);
  const self = node.children.length ? ` (self ${node.exclusive}${parts.length ? ": " + parts.join(", ") : ""})` : "";
  const lines = [
    `${indent}${node.label.padEnd(Math.max(0, 56 - indent.length))} ${String(node.inclusive).padStart(8)}${self}`,
  ];
  if (maxDepth <= 0) return lines;
  for (const c of node.children) {
    if (c.inclusive < minGas) continue;
    lines.push(...renderBreakdown(c, maxDepth - 1, minGas, indent + "  "));
  }
  return lines;
}

/**
 * Source-line gas profile of one benchmark transaction: which Solidity lines of which contract spend the gas, and
 * every storage access (slot, cold or warm, in whose storage). Built from a `debug_traceTransaction` struct-log
 * trace and the compiler's deployed-bytecode source maps in `artifacts/build-info`.
 *
 * `npx hardhat run scripts/profile-gas.ts` (env `PROFILE_SCENARIO=erc20-transfer-agent`, `PROFILE_TOP=40`).
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { CALL_OPCODES, CREATE_OPCODES, stackItem, toAddress } from "../../src/erc7562/evm.js";
import type { StructLog } from "../../src/erc7562/types.js";

/** One contract's code, with its instruction-to-source mapping. */
interface CodeMap {
  name: string;
  /** pc → instruction index. */
  instructionAt: Map<number, number>;
  /** instruction index → [file index, byte offset]. */
  sources: Array<[number, number]>;
  /** file index → source path. */
  files: Map<number, string>;
  /** file index → text. */
  texts: Map<number, string>;
}

/** Gas spent per source line, per storage slot access, and per opcode, for one transaction. */
export interface GasProfile {
  /** `contract file:line` → gas of the non-call opcodes attributed to it. */
  lines: Map<string, number>;
  /** One entry per SLOAD/SSTORE: who, slot, cost. */
  storage: Array<{ storageOf: string; code: string; op: string; slot: string; cost: number; line: string }>;
  /** `contract op` → total gas of that opcode (non-call). */
  opcodes: Map<string, number>;
  /** `contract` → gas by class (see {@link GasClass}). */
  classes: Map<string, Record<GasClass, number>>;
  /** Receipt gasUsed minus the gas of the transaction's top-level frame: 21,000, call data, minus refunds. */
  intrinsic: number;
}

/**
 * What the gas of a frame paid for: cold and warm storage reads, storage writes, logs, the call opcodes' own cost
 * (cold account access, value transfer), precompiles (ecrecover, P-256), hashing, and everything else ("code":
 * arithmetic, stack, memory, jumps, call data, ABI encoding and decoding).
 */
export type GasClass = "sloadCold" | "sloadWarm" | "sstore" | "log" | "call" | "precompile" | "keccak" | "code";

/** Every class, in report order. */
export const GAS_CLASSES: readonly GasClass[] = [
  "sloadCold",
  "sloadWarm",
  "sstore",
  "log",
  "call",
  "precompile",
  "keccak",
  "code",
];

function classOf(op: string, cost: number): GasClass {
  if (op === "SLOAD") return cost >= 2100 ? "sloadCold" : "sloadWarm";
  if (op === "SSTORE") return "sstore";
  if (op.startsWith("LOG")) return "log";
  if (op === "KECCAK256") return "keccak";
  return "code";
}

function pcToInstruction(bytecodeHex: string): Map<number, number> {
  const code = Buffer.from(bytecodeHex.replace(/^0x/, ""), "hex");
  const map = new Map<number, number>();
  let index = 0;
  for (let pc = 0; pc < code.length; index++) {
    map.set(pc, index);
    const op = code[pc];
    pc += op >= 0x60 && op <= 0x7f ? op - 0x5e : 1;
  }
  return map;
}

function decompressSourceMap(sourceMap: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let s = 0;
  let f = 0;
  for (const entry of sourceMap.split(";")) {
    const parts = entry.split(":");
    if (parts[0] !== undefined && parts[0] !== "") s = Number(parts[0]);
    if (parts[2] !== undefined && parts[2] !== "") f = Number(parts[2]);
    out.push([f, s]);
  }
  return out;
}

/** Every contract of `artifacts/build-info`, keyed by its deployed bytecode's length and first 64 bytes. */
export function loadCodeMaps(artifactsDir = "artifacts/build-info"): Map<string, CodeMap> {
  const maps = new Map<string, CodeMap>();
  for (const file of readdirSync(artifactsDir).filter((f) => f.endsWith(".output.json"))) {
    const out = JSON.parse(readFileSync(path.join(artifactsDir, file), "utf8")).output;
    const input = JSON.parse(readFileSync(path.join(artifactsDir, file.replace(".output.json", ".json")), "utf8"));
    const files = new Map<number, string>();
    const texts = new Map<number, string>();
    for (const [src, meta] of Object.entries(out.sources ?? {}) as Array<[string, { id: number }]>) {
      files.set(meta.id, src);
      const content = input.input?.sources?.[src]?.content;
      if (typeof content === "string") texts.set(meta.id, content);
    }
    for (const [src, contracts] of Object.entries(out.contracts ?? {}) as Array<[string, Record<string, any>]>) {
      for (const [name, c] of Object.entries(contracts)) {
        const dep = c?.evm?.deployedBytecode;
        if (!dep?.object || !dep.sourceMap) continue;
        const key = codeKey("0x" + dep.object);
        if (maps.has(key)) continue;
        maps.set(key, {
          name: `${name}`,
          instructionAt: pcToInstruction(dep.object),
          sources: decompressSourceMap(dep.sourceMap),
          files,
          texts,
        });
        void src;
      }
    }
  }
  return maps;
}

const ENTRYPOINT = "0x4337084d9e255ff0702461cf8895ce9e3b5ff108";
const UNMAPPED: CodeMap = { name: "", instructionAt: new Map(), sources: [], files: new Map(), texts: new Map() };

function codeKey(code: string): string {
  return `${code.length}:${code.slice(2, 130)}`;
}

function lineOf(map: CodeMap | undefined, pc: number, name: string): string {
  if (!map) return `${name} pc${pc}`;
  const i = map.instructionAt.get(pc);
  if (i === undefined) return `${map.name} pc${pc}`;
  const [f, s] = map.sources[i] ?? [-1, -1];
  const file = map.files.get(f);
  const text = map.texts.get(f);
  if (!file || !text || s < 0) return `${map.name} (generated)`;
  const line = text.slice(0, s).split("\n").length;
  return `${map.name} ${path.basename(file)}:${line}`;
}

/**
 * Trace `txHash` and attribute each opcode's gas to its source line. `names` labels addresses (lower case); code
 * is matched to a compiled contract by its bytecode.
 */
export async function profileTransaction(
  provider: { send(method: string, params: unknown[]): Promise<unknown> },
  txHash: string,
  codeMaps: Map<string, CodeMap>,
): Promise<GasProfile> {
  const tx = (await provider.send("eth_getTransactionByHash", [txHash])) as { to: string };
  const raw = (await provider.send("debug_traceTransaction", [
    txHash,
    { disableStorage: true, enableMemory: false },
  ])) as { structLogs: StructLog[] };
  const codeCache = new Map<string, CodeMap | undefined>();
  async function mapFor(address: string): Promise<CodeMap | undefined> {
    if (!codeCache.has(address)) {
      const code = (await provider.send("eth_getCode", [address, "latest"])) as string;
      const known = codeMaps.get(codeKey(code));
      const label = address === ENTRYPOINT ? "EntryPoint" : code.length <= 2 + 2 * 200 ? "proxy" : undefined;
      codeCache.set(address, known ?? (label ? { ...UNMAPPED, name: label } : undefined));
    }
    return codeCache.get(address);
  }
  // Frame stack: code address and storage address.
  const frames: Array<{ code: string; storage: string }> = [
    { code: tx.to.toLowerCase(), storage: tx.to.toLowerCase() },
  ];
  const receipt = (await provider.send("eth_getTransactionReceipt", [txHash])) as { gasUsed: string };
  const profile: GasProfile = { lines: new Map(), storage: [], opcodes: new Map(), classes: new Map(), intrinsic: 0 };
  const charge = (contract: string, cls: GasClass, gas: number) => {
    let c = profile.classes.get(contract);
    if (!c) {
      c = { sloadCold: 0, sloadWarm: 0, sstore: 0, log: 0, call: 0, precompile: 0, keccak: 0, code: 0 };
      profile.classes.set(contract, c);
    }
    c[cls] += gas;
  };
  const logs = raw.structLogs;
  // For each call opcode that opened a frame: the index of the caller's next step (after the callee returned) and
  // the gas the callee itself used, so that the call opcode is charged only its own cost.
  const returnOf = new Map<number, { after: number; calleeUsed: number }>();
  const open: number[] = [];
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i];
    while (open.length > 0 && logs[open[open.length - 1]].depth >= l.depth) {
      const c = open.pop()!;
      const start = logs[c + 1];
      const last = logs[i - 1];
      returnOf.set(c, { after: i, calleeUsed: start.gas - (last.gas - last.gasCost) });
    }
    const next = logs[i + 1];
    if ((CALL_OPCODES.has(l.op) || CREATE_OPCODES.has(l.op)) && next && next.depth === l.depth + 1) open.push(i);
  }
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i];
    while (frames.length > l.depth) frames.pop();
    const frame = frames[frames.length - 1];
    const map = await mapFor(frame.code);
    const name = map?.name ?? frame.code.slice(0, 10);
    const line = lineOf(map, l.pc, name);
    const isCall = CALL_OPCODES.has(l.op) || CREATE_OPCODES.has(l.op);
    if (isCall) {
      const next = logs[i + 1];
      if (next && next.depth === l.depth + 1) {
        const to = toAddress(stackItem(l, 1));
        frames.push({ code: to, storage: l.op === "DELEGATECALL" || l.op === "CALLCODE" ? frame.storage : to });
        // The call opcode's own cost (cold access, value, memory): inclusive gas minus what the callee used.
        const r = returnOf.get(i);
        if (r) {
          add(profile.lines, `${line} [${l.op}]`, l.gas - logs[r.after].gas - r.calleeUsed);
          charge(name, "call", l.gas - logs[r.after].gas - r.calleeUsed);
        }
      } else if (next) {
        add(profile.lines, `${line} [${l.op} precompile]`, l.gas - next.gas);
        charge(name, "precompile", l.gas - next.gas);
      }
      continue;
    }
    add(profile.lines, line, l.gasCost);
    charge(name, classOf(l.op, l.gasCost), l.gasCost);
    add(profile.opcodes, `${name} ${l.op}`, l.gasCost);
    if (l.op === "SLOAD" || l.op === "SSTORE") {
      profile.storage.push({
        storageOf: frame.storage,
        code: name,
        op: l.op,
        slot: "0x" + stackItem(l, 0).toString(16),
        cost: l.gasCost,
        line,
      });
    }
  }
  const first = logs[0];
  const last = logs[logs.length - 1];
  profile.intrinsic = first && last ? Number(BigInt(receipt.gasUsed)) - (first.gas - (last.gas - last.gasCost)) : 0;
  return profile;
}

function add(m: Map<string, number>, k: string, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

/**
 * Where the arguments of a function sit in its call data, for AgentSessions argument conditions: a condition
 * compares the 32-byte word at `4 + 32 * word` of the call data, so it means what it says only if the encoder put
 * the argument there. For static arguments that is always true; for an argument reached through ABI offsets
 * (inside a dynamic tuple), it is true only when those offsets have their canonical values, because a decoder
 * follows whatever offsets the call data holds. {@link abiLayout} lists every word whose position is fixed once
 * the offsets leading to it are pinned, with those offsets ("pins"). Words inside a dynamic tail (the bytes of a
 * `bytes`/`string`, the elements of a `T[]`, anything after the first dynamic tail of a tuple) have no fixed
 * position and are left out.
 */
import { FunctionFragment, ParamType } from "ethers";

/** An ABI offset word and the canonical value it must hold. */
export interface OffsetPin {
  word: number;
  value: bigint;
}

/** One argument word with a fixed position. */
export interface LayoutWord {
  /** `value`: a static argument (or part of one); `offset`: an ABI offset; `length`: the length of a dynamic value. */
  kind: "value" | "offset" | "length";
  /** Argument path: top-level index, then component indexes (fixed arrays count as tuples). */
  path: number[];
  /** ABI type of the word (`address`, `uint256`, … ; `offset` / `length` for the others). */
  type: string;
  /** Offsets that must hold their canonical values for this word to be where it is. */
  pins: OffsetPin[];
}

/** The call-data layout of a function's arguments. */
export interface AbiLayout {
  /** Canonical signature (`exactInput((bytes,address,uint256,uint256))`). */
  signature: string;
  selector: string;
  /** Whether any argument is dynamic (then the call data has no fixed length). */
  dynamic: boolean;
  /** Words of the top-level head (call-data length is `4 + 32 * headWords` when not dynamic). */
  headWords: number;
  /** Every word with a fixed position, by word index (0 = first word after the selector). */
  words: Map<number, LayoutWord>;
}

function isDynamic(t: ParamType): boolean {
  if (t.baseType === "string" || t.baseType === "bytes") return true;
  if (t.isArray()) return t.arrayLength === -1 || isDynamic(t.arrayChildren);
  if (t.isTuple()) return t.components.some(isDynamic);
  return false;
}

/** Components of a tuple or fixed-size array. */
function children(t: ParamType): readonly ParamType[] {
  if (t.isTuple()) return t.components;
  if (t.isArray() && t.arrayLength >= 0) return Array.from({ length: t.arrayLength }, () => t.arrayChildren);
  return [];
}

function staticWords(t: ParamType): number {
  const c = children(t);
  return c.length || t.isTuple() || t.isArray() ? c.reduce((n, x) => n + staticWords(x), 0) : 1;
}

function headWordsOf(types: readonly ParamType[]): number {
  return types.reduce((n, t) => n + (isDynamic(t) ? 1 : staticWords(t)), 0);
}

function addStatic(t: ParamType, at: number, path: number[], pins: OffsetPin[], out: Map<number, LayoutWord>) {
  if (t.isTuple() || t.isArray()) {
    let pos = at;
    children(t).forEach((c, i) => {
      addStatic(c, pos, [...path, i], pins, out);
      pos += staticWords(c);
    });
    return;
  }
  out.set(at, { kind: "value", path, type: t.type, pins });
}

/** Lays out `types` encoded as a tuple whose head starts at word `base`. */
function walk(
  types: readonly ParamType[],
  base: number,
  path: number[],
  pins: OffsetPin[],
  out: Map<number, LayoutWord>,
) {
  const head = headWordsOf(types);
  let pos = base;
  let tailKnown = true; // only the first dynamic tail starts at a fixed place (the head's end)
  types.forEach((t, i) => {
    const p = [...path, i];
    if (!isDynamic(t)) {
      addStatic(t, pos, p, pins, out);
      pos += staticWords(t);
      return;
    }
    out.set(pos, { kind: "offset", path: p, type: "offset", pins });
    if (tailKnown) {
      tailKnown = false;
      const tail = base + head;
      const inner = [...pins, { word: pos, value: BigInt(head * 32) }];
      if (t.baseType === "bytes" || t.baseType === "string" || (t.isArray() && t.arrayLength === -1)) {
        out.set(tail, { kind: "length", path: p, type: "length", pins: inner });
      } else {
        walk(children(t), tail, p, inner, out);
      }
    }
    pos += 1;
  });
}

/** The layout of `signature` (`"f(address,(bytes,uint256))"`, parameter names allowed). Throws on bad syntax. */
export function abiLayout(signature: string): AbiLayout {
  const fragment = FunctionFragment.from(`function ${signature.trim().replace(/^function\s+/, "")}`);
  const words = new Map<number, LayoutWord>();
  walk(fragment.inputs, 0, [], [], words);
  return {
    signature: fragment.format("sighash"),
    selector: fragment.selector,
    dynamic: fragment.inputs.some(isDynamic),
    headWords: headWordsOf(fragment.inputs),
    words,
  };
}

/** A function that grants an allowance or operator rights, and where its spender / operator argument is. */
export interface AllowanceFunction {
  signature: string;
  /** Argument path of the spender / operator (see {@link LayoutWord.path}). */
  spender: number[];
  what: string;
}

/**
 * Functions that let someone else move the account's assets later. A permission on one of them needs an Equal or
 * OneOf condition on the spender / operator: otherwise the agent could approve anyone, and the allowance would
 * outlive the session (AgentSessions resets ERC-20 allowances it sees in call data, but not operators, Permit2
 * allowances or permits).
 */
export const ALLOWANCE_FUNCTIONS: readonly AllowanceFunction[] = [
  { signature: "approve(address,uint256)", spender: [0], what: "ERC-20/ERC-721 approve" },
  { signature: "increaseAllowance(address,uint256)", spender: [0], what: "ERC-20 increaseAllowance" },
  { signature: "increaseApproval(address,uint256)", spender: [0], what: "ERC-20 increaseApproval" },
  { signature: "approveAndCall(address,uint256)", spender: [0], what: "ERC-1363 approveAndCall" },
  { signature: "approveAndCall(address,uint256,bytes)", spender: [0], what: "ERC-1363 approveAndCall" },
  { signature: "approve(address,address,uint160,uint48)", spender: [1], what: "Permit2 approve" },
  { signature: "setApprovalForAll(address,bool)", spender: [0], what: "ERC-721/ERC-1155 setApprovalForAll" },
  {
    signature: "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
    spender: [1],
    what: "ERC-2612 permit",
  },
  {
    signature: "permit(address,address,uint256,uint256,bool,uint8,bytes32,bytes32)",
    spender: [1],
    what: "DAI-style permit",
  },
  {
    signature: "permit(address,((address,uint160,uint48,uint48),address,uint256),bytes)",
    spender: [1, 1],
    what: "Permit2 permit (PermitSingle)",
  },
  {
    signature: "permit(address,((address,uint160,uint48,uint48)[],address,uint256),bytes)",
    spender: [1, 1],
    what: "Permit2 permit (PermitBatch)",
  },
  { signature: "authorizeOperator(address)", spender: [0], what: "ERC-777 authorizeOperator" },
  { signature: "setOperator(address,bool)", spender: [0], what: "ERC-6909 setOperator" },
  { signature: "approve(address,uint256,uint256)", spender: [0], what: "ERC-6909 approve" },
];

/** The allowance function with this selector, with its layout and the spender's word. */
export function allowanceFunction(
  selector: string,
): (AllowanceFunction & { layout: AbiLayout; spenderWord: LayoutWord & { word: number } }) | undefined {
  for (const f of ALLOWANCE_FUNCTIONS) {
    const layout = abiLayout(f.signature);
    if (layout.selector !== selector.toLowerCase()) continue;
    for (const [word, w] of layout.words) {
      if (w.kind === "value" && w.path.join(".") === f.spender.join(".")) {
        return { ...f, layout, spenderWord: { ...w, word } };
      }
    }
  }
  return undefined;
}

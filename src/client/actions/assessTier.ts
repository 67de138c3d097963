/**
 * What an agent operation spends and the tier it falls in. The calldata-visible spend per token (native value and
 * everything `CallPolicy.outflow` interprets: transfers, allowances, permits and operator grants, in canonical form
 * only) is decoded here for display; the tier and the budget-token list come from the module itself
 * (`previewOperation`, `budgetTokens`), so the client keeps no copy of the tier rules.
 */
import { ZeroAddress, dataLength, dataSlice, getAddress } from "ethers";
import { accountInterface, executeCalldata, type Call } from "../../account/encoding.js";
import type { AgentSessions } from "../../../types/ethers-contracts/index.js";
import { decodeReinsError, type NoBudget } from "../errors.js";

/** Tier names, in contract order. */
export const TIERS = ["instant", "delayed", "approval"] as const;
/** A tier name. */
export type TierName = (typeof TIERS)[number];

/** The worst tier of an operation, and the token, amount and limit that decided it. */
export interface TierAssessment {
  tier: TierName;
  /** Token that decided the tier (zero address = native); zero address with amount 0 when nothing is spent. */
  token: string;
  amount: bigint;
  limit: bigint;
  /** Calldata-visible spend of every token. */
  spend: Map<string, bigint>;
}

/** Interpreted selectors of `CallPolicy.outflow`: head words and whether a trailing `bytes` follows. */
const SELECTORS: Record<string, { words: number; bytes?: boolean }> = {
  "0xa9059cbb": { words: 2 }, // transfer
  "0x1296ee62": { words: 2 }, // transferAndCall(address,uint256)
  "0x23b872dd": { words: 3 }, // transferFrom
  "0xd8fbe994": { words: 3 }, // transferFromAndCall(address,address,uint256)
  "0x42842e0e": { words: 3 }, // safeTransferFrom(address,address,uint256)
  "0x095ea7b3": { words: 2 }, // approve
  "0x39509351": { words: 2 }, // increaseAllowance
  "0xd73dd623": { words: 2 }, // increaseApproval (OpenZeppelin 1.x)
  "0x8fcbaf0c": { words: 8 }, // DAI permit(holder,spender,nonce,expiry,allowed,v,r,s)
  "0x558a7297": { words: 2 }, // ERC-6909 setOperator
  "0x3177029f": { words: 2 }, // approveAndCall(address,uint256)
  "0xcae9ca51": { words: 3, bytes: true }, // approveAndCall(address,uint256,bytes)
  "0x4000aea0": { words: 3, bytes: true }, // transferAndCall(address,uint256,bytes)
  "0xc1d34b89": { words: 4, bytes: true }, // transferFromAndCall(address,address,uint256,bytes)
  "0xb88d4fde": { words: 4, bytes: true }, // safeTransferFrom(address,address,uint256,bytes)
  "0xf242432a": { words: 5, bytes: true }, // ERC-1155 safeTransferFrom(address,address,uint256,uint256,bytes)
  "0xd505accf": { words: 7 }, // ERC-2612 permit
  "0x87517c45": { words: 4 }, // Permit2 approve
  "0x36c78516": { words: 4 }, // Permit2 transferFrom
  "0xa22cb465": { words: 2 }, // setApprovalForAll
  "0xb8c43d4d": { words: 8 }, // AgentSessions reserveTransferAuthorization (EIP-3009, settled later)
};
/** Refused outright: Permit2 signature permits (and ERC-1155 batch transfers from the account). */
const UNBOUNDED = new Set(["0x2b67b570", "0x2a2d80d1", "0x30f28b7a", "0x959b8c3f", "0x426a8493"]);

const word = (data: string, i: number) => BigInt(dataSlice(data, 4 + 32 * i, 36 + 32 * i));
const addressWord = (data: string, i: number) =>
  getAddress("0x" + (word(data, i) & ((1n << 160n) - 1n)).toString(16).padStart(40, "0"));

/** What `CallPolicy.outflow` makes of one call. */
export interface Outflow {
  kind: "none" | "transfer" | "approval" | "permit2-approval";
  token: string;
  amount: bigint;
  counterparty: string;
}

/** Call data of an interpreted function that is not in canonical ABI form, or an unbounded grant (both refused). */
export class CallDataRefused extends Error {
  constructor(
    readonly rule: "non-canonical" | "unbounded-grant",
    readonly selector: string,
    readonly length: number,
  ) {
    super(
      rule === "non-canonical"
        ? `call data for ${selector} is not in canonical ABI form (${length} bytes)`
        : `${selector} grants an operator or signature allowance no budget can bound`,
    );
  }
}

/**
 * `CallPolicy.outflow`: the outflow of a call made by `account` to `target`, for the transfer-, allowance-, permit-
 * and operator-granting functions of ERC-20, ERC-2612, ERC-1363, Permit2, ERC-721 and ERC-1155, in canonical form
 * only (throws {@link CallDataRefused} as the contract refuses).
 */
export function outflow(account: string, target: string, data: string | undefined): Outflow {
  const none: Outflow = { kind: "none", token: ZeroAddress, amount: 0n, counterparty: ZeroAddress };
  if (!data || dataLength(data) < 4) return none;
  const sel = dataSlice(data, 0, 4).toLowerCase();
  const len = dataLength(data);
  if (UNBOUNDED.has(sel)) throw new CallDataRefused("unbounded-grant", sel, len);
  if (sel === "0x2eb2c2d6") {
    if (len >= 36 && addressWord(data, 0) === getAddress(account))
      throw new CallDataRefused("unbounded-grant", sel, len);
    return none;
  }
  const shape = SELECTORS[sel];
  if (!shape) return none;
  const head = 32 * shape.words;
  if (!shape.bytes) {
    if (len !== 4 + head) throw new CallDataRefused("non-canonical", sel, len);
  } else {
    if (len < 4 + head + 32 || word(data, shape.words - 1) !== BigInt(head))
      throw new CallDataRefused("non-canonical", sel, len);
    const n = word(data, shape.words);
    if (n > BigInt(len) || BigInt(len) !== BigInt(4 + head + 32) + ((n + 31n) & ~31n))
      throw new CallDataRefused("non-canonical", sel, len);
  }
  const t = getAddress(target);
  const isAccount = (i: number) => addressWord(data, i) === getAddress(account);
  const from = (amount: bigint): Outflow =>
    isAccount(0) ? { kind: "transfer", token: t, amount, counterparty: addressWord(data, 1) } : none;
  switch (sel) {
    case "0xa9059cbb":
    case "0x1296ee62":
    case "0x4000aea0":
      return { kind: "transfer", token: t, amount: word(data, 1), counterparty: addressWord(data, 0) };
    case "0xb8c43d4d":
      return {
        kind: "transfer",
        token: addressWord(data, 0),
        amount: word(data, 2),
        counterparty: addressWord(data, 1),
      };
    case "0x23b872dd":
    case "0xd8fbe994":
    case "0xc1d34b89":
      return from(word(data, 2));
    case "0x42842e0e":
    case "0xb88d4fde":
      return from(1n);
    case "0xf242432a":
      return from(word(data, 3));
    case "0x095ea7b3":
    case "0x39509351":
    case "0xd73dd623":
    case "0x3177029f":
    case "0xcae9ca51":
      return { kind: "approval", token: t, amount: word(data, 1), counterparty: addressWord(data, 0) };
    case "0xd505accf":
      return isAccount(0)
        ? { kind: "approval", token: t, amount: word(data, 2), counterparty: addressWord(data, 1) }
        : none;
    case "0x87517c45":
      return {
        kind: "permit2-approval",
        token: addressWord(data, 0),
        amount: word(data, 2),
        counterparty: addressWord(data, 1),
      };
    case "0x36c78516":
      return isAccount(0)
        ? { kind: "transfer", token: addressWord(data, 3), amount: word(data, 2), counterparty: addressWord(data, 1) }
        : none;
    case "0x8fcbaf0c":
      if (isAccount(0) && word(data, 4) !== 0n) throw new CallDataRefused("unbounded-grant", sel, len);
      return none;
    case "0x558a7297":
    case "0xa22cb465": {
      const approved = word(data, 1);
      if (approved > 1n) throw new CallDataRefused("non-canonical", sel, len);
      if (approved === 1n) throw new CallDataRefused("unbounded-grant", sel, len);
      return none;
    }
  }
  return none;
}

/** The amount `CallPolicy.outflow` charges for a call made by `account` (0 if none). */
export function erc20Outflow(account: string, data: string | undefined, target: string = ZeroAddress): bigint {
  return outflow(account, target, data).amount;
}

/** Calldata-visible spend per token of `calls` made by `account` (in call order of first appearance). */
export function calldataSpend(account: string, calls: readonly Call[]): Map<string, bigint> {
  const spend = new Map<string, bigint>();
  const add = (token: string, amount: bigint) => spend.set(token, (spend.get(token) ?? 0n) + amount);
  for (const call of calls) {
    if (call.value && call.value !== 0n) add(ZeroAddress, call.value);
    const o = outflow(account, call.target, call.data);
    if (o.amount !== 0n) add(getAddress(o.token), o.amount);
  }
  return spend;
}

/** The session's budgeted tokens in the order the contract stores them (the module's `budgetTokens` view). */
export async function budgetTokens(sessions: AgentSessions, account: string, sessionId: string): Promise<string[]> {
  return (await sessions.budgetTokens(sessionId, account)).map((t) => getAddress(t));
}

/**
 * The worst tier over every token the calls spend, as the module decides it: one `eth_call` of AgentSessions'
 * `previewOperation` (no client copy of the rules). Throws the typed error of a refusal (e.g. {@link NoBudget} for
 * a spent token without a budget, the contract's default deny, or a scope or window refusal).
 */
export async function assessTier(
  sessions: AgentSessions,
  account: string,
  sessionId: string,
  calls: readonly Call[],
): Promise<TierAssessment> {
  const spend = calldataSpend(account, calls);
  const [mode, payload] = accountInterface.decodeFunctionData("execute", executeCalldata([...calls]));
  const preview = await sessions.previewOperation(account, sessionId, mode, payload);
  if (preview.refusal !== "0x") throw decodeReinsError(preview.refusal);
  return {
    tier: TIERS[Number(preview.tier)],
    token: getAddress(preview.token),
    amount: preview.amount,
    limit: preview.limit,
    spend,
  };
}

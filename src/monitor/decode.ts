/**
 * Decoding for the Reins monitor: raw logs of AgentSessions and ReinsTimelock into {@link MonitorEvent}s (through
 * the typechain interfaces), and attribution of ERC-20 outflows in a transaction receipt to one `SpendRecorded`.
 * Everything here is pure.
 */
import { Interface, getAddress, zeroPadValue, type Log, type LogDescription } from "ethers";
import {
  AgentSessions__factory,
  IEntryPoint__factory,
  ReinsTimelock__factory,
} from "../../types/ethers-contracts/index.js";
import type { EventPosition, MonitorEvent, Outflow } from "./rules.js";

export const sessionsInterface = AgentSessions__factory.createInterface();
export const timelockInterface = ReinsTimelock__factory.createInterface();
export const entryPointInterface = IEntryPoint__factory.createInterface();
/** The standard ERC-20 `Transfer` event (any token). */
export const erc20Interface = new Interface([
  "event Transfer(address indexed from, address indexed to, uint256 value)",
]);

export const TRANSFER_TOPIC = erc20Interface.getEvent("Transfer")!.topicHash;
const SPEND_TOPIC = sessionsInterface.getEvent("SpendRecorded").topicHash;
/** Logs that end one operation: anything before them belongs to an earlier operation of the same bundle. */
const OPERATION_END_TOPICS = new Set([
  entryPointInterface.getEvent("UserOperationEvent").topicHash,
  sessionsInterface.getEvent("SessionOperationExecuted").topicHash,
  timelockInterface.getEvent("OperationExecuted").topicHash,
]);

/** The 32-byte topic of an address (for `eth_getLogs` filters on an indexed `account`). */
export function addressTopic(address: string): string {
  return zeroPadValue(getAddress(address), 32).toLowerCase();
}

/** The minimal shape of a log the decoder needs (ethers `Log` and receipt logs fit). */
export interface RawLog {
  address: string;
  topics: readonly string[];
  data: string;
  blockNumber: number;
  transactionHash: string;
  index: number;
}

function parse(log: RawLog): LogDescription | null {
  const which = [sessionsInterface, timelockInterface];
  for (const iface of which) {
    try {
      const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
      if (parsed) return parsed;
    } catch {
      /* not this contract's event */
    }
  }
  return null;
}

function stringify(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  // Struct arguments nest (ValueAssessed's quote, PriceSourceSet's entry): bigints at any depth become strings.
  if (Array.isArray(value))
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  return String(value);
}

/**
 * Decode one AgentSessions / ReinsTimelock log into a monitor event (`outflows` left empty; see
 * {@link attributeOutflows}). Returns `null` for logs of neither contract.
 */
export function decodeLog(log: RawLog, timestamp: number): MonitorEvent | null {
  const parsed = parse(log);
  if (!parsed) return null;
  const pos: EventPosition = {
    blockNumber: log.blockNumber,
    logIndex: log.index,
    txHash: log.transactionHash,
    timestamp,
  };
  const a = parsed.args;
  if (parsed.name === "SpendRecorded") {
    return {
      ...pos,
      kind: "SpendRecorded",
      sessionId: a.sessionId as string,
      token: getAddress(a.token as string),
      amount: a.amount as bigint,
      tier: Number(a.tier),
      intentHash: a.intentHash as string,
      outflows: [],
    };
  }
  if (parsed.name === "OperationQueued") {
    return {
      ...pos,
      kind: "OperationQueued",
      sessionId: a.sessionId as string,
      requestId: a.requestId as string,
      tier: Number(a.tier),
      token: getAddress(a.token as string),
      amount: a.amount as bigint,
      limit: a.limit as bigint,
      intentHash: a.intentHash as string,
    };
  }
  const args: Record<string, string> = {};
  parsed.fragment.inputs.forEach((input, i) => {
    // executionCalldata can be long; the log line keeps its size only.
    const v = a[i];
    args[input.name] = input.name === "executionCalldata" ? `<${(String(v).length - 2) / 2} bytes>` : stringify(v);
  });
  return { ...pos, kind: "Other", name: parsed.name, args };
}

/**
 * The ERC-20 transfers out of `account` that belong to the `SpendRecorded` at `spendLogIndex` of this receipt:
 * `Transfer(from = account)` logs of `token`, after the previous operation boundary (a `UserOperationEvent`,
 * `SessionOperationExecuted` or timelock `OperationExecuted` earlier in the transaction) and before the spend.
 * This keeps an owner payment bundled in the same `handleOps` out of an agent's spend.
 */
export function attributeOutflows(
  receiptLogs: readonly RawLog[],
  account: string,
  token: string,
  spendLogIndex: number,
): Outflow[] {
  const acct = account.toLowerCase();
  const tok = token.toLowerCase();
  let boundary = -1;
  for (const log of receiptLogs) {
    if (log.index < spendLogIndex && OPERATION_END_TOPICS.has(log.topics[0]) && log.index > boundary) {
      boundary = log.index;
    }
  }
  const out: Outflow[] = [];
  for (const log of receiptLogs) {
    if (log.index <= boundary || log.index >= spendLogIndex) continue;
    if (log.topics[0] !== TRANSFER_TOPIC || log.topics.length !== 3) continue;
    if (log.address.toLowerCase() !== tok) continue;
    const parsed = erc20Interface.parseLog({ topics: [...log.topics], data: log.data });
    if (!parsed || (parsed.args.from as string).toLowerCase() !== acct) continue;
    out.push({ token: getAddress(log.address), to: getAddress(parsed.args.to as string), amount: parsed.args.value });
  }
  return out;
}

/** Whether a raw log is a `SpendRecorded`. */
export function isSpendLog(log: RawLog): boolean {
  return log.topics[0] === SPEND_TOPIC;
}

/** Adapt an ethers `Log` (or receipt log) to {@link RawLog}. */
export function rawLog(log: Log): RawLog {
  return {
    address: log.address,
    topics: log.topics,
    data: log.data,
    blockNumber: log.blockNumber,
    transactionHash: log.transactionHash,
    index: log.index,
  };
}

/**
 * Decoding for the event index: a raw log of a Reins module (AgentSessions and its admin half, ReinsTimelock,
 * CircuitBreaker, GuardianRecovery, RiskEngineEnvelope) or an ERC-20 `Transfer` out of a followed account into
 * an {@link IndexedEvent}. The interfaces, `SpendRecorded` / `OperationQueued` decoding and the address topic come
 * from the monitor's decoder (`src/monitor/decode.ts`); this file adds the other modules and the event kinds.
 * Everything here is pure.
 */
import { getAddress, type Interface, type LogDescription } from "ethers";
import {
  AgentSessionsAdmin__factory,
  CircuitBreaker__factory,
  GuardianRecovery__factory,
  RiskEngineEnvelope__factory,
} from "../../types/ethers-contracts/index.js";
import {
  TRANSFER_TOPIC,
  decodeLog,
  erc20Interface,
  sessionsInterface,
  timelockInterface,
  type RawLog,
} from "../monitor/decode.js";

/** The Reins modules an index follows, by role. */
export type ModuleName =
  "AgentSessions" | "ReinsTimelock" | "CircuitBreaker" | "GuardianRecovery" | "RiskEngineEnvelope";

/** One decoded event of a followed account. Amounts are base units. */
export interface IndexedEvent {
  /** The followed account (checksummed). */
  account: string;
  block: bigint;
  logIndex: number;
  txHash: string;
  /** Block timestamp (unix seconds). */
  time: bigint;
  /** The contract that emitted it: a module name, or `"ERC20"` for a transfer. */
  contract: ModuleName | "ERC20";
  /**
   * What happened. Agent operations: `executed` (SessionOperationExecuted), `spend` (SpendRecorded), `queued`
   * (OperationQueued). Timelock: `scheduled` (OperationScheduled), `approved`, `requestExecuted`
   * (OperationExecuted), `cancelled`, `queueCleared`, `guardedQueueCleared`. Tokens: `transfer` (out of the
   * account). Every other event: its name in lower camel case (`paused`, `unpaused`, `breakerTripped`,
   * `sessionGranted`, `sessionRevoked`, `budgetSet`, `recoveryProposed`, ...).
   */
  kind: string;
  sessionId?: string;
  /** Token (checksummed); the zero address is ETH. */
  token?: string;
  amount?: bigint;
  /** The receiver of a transfer. */
  recipient?: string;
  /** The timelock operation id (`queued`, `scheduled`, `approved`, `requestExecuted`, `cancelled`). */
  requestId?: string;
  intentHash?: string;
  /** Every argument of the event, as strings (numbers in base 10, arrays and structs as JSON). */
  args: Record<string, string>;
}

/** Kinds whose name is not the event name in lower camel case. */
const KIND_OF: Record<string, string> = {
  SessionOperationExecuted: "executed",
  SpendRecorded: "spend",
  OperationQueued: "queued",
  OperationScheduled: "scheduled",
  OperationApproved: "approved",
  OperationExecuted: "requestExecuted",
  OperationCancelled: "cancelled",
  Transfer: "transfer",
};

const INTERFACES: Record<ModuleName, Interface[]> = {
  AgentSessions: [sessionsInterface, AgentSessionsAdmin__factory.createInterface()],
  ReinsTimelock: [timelockInterface],
  CircuitBreaker: [CircuitBreaker__factory.createInterface()],
  GuardianRecovery: [GuardianRecovery__factory.createInterface()],
  RiskEngineEnvelope: [RiskEngineEnvelope__factory.createInterface()],
};

/** The event topics (topic 0) of every module, plus ERC-20 `Transfer`: the `eth_getLogs` topic-0 filter. */
export function indexedTopics(): string[] {
  const out = new Set<string>([TRANSFER_TOPIC]);
  for (const list of Object.values(INTERFACES))
    for (const iface of list) iface.forEachEvent((e) => out.add(e.topicHash.toLowerCase()));
  return [...out];
}

function stringify(value: unknown): string {
  return typeof value === "string"
    ? value
    : JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

function argsOf(parsed: LogDescription): Record<string, string> {
  const args: Record<string, string> = {};
  parsed.fragment.inputs.forEach((input, i) => {
    const v = parsed.args[i] as unknown;
    args[input.name] =
      typeof v === "bigint" || typeof v === "boolean" || typeof v === "number"
        ? String(v)
        : typeof v === "string"
          ? v
          : stringify((v as { toObject?: (deep: boolean) => unknown }).toObject?.(true) ?? v);
  });
  return args;
}

function parseWith(list: Interface[], log: RawLog): LogDescription | null {
  for (const iface of list) {
    try {
      const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
      if (parsed) return parsed;
    } catch {
      /* another interface's event, or malformed */
    }
  }
  return null;
}

function lowerCamel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** The position and time of a log, for {@link decodeIndexedLog}. */
export interface LogContext {
  /** The block timestamp (unix seconds). */
  time: bigint;
}

/**
 * Decode `log` for the index. `modules` maps lower-case module addresses to their role; a log from any other
 * address is only kept when it is an ERC-20 `Transfer` whose `from` is in `accounts` (lower-case set). Returns
 * `null` for anything else (another contract's event, a module log of an unfollowed account, malformed data).
 */
export function decodeIndexedLog(
  log: RawLog,
  ctx: LogContext,
  modules: ReadonlyMap<string, ModuleName>,
  accounts: ReadonlySet<string>,
): IndexedEvent | null {
  const base = { block: BigInt(log.blockNumber), logIndex: log.index, txHash: log.transactionHash, time: ctx.time };
  const module = modules.get(log.address.toLowerCase());
  if (!module) {
    if (log.topics[0] !== TRANSFER_TOPIC || log.topics.length !== 3) return null;
    let parsed: LogDescription | null;
    try {
      parsed = erc20Interface.parseLog({ topics: [...log.topics], data: log.data });
    } catch {
      return null;
    }
    if (!parsed) return null;
    const from = getAddress(parsed.args.from as string);
    if (!accounts.has(from.toLowerCase())) return null;
    return {
      ...base,
      account: from,
      contract: "ERC20",
      kind: "transfer",
      token: getAddress(log.address),
      amount: parsed.args.value as bigint,
      recipient: getAddress(parsed.args.to as string),
      args: argsOf(parsed),
    };
  }
  const parsed = parseWith(INTERFACES[module], log);
  if (!parsed || parsed.fragment.inputs[0]?.name !== "account") return null;
  const account = getAddress(parsed.args[0] as string);
  if (!accounts.has(account.toLowerCase())) return null;
  const args = argsOf(parsed);
  const out: IndexedEvent = {
    ...base,
    account,
    contract: module,
    kind: KIND_OF[parsed.name] ?? lowerCamel(parsed.name),
    args,
  };
  if (module === "AgentSessions") {
    // The monitor's decoder gives the typed fields of the two agent-spend events.
    const m = decodeLog(log, Number(ctx.time));
    if (m?.kind === "SpendRecorded" || m?.kind === "OperationQueued") {
      out.sessionId = m.sessionId;
      out.token = m.token;
      out.amount = m.amount;
      out.intentHash = m.intentHash;
      if (m.kind === "OperationQueued") out.requestId = m.requestId;
      return out;
    }
  }
  if (args.sessionId) out.sessionId = args.sessionId;
  if (args.intentHash) out.intentHash = args.intentHash;
  if (module === "ReinsTimelock" && args.id) {
    out.requestId = args.id;
    if (
      parsed.name === "OperationScheduled" &&
      /^0x[0-9a-fA-F]{64}$/.test(args.context) &&
      BigInt(args.context) !== 0n
    ) {
      out.sessionId = args.context;
    }
  }
  if (args.token && /^0x[0-9a-fA-F]{40}$/.test(args.token)) out.token = getAddress(args.token);
  return out;
}

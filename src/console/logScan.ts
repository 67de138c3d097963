/**
 * {@link LogScanData}: {@link ConsoleData} read straight from the chain's logs (AgentSessions, ReinsTimelock and the
 * CircuitBreaker, filtered on the account topic), with block times cached. It scans from `fromBlock` on every call:
 * fine for a local console; the shared event index replaces it for long histories.
 */
import { getAddress, zeroPadValue, type Log, type Provider } from "ethers";
import {
  AgentSessions__factory,
  CircuitBreaker__factory,
  ReinsTimelock__factory,
} from "../../types/ethers-contracts/index.js";
import { listQueue, type QueuedOperation } from "../client/actions/queue.js";
import { TIER_NAMES, utcDay, type ActivityEvent, type ConsoleData, type SpendDay } from "./data.js";

const sessionsIface = AgentSessions__factory.createInterface();
const timelockIface = ReinsTimelock__factory.createInterface();
const breakerIface = CircuitBreaker__factory.createInterface();

/** Addresses {@link LogScanData} reads. */
export interface LogScanOptions {
  provider: Provider;
  sessions: string;
  timelock: string;
  /** CircuitBreaker, when deployed (breaker trips). */
  breaker?: string;
  /** First block to scan (default 0). */
  fromBlock?: number;
}

const tierName = (v: unknown) => TIER_NAMES[Number(v)] ?? "instant";

/** {@link ConsoleData} from `eth_getLogs`. */
export class LogScanData implements ConsoleData {
  private readonly times = new Map<number, number>();

  constructor(private readonly options: LogScanOptions) {}

  private async logs(account: string): Promise<Log[]> {
    const o = this.options;
    const addresses = [o.sessions, o.timelock, ...(o.breaker ? [o.breaker] : [])];
    const logs = await o.provider.getLogs({
      address: addresses,
      topics: [null, zeroPadValue(getAddress(account), 32)],
      fromBlock: o.fromBlock ?? 0,
      toBlock: "latest",
    });
    return [...logs].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
  }

  private async timeOf(block: number): Promise<number> {
    let t = this.times.get(block);
    if (t === undefined) {
      t = (await this.options.provider.getBlock(block))!.timestamp;
      this.times.set(block, t);
    }
    return t;
  }

  /** Decode one log into a timeline entry (`null` for events the timeline does not show). */
  private decode(log: Log): Omit<ActivityEvent, "timestamp"> | null {
    const base = { blockNumber: log.blockNumber, txHash: log.transactionHash, logIndex: log.index };
    const address = getAddress(log.address);
    const raw = { topics: [...log.topics], data: log.data };
    if (address === getAddress(this.options.sessions)) {
      const p = sessionsIface.parseLog(raw);
      if (!p) return null;
      const a = p.args;
      switch (p.name) {
        case "SessionOperationExecuted":
          return {
            ...base,
            kind: "executed",
            sessionId: a.sessionId,
            intentHash: a.intentHash,
            tier: tierName(a.tier),
          };
        case "SpendRecorded":
          return {
            ...base,
            kind: "spend",
            sessionId: a.sessionId,
            token: getAddress(a.token),
            amount: a.amount,
            tier: tierName(a.tier),
            intentHash: a.intentHash,
          };
        case "OperationQueued":
          return {
            ...base,
            kind: "queued",
            sessionId: a.sessionId,
            requestId: a.requestId,
            tier: tierName(a.tier),
            token: getAddress(a.token),
            amount: a.amount,
            limit: a.limit,
            intentHash: a.intentHash,
          };
        case "Paused":
          return { ...base, kind: "paused", by: getAddress(a.by) };
        case "Unpaused":
          return { ...base, kind: "unpaused" };
        case "SessionGranted":
          return { ...base, kind: "granted", sessionId: a.sessionId, by: getAddress(a.agent) };
        case "SessionRevoked":
          return { ...base, kind: "revoked", sessionId: a.sessionId, by: getAddress(a.by) };
        default:
          return null;
      }
    }
    if (address === getAddress(this.options.timelock)) {
      const p = timelockIface.parseLog(raw);
      if (!p) return null;
      switch (p.name) {
        case "OperationApproved":
          return { ...base, kind: "approved", requestId: p.args.id };
        case "OperationExecuted":
          return { ...base, kind: "queue-executed", requestId: p.args.id };
        case "OperationCancelled":
          return { ...base, kind: "cancelled", requestId: p.args.id, by: getAddress(p.args.by) };
        default:
          return null;
      }
    }
    const p = breakerIface.parseLog(raw);
    if (p?.name === "BreakerTripped") {
      return {
        ...base,
        kind: "breaker-tripped",
        token: getAddress(p.args.token),
        amount: p.args.value,
        limit: p.args.limit,
      };
    }
    return null;
  }

  async events(account: string): Promise<ActivityEvent[]> {
    const out: ActivityEvent[] = [];
    for (const log of await this.logs(account)) {
      const e = this.decode(log);
      if (e) out.push({ ...e, timestamp: await this.timeOf(log.blockNumber) });
    }
    return out;
  }

  async spendPerDay(account: string): Promise<SpendDay[]> {
    const sums = new Map<string, SpendDay>();
    for (const e of await this.events(account)) {
      if (e.kind !== "spend" || e.token === undefined || e.amount === undefined) continue;
      const day = utcDay(e.timestamp);
      const key = `${day}|${e.token}`;
      const s = sums.get(key) ?? { day, token: e.token, amount: 0n };
      s.amount += e.amount;
      sums.set(key, s);
    }
    return [...sums.values()].sort((a, b) => a.day.localeCompare(b.day) || a.token.localeCompare(b.token));
  }

  async requests(account: string): Promise<QueuedOperation[]> {
    const timelock = ReinsTimelock__factory.connect(this.options.timelock, this.options.provider);
    return listQueue(timelock, account, { fromBlock: this.options.fromBlock });
  }
}

/**
 * The console's read side: what each page shows, as plain JSON-ready objects (amounts formatted with the token's
 * decimals next to the raw base units as decimal strings). Reads go through the library (`listSessions`,
 * `budgetTokens`, `budgetOf`, the typechain contracts) and the {@link ConsoleData} source for history.
 */
import { ZeroAddress, ZeroHash, getAddress, type Provider } from "ethers";
import {
  AgentSessions__factory,
  CircuitBreaker__factory,
  GuardianRecovery__factory,
  IEntryPoint__factory,
  OwnerValidator__factory,
  ReinsAccount__factory,
  ReinsTimelock__factory,
} from "../../types/ethers-contracts/index.js";
import { MODULE_TYPE_EXECUTOR, MODULE_TYPE_VALIDATOR } from "../account/encoding.js";
import { listSessions } from "../client/actions/listSessions.js";
import { budgetTokens } from "../client/actions/assessTier.js";
import type { ReinsDeployment } from "../client/owner.js";
import { decodeExecution } from "../cli/commands/ops.js";
import { amount, duration } from "../cli/format.js";
import { transferOf } from "./decodeCalls.js";
import type { ActivityEvent, ConsoleData } from "./data.js";
import { scopeWords } from "./scope.js";
import { describeOwner, rootOwner } from "./owner.js";
import type { TokenBook, TokenMeta } from "./tokens.js";
import { money, priceSourcesShown, valueBudgetShown, valueReason, valueUnit } from "./value.js";
import { PRICE_SOURCE_KINDS, formatUnitValue } from "../client/valueBudget.js";
import { unitName } from "../client/actions/valueStatus.js";

/** What every read needs. */
export interface ReadContext {
  provider: Provider;
  deployment: ReinsDeployment & { breaker?: string };
  entryPoint: string;
  account: string;
  tokens: TokenBook;
  data: ConsoleData;
}

/** An amount as the pages get it: formatted, raw base units, token symbol and decimals. */
export interface AmountView {
  token: string;
  symbol: string;
  decimals: number;
  raw: string;
  text: string;
}

async function amountView(tokens: TokenBook, token: string, value: bigint): Promise<AmountView> {
  const t: TokenMeta = await tokens.meta(token);
  return {
    token: t.address,
    symbol: t.symbol,
    decimals: t.decimals,
    raw: value.toString(),
    text: amount(value, t.decimals),
  };
}

/** The chain's time now (latest block), in seconds. */
export async function chainNow(provider: Provider): Promise<bigint> {
  return BigInt((await provider.getBlock("latest"))!.timestamp);
}

/** The account's owner (OwnerValidator), checksummed. */
export async function ownerOf(c: ReadContext): Promise<string> {
  return getAddress(await OwnerValidator__factory.connect(c.deployment.ownerValidator, c.provider).ownerOf(c.account));
}

/** The Account page. */
export async function accountView(c: ReadContext) {
  const { provider, deployment: d, account } = c;
  const acc = ReinsAccount__factory.connect(account, provider);
  const sessions = AgentSessions__factory.connect(d.sessions, provider);
  const installed = async (type: bigint, module: string | undefined) =>
    module ? acc.isModuleInstalled(type, module, "0x") : false;
  const root = await rootOwner(c).catch(() => null);
  const modules = [
    ...(root?.kind === "passkey"
      ? [{ name: "PasskeyValidator (root validator)", address: root.validator, installed: true }]
      : []),
    {
      name: root?.kind === "passkey" ? "OwnerValidator" : "OwnerValidator (root validator)",
      address: d.ownerValidator,
      installed: await installed(MODULE_TYPE_VALIDATOR, d.ownerValidator),
    },
    {
      name: "AgentSessions (validator)",
      address: d.sessions,
      installed: await installed(MODULE_TYPE_VALIDATOR, d.sessions),
    },
    {
      name: "AgentSessions (executor)",
      address: d.sessions,
      installed: await installed(MODULE_TYPE_EXECUTOR, d.sessions),
    },
    {
      name: "ReinsTimelock (executor)",
      address: d.timelock,
      installed: await installed(MODULE_TYPE_EXECUTOR, d.timelock),
    },
    ...(d.recovery
      ? [
          {
            name: "GuardianRecovery (executor)",
            address: d.recovery,
            installed: await installed(MODULE_TYPE_EXECUTOR, d.recovery),
          },
        ]
      : []),
  ];
  const config = await sessions.accountConfig(account);
  const balances: AmountView[] = [await amountView(c.tokens, ZeroAddress, await provider.getBalance(account))];
  for (const k of c.tokens.known)
    balances.push(await amountView(c.tokens, k.address, await c.tokens.balance(k.address, account)));
  const watchdogs: string[] = [];
  for (const log of await sessions.queryFilter(sessions.filters.WatchdogSet(account), 0)) {
    const w = getAddress(log.args.watchdog);
    if (!watchdogs.includes(w) && (await sessions.isWatchdog(w, account))) watchdogs.push(w);
  }
  const fleetSeen = new Map<string, { periodCap: bigint; lifetimeCap: bigint; period: bigint }>();
  for (const log of await sessions.queryFilter(sessions.filters.FleetBudgetSet(account), 0)) {
    fleetSeen.set(getAddress(log.args.token), {
      periodCap: log.args.periodCap,
      lifetimeCap: log.args.lifetimeCap,
      period: log.args.period,
    });
  }
  const fleet = [];
  for (const [token, f] of fleetSeen) {
    const [set, periodLeft, lifetimeLeft] = await sessions.fleetRemaining(account, token);
    if (!set) continue;
    fleet.push({
      periodCap: await amountView(c.tokens, token, f.periodCap),
      periodLeft: await amountView(c.tokens, token, periodLeft),
      lifetimeCap: await amountView(c.tokens, token, f.lifetimeCap),
      lifetimeLeft: await amountView(c.tokens, token, lifetimeLeft),
      period: duration(f.period),
    });
  }
  const breakerAddress = getAddress(await sessions.breakerOf(account));
  let breaker: { address: string; window: string; maxOps: number; maxNewRecipients: number } | null = null;
  if (breakerAddress !== ZeroAddress) {
    const cfg = await CircuitBreaker__factory.connect(breakerAddress, provider).configOf(account);
    breaker = {
      address: breakerAddress,
      window: duration(cfg.window),
      maxOps: Number(cfg.maxOps),
      maxNewRecipients: Number(cfg.maxNewRecipients),
    };
  }
  let guardians: {
    guardians: string[];
    threshold: number;
    lockedUntil: number;
    pendingRecovery: { newOwner: string; readyAt: number } | null;
  } | null = null;
  if (d.recovery && (await installed(MODULE_TYPE_EXECUTOR, d.recovery))) {
    const gr = GuardianRecovery__factory.connect(d.recovery, provider);
    const [newOwner, readyAt] = await gr.pendingRecovery(account);
    guardians = {
      guardians: (await gr.guardiansOf(account)).map((g) => getAddress(g)),
      threshold: Number(await gr.thresholdOf(account)),
      lockedUntil: Number(await gr.lockedUntil(account)),
      pendingRecovery: readyAt === 0n ? null : { newOwner: getAddress(newOwner), readyAt: Number(readyAt) },
    };
  }
  const deposit = await IEntryPoint__factory.connect(c.entryPoint, provider).balanceOf(account);
  // The account's value budget, and the price source of every token a session of the account has a budget for.
  const budgeted = new Set<string>();
  for (const s of await listSessions(sessions, account))
    for (const t of await budgetTokens(sessions, account, s.sessionId)) budgeted.add(getAddress(t));
  const value = {
    unit: await valueUnit(c),
    budget: await valueBudgetShown(c, "account"),
    prices: await priceSourcesShown(c, [...budgeted]),
  };
  return {
    account,
    owner: root ? describeOwner(root) : await ownerOf(c),
    rootValidator: root?.validator ?? d.ownerValidator,
    /** `ecdsa` (OwnerValidator), `passkey` (PasskeyValidator), or `unsupported`. */
    rootKind: root?.kind ?? "unsupported",
    modules,
    paused: config.paused,
    securityDelay: duration(config.securityDelay),
    balances,
    entryPointDeposit: await amountView(c.tokens, ZeroAddress, deposit),
    watchdogs,
    guardians,
    breaker,
    fleet,
    value,
  };
}

/**
 * When the next charged spend stops counting in the sliding window (SpendWindow: a spend at `t` counts until
 * `L · (⌊t / L⌋ + 4)` with `L = ⌈period / 3⌉`), and how much frees up then; `null` when nothing counts.
 */
export async function nextRefill(
  c: ReadContext,
  spends: ActivityEvent[],
  period: bigint,
  now: bigint,
): Promise<{ at: number; amount: AmountView } | null> {
  if (period === 0n) return null;
  const L = (period + 2n) / 3n;
  const frees = new Map<bigint, bigint>();
  let token: string | undefined;
  for (const e of spends) {
    const until = L * (BigInt(e.timestamp) / L + 4n);
    if (until <= now) continue;
    frees.set(until, (frees.get(until) ?? 0n) + e.amount!);
    token = e.token;
  }
  if (!frees.size || token === undefined) return null;
  const at = [...frees.keys()].reduce((a, b) => (a < b ? a : b));
  return { at: Number(at), amount: await amountView(c.tokens, token, frees.get(at)!) };
}

/** The Sessions page: every session with its budgets as bars and its scope in words. */
export async function sessionsView(c: ReadContext) {
  const sessions = AgentSessions__factory.connect(c.deployment.sessions, c.provider);
  const now = await chainNow(c.provider);
  // Charged spends (SpendRecorded of the instant and delayed tiers; approved requests are not charged).
  const charged = (await c.data.events(c.account)).filter(
    (e) => e.kind === "spend" && e.tier !== "approval" && e.amount !== undefined && e.token !== undefined,
  );
  const out = [];
  for (const s of await listSessions(sessions, c.account)) {
    const budgets = [];
    for (const token of await budgetTokens(sessions, c.account, s.sessionId)) {
      const [b, periodLeft, lifetimeLeft] = await sessions.budgetOf(s.sessionId, c.account, token);
      // Spent in the window = cap − what is left of it now (the contract's sliding window decides both).
      const spent = b.periodCap > periodLeft ? b.periodCap - periodLeft : 0n;
      const lifetimeSpent = b.lifetimeCap > lifetimeLeft ? b.lifetimeCap - lifetimeLeft : 0n;
      budgets.push({
        spentInWindow: await amountView(c.tokens, token, spent),
        periodCap: await amountView(c.tokens, token, b.periodCap),
        periodLeft: await amountView(c.tokens, token, periodLeft),
        lifetimeSpent: await amountView(c.tokens, token, lifetimeSpent),
        lifetimeCap: await amountView(c.tokens, token, b.lifetimeCap),
        instant: await amountView(c.tokens, token, b.instantThreshold),
        ceiling: await amountView(c.tokens, token, b.ceiling),
        period: duration(b.period),
        refill: await nextRefill(
          c,
          charged.filter((e) => e.sessionId === s.sessionId && getAddress(e.token!) === getAddress(token)),
          b.period,
          now,
        ),
      });
    }
    out.push({
      sessionId: s.sessionId,
      agent: s.agent,
      status: s.status,
      validAfter: Number(s.validAfter),
      validUntil: Number(s.validUntil),
      secondsLeft: Math.max(0, Number(s.validUntil - now)),
      uses: Number(s.uses),
      maxUses: Number(s.maxUses),
      gasSpent: await amountView(c.tokens, ZeroAddress, s.gasSpent),
      gasBudget: await amountView(c.tokens, ZeroAddress, s.gasBudget),
      gasLeft: await amountView(c.tokens, ZeroAddress, s.gasBudget > s.gasSpent ? s.gasBudget - s.gasSpent : 0n),
      queueDelay: duration(s.queueDelay),
      approvalWindow: duration(s.approvalWindow),
      scope: await scopeWords(c.provider, c.deployment.sessions, c.account, s.grantedIn, s.agent, c.tokens),
      budgets,
      value: {
        budget: await valueBudgetShown(c, s.sessionId),
        prices: await priceSourcesShown(c, await budgetTokens(sessions, c.account, s.sessionId)),
      },
    });
  }
  return { now: Number(now), accountValue: await valueBudgetShown(c, "account"), sessions: out };
}

/** Which limit a queued request hit, in words, from its tier and the limit the module reported. */
function limitWords(tier: string, limit: AmountView | null): string {
  if (!limit)
    return tier === "approval" ? "above what the session may spend without approval" : "above the instant threshold";
  return tier === "approval"
    ? `above the approval limit of ${limit.text} ${limit.symbol} (ceiling, or what is left of the period / lifetime / fleet budget)`
    : `above the instant threshold of ${limit.text} ${limit.symbol}: waits the session's queue delay`;
}

/**
 * Why a request was queued, in words. The value budgets queued it when their verdict is the request's tier
 * (`ValueAssessed`); the per-token budgets did when the token amount is above the limit `OperationQueued` reported
 * (at or below it, the token verdict was instant). Both can hold: then both are said.
 */
function queueWords(
  tier: string,
  hit: AmountView | null,
  limit: AmountView | null,
  value: Awaited<ReturnType<typeof valueReason>>,
): string {
  if (!value || value.tier !== tier) return limitWords(tier, limit);
  const parts = [...value.words];
  if (hit && limit && BigInt(hit.raw) > BigInt(limit.raw))
    parts.push(`and the ${hit.symbol} budget: ${hit.text} above its limit of ${limit.text} ${limit.symbol}`);
  return parts.join("; ");
}

/** The Inbox page: pending requests (decoded) and pending security-delayed changes. */
export async function inboxView(c: ReadContext) {
  const now = await chainNow(c.provider);
  const events = await c.data.events(c.account);
  const queuedEvents = new Map(events.filter((e) => e.kind === "queued").map((e) => [e.requestId!.toLowerCase(), e]));
  const requests = [];
  for (const q of await c.data.requests(c.account)) {
    if (q.state !== "scheduled" && q.state !== "ready") continue;
    const ev = queuedEvents.get(q.id.toLowerCase());
    const calls = decodeExecution(q.mode, q.executionCalldata);
    const payments = [];
    for (const call of calls) {
      const t = transferOf(call);
      if (t) payments.push({ amount: await amountView(c.tokens, t.token, t.amount), recipient: t.to });
    }
    const limit =
      ev?.token !== undefined && ev.limit !== undefined ? await amountView(c.tokens, ev.token, ev.limit) : null;
    const hit =
      ev?.token !== undefined && ev.amount !== undefined ? await amountView(c.tokens, ev.token, ev.amount) : null;
    const value = ev ? await valueReason(c, ev) : null;
    requests.push({
      id: q.id,
      tier: q.tier,
      state: q.state,
      approved: q.approved,
      sessionId: q.sessionId,
      payments,
      calls: calls.length,
      hit,
      limit,
      limitWords: queueWords(q.tier, hit, limit, value),
      value,
      intentHash: ev?.intentHash ?? ZeroHash,
      readyAt: Number(q.readyAt),
      expiresAt: Number(q.expiresAt),
      secondsToReady: Math.max(0, Number(q.readyAt - now)),
      secondsToExpiry: Math.max(0, Number(q.expiresAt - now)),
    });
  }
  const sessions = AgentSessions__factory.connect(c.deployment.sessions, c.provider);
  const changes = [];
  for (const p of await c.data.pendingChanges(c.account)) {
    // The chain has the last word (a change voided by a later session epoch reads 0).
    const readyAt = await sessions.pendingChange(c.account, p.changeHash);
    if (readyAt === 0n) continue;
    changes.push({
      changeHash: p.changeHash,
      readyAt: Number(readyAt),
      secondsToReady: Math.max(0, Number(readyAt - now)),
      what: await changeWords(c, p.data),
    });
  }
  const paused = (await sessions.accountConfig(c.account)).paused;
  return { now: Number(now), paused, requests, changes };
}

/** A proposed change's call data in words. */
async function changeWords(c: ReadContext, data: string): Promise<string> {
  const iface = AgentSessions__factory.createInterface();
  let parsed;
  try {
    parsed = iface.parseTransaction({ data });
  } catch {
    parsed = null;
  }
  if (!parsed) return `call ${data.slice(0, 10)}`;
  const a = parsed.args;
  switch (parsed.name) {
    case "grantSession":
      return `grant a session to ${a[0].agent as string}`;
    case "renewSession":
      return `renew session ${(a[0] as string).slice(0, 10)}… until ${new Date(Number(a[1]) * 1000).toISOString()}`;
    case "setBudget": {
      const b = a[1];
      const t = await c.tokens.meta(b.token as string);
      return `raise the ${t.symbol} budget of session ${(a[0] as string).slice(0, 10)}…: instant ${amount(b.instantThreshold, t.decimals)}, ceiling ${amount(b.ceiling, t.decimals)}, ${amount(b.periodCap, t.decimals)}/${duration(b.period)}, lifetime ${amount(b.lifetimeCap, t.decimals)}`;
    }
    case "setValueBudget": {
      const v = a[1];
      const unit = unitName(v.unit as string);
      const d = Number(v.unitDecimals);
      const m = (x: bigint) => money(formatUnitValue(x, d), unit);
      const lifetime = (v.lifetimeCap as bigint) >= (1n << 128n) - 1n ? "unlimited" : m(v.lifetimeCap);
      return `${valueScope(a[0] as string)} value budget becomes: instant ${m(v.instantThreshold)}, ceiling ${m(v.ceiling)}, ${m(v.periodCap)}/${duration(v.period)}, lifetime ${lifetime}`;
    }
    case "clearValueBudget":
      return `remove ${valueScope(a[0] as string)} value budget`;
    case "setPriceSource": {
      const t = await c.tokens.meta(a[0] as string);
      const src = a[2];
      const kind = PRICE_SOURCE_KINDS[Number(src.kind)];
      const words =
        kind === "Fixed"
          ? `fixed ${formatUnitValue(src.rate as bigint, Number(src.rateDecimals))}`
          : `feed ${getAddress(src.feed as string)} (stale after ${src.maxStaleness} s)`;
      return `price source of ${t.symbol}: ${words}`;
    }
    case "setFleetBudget": {
      const t = await c.tokens.meta(a[0] as string);
      return `${t.symbol} fleet budget ${amount(a[1], t.decimals)}/${duration(a[3])}, lifetime ${amount(a[2], t.decimals)}`;
    }
    default:
      return parsed.name;
  }
}

/** `the account's` for session id zero, else `session 0x12345678…'s`. */
function valueScope(sessionId: string): string {
  return sessionId === ZeroHash ? "the account's" : `session ${sessionId.slice(0, 10)}…'s`;
}

/** The Activity page: the timeline (newest first) and spend per token per day. */
export async function activityView(c: ReadContext) {
  const events = await c.data.events(c.account);
  const timeline = [];
  // An agent operation that was queued also emits SessionOperationExecuted (tier delayed / approval) in the same
  // transaction: the "queued" entry tells it. Executed ones carry what they spent (SpendRecorded, same tx).
  const queuedTxs = new Set(events.filter((e) => e.kind === "queued").map((e) => e.txHash));
  const queuedEvents = new Map(events.filter((e) => e.kind === "queued").map((e) => [e.requestId!.toLowerCase(), e]));
  for (const e of events) {
    if (e.kind === "spend") continue;
    if (e.kind === "executed" && e.tier !== "instant" && queuedTxs.has(e.txHash)) continue;
    const spent = events.filter((s) => s.kind === "spend" && s.txHash === e.txHash && s.sessionId === e.sessionId);
    const spentViews =
      e.kind === "executed" ? await Promise.all(spent.map((s) => amountView(c.tokens, s.token!, s.amount!))) : [];
    // Approvals, runs and cancellations of a queued request: what the request was (its OperationQueued).
    const request = e.kind !== "queued" && e.requestId ? queuedEvents.get(e.requestId.toLowerCase()) : undefined;
    const subject = request ?? e;
    timeline.push({
      kind: e.kind,
      timestamp: e.timestamp,
      blockNumber: e.blockNumber,
      txHash: e.txHash,
      sessionId: e.sessionId ?? request?.sessionId ?? null,
      requestId: e.requestId ?? null,
      intentHash: e.intentHash && e.intentHash !== ZeroHash ? e.intentHash : null,
      tier: e.tier ?? null,
      rule: e.rule ?? null,
      count:
        e.kind === "breaker-tripped" && e.rule !== "spend velocity"
          ? { value: String(e.amount), limit: String(e.limit) }
          : null,
      amount:
        subject.token !== undefined &&
        subject.amount !== undefined &&
        !(e.kind === "breaker-tripped" && e.rule !== "spend velocity")
          ? await amountView(c.tokens, subject.token, subject.amount)
          : null,
      limit: e.token !== undefined && e.limit !== undefined ? await amountView(c.tokens, e.token, e.limit) : null,
      by: e.by ?? null,
      spent: spentViews,
    });
  }
  const spend = [];
  for (const s of await c.data.spendPerDay(c.account))
    spend.push({ day: s.day, ...(await amountView(c.tokens, s.token, s.amount)) });
  return { timeline: timeline.reverse(), spend };
}

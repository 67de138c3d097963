/**
 * Which notifications the indexed events call for. Each notification gets a deterministic id derived from what
 * caused it (the event's transaction and log index, or the session and its end of validity), so deciding twice
 * yields the same id and the outbox keeps one.
 *
 * - `queued` with tier Approval → `approval.requested`; with tier Delayed → `operation.queued` (link: the inbox
 *   item; readiness and expiry from the timelock request);
 * - `spend` → `budget.threshold` at 80 % and 100 % of the session's period cap and lifetime cap, when the spend's
 *   block crossed the mark (`budgetOf` at that block and the one before: spent = cap − remaining);
 * - `breakerTripped` → `breaker.tripped`; `paused` → `paused`;
 * - a live session whose `validUntil` is within the lead time of the chain's time → `session.expiring`.
 */
import type { AgentSessions } from "../../types/ethers-contracts/index.js";
import type { EventIndex, IndexedEvent } from "../indexer/index.js";
import { consoleLink, timeFact, type NotificationBody, type NotificationType, type TokenBook } from "./facts.js";

/** A notification decided, before it enters the outbox. */
export interface Decided {
  id: string;
  type: NotificationType;
  account: string;
  body: NotificationBody;
}

/** What detection needs. */
export interface DetectContext {
  chainId: bigint;
  consoleUrl: string;
  index: EventIndex;
  sessions: AgentSessions;
  tokens: TokenBook;
  /** Budget marks, in percent (default [80, 100]). */
  thresholds: number[];
}

const BREAKER_RULES = ["SpendVelocity", "Operations", "NewRecipients"];

function base(ctx: DetectContext, id: string, type: NotificationType, e: IndexedEvent, link: string): NotificationBody {
  return {
    id,
    type,
    chainId: ctx.chainId.toString(),
    account: e.account,
    at: timeFact(e.time),
    block: e.block.toString(),
    txHash: e.txHash,
    link,
  };
}

async function fromQueued(ctx: DetectContext, e: IndexedEvent): Promise<Decided[]> {
  const tier = Number(e.args.tier);
  if (tier !== 1 && tier !== 2) return [];
  const type: NotificationType = tier === 2 ? "approval.requested" : "operation.queued";
  const id = `${type}:${e.txHash}:${e.logIndex}`;
  const request = ctx.index.requests(e.account).find((r) => r.requestId === e.requestId);
  const body = base(ctx, id, type, e, consoleLink(ctx.consoleUrl, `inbox/${e.requestId}`));
  body.requestId = e.requestId;
  body.sessionId = e.sessionId;
  body.tier = tier === 2 ? "approval" : "delayed";
  body.amount = await ctx.tokens.amount(e.token!, e.amount!);
  body.limit = await ctx.tokens.amount(e.token!, BigInt(e.args.limit));
  body.intentHash = e.intentHash;
  if (request?.recipient) body.recipient = request.recipient;
  if (request) {
    body.readyAt = timeFact(request.readyAt);
    body.expiresAt = timeFact(request.expiresAt);
  }
  return [{ id, type, account: e.account, body }];
}

async function fromSpend(ctx: DetectContext, e: IndexedEvent): Promise<Decided[]> {
  if (!e.sessionId || !e.token || e.amount === undefined) return [];
  const at = (blockTag: number) => ctx.sessions.budgetOf(e.sessionId!, e.account, e.token!, { blockTag });
  // Spent before and after this block: approved requests are not charged, so the event's amount is not enough.
  const [after, before] = await Promise.all([at(Number(e.block)), at(Number(e.block) - 1)]);
  const budget = after[0];
  const out: Decided[] = [];
  const caps: { cap: "period" | "lifetime"; limit: bigint; remaining: bigint; remainingBefore: bigint }[] = [
    { cap: "period", limit: budget.periodCap, remaining: after[1], remainingBefore: before[1] },
    { cap: "lifetime", limit: budget.lifetimeCap, remaining: after[2], remainingBefore: before[2] },
  ];
  for (const c of caps) {
    if (c.limit === 0n) continue;
    const spent = (remaining: bigint) => (c.limit > remaining ? c.limit - remaining : 0n);
    const spentAfter = spent(c.remaining);
    // A budget granted or raised in this block has nothing "before".
    const spentBefore = before[0].periodCap === budget.periodCap ? spent(c.remainingBefore) : 0n;
    for (const pct of ctx.thresholds) {
      const mark = (c.limit * BigInt(pct) + 99n) / 100n;
      if (!(spentBefore < mark && mark <= spentAfter)) continue;
      const type: NotificationType = "budget.threshold";
      // One per block: several spends of one block see the same before / after.
      const id = `${type}:${pct}:${c.cap}:${e.account}:${e.sessionId}:${e.token}:${e.block}`;
      const body = base(ctx, id, type, e, consoleLink(ctx.consoleUrl, "sessions"));
      body.sessionId = e.sessionId;
      body.percent = pct;
      body.cap = c.cap;
      body.spent = await ctx.tokens.amount(e.token, spentAfter);
      body.limit = await ctx.tokens.amount(e.token, c.limit);
      body.remaining = await ctx.tokens.amount(e.token, c.remaining);
      body.amount = await ctx.tokens.amount(e.token, e.amount);
      if (c.cap === "period") body.periodSeconds = Number(budget.period);
      out.push({ id, type, account: e.account, body });
    }
  }
  return out;
}

async function fromBreaker(ctx: DetectContext, e: IndexedEvent): Promise<Decided[]> {
  const type: NotificationType = "breaker.tripped";
  const id = `${type}:${e.txHash}:${e.logIndex}`;
  const body = base(ctx, id, type, e, consoleLink(ctx.consoleUrl, "inbox"));
  const rule = Number(e.args.rule);
  body.rule = BREAKER_RULES[rule] ?? String(rule);
  const token = e.args.token;
  const moneyRule = rule === 0 && token !== undefined;
  body.value = moneyRule ? await ctx.tokens.amount(token, BigInt(e.args.value)) : e.args.value;
  body.limit = moneyRule ? await ctx.tokens.amount(token, BigInt(e.args.limit)) : e.args.limit;
  return [{ id, type, account: e.account, body }];
}

function fromPaused(ctx: DetectContext, e: IndexedEvent): Decided[] {
  const type: NotificationType = "paused";
  const id = `${type}:${e.txHash}:${e.logIndex}`;
  const body = base(ctx, id, type, e, consoleLink(ctx.consoleUrl, "inbox"));
  body.by = e.args.by;
  return [{ id, type, account: e.account, body }];
}

/** The notifications one indexed event calls for (may read the chain: budgets, token metadata). */
export function decideForEvent(ctx: DetectContext, e: IndexedEvent): Promise<Decided[]> {
  switch (e.kind) {
    case "queued":
      return fromQueued(ctx, e);
    case "spend":
      return fromSpend(ctx, e);
    case "breakerTripped":
      return fromBreaker(ctx, e);
    case "paused":
      return Promise.resolve(fromPaused(ctx, e));
    default:
      return Promise.resolve([]);
  }
}

/** The event kinds {@link decideForEvent} looks at. */
export const NOTIFYING_KINDS = ["queued", "spend", "breakerTripped", "paused"];

/**
 * `session.expiring` for the live sessions of `account` (granted or renewed, not revoked, not revoked by a
 * revoke-all after their grant) whose end of validity is in `(now, now + leadSeconds]`.
 */
export function decideExpiring(ctx: DetectContext, account: string, now: bigint, leadSeconds: bigint): Decided[] {
  const sessions = new Map<string, { validUntil: bigint; revoked: boolean; granted: IndexedEvent }>();
  const kinds = ["sessionGranted", "sessionRenewed", "sessionRevoked", "allSessionsRevoked"];
  for (const e of ctx.index.events(account, { kinds })) {
    if (e.kind === "allSessionsRevoked") {
      for (const s of sessions.values()) s.revoked = true;
      continue;
    }
    const id = e.sessionId!;
    if (e.kind === "sessionGranted")
      sessions.set(id, { validUntil: BigInt(e.args.validUntil), revoked: false, granted: e });
    const s = sessions.get(id);
    if (!s) continue;
    if (e.kind === "sessionRenewed") s.validUntil = BigInt(e.args.validUntil);
    if (e.kind === "sessionRevoked") s.revoked = true;
  }
  const out: Decided[] = [];
  for (const [sessionId, s] of sessions) {
    if (s.revoked || s.validUntil <= now || s.validUntil - now > leadSeconds) continue;
    const type: NotificationType = "session.expiring";
    const id = `${type}:${account}:${sessionId}:${s.validUntil}`;
    const body: NotificationBody = {
      id,
      type,
      chainId: ctx.chainId.toString(),
      account,
      at: timeFact(now),
      link: consoleLink(ctx.consoleUrl, "sessions"),
      sessionId,
      agent: s.granted.args.agent,
      validUntil: timeFact(s.validUntil),
      secondsLeft: Number(s.validUntil - now),
    };
    out.push({ id, type, account, body });
  }
  return out;
}

/**
 * `reins session grant|list|renew|revoke`, `reins budget set`, `reins fleet set`.
 */
import { ZeroAddress } from "ethers";
import { ChangePending, type ChangeOutcome } from "../../client/owner.js";
import { PolicyError } from "../../client/errors.js";
import { UINT128_MAX, policy, type TokenBudget } from "../../client/policy.js";
import { listSessions, type SessionInfo } from "../../client/actions/listSessions.js";
import { budgetTokens } from "../../client/actions/assessTier.js";
import { parseDuration } from "../../client/units.js";
import { AgentSessions__factory } from "../../../types/ethers-contracts/index.js";
import { flag, list, str, type Invocation } from "../args.js";
import { CliContext, parseAddress, parseHumanAmount, parseId, type Token } from "../context.js";
import { UsageError } from "../errors.js";
import { amount, duration, emit, keyValues, table, time } from "../format.js";
import { asCliError } from "../report.js";
import { parsePrice, parseValueBudget } from "../valueSpec.js";
import { checkAmount, checkDuration, parseBudget, parseTransfer, parseValidFor, type BudgetArg } from "../specs.js";

function policyToUsage(e: unknown): never {
  if (e instanceof PolicyError) throw new UsageError(e.message.split("\n")[0]);
  throw e;
}

/** The JSON of a change outcome (applied, or pending the security delay). */
export function changeJson(outcome: ChangeOutcome) {
  return outcome.status === "applied"
    ? { status: "applied", txHash: outcome.txHash }
    : { status: "pending", txHash: outcome.txHash, changeHash: outcome.changeHash, readyAt: outcome.readyAt };
}

/** One line saying whether `what` applied or waits the security delay. */
export function changeText(what: string, outcome: ChangeOutcome): string {
  return outcome.status === "applied"
    ? `${what}: applied (tx ${outcome.txHash})`
    : `${what}: pending the security delay until ${time(outcome.readyAt)} (change ${outcome.changeHash}; then: reins change apply)`;
}

/** A session of `account`, or a one-line usage error. */
async function sessionOf(ctx: CliContext, account: string, rawId: string): Promise<SessionInfo> {
  const id = parseId(rawId, "session id");
  const { reins } = await ctx.deployment();
  const sessions = AgentSessions__factory.connect(reins.sessions, await ctx.provider());
  const found = (await listSessions(sessions, account)).find((s) => s.sessionId.toLowerCase() === id);
  if (!found) throw new UsageError(`unknown session ${id} for account ${account}`);
  return found;
}

/** `reins session grant`. */
export async function grant(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const transfers = list(inv, "allow-transfer").map(parseTransfer);
    if (!transfers.length) throw new UsageError("--allow-transfer is required (at least one)");
    const budgets = list(inv, "budget").map((b) => parseBudget(b));
    const valueSpec = str(inv, "value-budget");
    if (valueSpec !== undefined) parseValueBudget(valueSpec); // syntax errors before anything is sent
    for (const p of list(inv, "price")) parsePrice(p);
    const agent = parseAddress(str(inv, "agent"), "--agent");
    const validFor = parseValidFor(str(inv, "valid-for") ?? "24h", flag(inv, "allow-long"));
    const gasPerOp = checkAmount(str(inv, "gas-per-op") ?? "0.01", "--gas-per-op");
    const gasTotal = checkAmount(str(inv, "gas-total") ?? "0.1", "--gas-total");
    const delay = checkDuration(str(inv, "queue-delay") ?? "1h", "--queue-delay");
    const window = checkDuration(str(inv, "approval-window") ?? "24h", "--approval-window");
    const usesRaw = str(inv, "max-uses") ?? "1000";
    if (!/^\d+$/.test(usesRaw) || BigInt(usesRaw) < 1n || BigInt(usesRaw) > 0xffffffffn) {
      throw new UsageError(`--max-uses: expected an integer 1…4294967295, got ${usesRaw}`);
    }
    for (const t of transfers) for (const to of t.to) parseAddress(to, `--allow-transfer ${t.token} recipient`);

    const account = await ctx.account(inv.args.account);
    const owner = await ctx.owner(account);
    const tokens = await ctx.policyRegistry([...transfers.map((t) => t.token), ...budgets.map((b) => b.token)]);
    for (const t of transfers) {
      if (t.max !== undefined) parseHumanAmount(t.max, await ctx.token(t.token), `--allow-transfer ${t.token} max`);
    }
    for (const b of budgets) await checkBudgetAmounts(ctx, b);

    const builder = policy()
      .agent(agent)
      .validFor(validFor)
      .maxUses(BigInt(usesRaw))
      .gas({ perOp: gasPerOp, total: gasTotal })
      .queue({ delay: delay as "1s", approvalWindow: window as "1s" });
    // With a security delay the grant only applies after it: start the validity window then, so that
    // --valid-for is counted from when the session can first be used (not spent waiting).
    const provider = await ctx.provider();
    const securityDelay = (await owner.sessions.accountConfig(account)).securityDelay;
    if (securityDelay > 0n) {
      const now = BigInt((await provider.getBlock("latest"))!.timestamp);
      builder.validAfter(now + securityDelay);
    }
    try {
      for (const t of transfers)
        builder.allowTransfer(t.token, { to: t.to, ...(t.max !== undefined ? { max: t.max } : {}) });
      for (const b of budgets) {
        builder.budget(b.token, {
          instant: b.instant ?? b.ceiling!,
          ...(b.ceiling !== undefined ? { ceiling: b.ceiling } : {}),
          ...(b.periodCap !== undefined ? { perPeriod: b.periodCap, period: b.period as "1s" } : {}),
          ...(b.lifetime !== undefined ? { lifetime: b.lifetime } : {}),
        });
      }
    } catch (e) {
      policyToUsage(e);
    }
    const config = await builder.build({ provider, account, tokens }).catch((e: unknown) => policyToUsage(e));

    let sessionId: string;
    try {
      sessionId = await owner.grantSession(config);
    } catch (e) {
      if (e instanceof ChangePending) {
        const c = e.change;
        emit(
          inv.json,
          { status: "pending", changeHash: c.changeHash, readyAt: c.readyAt, data: c.data, txHash: c.txHash },
          () =>
            `grant pending the security delay until ${time(c.readyAt)} (change ${c.changeHash}); ` +
            `then run: reins change apply ${account} ${c.changeHash}`,
        );
        return 0;
      }
      throw await asCliError(ctx, e, false);
    }
    // The value budget (and price sources) follow in a second owner operation: the session id is known now.
    let value: { outcome: ChangeOutcome; summary: string } | undefined;
    if (valueSpec !== undefined || list(inv, "price").length) {
      const { configureValue } = await import("./value.js");
      try {
        value = await configureValue(ctx, owner, sessionId, valueSpec, list(inv, "price"));
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw await asCliError(ctx, e, false);
      }
    }
    emit(
      inv.json,
      {
        status: "granted",
        sessionId,
        agent: config.agent,
        validUntil: config.validUntil,
        account,
        ...(value ? { value: changeJson(value.outcome) } : {}),
      },
      () =>
        keyValues([
          ["session", sessionId],
          ["agent", String(config.agent)],
          ["valid until", time(BigInt(config.validUntil))],
          ...(value ? ([["value", changeText(value.summary, value.outcome)]] as [string, string][]) : []),
        ]),
    );
    return 0;
  } finally {
    ctx.close();
  }
}

async function checkBudgetAmounts(ctx: CliContext, b: BudgetArg): Promise<Token> {
  const t = await ctx.token(b.token);
  for (const [k, v] of [
    ["instant", b.instant],
    ["ceiling", b.ceiling],
    ["period", b.periodCap],
    ["lifetime", b.lifetime],
  ] as const) {
    if (v !== undefined) parseHumanAmount(v, t, `--budget ${b.token} ${k}`);
  }
  return t;
}

/** `reins session list`. */
export async function sessionList(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(inv.args.account);
    const { reins } = await ctx.deployment();
    const sessions = AgentSessions__factory.connect(reins.sessions, await ctx.provider());
    const all = await listSessions(sessions, account);
    const withBudgets: (SessionInfo & { budgets: Record<string, string>[] })[] = [];
    for (const s of all) {
      const budgets: Record<string, string>[] = [];
      for (const tokenAddress of await budgetTokens(sessions, account, s.sessionId)) {
        const [b, periodLeft, lifetimeLeft] = await sessions.budgetOf(s.sessionId, account, tokenAddress);
        const t =
          tokenAddress === ZeroAddress
            ? { symbol: "ETH", decimals: 18 }
            : await ctx.token(tokenAddress).catch(() => ({ symbol: tokenAddress, decimals: 0 }));
        budgets.push({
          token: t.symbol,
          address: tokenAddress,
          instant: amount(b.instantThreshold, t.decimals),
          ceiling: amount(b.ceiling, t.decimals),
          periodCap: amount(b.periodCap, t.decimals),
          period: duration(b.period),
          lifetime: amount(b.lifetimeCap, t.decimals),
          periodLeft: amount(periodLeft, t.decimals),
          lifetimeLeft: amount(lifetimeLeft, t.decimals),
        });
      }
      withBudgets.push({ ...s, budgets });
    }
    emit(inv.json, { account, sessions: withBudgets }, () => {
      if (!all.length) return `no sessions for ${account}`;
      return table(
        ["session", "agent", "status", "valid until", "uses", "gas spent (ETH)", "budgets"],
        withBudgets.map((s) => [
          s.sessionId,
          s.agent,
          s.status,
          time(s.validUntil),
          `${s.uses}/${s.maxUses}`,
          `${amount(s.gasSpent, 18)}/${amount(s.gasBudget, 18)}`,
          s.budgets
            .map(
              (b) =>
                `${b.token}: instant up to ${b.instant}, queued up to ${b.ceiling}, ${b.periodCap}/${b.period} (${b.periodLeft} left), lifetime ${b.lifetime} (${b.lifetimeLeft} left)`,
            )
            .join("; ") || "-",
        ]),
      );
    });
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins session renew`. */
export async function renew(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const raw = str(inv, "valid-for");
    if (raw === undefined) throw new UsageError("--valid-for is required (e.g. --valid-for 48h)");
    const validFor = parseValidFor(raw, flag(inv, "allow-long"));
    const account = await ctx.account(inv.args.account);
    const session = await sessionOf(ctx, account, inv.args.sessionId);
    if (session.status === "revoked" || session.status === "stale") {
      throw new UsageError(`session ${session.sessionId} is ${session.status}; it cannot be renewed`);
    }
    const owner = await ctx.owner(account);
    const now = BigInt((await (await ctx.provider()).getBlock("latest"))!.timestamp);
    const until = now + validFor;
    let outcome: ChangeOutcome;
    try {
      outcome = await owner.renewSession(session.sessionId, until);
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    emit(inv.json, { sessionId: session.sessionId, validUntil: until, ...changeJson(outcome) }, () =>
      changeText(`session valid until ${time(until)}`, outcome),
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins session revoke`. */
export async function revoke(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(inv.args.account);
    const session = await sessionOf(ctx, account, inv.args.sessionId);
    if (session.status === "revoked") {
      emit(
        inv.json,
        { sessionId: session.sessionId, status: "already revoked" },
        `session ${session.sessionId} is already revoked; nothing sent`,
      );
      return 0;
    }
    const owner = await ctx.owner(account);
    let txHash: string;
    try {
      txHash = (await owner.revokeSession(session.sessionId)).txHash;
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    emit(
      inv.json,
      { sessionId: session.sessionId, status: "revoked", txHash },
      `session ${session.sessionId} revoked (tx ${txHash})`,
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins budget set <account> <sessionId> TOKEN:…`: unspecified fields keep their current value. */
export async function budgetSet(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const spec = parseBudget(inv.args.budget, "budget");
    const account = await ctx.account(inv.args.account);
    const session = await sessionOf(ctx, account, inv.args.sessionId);
    const token = await checkBudgetAmounts(ctx, spec);
    const owner = await ctx.owner(account);
    const [current] = await owner.sessions.budgetOf(session.sessionId, account, token.address);
    const exists = current.period !== 0n;
    if (!exists) {
      // A new budget: every field must be given (an omitted one would silently become "unlimited").
      const missing = [
        spec.instant === undefined ? "instant" : "",
        spec.ceiling === undefined ? "ceiling" : "",
        spec.periodCap === undefined ? "period" : "",
        spec.lifetime === undefined ? "lifetime" : "",
      ].filter(Boolean);
      if (missing.length)
        throw new UsageError(
          `budget: session ${session.sessionId} has no ${token.symbol} budget yet: give every field ` +
            `(missing ${missing.join(", ")}; e.g. ${token.symbol}:instant=50,ceiling=500,period=1000/24h,lifetime=5000)`,
        );
    }
    const a = (v: string | undefined, what: string, fallback: bigint) =>
      v === undefined ? fallback : parseHumanAmount(v, token, `budget ${what}`);
    const instant = a(spec.instant, "instant", exists ? current.instantThreshold : 0n);
    const ceiling = a(spec.ceiling, "ceiling", exists && current.ceiling >= instant ? current.ceiling : instant);
    const periodCap = a(spec.periodCap, "period", exists ? current.periodCap : UINT128_MAX);
    const lifetimeCap = a(spec.lifetime, "lifetime", exists ? current.lifetimeCap : UINT128_MAX);
    const period = spec.period ? parseDuration(spec.period as "1s") : exists ? current.period : 86_400n;
    if (instant > ceiling)
      throw new UsageError(`budget: instant ${spec.instant} is above the ceiling ${amount(ceiling, token.decimals)}`);
    if (ceiling > periodCap)
      throw new UsageError(
        `budget: ceiling ${amount(ceiling, token.decimals)} is above the period cap ${amount(periodCap, token.decimals)}`,
      );
    const budget: TokenBudget = {
      token: token.address,
      instantThreshold: instant,
      ceiling,
      periodCap,
      lifetimeCap,
      period,
    };
    let outcome: ChangeOutcome;
    try {
      outcome = await owner.setBudget(session.sessionId, budget);
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    const human = {
      token: token.symbol,
      instant: amount(instant, token.decimals),
      ceiling: amount(ceiling, token.decimals),
      periodCap: amount(periodCap, token.decimals),
      period: duration(period),
      lifetime: amount(lifetimeCap, token.decimals),
    };
    emit(inv.json, { sessionId: session.sessionId, budget: human, ...changeJson(outcome) }, () =>
      changeText(
        `${token.symbol} budget instant ${human.instant}, ceiling ${human.ceiling}, ${human.periodCap}/${human.period}, lifetime ${human.lifetime}`,
        outcome,
      ),
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins fleet set <account> TOKEN:period=…/24h,lifetime=…`. */
export async function fleetSet(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const spec = parseBudget(inv.args.budget, "fleet", true);
    if (spec.periodCap === undefined && spec.lifetime === undefined)
      throw new UsageError("fleet: give period=CAP/DURATION and/or lifetime=…");
    const account = await ctx.account(inv.args.account);
    const token = await checkBudgetAmounts(ctx, spec);
    const owner = await ctx.owner(account);
    const periodCap =
      spec.periodCap === undefined ? UINT128_MAX : parseHumanAmount(spec.periodCap, token, "fleet period");
    const lifetimeCap =
      spec.lifetime === undefined ? UINT128_MAX : parseHumanAmount(spec.lifetime, token, "fleet lifetime");
    const period = (spec.period ?? "24h") as "1s";
    let outcome: ChangeOutcome;
    try {
      outcome = await owner.setFleetBudget(token.address, { periodCap, lifetimeCap, period });
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    const human = {
      token: token.symbol,
      periodCap: amount(periodCap, token.decimals),
      period,
      lifetime: amount(lifetimeCap, token.decimals),
    };
    emit(inv.json, { account, fleet: human, ...changeJson(outcome) }, () =>
      changeText(`${token.symbol} fleet budget ${human.periodCap}/${period}, lifetime ${human.lifetime}`, outcome),
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins change apply`: apply a loosening change once its security delay has passed (owner key). */
export async function changeApply(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const changeHash = parseId(inv.args.changeHash, "change hash");
    const account = await ctx.account(inv.args.account);
    const { reins } = await ctx.deployment();
    const provider = await ctx.provider();
    const sessions = AgentSessions__factory.connect(reins.sessions, provider);
    const readyAt = await sessions.pendingChange(account, changeHash);
    if (readyAt === 0n)
      throw new UsageError(
        `no change ${changeHash} is pending for ${account} (applied, cancelled, or voided by a revoke-all; see reins change list)`,
      );
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    if (now < readyAt) {
      throw new UsageError(`change ${changeHash} waits the security delay until ${time(readyAt)}`);
    }
    const logs = await sessions.queryFilter(sessions.filters.ChangeProposed(account, changeHash), 0);
    const data = logs.at(-1)?.args.data;
    if (!data) throw new UsageError(`no ChangeProposed event for ${changeHash} on ${account}`);
    const owner = await ctx.owner(account);
    let applied;
    try {
      applied = await owner.applyChange(data);
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    const out = {
      status: "applied",
      account,
      changeHash,
      txHash: applied.result.txHash,
      ...(applied.sessionId ? { sessionId: applied.sessionId } : {}),
    };
    emit(inv.json, out, () =>
      keyValues([
        ["change", `${changeHash}: applied`],
        ...(applied.sessionId ? [["session", applied.sessionId] as [string, string]] : []),
        ["tx", applied.result.txHash],
      ]),
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** One pending loosening change of an account. */
interface PendingChangeRow {
  changeHash: string;
  readyAt: bigint;
  ready: boolean;
  what: string;
  function: string;
  proposedIn: string;
}

/** A readable line for a proposed change's call data (`AgentSessions` function and its arguments). */
async function describeChange(ctx: CliContext, data: string): Promise<{ fn: string; what: string }> {
  const iface = AgentSessions__factory.createInterface();
  let parsed;
  try {
    parsed = iface.parseTransaction({ data });
  } catch {
    parsed = null;
  }
  if (!parsed) return { fn: data.slice(0, 10), what: `call ${data.slice(0, 10)}` };
  const a = parsed.args;
  const tokenName = async (address: string) =>
    address === ZeroAddress
      ? { symbol: "ETH", decimals: 18 }
      : await ctx.token(address).catch(() => ({ symbol: address, decimals: 0 }));
  switch (parsed.name) {
    case "grantSession": {
      const c = a[0];
      return {
        fn: parsed.name,
        what: `grant a session to ${c.agent}, valid ${time(c.validAfter)} … ${time(c.validUntil)}`,
      };
    }
    case "renewSession":
      return { fn: parsed.name, what: `renew session ${a[0]} until ${time(a[1])}` };
    case "setBudget": {
      const b = a[1];
      const t = await tokenName(b.token);
      return {
        fn: parsed.name,
        what: `${t.symbol} budget of session ${a[0]}: instant ${amount(b.instantThreshold, t.decimals)}, ceiling ${amount(b.ceiling, t.decimals)}, ${amount(b.periodCap, t.decimals)}/${duration(b.period)}, lifetime ${amount(b.lifetimeCap, t.decimals)}`,
      };
    }
    case "setFleetBudget": {
      const t = await tokenName(a[0]);
      return {
        fn: parsed.name,
        what: `${t.symbol} fleet budget ${amount(a[1], t.decimals)}/${duration(a[3])}, lifetime ${amount(a[2], t.decimals)}`,
      };
    }
    case "unwatchAsset":
      return { fn: parsed.name, what: `stop watching ${(await tokenName(a[0])).symbol}` };
    default:
      return { fn: parsed.name, what: `${parsed.name}(${a.map((x: unknown) => String(x)).join(", ")})` };
  }
}

/**
 * The account's pending loosening changes: every `ChangeProposed`, latest per hash, that `pendingChange` still
 * reports (applied, cancelled and changes voided by a later session epoch report 0).
 */
async function pendingChanges(ctx: CliContext, account: string): Promise<PendingChangeRow[]> {
  const { reins } = await ctx.deployment();
  const provider = await ctx.provider();
  const sessions = AgentSessions__factory.connect(reins.sessions, provider);
  const logs = await sessions.queryFilter(sessions.filters.ChangeProposed(account), 0);
  const latest = new Map<string, (typeof logs)[number]>();
  for (const log of logs) latest.set(log.args.changeHash.toLowerCase(), log);
  const now = BigInt((await provider.getBlock("latest"))!.timestamp);
  const out: PendingChangeRow[] = [];
  for (const [hash, log] of latest) {
    const readyAt = await sessions.pendingChange(account, hash);
    if (readyAt === 0n) continue;
    const d = await describeChange(ctx, log.args.data);
    out.push({
      changeHash: hash,
      readyAt,
      ready: now >= readyAt,
      what: d.what,
      function: d.fn,
      proposedIn: log.transactionHash,
    });
  }
  return out;
}

/** `reins change list <account>`. */
export async function changeList(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(inv.args.account);
    const rows = await pendingChanges(ctx, account);
    emit(inv.json, { account, pending: rows }, () =>
      rows.length
        ? table(
            ["change", "ready at", "state", "what"],
            rows.map((r) => [r.changeHash, time(r.readyAt), r.ready ? "ready to apply" : "waiting", r.what]),
          )
        : `no pending changes for ${account}`,
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins change cancel <account> <changeHash>` (owner key; cancelling is tightening: at once). */
export async function changeCancel(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const changeHash = parseId(inv.args.changeHash, "change hash");
    const account = await ctx.account(inv.args.account);
    const row = (await pendingChanges(ctx, account)).find((r) => r.changeHash === changeHash);
    if (!row)
      throw new UsageError(
        `no change ${changeHash} is pending for ${account} (applied, cancelled, or voided by a revoke-all; see reins change list)`,
      );
    const owner = await ctx.owner(account);
    let txHash: string;
    try {
      txHash = (
        await owner.execute({
          target: owner.deployment.sessions,
          data: owner.sessions.interface.encodeFunctionData("cancelChange", [changeHash]),
        })
      ).txHash;
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    emit(
      inv.json,
      { status: "cancelled", account, changeHash, what: row.what, txHash },
      `cancelled change ${changeHash} (${row.what}) (tx ${txHash})`,
    );
    return 0;
  } finally {
    ctx.close();
  }
}

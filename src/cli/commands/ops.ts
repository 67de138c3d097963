/**
 * `reins queue list|approve|cancel`, `reins pause|unpause`, `reins agent pay`.
 */
import { AbiCoder, Interface, ZeroAddress, dataLength, dataSlice, getAddress, type Wallet } from "ethers";
import { AgentSession } from "../../client/agent.js";
import { decodeReinsError } from "../../client/errors.js";
import { listQueue, type QueuedOperation } from "../../client/actions/queue.js";
import { listSessions } from "../../client/actions/listSessions.js";
import type { Call } from "../../account/encoding.js";
import { AgentSessions__factory, ReinsTimelock__factory } from "../../../types/ethers-contracts/index.js";
import { flag, str, type Invocation } from "../args.js";
import type { AgentPayInput, QueueApproveInput, QueueCancelInput, QueueExecuteInput } from "../input/ops.js";
import { CliContext, parseAddress, parseHumanAmount, parseId, type Token } from "../context.js";
import { FailureError, RefusedError, UsageError } from "../errors.js";
import { amount, emit, table, time } from "../format.js";
import { POLICY_RULES, asCliError, describeError, errorReport } from "../report.js";
import type { ReinsDeployment } from "../../client/owner.js";
import { ENTRYPOINT_V08 } from "../../infra/singletons.js";

const erc20 = new Interface(["function transfer(address to, uint256 amount)"]);

/** The calls inside a timelock execution payload (single or batch mode). */
export function decodeExecution(mode: string, payload: string): Call[] {
  const callType = dataSlice(mode, 0, 1);
  if (callType === "0x00") {
    return [
      {
        target: getAddress(dataSlice(payload, 0, 20)),
        value: BigInt(dataSlice(payload, 20, 52)),
        data: dataLength(payload) > 52 ? dataSlice(payload, 52) : "0x",
      },
    ];
  }
  if (callType === "0x01") {
    const [execs] = AbiCoder.defaultAbiCoder().decode(["tuple(address,uint256,bytes)[]"], payload);
    return (execs as [string, bigint, string][]).map(([target, value, data]) => ({
      target: getAddress(target),
      value,
      data,
    }));
  }
  return [];
}

async function describeCalls(ctx: CliContext, calls: Call[]): Promise<string> {
  const parts: string[] = [];
  for (const c of calls) {
    if (c.data && c.data.startsWith("0xa9059cbb") && dataLength(c.data) === 68) {
      const [to, value] = erc20.decodeFunctionData("transfer", c.data);
      const t = await ctx.token(c.target).catch(() => ({ symbol: c.target, decimals: 0 }) as Token);
      parts.push(`transfer ${amount(value as bigint, t.decimals)} ${t.symbol} to ${getAddress(to as string)}`);
    } else if (!c.data || c.data === "0x") {
      parts.push(`send ${amount(BigInt(c.value ?? 0n), 18)} ETH to ${c.target}`);
    } else {
      parts.push(
        `call ${c.target} ${dataSlice(c.data, 0, 4)}${c.value ? ` with ${amount(BigInt(c.value), 18)} ETH` : ""}`,
      );
    }
  }
  return parts.join("; ") || "(unknown payload)";
}

async function queueOf(ctx: CliContext, account: string): Promise<QueuedOperation[]> {
  const { reins } = await ctx.deployment();
  return listQueue(ReinsTimelock__factory.connect(reins.timelock, await ctx.provider()), account);
}

/** `reins queue list`. */
export async function queueList(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(inv.args.account);
    const all = await queueOf(ctx, account);
    const shown = flag(inv, "all") ? all : all.filter((q) => q.state === "scheduled" || q.state === "ready");
    const rows: (QueuedOperation & { what: string })[] = [];
    for (const q of shown)
      rows.push({ ...q, what: await describeCalls(ctx, decodeExecution(q.mode, q.executionCalldata)) });
    emit(inv.json, { account, queue: rows }, () =>
      rows.length
        ? table(
            ["id", "state", "tier", "approved", "ready at", "expires at", "what"],
            rows.map((q) => [
              q.id,
              q.state,
              q.tier,
              q.tier === "approval" ? String(q.approved) : "-",
              time(q.readyAt),
              time(q.expiresAt),
              q.what,
            ]),
          )
        : `no ${flag(inv, "all") ? "" : "pending "}queued operations for ${account}`,
    );
    return 0;
  } finally {
    ctx.close();
  }
}

async function pendingQueued(ctx: CliContext, account: string, rawId: string): Promise<QueuedOperation> {
  const id = parseId(rawId, "queue id");
  const q = (await queueOf(ctx, account)).find((x) => x.id.toLowerCase() === id);
  if (!q) throw new UsageError(`unknown queued operation ${id} for account ${account}`);
  if (q.state !== "scheduled" && q.state !== "ready") throw new UsageError(`queued operation ${id} is ${q.state}`);
  return q;
}

/** `reins queue approve` (and run, unless `--no-execute`). */
export async function queueApprove(input: QueueApproveInput, inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(input.account);
    const q = await pendingQueued(ctx, account, input.id);
    if (q.tier !== "approval")
      throw new UsageError(
        `queued operation ${q.id} is in the delayed tier: it needs no approval (it runs from ${time(q.readyAt)})`,
      );
    const owner = await ctx.owner(account, input.ownerKeyEnv);
    // ReinsTimelock.approve makes an approval-tier operation Ready at once (until it expires): no waiting here.
    const execute = input.execute;
    let txHash: string;
    try {
      txHash = (await owner.approveQueued(q.id, { execute })).txHash;
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    const what = await describeCalls(ctx, decodeExecution(q.mode, q.executionCalldata));
    emit(
      input.json,
      { id: q.id, status: execute ? "approved and executed" : "approved", txHash, what },
      `${execute ? "approved and executed" : "approved"}: ${what} (tx ${txHash})`,
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/**
 * `reins queue execute <account> <id>`: run a Ready queued operation (a delayed one after its delay, an approval-tier
 * one once approved) as a plain transaction from REINS_SENDER_KEY (anyone may; the agent key works too). The
 * execution is simulated first: a session revoked, expired, paused or over budget since is refused (exit 3).
 */
export async function queueExecute(input: QueueExecuteInput, inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(input.account);
    const q = await pendingQueued(ctx, account, input.id);
    const what = await describeCalls(ctx, decodeExecution(q.mode, q.executionCalldata));
    if (q.state !== "ready") {
      if (q.tier === "approval" && !q.approved) {
        const report = { status: "refused", rule: "needs approval", id: q.id, what };
        if (input.json) emit(true, report, "");
        throw new RefusedError(
          `refused: needs approval: queued operation ${q.id} (${what}) runs only once the owner approves it (reins queue approve ${account} ${q.id})`,
          report,
        );
      }
      throw new UsageError(`queued operation ${q.id} (${what}) is not ready before ${time(q.readyAt)}; nothing sent`);
    }
    const { reins } = await ctx.deployment();
    const envName = input.senderKeyEnv;
    const key = await ctx.key(envName, "transaction sender");
    if ((await (await ctx.provider()).getBalance(key.address)) === 0n)
      throw new UsageError(`${envName} is ${key.address}, which has no ETH for the transaction`);
    const timelock = ReinsTimelock__factory.connect(reins.timelock, key);
    try {
      await timelock.execute.staticCall(account, q.id, q.mode, q.executionCalldata);
    } catch (e) {
      const err = await asCliError(ctx, e);
      if (input.json && err instanceof RefusedError)
        emit(true, { status: "refused", id: q.id, what, ...err.report }, "");
      if (err instanceof FailureError)
        throw new UsageError(`${err.message.replace(/^failed: /, `cannot run ${q.id}: `)}; nothing sent`);
      throw err;
    }
    let txHash: string;
    try {
      txHash = (await (await timelock.execute(account, q.id, q.mode, q.executionCalldata)).wait())!.hash;
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    emit(input.json, { id: q.id, status: "executed", what, txHash }, `executed: ${what} (tx ${txHash})`);
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins queue cancel`. */
export async function queueCancel(input: QueueCancelInput, inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(input.account);
    const q = await pendingQueued(ctx, account, input.id);
    const owner = await ctx.owner(account, input.ownerKeyEnv);
    let txHash: string;
    try {
      txHash = (await owner.cancelQueued(q.id)).txHash;
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    emit(input.json, { id: q.id, status: "cancelled", txHash }, `cancelled ${q.id} (tx ${txHash})`);
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins pause`: from the watchdog key (REINS_WATCHDOG_KEY) when set, else the owner key. */
export async function pause(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const as =
      str(inv, "as") ?? (process.env[str(inv, "watchdog-key-env") ?? "REINS_WATCHDOG_KEY"] ? "watchdog" : "owner");
    if (as !== "watchdog" && as !== "owner") throw new UsageError(`--as: expected watchdog or owner, got ${as}`);
    const cancelQueued = flag(inv, "cancel-queued");
    const account = await ctx.account(inv.args.account);
    const { reins } = await ctx.deployment();
    const sessions = AgentSessions__factory.connect(reins.sessions, await ctx.provider());
    if ((await sessions.accountConfig(account)).paused) {
      emit(inv.json, { account, status: "already paused" }, `agents of ${account} are already paused; nothing sent`);
      return 0;
    }
    let txHash: string;
    if (as === "watchdog") {
      const envName = str(inv, "watchdog-key-env") ?? "REINS_WATCHDOG_KEY";
      const key = await ctx.key(envName, "watchdog");
      if (!(await sessions.isWatchdog(key.address, account)))
        throw new UsageError(`${envName} is ${key.address}, which is not a watchdog of ${account}`);
      try {
        const tx = await sessions.connect(key).pause(account, cancelQueued);
        txHash = (await tx.wait())!.hash;
      } catch (e) {
        throw new FailureError(`pause failed: ${decodeReinsError(e).message}`);
      }
    } else {
      const owner = await ctx.owner(account);
      try {
        txHash = (await owner.pause({ cancelQueued })).txHash;
      } catch (e) {
        throw await asCliError(ctx, e, false);
      }
    }
    emit(
      inv.json,
      { account, status: "paused", by: as, cancelQueued, txHash },
      `agents of ${account} paused by the ${as}${cancelQueued ? ", queue cancelled" : ""} (tx ${txHash})`,
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins unpause` (owner only). */
export async function unpause(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(inv.args.account);
    const owner = await ctx.owner(account);
    if (!(await owner.sessions.accountConfig(account)).paused) {
      emit(inv.json, { account, status: "not paused" }, `agents of ${account} are not paused; nothing sent`);
      return 0;
    }
    let txHash: string;
    try {
      txHash = (await owner.unpause()).txHash;
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    emit(inv.json, { account, status: "unpaused", txHash }, `agents of ${account} unpaused (tx ${txHash})`);
    return 0;
  } finally {
    ctx.close();
  }
}

/**
 * Why paying `token` to `to` from `account` is pointless or burns the money, or `undefined`: the zero address, the
 * account itself (moves nothing but is charged to the session), the token contract, the EntryPoint, a Reins module.
 */
export function pointlessRecipient(
  to: string,
  account: string,
  token: Token,
  reins: ReinsDeployment,
): string | undefined {
  const a = getAddress(to);
  if (a === ZeroAddress) return "the zero address (the tokens would be burnt or the transfer reverts)";
  if (a === getAddress(account)) return "the account itself (nothing would move, the session would be charged)";
  if (token.address !== ZeroAddress && a === getAddress(token.address))
    return `the ${token.symbol} token contract itself (the tokens would be lost)`;
  if (a === getAddress(ENTRYPOINT_V08)) return "the EntryPoint (the funds would be stuck)";
  for (const [name, m] of Object.entries(reins))
    if (typeof m === "string" && getAddress(m) === a) return `a Reins contract (${name}: the funds would be stuck)`;
  return undefined;
}

/** `reins agent pay <account> <sessionId> TOKEN <to> <amount> [--dry-run]`. */
export async function agentPay(input: AgentPayInput, inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const to = getAddress(input.to);
    const sessionId = input.sessionId;
    const dryRun = input.dryRun;
    const account = await ctx.account(input.account);
    const token = await ctx.token(input.token);
    const value = parseHumanAmount(input.amount, token, "amount");
    if (value === 0n) throw new UsageError("amount: must be more than zero");
    const { reins } = await ctx.deployment();
    const envName = input.agentKeyEnv;
    const agent: Wallet = await ctx.key(envName, "agent");
    const provider = await ctx.provider();
    const sessions = AgentSessions__factory.connect(reins.sessions, provider);
    const session = (await listSessions(sessions, account)).find((s) => s.sessionId.toLowerCase() === sessionId);
    if (!session) throw new UsageError(`unknown session ${sessionId} for account ${account}`);
    if (getAddress(session.agent) !== agent.address) {
      throw new UsageError(
        `${envName} is ${agent.address}, but session ${sessionId} belongs to agent ${session.agent}`,
      );
    }
    // Policy refusals (exit 3), like revoked and paused: the account's rules say no, not the command line.
    const expired = (rule: string, text: string) => {
      const report = {
        status: "refused",
        rule,
        sessionId,
        validAfter: session.validAfter,
        validUntil: session.validUntil,
      };
      if (input.json) emit(true, report, "");
      return new RefusedError(`refused: ${rule}: ${text}`, report);
    };
    if (session.status === "expired")
      throw expired(
        "validity window",
        `session ${sessionId} expired at ${time(session.validUntil)} (renew it: reins session renew)`,
      );
    if (session.status === "not yet valid")
      throw expired("validity window", `session ${sessionId} is not valid before ${time(session.validAfter)}`);
    if (session.status === "stale")
      throw expired(
        "revoked",
        `session ${sessionId} no longer exists (all sessions were revoked or the module reinstalled)`,
      );
    // Payments that cannot do anything useful are refused before anything is signed (exit 2).
    const pointless = pointlessRecipient(to, account, token, reins);
    if (pointless) throw new UsageError(`recipient ${to} is ${pointless}: nothing sent`);

    const call: Call =
      token.address === ZeroAddress
        ? { target: to, value, data: "0x" }
        : { target: token.address, data: erc20.encodeFunctionData("transfer", [to, value]) };
    const human = `${amount(value, token.decimals)} ${token.symbol} to ${to}`;
    const agentSession = new AgentSession({
      agent,
      account,
      sessionId: session.sessionId,
      sessions: reins.sessions,
      sender: await ctx.sender(agent),
    });

    const pre = await agentSession.preflight(call);
    if (pre.outcome === "refuse") {
      const text = await describeError(ctx, pre.error);
      const report = { status: "refused", payment: human, ...errorReport(pre.error) };
      if (input.json) emit(true, report, "");
      // The simulated execution reverts for a reason that is not a rule of the session (a token refusing the
      // transfer, a balance too low): the payment cannot succeed; exit 2 like other bad input.
      if (pre.error.rule === "execution reverts" || !POLICY_RULES.has(pre.error.rule))
        throw new UsageError(`cannot pay ${human}: ${text}; nothing sent`);
      throw new RefusedError(`refused: ${text}`, report);
    }
    const expected =
      pre.outcome === "execute"
        ? "execute now (instant tier)"
        : `queue (${pre.tier} tier: ${amount(pre.amount, token.decimals)} ${token.symbol} is over the limit of ${amount(pre.limit, token.decimals)})`;
    if (dryRun) {
      emit(
        input.json,
        {
          status: "dry-run",
          outcome: pre.outcome,
          payment: human,
          ...(pre.outcome === "queue" ? { tier: pre.tier, amount: pre.amount, limit: pre.limit } : {}),
        },
        `dry run: paying ${human} would ${expected}`,
      );
      return 0;
    }
    if (!ctx.bundlerUrl && (await provider.getBalance(agent.address)) === 0n) {
      throw new UsageError(`the agent ${agent.address} has no ETH to submit handleOps (fund it, or use --bundler)`);
    }
    let result;
    try {
      result = await agentSession.send(call);
    } catch (e) {
      const err = await asCliError(ctx, e);
      if (input.json && err instanceof RefusedError)
        emit(true, { status: "refused", payment: human, ...err.report }, "");
      throw err;
    }
    if (result.status === "executed") {
      emit(
        input.json,
        {
          status: "executed",
          payment: human,
          txHash: result.txHash,
          userOpHash: result.userOpHash,
          gasCost: result.gasCost,
        },
        `executed: paid ${human} (tx ${result.txHash})`,
      );
    } else {
      const line =
        `queued (${result.tier}): ${human} is over the limit of ${amount(result.limit, token.decimals)} ${token.symbol}; request ${result.requestId}, ` +
        (result.tier === "approval"
          ? `needs the owner's approval (reins queue approve ${account} ${result.requestId})`
          : `runs from ${time(result.earliestExecution)}`) +
        `, expires ${time(result.expiresAt)}`;
      emit(
        input.json,
        {
          status: "queued",
          payment: human,
          tier: result.tier,
          requestId: result.requestId,
          limit: amount(result.limit, token.decimals),
          readyAt: result.earliestExecution,
          expiresAt: result.expiresAt,
          txHash: result.txHash,
        },
        line,
      );
    }
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins watchdog add|remove <account> <address>` (owner key). */
export async function watchdog(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const enable = inv.command[1] === "add";
    const who = parseAddress(inv.args.watchdog, "watchdog");
    const account = await ctx.account(inv.args.account);
    const owner = await ctx.owner(account);
    if ((await owner.sessions.isWatchdog(who, account)) === enable) {
      emit(
        inv.json,
        { account, watchdog: who, enabled: enable, status: "unchanged" },
        `${who} is ${enable ? "already" : "not"} a watchdog of ${account}; nothing sent`,
      );
      return 0;
    }
    let txHash: string;
    try {
      txHash = (await owner.setWatchdog(who, enable)).txHash;
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    emit(
      inv.json,
      { account, watchdog: who, enabled: enable, txHash },
      `${who} ${enable ? "is now" : "is no longer"} a watchdog of ${account} (tx ${txHash})`,
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** The asset a `watch` command names: ETH, a registry symbol, or any contract address (ERC-20 or ERC-721). */
async function watchedAsset(ctx: CliContext, ref: string): Promise<{ address: string; label: string }> {
  if (ref.toUpperCase() === "ETH") return { address: ZeroAddress, label: "ETH" };
  if (!ref.startsWith("0x")) {
    const t = await ctx.token(ref);
    return { address: t.address, label: t.symbol };
  }
  const address = parseAddress(ref, "asset");
  if ((await (await ctx.provider()).getCode(address)) === "0x") throw new UsageError(`asset ${address} has no code`);
  return { address, label: address };
}

/** `reins watch add|remove <account> <ASSET,…>`, `reins watch list <account>` (owner key for add/remove). */
export async function watch(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(inv.args.account);
    const { reins } = await ctx.deployment();
    const sessions = AgentSessions__factory.connect(reins.sessions, await ctx.provider());
    const current = (await sessions.watchedAssets(account)).map((a) => getAddress(a));
    const mode = inv.command[1];
    if (mode === "list") {
      emit(
        inv.json,
        { account, watched: current },
        current.length === 0
          ? `${account} watches no asset`
          : [
              `${account} watches ${current.length} asset(s):`,
              ...current.map((a) => `  ${a === ZeroAddress ? "ETH" : a}`),
            ].join("\n"),
      );
      return 0;
    }
    const refs = (inv.args.assets ?? "").split(",").filter((r) => r !== "");
    if (refs.length === 0) throw new UsageError(`watch ${mode}: name at least one asset (ETH, a symbol or an address)`);
    const assets = [];
    for (const ref of refs) assets.push(await watchedAsset(ctx, ref));
    const owner = await ctx.owner(account);
    try {
      if (mode === "add") {
        const fresh = assets.filter((a) => !current.includes(getAddress(a.address)));
        if (fresh.length === 0) {
          emit(inv.json, { account, status: "unchanged", watched: current }, "already watched; nothing sent");
          return 0;
        }
        const { txHash } = await owner.watchAssets(fresh.map((a) => a.address));
        emit(
          inv.json,
          { account, added: fresh.map((a) => a.address), txHash },
          `${account} now watches ${fresh.map((a) => a.label).join(", ")} (tx ${txHash})`,
        );
        return 0;
      }
      const out = [];
      for (const a of assets) {
        if (!current.includes(getAddress(a.address))) throw new UsageError(`${a.label} is not watched by ${account}`);
        const outcome = await owner.unwatchAsset(a.address);
        out.push({ asset: a.address, ...outcome });
      }
      emit(
        inv.json,
        { account, removed: out },
        out
          .map((o) =>
            o.status === "applied"
              ? `${o.asset} is no longer watched (tx ${o.txHash})`
              : `unwatching ${o.asset} is loosening: pending until ${time(o.readyAt)} (change ${o.changeHash}; apply with \`reins change apply\`)`,
          )
          .join("\n"),
      );
      return 0;
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
  } finally {
    ctx.close();
  }
}

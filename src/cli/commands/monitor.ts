/**
 * `reins monitor <account>`: the anomaly monitor (src/monitor) as a CLI command. Addresses come from the deployment
 * record (checked against the chain: code at AgentSessions and ReinsTimelock, both installed on the account), the
 * RPC from `--rpc` / `REINS_RPC_URL` / reins.config.json like every command, and the watchdog key must be
 * registered on the account: any problem is one line and exit 2 before the loop starts. Known recipients are
 * seeded from the sessions' scopes (the recipients their transfer permissions allow), so paying an allow-listed
 * payee is no "new recipient". Log lines carry amounts in token units next to the base units.
 */
import { ZeroAddress, dataSlice, getAddress, type Provider } from "ethers";
import { listSessions } from "../../client/actions/listSessions.js";
import { budgetTokens } from "../../client/actions/assessTier.js";
import { MODULE_TYPE_EXECUTOR, MODULE_TYPE_VALIDATOR } from "../../account/encoding.js";
import { JsonLogger, streamSink, type LogSink } from "../../monitor/log.js";
import { MonitorConfigError, ReinsMonitor, type EngineOptions } from "../../monitor/monitor.js";
import { MonitorStateError } from "../../monitor/state.js";
import { entryPointInterface, sessionsInterface } from "../../monitor/decode.js";
import { AgentSessions__factory, ReinsAccount__factory } from "../../../types/ethers-contracts/index.js";
import type { Invocation } from "../args.js";
import type { MonitorInput } from "../input/monitor.js";
import { CliContext, readKey, type Token } from "../context.js";
import { UsageError } from "../errors.js";
import { amount } from "../format.js";
import { decodeExecution } from "./ops.js";
import { startNotifier, webhookSettings, type RunningNotifier } from "../../notify/command.js";

const TRANSFER = "0xa9059cbb";
const EXECUTE_USER_OP = ReinsAccount__factory.createInterface().getFunction("executeUserOp")!.selector;

type Config = {
  permissions: {
    target: string;
    selector: string;
    conditions: { op: bigint; word: bigint; value: string; oneOf: string[] }[];
  }[];
};

/** Recipients a session config's transfer permissions allow (Equal / OneOf on word 0; ETH permissions' targets). */
function recipientsOf(config: Config): string[] {
  const out: string[] = [];
  for (const p of config.permissions) {
    if (p.selector === "0x00000000") out.push(getAddress(p.target));
    if (p.selector.toLowerCase() !== TRANSFER) continue;
    for (const c of p.conditions) {
      if (Number(c.word) !== 0) continue;
      if (Number(c.op) === 1) out.push(getAddress(dataSlice(c.value, 12)));
      if (Number(c.op) === 4) for (const v of c.oneOf) out.push(getAddress(dataSlice(v, 12)));
    }
  }
  return out;
}

/** `grantSession` configs inside call data sent to AgentSessions (directly, or through `applyChange`). */
function grantsIn(data: string): Config[] {
  try {
    const parsed = sessionsInterface.parseTransaction({ data });
    if (parsed?.name === "grantSession") return [parsed.args[0] as Config];
    if (parsed?.name === "applyChange") return grantsIn(parsed.args[1] as string);
  } catch {
    /* not a sessions call */
  }
  return [];
}

/**
 * The recipients allowed by the scopes of the account's live sessions, read from the grants: the `handleOps`
 * transactions that emitted `SessionGranted` (owner operations calling `grantSession` or `applyChange`) and
 * the `ChangeProposed` data of delayed grants.
 */
async function scopeRecipients(provider: Provider, sessionsAddress: string, account: string): Promise<string[]> {
  const sessions = AgentSessions__factory.connect(sessionsAddress, provider);
  const live = (await listSessions(sessions, account)).filter((s) => s.status !== "revoked" && s.status !== "stale");
  const out = new Set<string>();
  const txs = new Set(live.map((s) => s.grantedIn));
  for (const hash of txs) {
    const tx = await provider.getTransaction(hash);
    if (!tx) continue;
    let ops: { sender: string; callData: string }[] = [];
    try {
      const parsed = entryPointInterface.parseTransaction({ data: tx.data });
      if (parsed?.name === "handleOps") ops = parsed.args[0] as { sender: string; callData: string }[];
    } catch {
      /* not handleOps (e.g. a risk-engine grant) */
    }
    for (const op of ops) {
      if (getAddress(op.sender) !== getAddress(account)) continue;
      let inner = op.callData;
      if (inner.startsWith(EXECUTE_USER_OP)) inner = "0x" + inner.slice(10);
      let calls;
      try {
        const [mode, payload] = ReinsAccount__factory.createInterface().decodeFunctionData("execute", inner);
        calls = decodeExecution(mode as string, payload as string);
      } catch {
        continue;
      }
      for (const c of calls) {
        if (getAddress(c.target) !== getAddress(sessionsAddress) || !c.data) continue;
        for (const g of grantsIn(c.data)) for (const r of recipientsOf(g)) out.add(r);
      }
    }
  }
  for (const log of await sessions.queryFilter(sessions.filters.ChangeProposed(account), 0)) {
    for (const g of grantsIn(log.args.data)) for (const r of recipientsOf(g)) out.add(r);
  }
  return [...out];
}

/** A sink that adds token units next to base units (`amountUnits: "12.5 TUSD"`), and in alert messages. */
function unitsSink(tokens: Map<string, Token>, inner: LogSink): LogSink {
  const fmt = (token: unknown, value: unknown): string | undefined => {
    if (typeof token !== "string" || (typeof value !== "string" && typeof value !== "bigint")) return undefined;
    const t = tokens.get(token.toLowerCase());
    if (!t || !/^\d+$/.test(String(value))) return undefined;
    return `${amount(BigInt(value), t.decimals)} ${t.symbol}`;
  };
  return (line) => {
    const out: Record<string, unknown> = { ...line };
    for (const k of ["amount", "limit"]) {
      const u = fmt(out.token, out[k]);
      if (u) out[`${k}Units`] = u;
    }
    if (Array.isArray(out.outflows))
      out.outflows = (out.outflows as Record<string, unknown>[]).map((o) => {
        const u = fmt(o.token, o.amount);
        return u ? { ...o, amountUnits: u } : o;
      });
    if (out.numbers && typeof out.numbers === "object") {
      const n = { ...(out.numbers as Record<string, string>) };
      const u = fmt(n.token, n.amount);
      if (u) n.amountUnits = u;
      out.numbers = n;
    }
    if (typeof out.message === "string")
      out.message = out.message.replace(
        /(\d+) of (0x[0-9a-fA-F]{40})/g,
        (m, v: string, tok: string) => fmt(tok, v) ?? m,
      );
    inner(out as Parameters<LogSink>[0]);
  };
}

/** `reins monitor <account>`: `input` parsed up front; `inv` carries the resolved global options. */
export async function monitor(input: MonitorInput, inv: Invocation): Promise<number> {
  // Keys before anything touches the network.
  const watchdogKey = readKey(input.watchdogKeyEnv, "watchdog");
  const engineKey = input.envelope ? readKey(input.envelope.engineKeyEnv, "risk-engine") : undefined;
  const ctx = new CliContext(inv);
  let monitorInstance: ReinsMonitor | undefined;
  try {
    const rules = input.rules;
    const extraAllow = input.allowRecipients.map((a) => getAddress(a));

    // Start-up checks: everything the loop would otherwise retry forever.
    const account = await ctx.account(input.account);
    const { reins, file } = await ctx.deployment();
    const provider = await ctx.provider();
    if ((await provider.getCode(reins.timelock)) === "0x")
      throw new UsageError(`deployment file ${file}: no code at ReinsTimelock ${reins.timelock}`);
    const acc = ReinsAccount__factory.connect(account, provider);
    let installed: boolean[];
    try {
      installed = await Promise.all([
        acc.isModuleInstalled(MODULE_TYPE_VALIDATOR, reins.sessions, "0x"),
        acc.isModuleInstalled(MODULE_TYPE_EXECUTOR, reins.timelock, "0x"),
      ]);
    } catch {
      throw new UsageError(`${account} is not a Reins account (isModuleInstalled failed)`);
    }
    if (!installed[0]) throw new UsageError(`AgentSessions ${reins.sessions} is not installed on ${account}`);
    if (!installed[1]) throw new UsageError(`ReinsTimelock ${reins.timelock} is not installed on ${account}`);
    const envName = input.watchdogKeyEnv;
    const watchdog = watchdogKey.connect(provider);
    const sessions = AgentSessions__factory.connect(reins.sessions, provider);
    if (!(await sessions.isWatchdog(watchdog.address, account)))
      throw new UsageError(
        `${envName} is ${watchdog.address}, which is not a watchdog of ${account} (reins watchdog add ${account} ${watchdog.address})`,
      );
    let engine: EngineOptions | undefined;
    if (input.envelope && engineKey) {
      const address = getAddress(input.envelope.address);
      if ((await provider.getCode(address)) === "0x") throw new UsageError(`--envelope: no contract at ${address}`);
      engine = { key: engineKey.connect(provider), envelope: address, tightenFactor: input.envelope.tightenFactor };
    }

    // Known recipients: the sessions' allow-lists (plus --allow-recipient) are never "new".
    const seeded = await scopeRecipients(provider, reins.sessions, account);
    rules.newRecipient.allowlist = [...new Set([...rules.newRecipient.allowlist, ...seeded, ...extraAllow])];

    // Token units for the log: every budgeted token of every session, plus the registry.
    const tokens = new Map<string, Token>([
      [ZeroAddress.toLowerCase(), { symbol: "ETH", address: ZeroAddress, decimals: 18 }],
    ]);
    for (const t of await ctx.knownTokens()) tokens.set(t.address.toLowerCase(), t);
    for (const s of await listSessions(sessions, account))
      for (const a of await budgetTokens(sessions, account, s.sessionId))
        if (!tokens.has(a.toLowerCase())) {
          const t = await ctx.token(a).catch(() => undefined);
          if (t) tokens.set(a.toLowerCase(), t);
        }
    const log = new JsonLogger(unitsSink(tokens, streamSink()));
    log.info("seeded-recipients", { count: seeded.length + extraAllow.length, recipients: [...seeded, ...extraAllow] });

    monitorInstance = new ReinsMonitor({
      provider,
      account,
      sessions: reins.sessions,
      timelock: reins.timelock,
      watchdog,
      rules,
      ...(engine ? { engine } : {}),
      statePath: input.statePath,
      pollMs: input.pollMs,
      confirmations: input.confirmations,
      fromBlock: input.fromBlock,
      logger: log,
    });
    const m = monitorInstance;
    // --webhook: owner notifications from the event index, in the same process (a failing webhook never stops it).
    const hook = webhookSettings(inv);
    const notifier: RunningNotifier | undefined = hook
      ? await startNotifier(
          ctx,
          hook,
          [account],
          log,
          input.fromBlock === "latest" ? undefined : BigInt(input.fromBlock),
        )
      : undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      log.info("signal", { signal });
      m.stop();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      await m.run();
    } finally {
      await notifier?.stop();
    }
    return 0;
  } catch (e) {
    if (e instanceof MonitorConfigError || e instanceof MonitorStateError) throw new UsageError(e.message);
    throw e;
  } finally {
    ctx.close();
  }
}

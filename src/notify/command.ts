/**
 * The CLI side of notifications: `reins notify <account> [--account …]` (index + webhooks, no watchdog key needed)
 * and the `--webhook` options of `reins monitor`, which run the same loop next to the monitor. Options:
 * `--webhook <url>`, `--webhook-secret-env <VAR>` (default REINS_WEBHOOK_SECRET), `--console-url <url>`,
 * `--index <file>` (default .reins-index.db), `--expiry-lead <dur>` (default 24h), `--from-block <n|latest>`.
 */
import { getAddress } from "ethers";
import { parseDuration, type Duration } from "../client/units.js";
import { list, str, type Invocation } from "../cli/args.js";
import { CliContext, parseAddress } from "../cli/context.js";
import { UsageError } from "../cli/errors.js";
import { EventIndex, EventIndexConfigError, IndexSchemaError } from "../indexer/index.js";
import { JsonLogger, streamSink } from "../monitor/log.js";
import { Notifier, runNotifyLoop } from "./notifier.js";

/** Webhook settings read from the command line. */
export interface WebhookSettings {
  url: string;
  secret: string;
  consoleUrl: string;
  indexPath: string;
  expiryLeadSeconds: number;
  pollMs: number;
}

/**
 * The webhook settings of `inv`, or `undefined` without `--webhook`. Throws {@link UsageError} for a bad URL, a
 * missing secret variable or a bad duration.
 */
export function webhookSettings(inv: Invocation): WebhookSettings | undefined {
  const url = str(inv, "webhook");
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--webhook: not a URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new UsageError(`--webhook: expected an http(s) URL, got ${url}`);
  const envName = str(inv, "webhook-secret-env") ?? "REINS_WEBHOOK_SECRET";
  const secret = process.env[envName];
  if (!secret) throw new UsageError(`environment variable ${envName} (webhook secret) is not set`);
  const lead = str(inv, "expiry-lead") ?? "24h";
  let expiryLeadSeconds: number;
  try {
    expiryLeadSeconds = Number(parseDuration(lead as Duration));
  } catch {
    throw new UsageError(`--expiry-lead: bad duration "${lead}" (use e.g. "90s", "15m", "24h", "7d")`);
  }
  const poll = str(inv, "poll-ms") ?? "2000";
  if (!/^\d+$/.test(poll) || Number(poll) < 10)
    throw new UsageError(`--poll-ms: expected an integer ≥ 10, got ${poll}`);
  return {
    url,
    secret,
    consoleUrl: str(inv, "console-url") ?? "http://127.0.0.1:43370",
    indexPath: str(inv, "index") ?? ".reins-index.db",
    expiryLeadSeconds,
    pollMs: Number(poll),
  };
}

/** A running notification loop. */
export interface RunningNotifier {
  /** Stop it and wait for the current round to end. */
  stop(): Promise<void>;
  /** Resolves when the loop ends. */
  done: Promise<void>;
}

/**
 * Open the index, follow `accounts` (from `fromBlock`, default the current head for a new account) and run the
 * notification loop until stopped.
 */
export async function startNotifier(
  ctx: CliContext,
  settings: WebhookSettings,
  accounts: string[],
  log: JsonLogger,
  fromBlock?: bigint,
): Promise<RunningNotifier> {
  const provider = await ctx.provider();
  const { record } = await ctx.deployment();
  let index: EventIndex;
  try {
    index = EventIndex.open({ path: settings.indexPath, provider, deployment: record });
  } catch (e) {
    if (e instanceof EventIndexConfigError || e instanceof IndexSchemaError)
      throw new UsageError(`--index ${settings.indexPath}: ${e.message}`);
    throw e;
  }
  const start = fromBlock ?? BigInt(await provider.getBlockNumber());
  for (const a of accounts) index.follow(a, start);
  const known = new Map((await ctx.knownTokens()).map((t) => [t.address.toLowerCase(), t]));
  const notifier = new Notifier({
    index,
    provider,
    sessions: record.contracts.AgentSessions,
    webhook: { url: settings.url, secret: settings.secret },
    consoleUrl: settings.consoleUrl,
    expiryLeadSeconds: settings.expiryLeadSeconds,
    knownTokens: known,
    logger: log,
  });
  log.info("notify-started", { url: settings.url, index: settings.indexPath, accounts: index.followed() });
  const ac = new AbortController();
  const done = runNotifyLoop({ index, notifier, pollMs: settings.pollMs, signal: ac.signal, logger: log }).finally(() =>
    index.close(),
  );
  return {
    done,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

/** `reins notify <account> [--account 0x…]`: webhooks for one or many accounts until SIGINT / SIGTERM. */
export async function notify(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const settings = webhookSettings(inv);
    if (!settings) throw new UsageError("--webhook <url> is required");
    const accounts = [await ctx.account(inv.args.account)];
    for (const a of list(inv, "account").flatMap((x) => x.split(",")))
      accounts.push(getAddress(parseAddress(a, "--account")));
    const fromRaw = str(inv, "from-block") ?? "latest";
    if (fromRaw !== "latest" && !/^\d+$/.test(fromRaw))
      throw new UsageError(`--from-block: expected a block number or "latest", got ${fromRaw}`);
    const log = new JsonLogger(streamSink());
    const running = await startNotifier(
      ctx,
      settings,
      accounts,
      log,
      fromRaw === "latest" ? undefined : BigInt(fromRaw),
    );
    const onSignal = (signal: NodeJS.Signals) => {
      log.info("signal", { signal });
      void running.stop();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    await running.done;
    return 0;
  } finally {
    ctx.close();
  }
}

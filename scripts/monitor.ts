/**
 * `npm run monitor -- --account 0x… --rpc http://127.0.0.1:8545 --sessions 0x… --timelock 0x… [options]`
 *
 * Long-running Reins monitor: follows one account's events, applies the anomaly rules and pauses the account's
 * agent sessions with the watchdog key when one fires — or, for rules whose `response` is `tighten` /
 * `tighten-then-pause`, first shrinks the alerted session's budget with the risk-engine key through a
 * `RiskEngineEnvelope`. Logs JSON lines on stdout. Private keys are read from environment variables (default
 * `REINS_WATCHDOG_KEY`, `REINS_ENGINE_KEY`), never from a file or the command line.
 *
 * Exit codes: 0 normal stop (SIGINT/SIGTERM, --help), 2 bad usage or configuration, 1 unexpected failure.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { Wallet, isAddress } from "ethers";
import {
  DeploymentRecordError,
  loadDeployment,
  readDeploymentRecord,
  type DeploymentRecord,
} from "../src/deploy/records.js";
import { JsonLogger } from "../src/monitor/log.js";
import { MonitorConfigError, ReinsMonitor, type EngineOptions } from "../src/monitor/monitor.js";
import { connectProvider } from "../src/monitor/rpc.js";
import { RulesConfigError, resolveRules } from "../src/monitor/rules.js";
import { MonitorStateError } from "../src/monitor/state.js";

const USAGE = `Usage: npm run monitor -- --account <0x…> [--sessions <0x…> --timelock <0x…>] [options]

Follows a Reins account's AgentSessions/ReinsTimelock events, applies anomaly rules and pauses the account's
agent sessions (pause(account, true)) from the watchdog key when a rule fires. JSON lines on stdout.
A rule may instead respond by tightening: the alerted session's budget for the alerted token is scaled down
(every field × --tighten-factor, same period) with RiskEngineEnvelope.tighten from the risk-engine key; the
account keeps running. Only spendSpike and newRecipient can tighten; the others always pause, and so does a
tightening that cannot be done (no budget for the token, budget already zero, transaction reverted).

Required:
  --account <address>        Reins account to watch

Contracts (default: from the deployment record of the RPC's chain: --deployment <file>, else
./deployments/<chainId>.json, else the record shipped with Reins; loadDeployment in src/deploy/records.ts):
  --deployment <file>        deployment record to take AgentSessions/ReinsTimelock/RiskEngineEnvelope from
  --sessions <address>       AgentSessions module
  --timelock <address>       ReinsTimelock module

Options:
  --rpc <url>                JSON-RPC endpoint (default http://127.0.0.1:8545); retried with backoff if down
  --watchdog-key-env <NAME>  environment variable holding the watchdog private key (default REINS_WATCHDOG_KEY)
  --state <path>             state file (default .reins-monitor.json); resume point, alerts, rule window
  --poll-ms <ms>             poll interval when caught up (default 500)
  --confirmations <n>        blocks to wait before processing (default 0)
  --from-block <n|latest>    first block when the state file is new (default latest)
  --config <rules.json>      rule thresholds and responses overriding the defaults (any subset), e.g.
                             {"spendSpike":{"factor":4},"approvalBurst":{"count":2,"windowSec":600}}
                             Each rule also takes "response": "pause" (default) | "tighten" |
                             "tighten-then-pause" (tighten on a session's first alert, pause when the same
                             session alerts again within "escalateWithinSec", default 86400 s of block time):
                             {"spendSpike":{"response":"tighten-then-pause","escalateWithinSec":3600}}
  --envelope <address>       RiskEngineEnvelope (grant delegate of the account, with an active envelope for
                             the engine key); required when a rule responds by tightening
  --engine-key-env <NAME>    environment variable holding the risk-engine private key (default REINS_ENGINE_KEY)
  --tighten-factor <x>       multiplier for every budget field when tightening, 0 < x < 1 (default 0.5)
  --help                     this text

Exit codes: 0 stopped by SIGINT/SIGTERM (state saved), 2 bad usage/config, 1 unexpected failure.`;

/** Bad command line or configuration: one line on stderr, exit code 2. */
class UsageError extends Error {
  override readonly name = "UsageError" as const;
}

function parseCli(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        account: { type: "string" },
        rpc: { type: "string", default: "http://127.0.0.1:8545" },
        sessions: { type: "string" },
        timelock: { type: "string" },
        deployment: { type: "string" },
        "watchdog-key-env": { type: "string", default: "REINS_WATCHDOG_KEY" },
        state: { type: "string", default: ".reins-monitor.json" },
        "poll-ms": { type: "string", default: "500" },
        confirmations: { type: "string", default: "0" },
        "from-block": { type: "string", default: "latest" },
        config: { type: "string" },
        envelope: { type: "string" },
        "engine-key-env": { type: "string", default: "REINS_ENGINE_KEY" },
        "tighten-factor": { type: "string", default: "0.5" },
        help: { type: "boolean", default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return null;
  if (v.account === undefined) throw new UsageError("--account is required");
  for (const name of ["account", "sessions", "timelock"] as const) {
    const value = v[name];
    if (value !== undefined && !isAddress(value)) throw new UsageError(`--${name}: not an address: ${value}`);
  }
  const int = (name: string, raw: string, min: number): number => {
    if (!/^\d+$/.test(raw) || Number(raw) < min)
      throw new UsageError(`--${name}: expected an integer ≥ ${min}, got ${raw}`);
    return Number(raw);
  };
  let rpc: URL;
  try {
    rpc = new URL(v.rpc!);
  } catch {
    throw new UsageError(`--rpc: not a URL: ${v.rpc}`);
  }
  if (rpc.protocol !== "http:" && rpc.protocol !== "https:") throw new UsageError(`--rpc: must be http(s): ${v.rpc}`);
  const walletFromEnv = (envName: string, what: string): Wallet => {
    const key = process.env[envName];
    if (!key) throw new UsageError(`environment variable ${envName} (${what} private key) is not set`);
    try {
      return new Wallet(key.startsWith("0x") ? key : `0x${key}`);
    } catch {
      throw new UsageError(`environment variable ${envName} does not hold a valid private key`);
    }
  };
  const watchdog = walletFromEnv(v["watchdog-key-env"]!, "watchdog");
  let rulesInput: unknown;
  if (v.config !== undefined) {
    try {
      rulesInput = JSON.parse(readFileSync(v.config, "utf8"));
    } catch (e) {
      throw new UsageError(`--config ${v.config}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  const rules = resolveRules(rulesInput);
  const tightening = Object.entries(rules)
    .filter(([, r]) => r.enabled && r.response !== "pause")
    .map(([name]) => name);
  let engine: EngineOptions | undefined;
  if (v.envelope !== undefined) {
    if (!isAddress(v.envelope)) throw new UsageError(`--envelope: not an address: ${v.envelope}`);
    const factor = v["tighten-factor"]!;
    if (!/^(0?\.\d+|\d+(\.\d+)?)$/.test(factor)) throw new UsageError(`--tighten-factor: not a number: ${factor}`);
    engine = {
      key: walletFromEnv(v["engine-key-env"]!, "risk-engine"),
      envelope: v.envelope,
      tightenFactor: Number(factor),
    };
  } else if (tightening.length > 0) {
    throw new UsageError(`--envelope is required: rules ${tightening.join(", ")} respond by tightening`);
  }
  return {
    account: v.account!,
    sessions: v.sessions,
    timelock: v.timelock,
    deployment: v.deployment,
    rpc: rpc.toString(),
    watchdog,
    statePath: v.state!,
    pollMs: int("poll-ms", v["poll-ms"]!, 10),
    confirmations: int("confirmations", v.confirmations!, 0),
    fromBlock: v["from-block"] === "latest" ? ("latest" as const) : int("from-block", v["from-block"]!, 0),
    rules,
    engine,
  };
}

/**
 * AgentSessions and ReinsTimelock: the flags when given, else the deployment record of the chain (the same
 * reader as the client and the CLI).
 */
function contractsOf(
  cli: { sessions?: string; timelock?: string; deployment?: string },
  chainId: bigint,
): { sessions: string; timelock: string } {
  if (cli.sessions !== undefined && cli.timelock !== undefined)
    return { sessions: cli.sessions, timelock: cli.timelock };
  let record: DeploymentRecord;
  try {
    if (cli.deployment !== undefined) record = readDeploymentRecord(cli.deployment);
    else if (existsSync(path.resolve("deployments", `${chainId}.json`)))
      record = loadDeployment(chainId, { dir: path.resolve("deployments") });
    else record = loadDeployment(chainId);
  } catch (e) {
    if (e instanceof DeploymentRecordError) throw new UsageError(`${e.message} (or pass --sessions and --timelock)`);
    throw e;
  }
  if (BigInt(record.chainId) !== chainId) {
    throw new UsageError(`wrong network: deployment record for chain ${record.chainId}, the RPC is chain ${chainId}`);
  }
  return {
    sessions: cli.sessions ?? record.contracts.AgentSessions,
    timelock: cli.timelock ?? record.contracts.ReinsTimelock,
  };
}

async function main(): Promise<number> {
  const log = new JsonLogger();
  const cli = parseCli(process.argv.slice(2));
  if (cli === null) {
    console.log(USAGE);
    return 0;
  }

  const abort = new AbortController();
  let monitor: ReinsMonitor | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    log.info("signal", { signal });
    abort.abort();
    monitor?.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const provider = await connectProvider(cli.rpc, log, abort.signal);
  if (provider === null) {
    log.info("stopped", { reason: "signal before the RPC answered" });
    return 0;
  }
  const { sessions, timelock } = contractsOf(cli, (await provider.getNetwork()).chainId);
  monitor = new ReinsMonitor({ ...cli, sessions, timelock, provider, logger: log });
  if (abort.signal.aborted) monitor.stop();
  await monitor.run(); // persists the state before returning
  provider.destroy();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (
      e instanceof UsageError ||
      e instanceof RulesConfigError ||
      e instanceof MonitorConfigError ||
      e instanceof MonitorStateError
    ) {
      process.stderr.write(`reins-monitor: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`reins-monitor: unexpected failure: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);

/**
 * The typed input of `reins monitor`, parsed before the monitor starts (no RPC; the rules file is read and
 * resolved here). Addresses are checked for syntax here and for their checksum by the up-front validation
 * (`validate.ts`); the handler only checks them against the chain.
 */
import { readFileSync } from "node:fs";
import { list, str, type Invocation } from "../args.js";
import { UsageError } from "../errors.js";
import { RulesConfigError, resolveRules, type RulesConfig } from "../../monitor/rules.js";

/** What `reins monitor` runs with. */
export interface MonitorInput {
  /** The watched account. */
  account: string;
  /** Environment variable of the watchdog key. */
  watchdogKeyEnv: string;
  statePath: string;
  pollMs: number;
  confirmations: number;
  fromBlock: number | "latest";
  /** `--allow-recipient`: known recipients besides the sessions' allow-lists. */
  allowRecipients: string[];
  /** The rules (defaults, overridden by `--rules`). */
  rules: RulesConfig;
  /** Tightening through a RiskEngineEnvelope, when `--envelope` is given. */
  envelope?: { address: string; engineKeyEnv: string; tightenFactor: number };
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function int(name: string, raw: string, min: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    throw new UsageError(`--${name}: expected an integer ≥ ${min}, got ${raw}`);
  return Number(raw);
}

function address(raw: string, what: string): string {
  if (!ADDRESS.test(raw)) throw new UsageError(`${what}: not an address: ${raw}`);
  return raw;
}

/** Parse `reins monitor`'s command line. */
export function parseMonitorInput(inv: Invocation): MonitorInput {
  const account = address(inv.args.account, "account");
  const fromRaw = str(inv, "from-block") ?? "latest";
  let rulesInput: unknown;
  const rulesFile = str(inv, "rules");
  if (rulesFile !== undefined) {
    try {
      rulesInput = JSON.parse(readFileSync(rulesFile, "utf8"));
    } catch (e) {
      throw new UsageError(`--rules ${rulesFile}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  let rules: RulesConfig;
  try {
    rules = resolveRules(rulesInput);
  } catch (e) {
    if (e instanceof RulesConfigError) throw new UsageError(e.message);
    throw e;
  }
  const envelopeRaw = str(inv, "envelope");
  const factor = str(inv, "tighten-factor");
  if (factor !== undefined && envelopeRaw === undefined) throw new UsageError("--tighten-factor needs --envelope");
  if (factor !== undefined && !/^(0?\.\d+|\d+(\.\d+)?)$/.test(factor)) {
    throw new UsageError(`--tighten-factor: not a number: ${factor}`);
  }
  return {
    account,
    watchdogKeyEnv: str(inv, "watchdog-key-env") ?? "REINS_WATCHDOG_KEY",
    statePath: str(inv, "state") ?? ".reins-monitor.json",
    pollMs: int("poll-ms", str(inv, "poll-ms") ?? "500", 10),
    confirmations: int("confirmations", str(inv, "confirmations") ?? "0", 0),
    fromBlock: fromRaw === "latest" ? "latest" : int("from-block", fromRaw, 0),
    allowRecipients: list(inv, "allow-recipient")
      .flatMap((a) => a.split(","))
      .map((a) => address(a, "--allow-recipient")),
    rules,
    ...(envelopeRaw !== undefined
      ? {
          envelope: {
            address: address(envelopeRaw, "--envelope"),
            engineKeyEnv: str(inv, "engine-key-env") ?? "REINS_ENGINE_KEY",
            tightenFactor: Number(factor ?? "0.5"),
          },
        }
      : {}),
  };
}

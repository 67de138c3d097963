/**
 * Up-front validation of every command line, after parsing and before the command's handler runs (so before
 * any RPC call): positionals by their name (`account`, `to`, `watchdog` are addresses; `sessionId`, `id`,
 * `changeHash` 32-byte ids; `amount` a decimal; `budget` a budget spec), option values by their placeholder
 * (`<dur>`, `<ETH>`, `<0x…>`, `<n>`, `<TOKEN:…>`…), and the keys a command needs (set, and a valid private key).
 * Any problem is a {@link UsageError}: exit 2, one line, nothing sent. The messages are those the handlers use.
 */
import { list, str, type CommandSpec, type Invocation } from "../args.js";
import { parseAddress, parseId, readKey } from "../context.js";
import { UsageError } from "../errors.js";
import { parseGlobals } from "./globals.js";
import { checkAmount, checkDuration, parseBudget, parseTransfer, parseValidFor } from "../specs.js";

/** Positional name → how it is checked (the label is the one of the handler's error message). */
const POSITIONALS: Record<string, (raw: string, spec: CommandSpec) => void> = {
  account: (raw) => parseAddress(raw, "account"),
  to: (raw) => parseAddress(raw, "recipient"),
  watchdog: (raw) => parseAddress(raw, "watchdog"),
  sessionId: (raw) => parseId(raw, "session id"),
  id: (raw) => parseId(raw, "queue id"),
  changeHash: (raw) => parseId(raw, "change hash"),
  amount: (raw) => checkAmount(raw, "amount"),
  budget: (raw, spec) => (spec.path[0] === "fleet" ? parseBudget(raw, "fleet", true) : parseBudget(raw, "budget")),
};

/** Option placeholder → how each value is checked. */
const VALUES: Record<string, (raw: string, what: string) => void> = {
  "<dur>": (raw, what) => checkDuration(raw, what),
  "<ETH>": (raw, what) => checkAmount(raw, what),
  "<0x…>": (raw, what) => parseAddress(raw, what),
  "<0x…[,0x…]>": (raw, what) => raw.split(",").forEach((a) => parseAddress(a, what)),
  "<0x…32>": (raw, what) => parseId(raw, what),
  "<n>": (raw, what) => {
    if (!/^\d+$/.test(raw)) throw new UsageError(`${what}: expected a whole number, got ${raw}`);
  },
  "<ms>": (raw, what) => {
    if (!/^\d+$/.test(raw)) throw new UsageError(`${what}: expected a whole number of milliseconds, got ${raw}`);
  },
  "<TOKEN:to1,to2[:max]>": (raw) => parseTransfer(raw),
  "<TOKEN:…>": (raw) => parseBudget(raw),
};

/** Check a key variable: required and unset, or set to something that is no private key, exit 2. */
function checkKey(envName: string, role: string, required: boolean): void {
  if (required || process.env[envName]) readKey(envName, role);
}

/**
 * Validate `inv` against `spec` (syntax and keys; reads only the config file) and resolve its global options
 * into `inv.globals`. Throws {@link UsageError}.
 */
export function validateInvocation(spec: CommandSpec, inv: Invocation): void {
  inv.globals = parseGlobals(inv);
  // `reins mcp` validates its own options (with REINS_ACCOUNT / REINS_SESSION_ID fallbacks): src/mcp/command.ts.
  if (spec.path[0] === "mcp") return;
  for (const name of (spec.positionals ?? []).map((p) => p.replace(/\?$/, ""))) {
    const raw = inv.args[name];
    if (raw !== undefined) POSITIONALS[name]?.(raw, spec);
  }
  for (const [name, option] of Object.entries(spec.options ?? {})) {
    const check = option.value ? VALUES[option.value] : undefined;
    if (check)
      for (const raw of option.multiple ? list(inv, name) : [str(inv, name)])
        if (raw !== undefined) check(raw, `--${name}`);
    if (name === "valid-for" && str(inv, name) !== undefined)
      parseValidFor(str(inv, name)!, inv.options["allow-long"] === true);
    if (option.key) checkKey(str(inv, name) ?? option.key.env, option.key.role, option.key.required);
  }
}

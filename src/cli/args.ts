/**
 * A small argument parser for `reins` on top of `node:util` `parseArgs`: commands are paths of words
 * (`session grant`), each with positionals and options; a set of global options is accepted everywhere.
 * This module must stay light (no ethers): `--help` never loads the chain code.
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.js";
import type { GlobalInput } from "./input/globals.js";

/** One option of a command. */
export interface OptionSpec {
  type: "string" | "boolean";
  /** May be given several times (values collected in order). */
  multiple?: boolean;
  /** Placeholder for the value in help (`<url>`). */
  value?: string;
  help: string;
  short?: string;
  /**
   * The option names the environment variable of a key (`--owner-key-env`): the variable `env` by default. When
   * `required`, the command refuses (exit 2) before anything acts if it is unset; when set, it must hold a key.
   */
  key?: { env: string; role: string; required: boolean };
}

/** What a command handler receives. */
export interface Invocation {
  /** The command path, e.g. `["session", "grant"]`. */
  command: string[];
  /** Positionals after the command words, by name. */
  args: Record<string, string>;
  /** Options (global and the command's). */
  options: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  /** The global options, resolved and validated once before the command runs (see `input/globals.ts`). */
  globals?: GlobalInput;
}

/**
 * A command: its words, positionals, options, help, the parser of its typed input and its handler.
 * `parse` turns the command line into the command's typed input once, before anything acts (no I/O; a
 * {@link UsageError} there exits 2 with nothing sent); `run` gets that input. Without `parse`, `run` gets the
 * {@link Invocation} itself.
 */
export interface CommandSpec<T = Invocation> {
  path: string[];
  summary: string;
  /** Positional names, in order; a trailing `?` marks an optional one. */
  positionals?: string[];
  options?: Record<string, OptionSpec>;
  /** Extra help text (examples, notes). */
  details?: string;
  /** Command line → typed input, validated up front. */
  parse?(inv: Invocation): T;
  /** The handler: the typed input (or the invocation) and the invocation, whose `globals` are resolved. */
  run(input: T, inv: Invocation): Promise<number>;
}

/** Declare a command with a typed input (`parse` → `run`); the result fits a `CommandSpec[]` list. */
export function command<T>(spec: CommandSpec<T> & { parse(inv: Invocation): T }): CommandSpec {
  return spec as unknown as CommandSpec;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  rpc: { type: "string", value: "<url>", help: "JSON-RPC endpoint (env REINS_RPC_URL; default http://127.0.0.1:8545)" },
  bundler: {
    type: "string",
    value: "<url>",
    help: "ERC-4337 bundler for account operations (env REINS_BUNDLER_URL); without it operations go straight to EntryPoint.handleOps from the acting key (dev chains, or with --direct)",
  },
  direct: { type: "boolean", help: "allow EntryPoint.handleOps from the acting key on a non-dev chain (no bundler)" },
  deployment: {
    type: "string",
    value: "<file>",
    help: "deployment record to use (env REINS_DEPLOYMENT; default <deployments>/<chainId>.json)",
  },
  deployments: {
    type: "string",
    value: "<dir>",
    help: "folder of deployment records (env REINS_DEPLOYMENTS; default ./deployments)",
  },
  token: {
    type: "string",
    multiple: true,
    value: "<SYM=0xaddr[:decimals]>",
    help: "name a token; also `tokens` in reins.config.json and env REINS_TOKENS=SYM=0x…,… ETH is native",
  },
  config: { type: "string", value: "<file>", help: "config file (default ./reins.config.json when present)" },
  json: { type: "boolean", help: "machine-readable JSON on stdout (errors stay one line on stderr)" },
  help: { type: "boolean", short: "h", help: "show help" },
};

/** Result of {@link parseCommandLine}. */
export type Parsed =
  | { kind: "run"; spec: CommandSpec; inv: Invocation; input: unknown }
  | { kind: "help"; text: string }
  | { kind: "group"; prefix: string[] };

/** Find the command for `argv` and parse its positionals and options. Throws {@link UsageError}. */
export function parseCommandLine(argv: string[], commands: CommandSpec[], topHelp: () => string): Parsed {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith("-")) break;
    words.push(a);
  }
  let spec: CommandSpec | undefined;
  for (const c of commands) {
    if (c.path.length <= words.length && c.path.every((w, i) => words[i] === w)) {
      if (!spec || c.path.length > spec.path.length) spec = c;
    }
  }
  const wantsHelp = argv.includes("--help") || argv.includes("-h");
  if (!spec) {
    if (words.length === 0 || (words.length === 1 && words[0] === "help")) return { kind: "help", text: topHelp() };
    const prefix = commands.filter((c) => c.path[0] === words[0]);
    if (prefix.length > 0 && (words.length === 1 || wantsHelp)) {
      if (wantsHelp) return { kind: "help", text: groupHelp(words[0], prefix) };
      return { kind: "group", prefix: [words[0]] };
    }
    throw new UsageError(`unknown command "${words.join(" ")}" (see reins --help)`);
  }
  if (wantsHelp) return { kind: "help", text: commandHelp(spec) };
  const rest = argv.slice(spec.path.length);
  const options = { ...GLOBAL_OPTIONS, ...(spec.options ?? {}) };
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: Object.fromEntries(
        Object.entries(options).map(([name, o]) => [
          name,
          { type: o.type, multiple: o.multiple ?? false, ...(o.short ? { short: o.short } : {}) },
        ]),
      ),
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split("\n")[0]} (see reins ${spec.path.join(" ")} --help)`);
  }
  const names = spec.positionals ?? [];
  const required = names.filter((n) => !n.endsWith("?")).length;
  const given = parsed.positionals;
  if (given.length < required) {
    const missing = names.slice(given.length).filter((n) => !n.endsWith("?"));
    throw new UsageError(`missing ${missing.map((m) => `<${m}>`).join(" ")} (usage: reins ${usageLine(spec)})`);
  }
  if (given.length > names.length) {
    throw new UsageError(`unexpected argument "${given[names.length]}" (usage: reins ${usageLine(spec)})`);
  }
  const args: Record<string, string> = {};
  names.forEach((n, i) => {
    if (given[i] !== undefined) args[n.replace(/\?$/, "")] = given[i];
  });
  const values = parsed.values as Invocation["options"];
  const inv: Invocation = { command: spec.path, args, options: values, json: values.json === true };
  return { kind: "run", spec, inv, input: spec.parse ? spec.parse(inv) : inv };
}

function usageLine(spec: CommandSpec): string {
  const pos = (spec.positionals ?? []).map((p) => (p.endsWith("?") ? `[${p.slice(0, -1)}]` : `<${p}>`));
  return [...spec.path, ...pos, spec.options && Object.keys(spec.options).length ? "[options]" : ""]
    .filter(Boolean)
    .join(" ");
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`;
    return [flag, o.help + (o.multiple ? " (repeatable)" : "")];
  });
  const width = Math.min(34, Math.max(...rows.map(([f]) => f.length)) + 2);
  return rows.map(([f, h]) => (f.length >= width ? `  ${f}\n  ${" ".repeat(width)}${h}` : `  ${f.padEnd(width)}${h}`));
}

/** Help of one command. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: reins ${usageLine(spec)}`, "", spec.summary];
  if (spec.options && Object.keys(spec.options).length) lines.push("", "Options:", ...optionLines(spec.options));
  if (spec.details) lines.push("", spec.details.trimEnd());
  lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS), "", EXIT_CODES_HELP);
  return lines.join("\n");
}

/** Help of a command group (`reins session --help`). */
export function groupHelp(group: string, specs: CommandSpec[]): string {
  const width = Math.max(...specs.map((s) => usageLine(s).length)) + 2;
  return [
    `Usage: reins ${group} <command> …`,
    "",
    ...specs.map((s) => `  ${usageLine(s).padEnd(width)}${s.summary}`),
    "",
    `Run reins ${group} <command> --help for the options of a command.`,
  ].join("\n");
}

/** The command list for `reins --help`. */
export function commandList(specs: CommandSpec[]): string {
  return specs.map((s) => `  ${usageLine(s)}\n      ${s.summary}`).join("\n");
}

export const EXIT_CODES_HELP =
  "Exit codes: 0 ok, 1 on-chain/runtime failure, 2 bad input or usage, 3 refused by the account's policy.";

/** Value of a string option (last one wins for non-repeatable). */
export function str(inv: Invocation, name: string): string | undefined {
  const v = inv.options[name];
  if (Array.isArray(v)) return v[v.length - 1];
  return typeof v === "string" ? v : undefined;
}

/** Values of a repeatable option. */
export function list(inv: Invocation, name: string): string[] {
  const v = inv.options[name];
  if (Array.isArray(v)) return v;
  return typeof v === "string" ? [v] : [];
}

/** Whether a boolean option is set. */
export function flag(inv: Invocation, name: string): boolean {
  return inv.options[name] === true;
}

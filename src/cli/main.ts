/**
 * `reins`: the Reins operator CLI. Entry point (run through `bin/reins.mjs`, or `npx tsx src/cli/main.ts`).
 *
 * Keys come from the environment only: `REINS_OWNER_KEY`, `REINS_AGENT_KEY`, `REINS_WATCHDOG_KEY`,
 * `REINS_GUARDIAN_KEY`, `REINS_SENDER_KEY`, `REINS_DEPLOYER_KEY`. Exit codes: 0 ok, 1 on-chain/runtime failure,
 * 2 bad input or usage, 3 refused by the account's policy. Errors are one line on stderr.
 *
 * This module only loads the parser and the help texts; each command's chain code is imported when it runs.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  EXIT_CODES_HELP,
  command,
  commandList,
  parseCommandLine,
  type CommandSpec,
  type Invocation,
  type OptionSpec,
} from "./args.js";
import { EXIT, oneLine } from "./errors.js";
import { DEV_DETAILS, DEV_OPTIONS } from "./input/dev-spec.js";
import { parseDevInput } from "./input/dev.js";
import { parseMonitorInput } from "./input/monitor.js";
import { parseRecoveryComplete, parseRecoveryLock, parseRecoveryPropose, parseRecoverySign } from "./input/recovery.js";
import { parseAgentPay, parseQueueApprove, parseQueueCancel, parseQueueExecute } from "./input/ops.js";

const ownerKeyEnv: Record<string, OptionSpec> = {
  "owner-key-env": {
    type: "string",
    value: "<NAME>",
    key: { env: "REINS_OWNER_KEY", role: "owner", required: true },
    help: "environment variable with the owner key (default REINS_OWNER_KEY)",
  },
};

const setup = () => import("./commands/setup.js");
const eoa = () => import("./commands/eoa.js");

/** Options `account create` and `account upgrade-eoa` share: the security delay and the guardians. */
const ACCOUNT_SETUP_OPTIONS: Record<string, OptionSpec> = {
  "security-delay": {
    type: "string",
    value: "<dur>",
    help: "delay of loosening session changes (default 1d; 0s = apply at once, dev chains only: warns)",
  },
  guardian: {
    type: "string",
    multiple: true,
    value: "<0x…[,0x…]>",
    help: "install GuardianRecovery with these guardians",
  },
  threshold: { type: "string", value: "<n>", help: "guardian signatures needed (default: all)" },
  "recovery-delay": { type: "string", value: "<dur>", help: "recovery delay (default 2d)" },
  "guardian-delay": { type: "string", value: "<dur>", help: "delay of guardian-set changes (default 1d)" },
  "lock-duration": { type: "string", value: "<dur>", help: "guardian lock duration (default 7d)" },
  "on-recovery": {
    type: "string",
    value: "<revoke-all|none>",
    help: "what a completed recovery also does (default revoke-all: revoke every session, clear the queue)",
  },
};
const sessions = () => import("./commands/sessions.js");
const ops = () => import("./commands/ops.js");
const recovery = () => import("./commands/recovery.js");
const value = () => import("./commands/value.js");
const mcpServer = () => import("../mcp/command.js");
const monitorCommand = () => import("./commands/monitor.js");
const ownerConsole = () => import("../console/command.js");
const notifyCommand = () => import("../notify/command.js");

/** Webhook options shared by `reins monitor` and `reins notify` (see README "Notifications"). */
const WEBHOOK_OPTIONS: Record<string, OptionSpec> = {
  webhook: { type: "string", value: "<url>", help: "deliver owner notifications to this webhook (POST, JSON)" },
  "webhook-secret-env": {
    type: "string",
    value: "<NAME>",
    help: "environment variable with the HMAC secret (default REINS_WEBHOOK_SECRET)",
  },
  "console-url": {
    type: "string",
    value: "<url>",
    help: "console base URL for links (default http://127.0.0.1:43370)",
  },
  index: { type: "string", value: "<file>", help: "event index SQLite file (default .reins-index.db)" },
  "expiry-lead": { type: "string", value: "<dur>", help: "notify this long before a session expires (default 24h)" },
};
const devCommand = () => import("./commands/dev.js");

const VALUE_SYNTAX =
  "Value budget: UNIT:instant=…,ceiling=…,period=CAP/DURATION[,lifetime=…] in whole units (USD: 8 decimals).\n" +
  "Prices: --price TOKEN=1 (1:1), TOKEN=fixed:RATE, TOKEN=feed:0xFEED,stale=1h,min=PRICE,max=PRICE (whole units).";
const VALUE_OPTIONS = {
  "value-budget": {
    type: "string",
    value: "<spec>",
    help: "a cap in money across tokens, e.g. USD:instant=20,ceiling=200,period=500/24h",
  },
  price: {
    type: "string",
    multiple: true,
    value: "<TOKEN=source>",
    help: "price source of a token for value budgets (repeatable): TOKEN=1, fixed:RATE or feed:0x…,min=…,max=…",
  },
  "unit-decimals": { type: "string", value: "<n>", help: "decimals of the value unit (default 8, as USD feeds)" },
} as const;
const BUDGET_SYNTAX = `Budget syntax: TOKEN:instant=50,ceiling=500,period=1000/24h,lifetime=5000 (amounts in whole tokens).
  instant   up to this runs at once         ceiling  up to this waits the queue delay; above: owner approval
  period    cap over any window (CAP/DUR)   lifetime cap over the session's life
TOKEN is ETH, a symbol (--token SYM=0x… or reins.config.json "tokens") or an address.`;

export const COMMANDS: CommandSpec[] = [
  command({
    path: ["dev"],
    summary:
      "rehearse a deployment: anvil (a separate chain process) + Alto on loopback, Reins and a test token deployed, throwaway keys funded; prints the environment to source; Ctrl-C stops all",
    options: DEV_OPTIONS,
    details: DEV_DETAILS,
    parse: parseDevInput,
    run: async (input) => (await devCommand()).dev(input),
  }),
  {
    path: ["deploy"],
    summary: "deploy the Reins contracts deterministically (idempotent) and write deployments/<chainId>.json",
    options: {
      "deployer-key-env": {
        type: "string",
        value: "<NAME>",
        key: { env: "REINS_DEPLOYER_KEY", role: "deployer", required: true },
        help: "environment variable with the deployer key (default REINS_DEPLOYER_KEY)",
      },
      artifacts: {
        type: "string",
        value: "<dir>",
        help: "Hardhat artifacts folder (default: the package's artifacts/)",
      },
    },
    details:
      "Example: REINS_DEPLOYER_KEY=0x… reins deploy --rpc http://127.0.0.1:8545\nA rerun deploys nothing and leaves the record unchanged.",
    run: async (inv) => (await setup()).deploy(inv),
  },
  {
    path: ["account", "create"],
    summary: "create a Reins account for the owner key (OwnerValidator, AgentSessions, timelock; guardians optional)",
    options: {
      ...ownerKeyEnv,
      salt: { type: "string", value: "<n|0x…32>", help: "CREATE2 salt (default 0)" },
      prefund: { type: "string", value: "<ETH>", help: "send this much ETH from the owner key to the account first" },
      ...ACCOUNT_SETUP_OPTIONS,
    },
    details: [
      "Example: REINS_OWNER_KEY=0x… reins account create --prefund 0.1",
      "If the account already exists, nothing is sent.",
      "Security delay: every loosening (a new session or permission, a higher budget, a later expiry, a grant",
      "  delegate) waits it, so a change you did not make can be seen and cancelled; tightening never waits.",
      "  The default is 1d. --security-delay 0s turns it off (dev chains only) and prints a warning.",
      "Guardians: a completed recovery runs AgentSessions.revokeAllSessions() and ReinsTimelock.cancelAll() on the",
      "  account (old agents stop paying, nothing queued can still run) unless --on-recovery none.",
    ].join("\n"),
    run: async (inv) => (await setup()).accountCreate(inv),
  },
  {
    path: ["factory", "status"],
    summary: "the account factory's EntryPoint stake (public bundlers need it staked)",
    run: async (inv) => (await setup()).factoryStatus(inv),
  },
  {
    path: ["factory", "stake"],
    summary: "stake the account factory in the EntryPoint for public bundlers (ERC-7562), paid by REINS_SENDER_KEY",
    options: {
      amount: { type: "string", value: "<ETH>", help: "ETH to add to the stake (required)" },
      "unstake-delay": {
        type: "string",
        value: "<dur>",
        help: "unstake delay (default 1d; never lower than the current one)",
      },
      "sender-key-env": {
        type: "string",
        value: "<NAME>",
        key: { env: "REINS_SENDER_KEY", role: "transaction sender", required: true },
        help: "environment variable with the paying key (default REINS_SENDER_KEY)",
      },
    },
    details:
      "Anyone may pay the stake; only the factory's stakeOwner can unlock and withdraw it (ReinsAccountFactory\nunlockStake/withdrawStake). Bundlers set their own minimum stake and delay (often 1 ETH-equivalent and 1d).",
    run: async (inv) => (await setup()).factoryStake(inv),
  },
  {
    path: ["account", "upgrade-eoa"],
    summary: "make the owner key's EOA a Reins account at its own address (EIP-7702: delegate + initialise)",
    options: { ...ownerKeyEnv, ...ACCOUNT_SETUP_OPTIONS },
    details: [
      "Example: REINS_OWNER_KEY=0x… reins account upgrade-eoa --guardian 0x…",
      "One type-4 transaction the EOA sends to itself delegates to the deployment's ReinsAccount7702 and",
      "  initialises it (only the EOA itself may: a stranger who calls first gets a revert), then one more",
      "  self-transaction registers AgentSessions as the timelock's canceller. The EOA pays both; its ETH and",
      "  tokens stay at the same address. Already upgraded: nothing is sent.",
      "The EOA key stays all-powerful (EIP-7702): it can still send plain transactions and re-delegate.",
      "  Guardians can give a LOST key's account a new owner for operations; they cannot disarm a STOLEN EOA key.",
      "Upgrades of the account code are new authorisations, not UUPS: upgradeToAndCall reverts.",
    ].join("\n"),
    run: async (inv) => (await eoa()).accountUpgradeEoa(inv),
  },
  {
    path: ["account", "downgrade-eoa"],
    summary: "leave EIP-7702 mode on purpose: remove every module, end every session, then clear the delegation",
    options: {
      ...ownerKeyEnv,
      "from-block": { type: "string", value: "<n>", help: "first block to scan for installed modules (default 0)" },
    },
    details: [
      "Example: REINS_OWNER_KEY=0x… reins account downgrade-eoa",
      "The EOA calls deinitialize on itself with EVERY installed module (found from the account's ModuleInstalled",
      "  events, each checked with isModuleInstalled; the account counts its modules and refuses to deinitialize",
      "  while any is left), then the owner validator goes, the init nonce moves on, and the delegation is cleared",
      "  (authorisation to 0x0). A later upgrade-eoa starts clean: no old session, queued request or module survives.",
      "Delegating away WITHOUT this keeps the account's storage (EIP-7702 runs no code on re-delegation): coming",
      "  back to ReinsAccount7702 then finds the sessions as they were.",
    ].join("\n"),
    run: async (inv) => (await eoa()).accountDowngradeEoa(inv),
  },
  {
    path: ["account", "status"],
    positionals: ["account"],
    summary: "owner, EIP-7702 delegation, modules installed, paused, sessions, balances, guardians",
    run: async (inv) => (await setup()).accountStatus(inv),
  },
  {
    path: ["session", "grant"],
    positionals: ["account"],
    summary: "grant an agent a session key scoped to transfers, with budgets",
    options: {
      ...ownerKeyEnv,
      agent: { type: "string", value: "<0x…>", help: "the agent's session key address (required)" },
      "valid-for": {
        type: "string",
        value: "<dur>",
        help: "validity (default 24h, at most 365d) from now, or from when the grant applies if the account has a security delay",
      },
      "allow-long": { type: "boolean", help: "allow --valid-for above 365d" },
      "allow-transfer": {
        type: "string",
        multiple: true,
        value: "<TOKEN:to1,to2[:max]>",
        help: "allow transfers of TOKEN to these recipients (* = any, ERC-20 only), each at most max (required)",
      },
      budget: { type: "string", multiple: true, value: "<TOKEN:…>", help: "budget of TOKEN (see below)" },
      "gas-per-op": {
        type: "string",
        value: "<ETH>",
        help: "gas the account pays per operation at most (default 0.01)",
      },
      "gas-total": {
        type: "string",
        value: "<ETH>",
        help: "gas the account pays for the session in total (default 0.1)",
      },
      "max-uses": { type: "string", value: "<n>", help: "operations the session may make (default 1000)" },
      "queue-delay": { type: "string", value: "<dur>", help: "delay of the delayed tier (default 1h)" },
      "approval-window": {
        type: "string",
        value: "<dur>",
        help: "how long a queued operation stays executable (default 24h)",
      },
      ...VALUE_OPTIONS,
    },
    details: `${BUDGET_SYNTAX}\n${VALUE_SYNTAX}\nExample: reins session grant 0xAcc --agent 0xAg --valid-for 24h --allow-transfer USDC:0xBob,0xCarol:1000 \\\n  --budget USDC:instant=50,ceiling=500,period=1000/24h,lifetime=5000 --value-budget USD:instant=20,ceiling=200,period=500/24h --price USDC=1`,
    run: async (inv) => (await sessions()).grant(inv),
  },
  {
    path: ["session", "list"],
    positionals: ["account"],
    summary: "every session of the account with status, uses, gas and budgets",
    run: async (inv) => (await sessions()).sessionList(inv),
  },
  {
    path: ["session", "renew"],
    positionals: ["account", "sessionId"],
    summary: "set a session's end to now + --valid-for (later = loosening: may wait the security delay)",
    options: {
      ...ownerKeyEnv,
      "valid-for": { type: "string", value: "<dur>", help: "new validity from now (required; above 0s, at most 365d)" },
      "allow-long": { type: "boolean", help: "allow --valid-for above 365d" },
    },
    run: async (inv) => (await sessions()).renew(inv),
  },
  {
    path: ["session", "revoke"],
    positionals: ["account", "sessionId"],
    summary: "revoke a session at once",
    options: ownerKeyEnv,
    run: async (inv) => (await sessions()).revoke(inv),
  },
  {
    path: ["budget", "set"],
    positionals: ["account", "sessionId", "budget"],
    summary: "set a session's budget for one token (fields not given keep their value; a new budget needs all four)",
    options: ownerKeyEnv,
    details: `${BUDGET_SYNTAX}\nExample: reins budget set 0xAcc 0xSession USDC:instant=20,period=500/24h`,
    run: async (inv) => (await sessions()).budgetSet(inv),
  },
  {
    path: ["fleet", "set"],
    positionals: ["account", "budget"],
    summary: "set the fleet budget of a token (all sessions together)",
    options: ownerKeyEnv,
    details:
      "Syntax: TOKEN:period=CAP/DURATION,lifetime=CAP\nExample: reins fleet set 0xAcc USDC:period=2000/24h,lifetime=20000",
    run: async (inv) => (await sessions()).fleetSet(inv),
  },
  {
    path: ["value", "set"],
    positionals: ["account", "scope", "budget?"],
    summary: "set a value budget (a cap in money across tokens) of a session or the account, and price sources",
    options: { ...ownerKeyEnv, price: VALUE_OPTIONS.price, "unit-decimals": VALUE_OPTIONS["unit-decimals"] },
    details: `scope: a session id, or "account" for all sessions together.\n${VALUE_SYNTAX}\nPrice sources set while the account has no value budget apply at once; later changes and raised limits wait the security delay.\nExample: reins value set 0xAcc 0xSession USD:instant=20,ceiling=200,period=500/24h --price USDC=1 --price WETH=feed:0xFeed,stale=1h,min=500,max=20000`,
    run: async (inv) => (await value()).valueSet(inv),
  },
  {
    path: ["value", "status"],
    positionals: ["account", "sessionId?"],
    summary: "the account's (and a session's) value budget with what is left, and the price sources",
    run: async (inv) => (await value()).valueStatus(inv),
  },
  {
    path: ["change", "apply"],
    positionals: ["account", "changeHash"],
    summary: "apply a pending loosening change (e.g. a grant) once the security delay has passed (owner key)",
    options: ownerKeyEnv,
    details:
      "The change hash is printed by the command that proposed it (session grant, renew, budget set, fleet set).\nExample: reins change apply 0xAcc 0xChangeHash",
    run: async (inv) => (await sessions()).changeApply(inv),
  },
  {
    path: ["change", "list"],
    positionals: ["account"],
    summary: "pending loosening changes (grants, renewals, higher budgets…) with when they can be applied",
    details:
      "From the ChangeProposed events, minus those applied or cancelled, and minus those voided because all sessions\nwere revoked since (a revoke-all, a module reinstall or a recovery starts a new session epoch).",
    run: async (inv) => (await sessions()).changeList(inv),
  },
  {
    path: ["change", "cancel"],
    positionals: ["account", "changeHash"],
    summary: "cancel a pending loosening change (owner key; applies at once)",
    options: ownerKeyEnv,
    run: async (inv) => (await sessions()).changeCancel(inv),
  },
  {
    path: ["queue", "list"],
    positionals: ["account"],
    summary: "pending queued agent operations (what, tier, ready/expiry)",
    options: { all: { type: "boolean", help: "include executed, cancelled and expired ones" } },
    run: async (inv) => (await ops()).queueList(inv),
  },
  command({
    path: ["queue", "approve"],
    positionals: ["account", "id"],
    summary: "approve a queued operation of the approval tier and run it",
    options: { ...ownerKeyEnv, "no-execute": { type: "boolean", help: "only approve (anyone may run it later)" } },
    parse: parseQueueApprove,
    run: async (input, inv) => (await ops()).queueApprove(input, inv),
  }),
  command({
    path: ["queue", "execute"],
    positionals: ["account", "id"],
    summary:
      "run a ready queued operation (delayed: after its delay; approval tier: once approved) from REINS_SENDER_KEY",
    options: {
      "sender-key-env": {
        type: "string",
        value: "<NAME>",
        key: { env: "REINS_SENDER_KEY", role: "transaction sender", required: true },
        help: "environment variable with the paying key (default REINS_SENDER_KEY; any funded key, e.g. the agent's)",
      },
    },
    details:
      "The execution is simulated first: not ready yet exits 2; an approval-tier request without approval, or a\nsession revoked, expired, paused or over budget since it was queued, exits 3. Nothing is sent then.",
    parse: parseQueueExecute,
    run: async (input, inv) => (await ops()).queueExecute(input, inv),
  }),
  command({
    path: ["queue", "cancel"],
    positionals: ["account", "id"],
    summary: "cancel a queued operation",
    options: ownerKeyEnv,
    parse: parseQueueCancel,
    run: async (input, inv) => (await ops()).queueCancel(input, inv),
  }),
  {
    path: ["pause"],
    positionals: ["account"],
    summary: "pause every agent session (watchdog key when REINS_WATCHDOG_KEY is set, else the owner key)",
    options: {
      "owner-key-env": {
        ...ownerKeyEnv["owner-key-env"],
        key: { env: "REINS_OWNER_KEY", role: "owner", required: false },
      },
      "cancel-queued": { type: "boolean", help: "also cancel the whole timelock queue" },
      as: { type: "string", value: "<watchdog|owner>", help: "which key pauses (default: watchdog if its key is set)" },
      "watchdog-key-env": {
        type: "string",
        value: "<NAME>",
        help: "environment variable with the watchdog key (default REINS_WATCHDOG_KEY)",
      },
    },
    run: async (inv) => (await ops()).pause(inv),
  },
  {
    path: ["unpause"],
    positionals: ["account"],
    summary: "unpause agent sessions (owner key)",
    options: ownerKeyEnv,
    run: async (inv) => (await ops()).unpause(inv),
  },
  {
    path: ["watchdog", "add"],
    positionals: ["account", "watchdog"],
    summary: "let an address pause every session and revoke single ones (owner key)",
    options: ownerKeyEnv,
    run: async (inv) => (await ops()).watchdog(inv),
  },
  {
    path: ["watchdog", "remove"],
    positionals: ["account", "watchdog"],
    summary: "remove a watchdog (owner key)",
    options: ownerKeyEnv,
    run: async (inv) => (await ops()).watchdog(inv),
  },
  {
    path: ["watch", "add"],
    positionals: ["account", "assets"],
    summary:
      "watch assets (comma-separated: ETH, symbols, addresses of ERC-20 or ERC-721 contracts): an agent operation that lowers one reverts unless its session has a budget for it (owner key)",
    options: ownerKeyEnv,
    run: async (inv) => (await ops()).watch(inv),
  },
  {
    path: ["watch", "remove"],
    positionals: ["account", "assets"],
    summary: "stop watching assets (loosening: waits the security delay) (owner key)",
    options: ownerKeyEnv,
    run: async (inv) => (await ops()).watch(inv),
  },
  {
    path: ["watch", "list"],
    positionals: ["account"],
    summary: "list the assets the account watches",
    options: {},
    run: async (inv) => (await ops()).watch(inv),
  },
  command({
    path: ["agent", "pay"],
    positionals: ["account", "sessionId", "token", "to", "amount"],
    summary: "pay as the agent (REINS_AGENT_KEY): preflight, then send; prints executed, queued or refused",
    options: {
      "dry-run": { type: "boolean", help: "only preflight: say what would happen, send nothing" },
      "agent-key-env": {
        type: "string",
        value: "<NAME>",
        key: { env: "REINS_AGENT_KEY", role: "agent", required: true },
        help: "environment variable with the agent key (default REINS_AGENT_KEY)",
      },
    },
    details:
      "Example: REINS_AGENT_KEY=0x… reins agent pay 0xAcc 0xSession USDC 0xBob 12.5\nExit code 3 when the policy refuses it (the rule and numbers are printed).",
    parse: parseAgentPay,
    run: async (input, inv) => (await ops()).agentPay(input, inv),
  }),
  {
    path: ["agent", "fetch"],
    positionals: ["account", "sessionId", "url"],
    summary: "fetch a URL as the agent (REINS_AGENT_KEY), paying an x402 (HTTP 402) request inside the session",
    options: {
      method: { type: "string", value: "<GET|POST>", help: "HTTP method (default GET)" },
      body: { type: "string", value: "<text>", help: "request body (POST)" },
      intent: { type: "string", value: "<text>", help: "intent text signed with the payment (default: fetch <url>)" },
      "allow-queue": {
        type: "boolean",
        help: "send a payment above the instant tier to the queue instead of refusing it (it pays when it runs)",
      },
      "agent-key-env": {
        type: "string",
        value: "<NAME>",
        help: "environment variable with the agent key (default REINS_AGENT_KEY)",
      },
    },
    details:
      "The payment (x402 exact, an EIP-3009 token) is an agent operation that charges the session's budget and lets the\n" +
      "account's ERC-1271 accept exactly that authorization; the x402 client then sends it. A payment the session would\n" +
      "refuse or queue is refused before anything is signed (exit 3), and the server gets no payment.\n" +
      "Example: REINS_AGENT_KEY=0x… reins agent fetch 0xAcc 0xSession https://api.example/weather",
    run: async (inv) => (await import("./commands/fetch.js")).agentFetch(inv),
  },
  {
    path: ["mcp"],
    summary: "serve one agent session as an MCP server (stdio, or Streamable HTTP on 127.0.0.1 with --http)",
    options: {
      account: { type: "string", value: "<0x…>", help: "the Reins account (env REINS_ACCOUNT; required)" },
      session: { type: "string", value: "<0x…32>", help: "the session id (env REINS_SESSION_ID; required)" },
      http: {
        type: "string",
        value: "<port>",
        help: "serve Streamable HTTP on http://127.0.0.1:<port>/mcp instead of stdio (0 = any free port)",
      },
      "agent-key-env": {
        type: "string",
        value: "<NAME>",
        help: "environment variable with the agent key (default REINS_AGENT_KEY)",
      },
    },
    details: `Tools: status, preflight, pay, call, queue_execute, revoke_self (see README "reins mcp").
Token symbols come from --token SYM=0x… / reins.config.json; decimals are always read on chain.
Example (an MCP client's config runs this): REINS_AGENT_KEY=0x… reins mcp --account 0xAcc --session 0xSession \\
  --rpc http://127.0.0.1:8545 --token USDC=0x…
stdout carries the protocol; logs go to stderr. It stops when the client disconnects (stdio) or on SIGINT/SIGTERM.`,
    run: async (inv) => (await mcpServer()).mcp(inv),
  },
  command({
    path: ["monitor"],
    positionals: ["account"],
    summary: "watch the account's agents and pause (or tighten) on anomalies, from the watchdog key (JSON lines)",
    options: {
      "watchdog-key-env": {
        type: "string",
        value: "<NAME>",
        key: { env: "REINS_WATCHDOG_KEY", role: "watchdog", required: true },
        help: "environment variable with the watchdog key (default REINS_WATCHDOG_KEY)",
      },
      state: { type: "string", value: "<file>", help: "state file (default .reins-monitor.json)" },
      "poll-ms": { type: "string", value: "<ms>", help: "poll interval when caught up (default 500)" },
      confirmations: { type: "string", value: "<n>", help: "blocks to wait before processing (default 0)" },
      "from-block": { type: "string", value: "<n|latest>", help: "first block when the state is new (default latest)" },
      rules: { type: "string", value: "<rules.json>", help: "rule thresholds and responses (see README Monitor)" },
      "allow-recipient": {
        type: "string",
        multiple: true,
        value: "<0x…[,0x…]>",
        help: "more known recipients (the sessions' allow-listed payees are known already)",
      },
      envelope: { type: "string", value: "<0x…>", help: "RiskEngineEnvelope, for rules that respond by tightening" },
      "engine-key-env": {
        type: "string",
        value: "<NAME>",
        help: "environment variable with the risk-engine key (default REINS_ENGINE_KEY)",
      },
      "tighten-factor": { type: "string", value: "<x>", help: "budget multiplier when tightening (default 0.5)" },
      ...WEBHOOK_OPTIONS,
    },
    details: [
      "Addresses come from the deployment record; RPC from --rpc / REINS_RPC_URL. Checked at start (exit 2): the",
      "account has code and AgentSessions and ReinsTimelock installed, the record matches the chain, the key is a",
      "watchdog of the account. Known recipients are seeded from the sessions' scopes. Amounts are logged in base",
      "units and token units (amountUnits). Stops on SIGINT/SIGTERM (exit 0, state saved).",
    ].join("\n"),
    parse: parseMonitorInput,
    run: async (input, inv) => (await monitorCommand()).monitor(input, inv),
  }),
  {
    path: ["console"],
    positionals: ["account"],
    summary:
      "serve the owner's web console on 127.0.0.1 (account, sessions, activity, inbox; the browser wallet signs)",
    options: {
      port: { type: "string", value: "<port>", help: "port on 127.0.0.1 (default 43370; 0 = a free port)" },
      "relayer-key-env": {
        type: "string",
        value: "<NAME>",
        help: "environment variable with the key that pays handleOps without a bundler (default REINS_RELAYER_KEY)",
      },
      static: { type: "string", value: "<dir>", help: "the built page (default dist/console)" },
      index: {
        type: "string",
        value: "<file>",
        help: "SQLite event index (default .reins-index.db, as reins notify; created when missing)",
      },
      "from-block": { type: "string", value: "<n>", help: "first block to index for the account (default 0)" },
    },
    details: [
      "Every action is an owner UserOperation the page gets from the server and the owner's wallet signs",
      "(eth_signTypedData_v4 of the EntryPoint v0.8 typed data); the server checks it and sends it once through",
      "--bundler, or handleOps from the relayer key. The console never holds the owner key.",
      "Example: REINS_RELAYER_KEY=0x… reins console 0xAcc --port 0 --token USDC=0x…",
    ].join("\n"),
    run: async (inv) => (await ownerConsole()).consoleCommand(inv),
  },
  {
    path: ["notify"],
    positionals: ["account"],
    summary: "deliver owner notifications (approvals, queued operations, budgets, breaker, pause, expiry) to a webhook",
    options: {
      ...WEBHOOK_OPTIONS,
      account: { type: "string", multiple: true, value: "<0x…[,0x…]>", help: "more accounts to follow" },
      "poll-ms": { type: "string", value: "<ms>", help: "poll interval (default 2000)" },
      "from-block": { type: "string", value: "<n|latest>", help: "first block for a new account (default latest)" },
    },
    details: [
      "Indexes the accounts' events into --index and POSTs one JSON notification per event, signed with",
      "X-Reins-Signature: sha256=<HMAC-SHA256 of the body> (secret from --webhook-secret-env), with X-Reins-Timestamp",
      "and X-Reins-Event-Id. Retries with backoff; at most once per event across restarts. Stops on SIGINT/SIGTERM.",
    ].join("\n"),
    run: async (inv) => (await notifyCommand()).notify(inv),
  },
  {
    path: ["recovery", "status"],
    positionals: ["account"],
    summary: "guardians, threshold, delays, lock and pending recovery",
    run: async (inv) => (await recovery()).status(inv),
  },
  command({
    path: ["recovery", "sign"],
    positionals: ["account"],
    summary: "as a guardian (REINS_GUARDIAN_KEY), sign the recovery to --new-owner; prints the blob to pass to propose",
    options: {
      "new-owner": { type: "string", value: "<0x…>", help: "the new owner (required unless --lock)" },
      lock: { type: "boolean", help: "sign a guardian lock instead (for reins recovery lock)" },
      "guardian-key-env": {
        type: "string",
        value: "<NAME>",
        key: { env: "REINS_GUARDIAN_KEY", role: "guardian", required: true },
        help: "environment variable with the guardian key (default REINS_GUARDIAN_KEY)",
      },
    },
    parse: parseRecoverySign,
    run: async (input, inv) => (await recovery()).sign(input, inv),
  }),
  command({
    path: ["recovery", "propose"],
    positionals: ["account"],
    summary: "propose a recovery with threshold guardian signatures (sent from REINS_SENDER_KEY)",
    options: {
      "new-owner": { type: "string", value: "<0x…>", help: "the new owner (required)" },
      sig: { type: "string", multiple: true, value: "<0x…blob>", help: "a guardian blob from recovery sign" },
      "sender-key-env": {
        type: "string",
        value: "<NAME>",
        key: { env: "REINS_SENDER_KEY", role: "transaction sender", required: true },
        help: "environment variable with the paying key (default REINS_SENDER_KEY)",
      },
    },
    parse: parseRecoveryPropose,
    run: async (input, inv) => (await recovery()).propose(input, inv),
  }),
  {
    path: ["recovery", "cancel"],
    positionals: ["account"],
    summary: "the owner cancels the pending recovery (owner key; refused while the guardians' lock lasts)",
    options: ownerKeyEnv,
    run: async (inv) => (await recovery()).cancel(inv),
  },
  command({
    path: ["recovery", "lock"],
    positionals: ["account"],
    summary: "guardians lock the account (blobs from recovery sign --lock; sent from REINS_SENDER_KEY)",
    options: {
      sig: { type: "string", multiple: true, value: "<0x…blob>", help: "a guardian blob from recovery sign --lock" },
      "sender-key-env": {
        type: "string",
        value: "<NAME>",
        key: { env: "REINS_SENDER_KEY", role: "transaction sender", required: true },
        help: "environment variable with the paying key (default REINS_SENDER_KEY)",
      },
    },
    details:
      "While locked, owner operations are invalid and the owner cannot cancel a recovery (a stolen owner key cannot\nfight the guardians). The lock lasts the account's lock duration and never shortens an existing one.",
    parse: parseRecoveryLock,
    run: async (input, inv) => (await recovery()).lock(input, inv),
  }),
  command({
    path: ["recovery", "complete"],
    positionals: ["account"],
    summary: "complete the pending recovery after its delay (sent from REINS_SENDER_KEY)",
    options: {
      "sender-key-env": {
        type: "string",
        value: "<NAME>",
        key: { env: "REINS_SENDER_KEY", role: "transaction sender", required: true },
        help: "environment variable with the paying key (default REINS_SENDER_KEY)",
      },
    },
    parse: parseRecoveryComplete,
    run: async (input, inv) => (await recovery()).complete(input, inv),
  }),
];

function topHelp(): string {
  return `Usage: reins <command> [arguments] [options]

Operate Reins accounts: ERC-4337 smart accounts that let AI agents spend inside on-chain limits.

Commands:
${commandList(COMMANDS)}

Global options: --rpc <url> (REINS_RPC_URL), --bundler <url> (REINS_BUNDLER_URL), --deployment <file>,
  --deployments <dir>, --token SYM=0xaddr[:decimals] (REINS_TOKENS), --config <file>, --json, --help.
Keys (environment only): REINS_OWNER_KEY, REINS_AGENT_KEY, REINS_WATCHDOG_KEY, REINS_GUARDIAN_KEY,
  REINS_SENDER_KEY, REINS_DEPLOYER_KEY.
Run reins <command> --help for details.

${EXIT_CODES_HELP}`;
}

/** Run the CLI on `argv`; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv, COMMANDS, topHelp);
  } catch (e) {
    return fail(e);
  }
  if (parsed.kind === "help") {
    process.stdout.write(parsed.text + "\n");
    return EXIT.ok;
  }
  if (parsed.kind === "group") {
    process.stderr.write(
      `reins: "${parsed.prefix.join(" ")}" needs a command (see reins ${parsed.prefix[0]} --help)\n`,
    );
    return EXIT.usage;
  }
  try {
    // Every value and key is checked before the handler runs: bad input exits 2 before any RPC call.
    (await import("./input/validate.js")).validateInvocation(parsed.spec, parsed.inv);
    return await parsed.spec.run(parsed.input as Invocation, parsed.inv);
  } catch (e) {
    return fail(e);
  }
}

function fail(e: unknown): number {
  const code = (e as { exitCode?: number })?.exitCode;
  if (typeof code === "number") {
    process.stderr.write(`reins: ${oneLine((e as Error).message)}\n`);
    return code;
  }
  const message = e instanceof Error ? e.message : String(e);
  if ((e as { code?: string })?.code === "ERR_MODULE_NOT_FOUND" && /ethers-contracts/.test(message)) {
    process.stderr.write("reins: the generated contract types are missing: run npx hardhat compile first\n");
    return EXIT.failure;
  }
  process.stderr.write(`reins: unexpected failure: ${oneLine(message)}\n`);
  if (process.env.REINS_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ""}\n`);
  return EXIT.failure;
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => process.exit(fail(e)),
  );
}

/**
 * The Reins MCP server: seven tools over one {@link AgentRuntime} (one agent session). Every tool returns
 * `structuredContent` matching its `outputSchema` plus the same JSON as text; refusals, bad input and failed
 * operations are tool results with `isError: true` (and their structured content), never protocol errors.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { AgentRuntime } from "./runtime.js";
import {
  callInput,
  fetchInput,
  fetchOutput,
  payInput,
  preflightInput,
  preflightOutput,
  queueExecuteInput,
  queueExecuteOutput,
  revokeSelfInput,
  revokeSelfOutput,
  sendOutput,
  statusOutput,
} from "./schemas.js";

/** The server's name and version in the MCP `initialize` answer. */
export const SERVER_INFO = { name: "reins-agent", version: "0.1.0" };

/** The tool names, in listing order. */
export const TOOL_NAMES = ["status", "preflight", "pay", "call", "queue_execute", "revoke_self", "fetch"] as const;

/** Log on stderr only: stdout is the protocol in stdio mode. */
export type Logger = (line: string) => void;

function result(summary: string, value: object, isError = false): CallToolResult {
  return {
    content: [{ type: "text", text: `${summary}\n${JSON.stringify(value, null, 2)}` }],
    structuredContent: value as Record<string, unknown>,
    ...(isError ? { isError: true } : {}),
  };
}

/** A failure outside the policy (RPC down, bug): still a tool result, with status "failed". */
function failure(e: unknown, field: "status" | "outcome" = "status"): CallToolResult {
  const message = (e instanceof Error ? e.message : String(e)).split("\n")[0];
  return result(`failed: ${message}`, { [field]: field === "outcome" ? "invalid" : "failed", message }, true);
}

function sendSummary(r: Awaited<ReturnType<AgentRuntime["pay"]>>): string {
  switch (r.status) {
    case "executed":
      return `executed: ${r.operation.description} (tx ${r.txHash})`;
    case "queued":
      return `queued (${r.tier}): ${r.operation.description} is over the limit of ${r.limit.amount} ${r.limit.symbol}; request ${r.requestId}. Owner: ${r.ownerAction}. Agent: ${r.agentAction}`;
    case "refused":
      return `refused (${r.refusal.rule}): ${r.refusal.message}`;
    case "failed":
      return `failed: ${r.message}`;
    case "invalid":
      return `invalid input (${r.field}): ${r.message}`;
  }
}

/** Build an MCP server exposing `runtime`'s session as tools. */
export function createReinsMcpServer(runtime: AgentRuntime, log: Logger = () => {}): McpServer {
  const server = new McpServer(SERVER_INFO, {
    instructions:
      "Tools of ONE Reins agent session: spend only inside the limits the account owner set on chain. " +
      "Call status first, preflight before paying, and treat refused results as final (the owner must change the session).",
  });
  const tokens = runtime
    .knownTokens()
    .map((t) => t.symbol)
    .join(", ");

  server.registerTool(
    "status",
    {
      title: "Session status",
      description:
        "The session now: validity window, revoked/expired/paused, uses and gas budget left, per-token budgets left " +
        "(instant threshold, ceiling, period and lifetime caps) and when spent budget refills, pending queued requests.",
      inputSchema: {},
      outputSchema: statusOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () => {
      try {
        const s = await runtime.status();
        const budgets = s.budgets
          .map(
            (b) =>
              `${b.token.symbol}: ${b.periodLeft.amount} left this period, instant up to ${b.instantNowUpTo.amount}`,
          )
          .join("; ");
        return result(
          `session ${s.state}${s.paused ? " (paused)" : ""}; uses left ${s.uses.left}; gas left ${s.gas.left.amount} ETH; ${budgets || "no budgets"}; ${s.pending.length} pending`,
          s,
        );
      } catch (e) {
        return failure(e);
      }
    },
  );

  server.registerTool(
    "preflight",
    {
      title: "Check an operation",
      description:
        "What a payment ({payment:{token,recipient,amount}}) or an allowed contract call ({call:{target,function,args,value}}) " +
        'would do now, without sending: outcome "execute" (instant tier), "queue" (tier delayed or approval, with the limit it is over) ' +
        `or "refuse" (the rule and numbers). Known tokens: ${tokens}.`,
      inputSchema: preflightInput,
      outputSchema: preflightOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        const r = await runtime.preflight(args);
        switch (r.outcome) {
          case "execute":
            return result(`would execute now: ${r.operation.description}`, r);
          case "queue":
            return result(
              `would be queued (${r.tier}): ${r.amount.amount} ${r.amount.symbol} is over the limit of ${r.limit.amount} ${r.limit.symbol}`,
              r,
            );
          case "refuse":
            return result(`would be refused (${r.refusal.rule}): ${r.refusal.message}`, r, true);
          case "invalid":
            return result(`invalid input (${r.field}): ${r.message}`, r, true);
        }
      } catch (e) {
        return failure(e, "outcome");
      }
    },
  );

  server.registerTool(
    "pay",
    {
      title: "Pay",
      description:
        "Pay `amount` of `token` to `recipient` from the account, inside the session's limits. Returns executed (tx and " +
        "userOp hash), queued (requestId, when it can run, what the owner must do) or refused (rule and numbers, isError). " +
        `Known tokens: ${tokens}.`,
      inputSchema: payInput,
      outputSchema: sendOutput,
      annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args) => {
      try {
        const r = await runtime.pay(args);
        log(`pay: ${sendSummary(r)}`);
        return result(sendSummary(r), r, r.status !== "executed" && r.status !== "queued");
      } catch (e) {
        return failure(e);
      }
    },
  );

  server.registerTool(
    "call",
    {
      title: "Call an allowed contract function",
      description:
        "Call `function` (a signature) on `target` with `args`, only if the session's scope allows that target and " +
        "function (checked before signing). Same outcomes as pay. No raw call data: the server encodes the call.",
      inputSchema: callInput,
      outputSchema: sendOutput,
      annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args) => {
      try {
        const r = await runtime.call(args);
        log(`call: ${sendSummary(r)}`);
        return result(sendSummary(r), r, r.status !== "executed" && r.status !== "queued");
      } catch (e) {
        return failure(e);
      }
    },
  );

  server.registerTool(
    "queue_execute",
    {
      title: "Run a ready queued request",
      description:
        "Run a queued request of THIS session once its delay has passed (and, for the approval tier, after the owner's " +
        "approval). The agent key pays the transaction's gas. Refused with the reason when it is not ready.",
      inputSchema: queueExecuteInput,
      outputSchema: queueExecuteOutput,
      annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args) => {
      try {
        const r = await runtime.queueExecute(args);
        const summary =
          r.status === "executed"
            ? `executed request ${r.requestId}: ${r.description} (tx ${r.txHash})`
            : r.status === "refused"
              ? `refused (${r.refusal.rule}): ${r.refusal.message}`
              : r.status === "invalid"
                ? `invalid input (${r.field}): ${r.message}`
                : `failed: ${r.message}`;
        log(`queue_execute: ${summary}`);
        return result(summary, r, r.status !== "executed");
      } catch (e) {
        return failure(e);
      }
    },
  );

  server.registerTool(
    "revoke_self",
    {
      title: "Revoke this session",
      description:
        "Shut this session down for good (use it if the agent may be compromised or was prompt-injected). " +
        "Irreversible: only the owner can grant a new session. Needs confirm: true. The agent key pays the gas.",
      inputSchema: revokeSelfInput,
      outputSchema: revokeSelfOutput,
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      try {
        log(`revoke_self requested${args.reason ? `: ${args.reason}` : ""}`);
        const r = await runtime.revokeSelf();
        const summary =
          r.status === "revoked"
            ? `session revoked (tx ${r.txHash})`
            : r.status === "already revoked"
              ? "the session was already revoked"
              : `failed: ${r.message}`;
        log(`revoke_self: ${summary}`);
        return result(summary, r, r.status === "failed");
      } catch (e) {
        return failure(e);
      }
    },
  );

  server.registerTool(
    "fetch",
    {
      title: "Fetch a URL, paying x402 within the session",
      description:
        "Fetch an http(s) URL. If the server asks for an x402 payment (HTTP 402, scheme exact, EIP-3009 token), the " +
        "account pays it inside the session's limits (the payment is charged to the budget on chain before the server " +
        "is paid); a payment the session would refuse or queue is refused before anything is signed (isError).",
      inputSchema: fetchInput,
      outputSchema: fetchOutput,
      annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args) => {
      try {
        const r = await runtime.fetch(args);
        const summary =
          r.status === "refused"
            ? `refused (${r.refusal!.rule}): ${r.refusal!.message}`
            : r.status === "failed" && r.httpStatus === undefined
              ? `failed: ${r.message}`
              : `HTTP ${r.httpStatus}${r.payment ? `, paid ${r.payment.amount.amount} ${r.payment.token} to ${r.payment.payTo} (tx ${r.payment.txHash})` : ", no payment"}`;
        log(`fetch ${args.url}: ${summary}`);
        return result(summary, r, r.status !== "ok");
      } catch (e) {
        return failure(e);
      }
    },
  );

  return server;
}

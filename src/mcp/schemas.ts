/**
 * Zod schemas of the Reins MCP tools: inputs (validated by the SDK before a handler runs; addresses, amounts and
 * checksums are validated again by the runtime with field-named errors) and outputs (`outputSchema`; every
 * result's `structuredContent` matches them, refusals included).
 */
import { z } from "zod";

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const DECIMAL = /^\s*\d+(\.\d+)?\s*$/;

// ---------------------------------------------------------------------------------------------------- inputs

export const tokenInput = z
  .string()
  .min(1)
  .max(64)
  .describe('Token: "ETH", a symbol from the server\'s --token list (e.g. "USDC"), or a token address');
export const addressInput = (what: string) =>
  z
    .string()
    .regex(ADDRESS, "must be 0x followed by 40 hex digits")
    .describe(`${what} (EIP-55 checksummed or all lower-case)`);
export const amountInput = z
  .string()
  .regex(DECIMAL, 'must be a positive decimal string like "12.5"')
  .describe('Amount in whole tokens as a decimal string ("12.5"); at most the token\'s on-chain decimals');
export const intentInput = z
  .string()
  .min(1)
  .max(2000)
  .describe(
    "What this operation is for, in words; the agent signs keccak256(text) as the intent hash (logged on chain)",
  );
export const callArgsInput = z
  .array(z.any())
  .max(32)
  .default([])
  .describe("Arguments in order, as JSON: addresses and big integers as strings, booleans, arrays for array types");
export const functionInput = z
  .string()
  .min(3)
  .max(400)
  .describe('Function signature, e.g. "approve(address,uint256)" or "deposit(uint256 amount, address to)"');
export const valueInput = z
  .string()
  .regex(DECIMAL, "must be a decimal string")
  .optional()
  .describe("Native ETH sent with the call, in ETH (default 0)");

export const paymentShape = { token: tokenInput, recipient: addressInput("Recipient address"), amount: amountInput };
export const callShape = {
  target: addressInput("Contract to call (must be in the session's scope)"),
  function: functionInput,
  args: callArgsInput,
  value: valueInput,
};

export const preflightInput = {
  payment: z.object(paymentShape).strict().optional().describe("A payment to check"),
  call: z.object(callShape).strict().optional().describe("A contract call to check"),
};
export const payInput = { ...paymentShape, intent: intentInput };
export const callInput = { ...callShape, intent: intentInput };
export const queueExecuteInput = {
  requestId: z.string().regex(BYTES32, "must be a 32-byte hex id").describe("The requestId a queued pay/call returned"),
};
export const fetchInput = {
  url: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL")
    .describe("The URL to fetch; an x402 (HTTP 402) payment request is paid within the session's limits"),
  method: z.enum(["GET", "POST"]).default("GET").describe("HTTP method (default GET)"),
  body: z.string().max(100_000).optional().describe("Request body (POST)"),
  intent: intentInput,
};
export const revokeSelfInput = {
  confirm: z.literal(true).describe("Must be true: revoking is irreversible; only the owner can grant a new session"),
  reason: z.string().max(500).optional().describe("Why (logged by the server on stderr only)"),
};

// ---------------------------------------------------------------------------------------------------- outputs

export const amountSchema = z
  .object({
    amount: z.string().describe('Whole tokens ("50.5"), or "unlimited"'),
    base: z.string().describe("Base units (integer string)"),
    symbol: z.string(),
    token: z.string().describe("Token address; the zero address is native ETH"),
    decimals: z.number().int(),
  })
  .describe("An amount in token units and base units");

export const timeSchema = z
  .object({ iso: z.string().nullable().describe("ISO 8601 UTC, null for never"), unix: z.number().int() })
  .describe("A time as ISO and unix seconds");

export const tokenSchema = z.object({ symbol: z.string(), address: z.string(), decimals: z.number().int() });

export const refusalSchema = z
  .object({
    rule: z.string().describe('The rule that refused it: "scope", "condition", "budget", "revoked", "paused", …'),
    error: z.string().describe("Typed client error name"),
    message: z.string().describe("One line, amounts in token units"),
    details: z.record(z.any()).describe("Decoded numbers (base units as strings)"),
    budget: z.object({ which: z.string(), amount: amountSchema, limit: amountSchema }).optional(),
    includedTx: z.string().optional().describe("Set when the operation was included (gas paid) but reverted"),
  })
  .describe("Why the session's policy refuses the operation");

export const operationSchema = z.object({
  kind: z.enum(["payment", "call"]),
  description: z.string(),
  target: z.string(),
  selector: z.string(),
  token: z.string().optional(),
  recipient: z.string().optional(),
  amount: amountSchema.optional(),
  function: z.string().optional(),
  value: amountSchema.optional(),
});

const invalidFields = {
  field: z.string().optional().describe('Input field at fault (status "invalid")'),
  message: z.string().optional().describe('Why (status "invalid" or "failed")'),
};

export const preflightOutput = {
  outcome: z.enum(["execute", "queue", "refuse", "invalid"]),
  operation: operationSchema.optional(),
  tier: z.enum(["instant", "delayed", "approval"]).optional(),
  amount: amountSchema.optional().describe("queue: the decisive token's amount"),
  limit: amountSchema.optional().describe("queue: the limit it is over"),
  refusal: refusalSchema.optional(),
  ...invalidFields,
};

export const sendOutput = {
  status: z.enum(["executed", "queued", "refused", "failed", "invalid"]),
  operation: operationSchema.optional(),
  intent: z.string().optional(),
  intentHash: z.string().optional().describe("keccak256 of the intent text, signed with the operation"),
  txHash: z.string().optional(),
  userOpHash: z.string().optional(),
  gasCost: amountSchema.optional().describe("executed: gas the account paid"),
  requestId: z.string().optional().describe("queued: pass it to queue_execute"),
  tier: z.enum(["delayed", "approval"]).optional(),
  amount: amountSchema.optional(),
  limit: amountSchema.optional(),
  readyAt: timeSchema.optional(),
  expiresAt: timeSchema.optional(),
  ownerAction: z.string().optional().describe("queued: what the owner must (or may) do"),
  agentAction: z.string().optional().describe("queued: what the agent can do next"),
  refusal: refusalSchema.optional(),
  details: z.record(z.any()).optional(),
  ...invalidFields,
};

export const fetchOutput = {
  status: z.enum(["ok", "refused", "failed", "invalid"]),
  httpStatus: z.number().optional().describe("The server's final HTTP status"),
  contentType: z.string().optional(),
  body: z.string().optional().describe("Response body (text, at most 20,000 characters)"),
  truncated: z.boolean().optional(),
  payment: z
    .object({
      token: z.string(),
      amount: amountSchema,
      payTo: z.string(),
      digest: z.string().describe("EIP-712 digest of the EIP-3009 authorization the account reserved"),
      txHash: z.string(),
      userOpHash: z.string(),
    })
    .optional()
    .describe("Set when the request was paid"),
  intentHash: z.string().optional(),
  refusal: refusalSchema.optional(),
  ...invalidFields,
};

export const queueExecuteOutput = {
  status: z.enum(["executed", "refused", "failed", "invalid"]),
  requestId: z.string().optional(),
  txHash: z.string().optional(),
  description: z.string().optional(),
  refusal: refusalSchema.optional(),
  ...invalidFields,
};

export const revokeSelfOutput = {
  status: z.enum(["revoked", "already revoked", "failed", "invalid"]),
  txHash: z.string().optional(),
  ...invalidFields,
};

const pendingSchema = z.object({
  requestId: z.string(),
  state: z.string(),
  tier: z.enum(["delayed", "approval"]),
  approved: z.boolean(),
  readyAt: timeSchema,
  expiresAt: timeSchema,
  executableNow: z.boolean(),
  description: z.string(),
  scheduledIn: z.string(),
});

const budgetSchema = z.object({
  token: tokenSchema,
  instantThreshold: amountSchema,
  ceiling: amountSchema,
  periodCap: amountSchema,
  lifetimeCap: amountSchema,
  periodSeconds: z.number().int(),
  periodLeft: amountSchema,
  lifetimeLeft: amountSchema,
  instantNowUpTo: amountSchema.describe("Largest amount that runs at once right now"),
  refills: z
    .array(z.object({ at: timeSchema, amount: amountSchema, periodLeftAfter: amountSchema }))
    .describe("When spent period budget comes back (sliding window)"),
  refillsExact: z.boolean(),
  fleet: z.object({ periodLeft: amountSchema, lifetimeLeft: amountSchema }).optional(),
});

export const statusOutput = {
  account: z.string(),
  sessionId: z.string(),
  agent: z.string(),
  transport: z.enum(["bundler", "direct"]),
  chainId: z.number().int(),
  now: timeSchema,
  state: z.string().describe('"active", "not yet valid", "expired", "revoked", "used up" or "stale"'),
  usable: z.boolean().describe("Active and not paused"),
  validAfter: timeSchema,
  validUntil: timeSchema,
  revoked: z.boolean(),
  expired: z.boolean(),
  paused: z.boolean(),
  uses: z.object({ used: z.number().int(), max: z.number().int(), left: z.number().int() }),
  gas: z.object({ budget: amountSchema, spent: amountSchema, left: amountSchema, perOpCap: amountSchema }),
  queueDelaySeconds: z.number().int(),
  approvalWindowSeconds: z.number().int(),
  budgets: z.array(budgetSchema),
  valueBudgets: z
    .array(
      z.object({
        scope: z.string().describe('the session id, or "account" (all sessions of the account together)'),
        unit: z.string(),
        unitDecimals: z.number().int(),
        instant: z.string(),
        ceiling: z.string(),
        periodCap: z.string(),
        period: z.number().int(),
        lifetimeCap: z.string(),
        periodLeft: z.string(),
        lifetimeLeft: z.string(),
      }),
    )
    .describe(
      "Caps in money across tokens (whole units of `unit`), charged at each block's price; a spend above `instant` is queued, and a token without a trusted price needs the owner's approval",
    ),
  pending: z.array(pendingSchema),
  agentBalance: amountSchema,
};

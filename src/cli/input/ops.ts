/**
 * Typed inputs of `reins queue approve|execute|cancel` and `reins agent pay`, parsed before anything acts (no
 * network, no ethers: `--help` stays light). Checksums, keys and decimals are checked next by `validate.ts` and the
 * handlers; the handlers read only these objects (and the resolved global options).
 */
import { flag, str, type Invocation } from "../args.js";
import { UsageError } from "../errors.js";

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const ID = /^0x[0-9a-fA-F]{64}$/;
const AMOUNT = /^\d+(\.\d+)?$/;

function address(raw: string, what: string): string {
  if (!ADDRESS.test(raw)) throw new UsageError(`${what}: not an address: ${raw}`);
  return raw;
}

function id(raw: string, what: string): string {
  if (!ID.test(raw)) throw new UsageError(`${what}: not a 32-byte hex id: ${raw}`);
  return raw.toLowerCase();
}

/** A queued operation of an account. */
export interface QueueItemInput {
  account: string;
  /** The queue id (lower case). */
  id: string;
  json: boolean;
}

/** `reins queue approve`. */
export interface QueueApproveInput extends QueueItemInput {
  /** Run it in the same owner operation (not `--no-execute`). */
  execute: boolean;
  ownerKeyEnv: string;
}

/** `reins queue execute`. */
export interface QueueExecuteInput extends QueueItemInput {
  senderKeyEnv: string;
}

/** `reins queue cancel`. */
export interface QueueCancelInput extends QueueItemInput {
  ownerKeyEnv: string;
}

/** `reins agent pay`. */
export interface AgentPayInput {
  account: string;
  /** The session id (lower case). */
  sessionId: string;
  /** `ETH`, a symbol or an address (resolved on chain). */
  token: string;
  to: string;
  /** Whole tokens, as typed (checked against the decimals once the token is known). */
  amount: string;
  dryRun: boolean;
  agentKeyEnv: string;
  json: boolean;
}

function queueItem(inv: Invocation): QueueItemInput {
  return { account: address(inv.args.account, "account"), id: id(inv.args.id, "queue id"), json: inv.json };
}

/** Parse `reins queue approve`. */
export function parseQueueApprove(inv: Invocation): QueueApproveInput {
  return {
    ...queueItem(inv),
    execute: !flag(inv, "no-execute"),
    ownerKeyEnv: str(inv, "owner-key-env") ?? "REINS_OWNER_KEY",
  };
}

/** Parse `reins queue execute`. */
export function parseQueueExecute(inv: Invocation): QueueExecuteInput {
  return { ...queueItem(inv), senderKeyEnv: str(inv, "sender-key-env") ?? "REINS_SENDER_KEY" };
}

/** Parse `reins queue cancel`. */
export function parseQueueCancel(inv: Invocation): QueueCancelInput {
  return { ...queueItem(inv), ownerKeyEnv: str(inv, "owner-key-env") ?? "REINS_OWNER_KEY" };
}

/** Parse `reins agent pay`. */
export function parseAgentPay(inv: Invocation): AgentPayInput {
  const account = address(inv.args.account, "account");
  const sessionId = id(inv.args.sessionId, "session id");
  const to = address(inv.args.to, "recipient");
  const amount = inv.args.amount;
  if (!AMOUNT.test(amount)) throw new UsageError(`amount: not a decimal amount: ${amount}`);
  return {
    account,
    sessionId,
    token: inv.args.token,
    to,
    amount,
    dryRun: flag(inv, "dry-run"),
    agentKeyEnv: str(inv, "agent-key-env") ?? "REINS_AGENT_KEY",
    json: inv.json,
  };
}

/**
 * Typed inputs of `reins recovery sign|propose|complete|lock`, parsed before anything acts (no network, no ethers).
 * Signature blobs are checked for their shape here (guardian ‖ signature, 85 bytes); who signed what is checked by
 * the handlers against the chain's digests before anything is sent.
 */
import { flag, list, str, type Invocation } from "../args.js";
import { UsageError } from "../errors.js";

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BLOB = /^0x[0-9a-fA-F]{170}$/;

function address(raw: string | undefined, what: string): string {
  if (raw === undefined || raw === "") throw new UsageError(`${what} is required`);
  if (!ADDRESS.test(raw)) throw new UsageError(`${what}: not an address: ${raw}`);
  return raw;
}

function blobs(inv: Invocation): string[] {
  const out = list(inv, "sig");
  for (const b of out)
    if (!BLOB.test(b))
      throw new UsageError(`--sig: expected guardian (20 bytes) ‖ signature (65 bytes), got ${b.slice(0, 20)}…`);
  return out;
}

/** `reins recovery sign`: for a recovery to `newOwner`, or (no `newOwner`) for a guardian lock. */
export interface RecoverySignInput {
  account: string;
  newOwner?: string;
  guardianKeyEnv: string;
  json: boolean;
}

/** `reins recovery propose`. */
export interface RecoveryProposeInput {
  account: string;
  newOwner: string;
  sigs: string[];
  senderKeyEnv: string;
  json: boolean;
}

/** `reins recovery complete` and `reins recovery lock` (which needs `sigs`). */
export interface RecoverySendInput {
  account: string;
  sigs: string[];
  senderKeyEnv: string;
  json: boolean;
}

/** Parse `reins recovery sign`. */
export function parseRecoverySign(inv: Invocation): RecoverySignInput {
  const account = address(inv.args.account, "account");
  const forLock = flag(inv, "lock");
  if (forLock && str(inv, "new-owner") !== undefined) throw new UsageError("--lock and --new-owner exclude each other");
  return {
    account,
    ...(forLock ? {} : { newOwner: address(str(inv, "new-owner"), "--new-owner") }),
    guardianKeyEnv: str(inv, "guardian-key-env") ?? "REINS_GUARDIAN_KEY",
    json: inv.json,
  };
}

/** Parse `reins recovery propose`. */
export function parseRecoveryPropose(inv: Invocation): RecoveryProposeInput {
  const account = address(inv.args.account, "account");
  return {
    account,
    newOwner: address(str(inv, "new-owner"), "--new-owner"),
    sigs: blobs(inv),
    senderKeyEnv: str(inv, "sender-key-env") ?? "REINS_SENDER_KEY",
    json: inv.json,
  };
}

/** Parse `reins recovery complete`. */
export function parseRecoveryComplete(inv: Invocation): RecoverySendInput {
  return {
    account: address(inv.args.account, "account"),
    sigs: [],
    senderKeyEnv: str(inv, "sender-key-env") ?? "REINS_SENDER_KEY",
    json: inv.json,
  };
}

/** Parse `reins recovery lock`. */
export function parseRecoveryLock(inv: Invocation): RecoverySendInput {
  const account = address(inv.args.account, "account");
  const sigs = blobs(inv);
  if (!sigs.length) throw new UsageError("--sig is required (blobs from: reins recovery sign <account> --lock)");
  return { account, sigs, senderKeyEnv: str(inv, "sender-key-env") ?? "REINS_SENDER_KEY", json: inv.json };
}

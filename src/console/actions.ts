/**
 * The console's write side. The page names an action; {@link ConsoleActions.prepare} checks it against the chain,
 * builds the owner UserOperation (the same calls {@link ReinsOwner} makes) and returns it with its EntryPoint v0.8
 * EIP-712 typed data for `eth_signTypedData_v4`. {@link ConsoleActions.submit} takes the wallet's signature,
 * checks that it is the owner's over exactly that operation, checks the action again (a request executed,
 * cancelled or expired since the page loaded is refused), and sends it once through the configured sender
 * (bundler, or `handleOps` from the console's relayer key). The server never holds the owner key.
 *
 * The owner is whoever the account's root validator names ({@link rootOwner}): an ECDSA key (OwnerValidator;
 * the wallet signs the typed data) or a passkey (PasskeyValidator; the page asks `navigator.credentials.get` with
 * the userOpHash as the challenge and submits the assertion, checked by {@link checkedPasskeySignature}).
 */
import { randomUUID } from "node:crypto";
import { getAddress, verifyTypedData } from "ethers";
import { executeCalldata, type Call } from "../account/encoding.js";
import {
  AgentSessions__factory,
  IEntryPoint__factory,
  ReinsTimelock__factory,
} from "../../types/ethers-contracts/index.js";
import { QUEUE_STATES, decodeReinsError } from "../client/errors.js";
import {
  DEFAULT_GAS_LIMITS,
  operationFees,
  type OperationResultRaw,
  type OperationSender,
} from "../client/transport/sender.js";
import {
  getUserOpHash,
  nonceKey,
  toRpcUserOp,
  userOperationTypedData,
  userOperationTypedDataJson,
  type UserOperation,
} from "../userop/userop.js";
import type { PasskeyAssertion } from "../client/passkey.js";
import { chainNow, type ReadContext } from "./reads.js";
import { UnsupportedRootError, describeOwner, rootOwner, type RootOwner } from "./owner.js";
import { checkedPasskeySignature } from "./passkey.js";

/** What the page may ask for. */
export type ConsoleAction =
  | { kind: "approve"; id: string }
  | { kind: "cancel"; id: string }
  | { kind: "pause" }
  | { kind: "unpause" }
  | { kind: "revoke"; sessionId: string }
  | { kind: "renew"; sessionId: string; validUntil: number }
  | { kind: "applyChange"; changeHash: string }
  | { kind: "cancelChange"; changeHash: string };

/** A refused action: `status` is the HTTP status the server answers with; the message is for the person. */
export class ActionRefused extends Error {
  override readonly name = "ActionRefused" as const;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One prepared operation, kept until it is submitted or it goes stale. */
interface Prepared {
  id: string;
  action: ConsoleAction;
  op: UserOperation;
  userOpHash: string;
  /** Who must sign it (the root validator when it was prepared). */
  owner: RootOwner;
  createdAt: number;
  /** Set once a submit started: a second submit of the same id is refused (nothing is sent twice). */
  submitted?: Promise<OperationResultRaw>;
}

/** Prepared operations older than this are refused (prepare again): 10 minutes. */
export const PREPARED_TTL_MS = 10 * 60_000;

/**
 * Least verification gas of a passkey owner operation: OpenZeppelin's Solidity P-256 verifier (chains without the
 * P256VERIFY precompile) needs a few hundred thousand, and a bundler's estimate with a dummy signature misses it.
 */
export const PASSKEY_VERIFICATION_GAS = 600_000n;

/** What the page submits: the wallet's 65-byte ECDSA signature, or the passkey's WebAuthn assertion. */
export type OwnerProof = { signature: string } | { assertion: PasskeyAssertion };

const ID = /^0x[0-9a-fA-F]{64}$/;
const STUB = "0x" + "11".repeat(32) + "22".repeat(32) + "1b";

/** Parse the page's action JSON (throws {@link ActionRefused} 400 on anything malformed). */
export function parseAction(body: unknown): ConsoleAction {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const id = (field: string) => {
    const v = b[field];
    if (typeof v !== "string" || !ID.test(v))
      throw new ActionRefused(400, "bad input", `${field}: not a 32-byte hex id`);
    return v.toLowerCase();
  };
  switch (b.kind) {
    case "approve":
    case "cancel":
      return { kind: b.kind, id: id("id") };
    case "pause":
    case "unpause":
      return { kind: b.kind };
    case "revoke":
      return { kind: "revoke", sessionId: id("sessionId") };
    case "renew": {
      const until = Number(b.validUntil);
      if (!Number.isSafeInteger(until) || until <= 0)
        throw new ActionRefused(400, "bad input", "validUntil: not a time");
      return { kind: "renew", sessionId: id("sessionId"), validUntil: until };
    }
    case "applyChange":
    case "cancelChange":
      return { kind: b.kind, changeHash: id("changeHash") };
    default:
      throw new ActionRefused(400, "bad input", `unknown action ${JSON.stringify(b.kind)}`);
  }
}

/** Builds, checks and sends owner operations for the console. */
export class ConsoleActions {
  private readonly prepared = new Map<string, Prepared>();

  constructor(
    private readonly c: ReadContext,
    private readonly sender: OperationSender,
  ) {}

  private get sessions() {
    return AgentSessions__factory.connect(this.c.deployment.sessions, this.c.provider);
  }

  private get timelock() {
    return ReinsTimelock__factory.connect(this.c.deployment.timelock, this.c.provider);
  }

  /**
   * Check `action` against the chain now and return the owner calls it makes; a refusal says that nothing was
   * sent (it is raised before anything is signed or sent).
   */
  async calls(action: ConsoleAction): Promise<{ calls: Call[]; summary: string }> {
    try {
      return await this.check(action);
    } catch (e) {
      if (e instanceof ActionRefused && !/nothing was sent/.test(e.message)) {
        throw new ActionRefused(e.status, e.code, `${e.message}; nothing was sent`);
      }
      throw e;
    }
  }

  private async check(action: ConsoleAction): Promise<{ calls: Call[]; summary: string }> {
    const { account } = this.c;
    const s = this.sessions;
    const t = this.timelock;
    const sessionsCall = (data: string): Call => ({ target: this.c.deployment.sessions, data });
    const timelockCall = (data: string): Call => ({ target: this.c.deployment.timelock, data });
    switch (action.kind) {
      case "approve":
      case "cancel": {
        const q = (await this.c.data.requests(account)).find((r) => r.id.toLowerCase() === action.id);
        if (!q) throw new ActionRefused(404, "unknown request", `request ${action.id} was never queued by ${account}`);
        const view = await t.getOperation(account, q.id);
        const state = QUEUE_STATES[Number(view.state)];
        const now = await chainNow(this.c.provider);
        if (state === "executed")
          throw new ActionRefused(409, "stale", `request ${short(q.id)} was already executed; nothing was sent`);
        if (state === "cancelled")
          throw new ActionRefused(409, "stale", `request ${short(q.id)} was already cancelled; nothing was sent`);
        if (state === "expired" || now >= view.expiresAt) {
          throw new ActionRefused(
            409,
            "expired",
            `request ${short(q.id)} expired at ${iso(view.expiresAt)} (chain time ${iso(now)}); nothing was sent`,
          );
        }
        if (action.kind === "cancel") {
          return {
            calls: [timelockCall(t.interface.encodeFunctionData("cancel", [account, q.id]))],
            summary: `cancel request ${short(q.id)}`,
          };
        }
        if (q.tier !== "approval") {
          throw new ActionRefused(
            409,
            "not approval",
            `request ${short(q.id)} is a delayed request: it runs after its delay without approval`,
          );
        }
        if (view.approved)
          throw new ActionRefused(409, "stale", `request ${short(q.id)} is already approved; nothing was sent`);
        return {
          calls: [
            timelockCall(t.interface.encodeFunctionData("approve", [q.id])),
            timelockCall(t.interface.encodeFunctionData("execute", [account, q.id, q.mode, q.executionCalldata])),
          ],
          summary: `approve and run request ${short(q.id)}`,
        };
      }
      case "pause":
        if ((await s.accountConfig(account)).paused)
          throw new ActionRefused(409, "stale", "the agents are already paused; nothing was sent");
        return {
          calls: [sessionsCall(s.interface.encodeFunctionData("pause", [account, false]))],
          summary: "pause every agent session",
        };
      case "unpause":
        if (!(await s.accountConfig(account)).paused)
          throw new ActionRefused(409, "stale", "the agents are not paused; nothing was sent");
        return { calls: [sessionsCall(s.interface.encodeFunctionData("unpause"))], summary: "unpause agent sessions" };
      case "revoke": {
        const session = await s.getSession(action.sessionId, account);
        if (session.agent === "0x0000000000000000000000000000000000000000")
          throw new ActionRefused(404, "unknown session", `no session ${short(action.sessionId)}`);
        if (session.revoked)
          throw new ActionRefused(
            409,
            "stale",
            `session ${short(action.sessionId)} is already revoked; nothing was sent`,
          );
        return {
          calls: [sessionsCall(s.interface.encodeFunctionData("revokeSession", [action.sessionId]))],
          summary: `revoke session ${short(action.sessionId)}`,
        };
      }
      case "renew": {
        const session = await s.getSession(action.sessionId, account);
        if (session.revoked)
          throw new ActionRefused(409, "stale", `session ${short(action.sessionId)} is revoked; it cannot be renewed`);
        if (BigInt(action.validUntil) <= (await chainNow(this.c.provider)))
          throw new ActionRefused(400, "bad input", "the new end is in the past");
        return {
          calls: [sessionsCall(s.interface.encodeFunctionData("renewSession", [action.sessionId, action.validUntil]))],
          summary: `renew session ${short(action.sessionId)} until ${iso(BigInt(action.validUntil))}`,
        };
      }
      case "applyChange":
      case "cancelChange": {
        const readyAt = await s.pendingChange(account, action.changeHash);
        if (readyAt === 0n)
          throw new ActionRefused(
            409,
            "stale",
            `change ${short(action.changeHash)} is no longer pending (applied, cancelled or voided); nothing was sent`,
          );
        if (action.kind === "cancelChange") {
          return {
            calls: [sessionsCall(s.interface.encodeFunctionData("cancelChange", [action.changeHash]))],
            summary: `cancel change ${short(action.changeHash)}`,
          };
        }
        const now = await chainNow(this.c.provider);
        if (now < readyAt)
          throw new ActionRefused(
            409,
            "not ready",
            `change ${short(action.changeHash)} can be applied from ${iso(readyAt)} (chain time ${iso(now)})`,
          );
        const data = (await this.c.data.pendingChanges(account)).find((p) => p.changeHash === action.changeHash)?.data;
        if (!data) throw new ActionRefused(404, "unknown change", `no ChangeProposed for ${short(action.changeHash)}`);
        return {
          calls: [sessionsCall(s.interface.encodeFunctionData("applyChange", [account, data]))],
          summary: `apply change ${short(action.changeHash)}`,
        };
      }
    }
  }

  /** The account's owner now; a root the console cannot sign for is refused (409). */
  private async owner(): Promise<RootOwner> {
    try {
      return await rootOwner(this.c);
    } catch (e) {
      if (e instanceof UnsupportedRootError)
        throw new ActionRefused(409, "unsupported owner", `${e.message}; nothing was sent`);
      throw e;
    }
  }

  /**
   * Build the unsigned owner operation for `action`; returns it with the typed data the wallet signs (ECDSA owner)
   * or the challenge the passkey signs (`userOpHash`, passkey owner: `ownerKind` says which).
   */
  async prepare(action: ConsoleAction) {
    const { calls, summary } = await this.calls(action);
    const owner = await this.owner();
    const entryPoint = IEntryPoint__factory.connect(this.sender.entryPoint, this.c.provider);
    const nonce = await entryPoint.getNonce(this.c.account, nonceKey(owner.validator));
    const d = DEFAULT_GAS_LIMITS.owner;
    let op: UserOperation = {
      sender: this.c.account,
      nonce,
      callData: executeCalldata(calls),
      callGasLimit: d.callGasLimit,
      verificationGasLimit: d.verificationGasLimit,
      preVerificationGas: d.preVerificationGas,
      ...(await operationFees(this.c.provider)),
      signature: "0x",
    };
    if (this.sender.estimate) {
      const e = await this.sender.estimate({ ...op, signature: STUB }).catch((err: unknown) => {
        throw new ActionRefused(422, "refused", `the bundler refuses the operation: ${decodeReinsError(err).message}`);
      });
      op = { ...op, ...e };
    }
    if (owner.kind === "passkey" && op.verificationGasLimit < PASSKEY_VERIFICATION_GAS) {
      op = { ...op, verificationGasLimit: PASSKEY_VERIFICATION_GAS };
    }
    const chainId = await this.sender.chainId();
    const id = randomUUID();
    const userOpHash = getUserOpHash(op, this.sender.entryPoint, chainId);
    for (const [key, old] of this.prepared) {
      if (Date.now() - old.createdAt > 2 * PREPARED_TTL_MS) this.prepared.delete(key); // keep the map small
    }
    this.prepared.set(id, { id, action, op, userOpHash, owner, createdAt: Date.now() });
    return {
      id,
      summary,
      owner: describeOwner(owner),
      ownerKind: owner.kind,
      chainId: chainId.toString(),
      userOpHash,
      op: toRpcUserOp(op),
      typedData: userOperationTypedDataJson(op, this.sender.entryPoint, chainId),
    };
  }

  /**
   * Send prepared operation `id` with the owner's proof: the wallet's `signature` (ECDSA owner) or the passkey's
   * `assertion` (passkey owner). Refused (nothing sent): unknown or stale id, a second submit of the same id, a
   * proof of the other kind, a signature that is not the owner's over this operation, an assertion over another
   * challenge or by another passkey, an action no longer valid on chain, a nonce that moved since it was prepared.
   */
  async submit(id: string, proof: OwnerProof) {
    const p = this.prepared.get(id);
    if (!p)
      throw new ActionRefused(404, "unknown", "no such prepared operation (the console restarted?): prepare it again");
    if (p.submitted)
      throw new ActionRefused(409, "duplicate", "this operation was already submitted; it is not sent twice");
    if (Date.now() - p.createdAt > PREPARED_TTL_MS) {
      this.prepared.delete(id);
      throw new ActionRefused(409, "expired", "the prepared operation is older than 10 minutes: prepare it again");
    }
    if (p.owner.kind === "ecdsa" && !("signature" in proof))
      throw new ActionRefused(
        400,
        "bad input",
        "the owner is an ECDSA key: expected {id, signature}; nothing was sent",
      );
    if (p.owner.kind === "passkey" && !("assertion" in proof))
      throw new ActionRefused(400, "bad input", "the owner is a passkey: expected {id, assertion}; nothing was sent");
    if ("signature" in proof && !/^0x[0-9a-fA-F]{130}$/.test(proof.signature))
      throw new ActionRefused(400, "bad input", "signature: expected 65 bytes of hex");
    // Claimed synchronously, before any await: a second submit of this id (a double click, a replayed request)
    // is refused above while this one runs, and after it.
    let sent = false;
    const run = (async () => {
      const signature = await this.checkedSignature(p, proof);
      await this.calls(p.action); // the server-side re-check: is the action still valid on chain now?
      const entryPoint = IEntryPoint__factory.connect(this.sender.entryPoint, this.c.provider);
      const nonce = await entryPoint.getNonce(this.c.account, nonceKey(p.owner.validator));
      if (nonce !== p.op.nonce) {
        throw new ActionRefused(
          409,
          "stale",
          "another owner operation ran since this one was prepared (nonce moved); nothing was sent: prepare again",
        );
      }
      sent = true;
      return this.sender.send({ ...p.op, signature });
    })();
    p.submitted = run;
    let result: OperationResultRaw;
    try {
      result = await run;
    } catch (e) {
      // Refused before sending: the id is free again only for a wrong signature (the page may sign again).
      if (!sent && e instanceof ActionRefused && ["bad signature", "not owner", "wrong challenge"].includes(e.code))
        p.submitted = undefined;
      else if (!sent) this.prepared.delete(id);
      if (e instanceof ActionRefused) throw e;
      throw new ActionRefused(422, "refused", `${decodeReinsError(e).message}${sent ? "" : "; nothing was sent"}`);
    }
    if (!result.success) {
      const reason = result.revertReason ? decodeReinsError(result.revertReason).message : "no reason";
      throw new ActionRefused(
        422,
        "reverted",
        `the operation was included (tx ${result.txHash}) but its execution reverted: ${reason}`,
      );
    }
    return { userOpHash: result.userOpHash, txHash: result.txHash, gasCost: result.actualGasCost.toString() };
  }

  /** The operation's signature once the proof is checked against the owner now (refusals: nothing was sent). */
  private async checkedSignature(p: Prepared, proof: OwnerProof): Promise<string> {
    const owner = await this.owner();
    if (owner.validator !== p.owner.validator || owner.kind !== p.owner.kind) {
      throw new ActionRefused(
        409,
        "stale",
        `the account's owner changed since this operation was prepared (root validator now ${owner.validator}); ` +
          "nothing was sent: prepare again",
      );
    }
    if ("assertion" in proof) {
      return checkedPasskeySignature(this.c.provider, owner.validator, p.op, p.userOpHash, proof.assertion);
    }
    const chainId = await this.sender.chainId();
    const t = userOperationTypedData(p.op, this.sender.entryPoint, chainId);
    let signer: string;
    try {
      signer = getAddress(verifyTypedData(t.domain, t.types, t.message, proof.signature));
    } catch {
      throw new ActionRefused(400, "bad signature", "the signature does not recover to any address; nothing was sent");
    }
    const expected = describeOwner(owner);
    if (signer !== expected) {
      throw new ActionRefused(
        403,
        "not owner",
        `signed by ${signer}, but the account's owner is ${expected}; nothing was sent`,
      );
    }
    return proof.signature;
  }
}

/** For error messages. */
function short(id: string): string {
  return `${id.slice(0, 10)}…`;
}

function iso(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}

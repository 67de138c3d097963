/**
 * x402 payments from an agent session: an x402 `ClientEvmSigner` whose "signature" of an EIP-3009
 * `TransferWithAuthorization` is an agent operation that pays for exactly that authorization on chain (scope,
 * budgets, tiers, breaker and pause as for any transfer), followed by the ERC-1271 marker the account then accepts.
 * The session key itself never signs the token's typed data, and nothing but `TransferWithAuthorization` from the
 * account is accepted.
 */
import { ZeroHash, getAddress, id } from "ethers";
import type { AgentSession } from "../client/agent.js";
import { ReinsError } from "../client/errors.js";
import {
  reserveAuthorizationCall,
  reservedAuthorizationSignature,
  transferAuthorizationDigest,
  type TransferAuthorization,
} from "./authorization.js";

/** What the x402 signer does with a payment that is not instant (above the instant tier, or over a cap). */
export type PendingPaymentPolicy = "refuse" | "queue";

/** Options of {@link reinsX402Signer}. */
export interface X402SignerOptions {
  /**
   * `"refuse"` (default): a payment the session would queue is refused before anything is signed, because an x402
   * authorization lives only `maxTimeoutSeconds` (typically 60 s), shorter than any queue delay or owner approval.
   * `"queue"`: send it anyway; it queues like any other payment ({@link X402PaymentQueued}) and is paid for when
   * it runs, if its `validBefore` has not passed by then.
   */
  pending?: PendingPaymentPolicy;
  /** Intent text; its keccak256 is the operation's signed intent hash. */
  intent?: string;
  /** Called after each payment was reserved on chain. */
  onPayment?: (payment: X402Payment) => void;
  /** Called with each refusal before it is thrown (x402's client wraps thrown errors in its own). */
  onRefusal?: (refusal: X402PaymentRefused | X402PaymentQueued) => void;
}

/** A payment the account reserved on chain. */
export interface X402Payment {
  token: string;
  authorization: TransferAuthorization;
  /** The EIP-712 digest the account's ERC-1271 now accepts. */
  digest: string;
  userOpHash: string;
  txHash: string;
}

/** The x402 payment was refused before anything was signed: `rule` and `details` say which limit. */
export class X402PaymentRefused extends ReinsError {
  override readonly name = "X402PaymentRefused" as const;
}

/** The x402 payment was queued (delayed or for owner approval) instead of executed; nothing was paid yet. */
export class X402PaymentQueued extends ReinsError {
  override readonly name = "X402PaymentQueued" as const;
  constructor(
    readonly requestId: string,
    readonly tier: string,
    readonly earliestExecution: bigint,
  ) {
    super(
      "queued",
      `the payment was queued as ${requestId} (${tier}; can run from ${earliestExecution}); the server was not paid`,
      { requestId, tier, earliestExecution },
    );
  }
}

/** The x402 `ClientEvmSigner` shape (`@x402/evm`), declared here so the library does not need the package. */
export interface X402EvmSigner {
  readonly address: `0x${string}`;
  /** Sign (here: reserve on chain, then present) EIP-712 typed data. */
  signTypedData(message: {
    domain: Record<string, unknown>;
    types: Record<string, unknown>;
    primaryType: string;
    message: Record<string, unknown>;
  }): Promise<`0x${string}`>;
}

/**
 * An x402 `ClientEvmSigner` for `session`'s account: give it to `registerExactEvmScheme(client, { signer })` of
 * `@x402/evm` (or use {@link reinsPaymentFetch}). Throws {@link X402PaymentRefused} (before anything is sent) for
 * typed data other than the account's own `TransferWithAuthorization`, a wrong chain, a payment the session's
 * scope or budgets refuse, and — by default — one it would queue; {@link X402PaymentQueued} when it was queued.
 */
export function reinsX402Signer(session: AgentSession, options: X402SignerOptions = {}): X402EvmSigner {
  const account = getAddress(session.account);
  return {
    address: account as `0x${string}`,
    async signTypedData(request) {
      try {
        return await reserve(request);
      } catch (e) {
        if (e instanceof X402PaymentRefused || e instanceof X402PaymentQueued) options.onRefusal?.(e);
        throw e;
      }
    },
  };

  async function reserve({ domain, primaryType, message }: Parameters<X402EvmSigner["signTypedData"]>[0]) {
    if (primaryType !== "TransferWithAuthorization") {
      throw new X402PaymentRefused(
        "unsupported",
        `a Reins session signs only TransferWithAuthorization, not ${primaryType}`,
      );
    }
    const chainId = await session.sender.chainId();
    if (BigInt(String(domain.chainId)) !== chainId) {
      throw new X402PaymentRefused(
        "chain",
        `the payment is for chain ${String(domain.chainId)}, the session is on ${chainId}`,
      );
    }
    if (typeof domain.name !== "string" || typeof domain.version !== "string") {
      throw new X402PaymentRefused("domain", "the token's EIP-712 name and version are missing");
    }
    const token = getAddress(String(domain.verifyingContract));
    const auth: TransferAuthorization = {
      from: getAddress(String(message.from)),
      to: getAddress(String(message.to)),
      value: BigInt(String(message.value)),
      validAfter: BigInt(String(message.validAfter)),
      validBefore: BigInt(String(message.validBefore)),
      nonce: String(message.nonce),
    };
    if (auth.from !== account) {
      throw new X402PaymentRefused("payer", `the authorization is from ${auth.from}, not this account ${account}`);
    }
    const tokenDomain = { name: domain.name, version: domain.version };
    const sessions = await session.sessions.getAddress();
    const call = reserveAuthorizationCall(sessions, token, tokenDomain, auth);
    const pre = await session.preflight(call);
    if (pre.outcome === "refuse") {
      throw new X402PaymentRefused(pre.error.rule, `x402 payment refused: ${pre.error.message}`, pre.error.details, {
        cause: pre.error,
      });
    }
    if (pre.outcome === "queue" && options.pending !== "queue") {
      throw new X402PaymentRefused(
        pre.tier,
        `x402 payment of ${auth.value} (base units of ${token}) would wait for ${pre.tier === "approval" ? "the owner's approval" : "the queue delay"} (limit ${pre.limit}); refused before signing`,
        { tier: pre.tier, token: pre.token, amount: pre.amount, limit: pre.limit },
      );
    }
    const sent = await session.send(call, { intentHash: options.intent ? id(options.intent) : ZeroHash });
    if (sent.status === "queued") throw new X402PaymentQueued(sent.requestId, sent.tier, sent.earliestExecution);
    options.onPayment?.({
      token,
      authorization: auth,
      digest: transferAuthorizationDigest(token, chainId, tokenDomain, auth),
      userOpHash: sent.userOpHash,
      txHash: sent.txHash,
    });
    return reservedAuthorizationSignature(sessions, session.sessionId) as `0x${string}`;
  }
}

/**
 * {@link Erc7715Error}: why Reins refused an ERC-7715 request — the field and the reason — and the JSON-RPC error
 * code it answers with.
 */
import { ReinsError } from "../errors.js";

/** Why an ERC-7715 request was refused. */
export type Erc7715Refusal =
  /** The request is not in the ERC-7715 shape (missing field, wrong type, bad hex). */
  | "malformed"
  /** A permission type Reins does not grant (`*-stream`, `erc20-token-revocation`, unknown types). */
  | "unsupported permission"
  /** A rule type Reins does not enforce, or a rule Reins cannot enforce exactly. */
  | "unsupported rule"
  /** A request Reins could only approximate (for example native transfers to any recipient). */
  | "not expressible"
  /** The request is for another chain or another account. */
  | "wrong target"
  /** The permissions context is not a Reins context, or names another chain, account or module. */
  | "bad context"
  /** The grants do not fit in one owner operation (fixed gas limits). */
  | "too large";

/** JSON-RPC / EIP-1193 error codes the handler answers with. */
export const JSON_RPC_ERRORS = {
  /** Invalid params: every refused request. */
  invalidParams: -32602,
  /** Method not found. */
  methodNotFound: -32601,
  /** Invalid request (not a JSON-RPC request object). */
  invalidRequest: -32600,
  /** Internal error: the chain refused or failed (the typed error is in `data`). */
  internal: -32603,
} as const;

/**
 * Reins refused an ERC-7715 request (or permissions context). `field` is the JSON path of the offending field
 * (`"[0].permission.data.periodAmount"`), `refusal` the kind, `message` the reason. Nothing reached the chain.
 */
export class Erc7715Error extends ReinsError {
  override readonly name = "Erc7715Error" as const;
  constructor(
    readonly refusal: Erc7715Refusal,
    readonly field: string,
    reason: string,
    details: Record<string, unknown> = {},
  ) {
    super("erc7715", `${field}: ${reason}`, { refusal, field, reason, ...details });
  }

  /** The JSON-RPC error code of this refusal (always invalid params). */
  get code(): number {
    return JSON_RPC_ERRORS.invalidParams;
  }
}

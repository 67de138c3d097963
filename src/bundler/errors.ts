/**
 * Errors raised by the ERC-4337 bundler client, and the parser that turns a bundler's JSON-RPC error into
 * a typed rejection (`AA2x` account / `AA3x` paymaster / `AA1x` factory codes of EntryPoint v0.7+).
 */

/** ERC-7769 (ERC-4337 RPC) error codes. */
export const Erc7769Code = {
  InvalidRequest: -32601,
  InvalidFields: -32602,
  SimulateValidation: -32500,
  SimulatePaymasterValidation: -32501,
  OpcodeValidation: -32502,
  ExpiresShortly: -32503,
  Reputation: -32504,
  InsufficientStake: -32505,
  UnsupportedSignatureAggregator: -32506,
  InvalidSignature: -32507,
  PaymasterDepositTooLow: -32508,
  UserOperationReverted: -32521,
} as const;

/** EntryPoint `FailedOp` codes: `AA` then two digits (`AA1x` factory, `AA2x` account, `AA3x` paymaster, `AA4x`/`AA5x` gas/postOp). */
export type AaCode = `AA${number}`;

/** Turns revert bytes from our contracts into a domain error; return `undefined` for bytes it does not know. */
export type RevertDecoder = (data: string) => Error | undefined;

/** Base class of every error this client raises. */
export abstract class BundlerError extends Error {
  abstract override readonly name: string;
}

/** The bundler could not be reached, timed out, or answered something that is not JSON-RPC. */
export class BundlerTransportError extends BundlerError {
  override readonly name = "BundlerTransportError" as const;
  constructor(
    message: string,
    readonly method: string,
    /** HTTP status, when the bundler answered at all. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The bundler answered with a JSON-RPC error object that is not a UserOperation rejection. */
export class BundlerRpcError extends BundlerError {
  override readonly name: string = "BundlerRpcError";
  constructor(
    readonly method: string,
    readonly code: number,
    readonly rpcMessage: string,
    readonly data?: unknown,
  ) {
    super(`${method} failed (${code}): ${rpcMessage}`);
  }
}

/**
 * The bundler refused or could not simulate a UserOperation. `aaCode` is the EntryPoint reason code when one
 * was given (or implied by an ERC-7769 code, see {@link parseBundlerError}); `revertData` holds the inner
 * revert bytes (e.g. an account's or a module's custom error) when the bundler passed them on.
 */
export class UserOperationRejected extends BundlerRpcError {
  override readonly name = "UserOperationRejected" as const;
  constructor(
    method: string,
    code: number,
    rpcMessage: string,
    data: unknown,
    readonly aaCode: AaCode | undefined,
    /** Human-readable reason, e.g. `"AA24 signature error"`. */
    readonly reason: string,
    /** Hex revert bytes from the account/paymaster/call, when present. */
    readonly revertData: string | undefined,
    /** `decodeRevert(revertData)`, when a decoder was supplied and recognised the bytes. */
    readonly decoded: Error | undefined,
  ) {
    super(method, code, rpcMessage, data);
  }
}

/** Waiting for a receipt ran past its deadline. */
export class UserOperationTimeout extends BundlerError {
  override readonly name = "UserOperationTimeout" as const;
  constructor(
    readonly userOpHash: string,
    readonly timeoutMs: number,
  ) {
    super(`no receipt for UserOperation ${userOpHash} after ${timeoutMs} ms`);
  }
}

/** A JSON-RPC error object as bundlers send it. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

const AA_CODE = /\bAA(\d{2})\b/;
/** A hex blob of at least one 4-byte selector, even length. */
const HEX_BLOB = /0x(?:[0-9a-fA-F]{2}){4,}/g;

const isHex = (v: unknown): v is string => typeof v === "string" && /^0x(?:[0-9a-fA-F]{2})*$/.test(v);

/** Error codes that mean "this UserOperation was rejected" rather than "the request was malformed". */
const REJECTION_CODES = new Set<number>([
  Erc7769Code.SimulateValidation,
  Erc7769Code.SimulatePaymasterValidation,
  Erc7769Code.OpcodeValidation,
  Erc7769Code.ExpiresShortly,
  Erc7769Code.Reputation,
  Erc7769Code.InsufficientStake,
  Erc7769Code.UnsupportedSignatureAggregator,
  Erc7769Code.InvalidSignature,
  Erc7769Code.PaymasterDepositTooLow,
  Erc7769Code.UserOperationReverted,
]);

function findRevertData(message: string, data: unknown): string | undefined {
  if (isHex(data) && data !== "0x") return data;
  if (data !== null && typeof data === "object") {
    for (const key of ["revertData", "data", "reason", "inner"]) {
      const v = (data as Record<string, unknown>)[key];
      if (isHex(v) && v !== "0x") return v;
    }
  }
  // Alto puts undecodable inner revert bytes straight into the message ("AA23 reverted 0x…").
  // Addresses (20 bytes) in the message are not revert data; take the last blob that is not exactly one.
  const blobs = (message.match(HEX_BLOB) ?? []).filter((h) => h.length !== 42);
  return blobs.at(-1);
}

/** Strip Alto's boilerplate prefix so `reason` reads like the EntryPoint's own `FailedOp` reason. */
function reasonOf(message: string): string {
  const m = /reverted (?:during simulation )?with reason:\s*(.*)$/s.exec(message);
  return (m?.[1] ?? message).trim();
}

/**
 * Classify a bundler JSON-RPC error. ERC-7769 simulation/validation codes, or an `AAxx` code in the message,
 * make a {@link UserOperationRejected}; anything else is a plain {@link BundlerRpcError}.
 *
 * When the message carries no `AAxx` code, `-32507` (InvalidSignature) is reported as `AA24`, unless the
 * message points at the paymaster (then `AA34`), because those are the only EntryPoint failures it denotes.
 */
export function parseBundlerError(
  method: string,
  error: JsonRpcErrorObject,
  decodeRevert?: RevertDecoder,
): BundlerRpcError {
  const message = String(error.message ?? "");
  const match = AA_CODE.exec(message);
  let aaCode = match ? (`AA${match[1]}` as AaCode) : undefined;
  if (!aaCode && error.code === Erc7769Code.InvalidSignature) {
    aaCode = /paymaster/i.test(message) && !/signature or paymaster/i.test(message) ? "AA34" : "AA24";
  }
  if (!aaCode && !REJECTION_CODES.has(error.code)) {
    return new BundlerRpcError(method, error.code, message, error.data);
  }
  const revertData = findRevertData(message, error.data);
  let decoded: Error | undefined;
  if (revertData && decodeRevert) {
    try {
      decoded = decodeRevert(revertData);
    } catch {
      decoded = undefined; // a decoder bug must not hide the bundler's own error
    }
  }
  return new UserOperationRejected(
    method,
    error.code,
    message,
    error.data,
    aaCode,
    reasonOf(message),
    revertData,
    decoded,
  );
}

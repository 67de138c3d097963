/**
 * The ERC-7715 wire shapes Reins answers, as the current draft and MetaMask's Advanced Permissions define them.
 *
 * Sources: ERC-7715 "Request Permissions from Wallets" (ethereum/ERCs `ERCS/erc-7715.md`, the
 * `wallet_requestExecutionPermissions` revision: `chainId`, `from`, `to`, `permission`, `rules`; response = the
 * request plus `context`, `dependencies`, `delegationManager`) and the MetaMask Smart Accounts Kit reference
 * ("Advanced Permissions reference" and "rules reference": `native-token-periodic`, `erc20-token-periodic`,
 * `native-token-allowance`, `erc20-token-allowance`, `*-stream`, `erc20-token-revocation`; rules `expiry`,
 * `redeemer`, `payee`). Amounts travel as 0x-hex strings (viem serialises bigints that way), durations and
 * timestamps as JSON numbers of seconds.
 */

/** A 0x-prefixed hex string. */
export type Hex = `0x${string}`;

/** A permission or rule type: a name, or (forward-extensible form) `{ name, description? }`. */
export type TypeDescriptor = string | { name: string; description?: string };

/** ERC-7715 `BasePermission`: a type, whether the wallet may adjust it, and type-specific data. */
export interface Erc7715Permission {
  type: TypeDescriptor;
  /** Whether the wallet may attenuate (reduce or increase) the permission. Reins never adjusts: it grants or refuses. */
  isAdjustmentAllowed: boolean;
  data: Record<string, unknown>;
}

/** ERC-7715 `BaseRule`: `expiry` (`{ timestamp }`), `payee` (`{ addresses }`), `redeemer` (`{ addresses }`), … */
export interface Erc7715Rule {
  type: TypeDescriptor;
  data: Record<string, unknown>;
}

/** One element of the `wallet_requestExecutionPermissions` params array. */
export interface PermissionRequest {
  /** EIP-155 chain id, hex (a JSON number is accepted too). */
  chainId: Hex | number;
  /** The granting account (optional: the wallet chooses). */
  from?: string;
  /** The session account the permission is granted to: the Reins agent key. */
  to: string;
  permission: Erc7715Permission;
  rules?: Erc7715Rule[];
  /**
   * Earlier MetaMask / `wallet_grantPermissions` shape: `signer: { type: "account", data: { address } }` instead of
   * `to`. Accepted when `to` is absent (or equal).
   */
  signer?: { type: string; data: Record<string, unknown> };
  /** Earlier shape: a top-level expiry instead of an `expiry` rule. Accepted when it does not contradict the rule. */
  expiry?: number;
}

/** An account the dApp must deploy before using the permission (ERC-4337 factory and call data). */
export interface Erc7715Dependency {
  factory: string;
  factoryData: Hex;
}

/** Reins' own part of a granted permission: the session behind it and whether it is live yet. */
export interface ReinsGrantInfo {
  /**
   * `"active"`: the session exists and the agent may use it now (or from `validAfter`). `"pending"`: the account has
   * a security delay, so the grant is only proposed; it can be applied (by anyone, `applyChange`) from `readyAt`
   * and the owner, a watchdog or the monitor may cancel it before. Other values only appear in
   * `wallet_getGrantedExecutionPermissions` with `includeInactive`.
   */
  status: "active" | "pending" | "revoked" | "expired" | "used up" | "stale" | "not yet valid";
  /** The AgentSessions module (also `delegationManager`). */
  sessions: string;
  /** Set once the session exists. */
  sessionId?: string;
  /** Pending grants: the proposed change and when it becomes applicable (unix seconds, decimal string). */
  changeHash?: string;
  readyAt?: string;
  /** Unix seconds (decimal strings) of the session's validity window. */
  validAfter: string;
  validUntil: string;
  /**
   * How the period cap is enforced: Reins budgets are sliding windows (at most `periodAmount` in ANY
   * `periodDuration` seconds), stricter than ERC-7715's fixed periods that reset at each boundary. Present on
   * periodic permissions.
   */
  window?: "sliding";
}

/** One element of the `wallet_requestExecutionPermissions` result: the request echoed plus the grant. */
export interface PermissionResponse {
  chainId: Hex;
  /** The Reins account that granted the permission. */
  from: string;
  to: string;
  permission: Erc7715Permission;
  rules: Erc7715Rule[];
  /** Reins permissions context ({@link encodePermissionsContext}): account, module, session id or pending change. */
  context: Hex;
  /** Always empty: a Reins account exists before it can grant. */
  dependencies: Erc7715Dependency[];
  /**
   * The AgentSessions module that enforces the permission. It is not an ERC-7710 `DelegationManager`: the agent
   * uses the permission by sending ERC-4337 UserOperations signed with its key ({@link agentSessionFromContext}).
   */
  delegationManager: string;
  reins: ReinsGrantInfo;
}

/** A JSON-RPC 2.0 request. */
export interface JsonRpcRequest {
  jsonrpc?: "2.0";
  id?: string | number | null;
  method: string;
  params?: unknown;
}

/** A JSON-RPC 2.0 response (result or error). */
export type JsonRpcResponse =
  | { jsonrpc: "2.0"; id: string | number | null; result: unknown }
  | { jsonrpc: "2.0"; id: string | number | null; error: { code: number; message: string; data?: unknown } };

/** The permission types Reins grants. */
export const SUPPORTED_PERMISSION_TYPES = [
  "native-token-periodic",
  "erc20-token-periodic",
  "native-token-allowance",
  "erc20-token-allowance",
] as const;
/** A permission type Reins grants. */
export type SupportedPermissionType = (typeof SUPPORTED_PERMISSION_TYPES)[number];

/** The rule types Reins understands (`redeemer` only when it names the `to` account alone). */
export const SUPPORTED_RULE_TYPES = ["expiry", "payee", "redeemer"] as const;

/** The name of a permission or rule type descriptor. */
export function typeName(t: TypeDescriptor): string {
  return typeof t === "string" ? t : t.name;
}

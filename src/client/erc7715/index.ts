/**
 * ERC-7715 permission requests for a Reins account: translate `wallet_requestExecutionPermissions` requests into
 * sessions, answer the JSON-RPC methods, and encode / decode the permissions context an agent uses.
 */
export * from "./types.js";
export * from "./errors.js";
export * from "./translate.js";
export * from "./context.js";
export * from "./granted.js";
export * from "./handler.js";

/**
 * x402 payments from Reins agent sessions: the on-chain reservation of EIP-3009 authorizations, the x402 signer and
 * a paying `fetch`.
 */
export * from "./authorization.js";
export * from "./signer.js";
export * from "./fetch.js";

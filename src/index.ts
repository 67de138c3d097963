/**
 * Reins: the client library, the lower-level building blocks it is made of (UserOperations, account calldata,
 * session signatures, chain singletons, the bundler client, the ERC-7562 checker) and the typechain contract
 * factories and types.
 */
export * from "./client/index.js";
export * from "./userop/userop.js";
export * from "./account/encoding.js";
export * from "./session/signature.js";
export * from "./infra/singletons.js";
export * from "./bundler/client.js";
export * from "./bundler/errors.js";
export * as erc7562 from "./erc7562/index.js";
export * from "../types/ethers-contracts/index.js";

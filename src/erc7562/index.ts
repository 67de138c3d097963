/**
 * ERC-7562 validation-rules checker: trace the validation phase of real UserOperations and report
 * violations of the rules public bundlers enforce.
 *
 * ```ts
 * const trace = await traceValidation(ethers.provider, { entryPoint: ENTRYPOINT_V08, ops: [packUserOp(op)] });
 * const violations = checkErc7562(trace, { staked: { factory: false }, names: { [account]: "MyAccount" } });
 * console.log(formatViolations(violations));
 * ```
 *
 * The scenario runner (`./scenario.ts`: `runScenario`, `ScenarioContext`, …) drives Hardhat's `ethers` helper and
 * lives outside this entry point (and outside the package), so importing the checker never needs Hardhat.
 */
export * from "./types.js";
export * from "./evm.js";
export * from "./frames.js";
export * from "./rules.js";
export * from "./trace.js";
export * from "./format.js";

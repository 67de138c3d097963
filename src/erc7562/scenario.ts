/**
 * Scenarios: named bundles whose validation must comply with ERC-7562 (and be accepted, or refused, by the
 * EntryPoint). A scenario only builds its bundle; {@link runScenario} traces and checks it.
 */
import { Interface, type Signer } from "ethers";
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { packUserOp, type PackedUserOperation, type UserOperation } from "../userop/userop.js";
import { checkErc7562 } from "./rules.js";
import { encodeHandleOps, traceValidation, type JsonRpcSender, type TraceStats } from "./trace.js";
import type { StakeStatus, Violation } from "./types.js";

/** What a scenario runs against: the in-process Hardhat chain with the EntryPoint deployed. */
export interface ScenarioContext {
  ethers: HardhatEthers;
  /** Funded EOA: deploys contracts, submits bundles, is the beneficiary. */
  deployer: Signer;
  chainId: bigint;
  entryPoint: string;
}

/** The bundle a scenario produces, with how to judge it. */
export interface ScenarioBundle {
  /** Operations to trace, in bundle order (signed, ready for `handleOps`). */
  ops: ReadonlyArray<UserOperation | PackedUserOperation>;
  /** Staking of the entities involved. Default: nothing staked. */
  staked?: StakeStatus;
  /** Names for the report (address → name). */
  names?: Record<string, string>;
}

/** "pass": the EntryPoint accepts the bundle; "refused": it rejects an operation (e.g. `FailedOp`). */
export type Expectation = "pass" | "refused";

/** A named check: build a bundle against the chain, expect it accepted or refused, and ERC-7562 clean. */
export interface Scenario<Ctx = ScenarioContext> {
  name: string;
  build: (ctx: Ctx) => Promise<ScenarioBundle>;
  expect: Expectation;
}

/** Outcome of one scenario. */
export interface ScenarioResult {
  name: string;
  expect: Expectation;
  /** Whether `handleOps` reverted, and why (decoded `FailedOp` when possible). */
  refused: boolean;
  refusal?: string;
  violations: Violation[];
  names: Record<string, string>;
  stats: TraceStats;
  /** No violation, and refused exactly when expected. */
  ok: boolean;
}

const EP_ERRORS = new Interface([
  "error FailedOp(uint256 opIndex, string reason)",
  "error FailedOpWithRevert(uint256 opIndex, string reason, bytes inner)",
]);

/** Decode an EntryPoint `FailedOp` / `FailedOpWithRevert` revert, else return the raw data. */
export function describeRevert(data: string | undefined): string {
  if (!data || data === "0x") return "reverted without data";
  const withPrefix = data.startsWith("0x") ? data : "0x" + data;
  try {
    const e = EP_ERRORS.parseError(withPrefix);
    if (e) return `${e.name}(op ${e.args[0]}, "${e.args[1]}")`;
  } catch {
    /* not an EntryPoint error */
  }
  return withPrefix;
}

const toPacked = (op: UserOperation | PackedUserOperation): PackedUserOperation =>
  "initCode" in op ? op : packUserOp(op);

/**
 * Build a scenario's bundle, trace its validation (`debug_traceCall`, no state change) and check it.
 * Whatever `build` does to the chain (deployments, funding, earlier bundles) stays.
 */
export async function runScenario<Ctx extends { entryPoint: string }>(
  provider: JsonRpcSender,
  ctx: Ctx,
  scenario: Scenario<Ctx>,
): Promise<ScenarioResult> {
  const bundle = await scenario.build(ctx);
  const trace = await traceValidation(provider, { entryPoint: ctx.entryPoint, ops: bundle.ops.map(toPacked) });
  const names = bundle.names ?? {};
  const violations = checkErc7562(trace, { staked: bundle.staked, names });
  const refused = trace.failed === true;
  return {
    name: scenario.name,
    expect: scenario.expect,
    refused,
    refusal: refused ? describeRevert(trace.returnValue) : undefined,
    violations,
    names,
    stats: trace.stats,
    ok: violations.length === 0 && refused === (scenario.expect === "refused"),
  };
}

/**
 * Submit a bundle for real (e.g. to deploy an account before a scenario traces its next operation).
 * @returns The transaction hash.
 */
export async function sendHandleOps(
  signer: Signer,
  entryPoint: string,
  ops: ReadonlyArray<UserOperation | PackedUserOperation>,
  gasLimit = 10_000_000n,
): Promise<string> {
  const beneficiary = await signer.getAddress();
  const tx = await signer.sendTransaction({
    to: entryPoint,
    data: encodeHandleOps(ops.map(toPacked), beneficiary),
    gasLimit,
  });
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error("sendHandleOps: handleOps reverted");
  return tx.hash;
}

/**
 * Scenarios: named bundles whose validation must comply with ERC-7562 (and be accepted, or refused, by the
 * EntryPoint). A scenario only builds its bundle; {@link runScenario} traces and checks it.
 */
import { Interface, type Signer } from "ethers";
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { packUserOp, type PackedUserOperation, type UserOperation } from "../userop/userop.js";
import { checkErc7562 } from "./rules.js";
import { encodeHandleOps, traceValidation, type JsonRpcSender, type TraceStats } from "./trace.js";
import type { RuleId, StakeStatus, Violation } from "./types.js";

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
  /** Custom errors of the contracts involved, to decode the inner revert of a `FailedOpWithRevert`. */
  errors?: Interface;
}

/**
 * A deliberately non-compliant bundle: the checker must report exactly these rules (as a set), every one of
 * them in the contract named `in` (by the bundle's name map) when given, and the EntryPoint must accept the
 * bundle (or refuse it, with `refused: true`).
 */
export interface ViolationsExpectation {
  violations: RuleId[];
  in?: string;
  refused?: boolean;
}

/**
 * "pass": the EntryPoint accepts the bundle and there is no violation; "refused": it rejects an operation
 * (e.g. `FailedOp`) and the trace up to the refusal has no violation; {@link ViolationsExpectation}: exactly
 * the listed violations.
 */
export type Expectation = "pass" | "refused" | ViolationsExpectation;

/** A named check: build a bundle against the chain, expect it accepted or refused, and ERC-7562 clean. */
export interface Scenario<Ctx = ScenarioContext> {
  name: string;
  build: (ctx: Ctx) => Promise<ScenarioBundle>;
  expect: Expectation;
  /** When the bundle is refused: the refusal (see {@link describeRevert}) must match. */
  refusal?: RegExp;
}

/** One-line description of an expectation, for reports. */
export function describeExpectation(e: Expectation): string {
  if (typeof e === "string") return e;
  const where = e.in ? ` in ${e.in}` : "";
  return `${e.refused ? "refused, " : ""}violations [${[...e.violations].sort().join(", ")}]${where}`;
}

/**
 * Whether a scenario's outcome meets its expectation (see {@link Expectation}; `refusal`, when given, must
 * match the refusal text of a refused bundle).
 */
export function meetsExpectation(
  expect: Expectation,
  outcome: { refused: boolean; refusal?: string; violations: readonly Violation[] },
  refusal?: RegExp,
): boolean {
  if (outcome.refused && refusal && !refusal.test(outcome.refusal ?? "")) return false;
  if (expect === "pass") return !outcome.refused && outcome.violations.length === 0;
  if (expect === "refused") return outcome.refused && outcome.violations.length === 0;
  if (outcome.refused !== (expect.refused === true)) return false;
  const found = [...new Set(outcome.violations.map((v) => v.rule))].sort();
  const wanted = [...new Set(expect.violations)].sort();
  if (found.join() !== wanted.join()) return false;
  return expect.in === undefined || outcome.violations.every((v) => v.name === expect.in);
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
  /** The outcome meets the expectation (see {@link meetsExpectation}). */
  ok: boolean;
}

const EP_ERRORS = new Interface([
  "error FailedOp(uint256 opIndex, string reason)",
  "error FailedOpWithRevert(uint256 opIndex, string reason, bytes inner)",
]);

/** Decode `data` as one of `errors` (`Name(arg, …)`), or undefined. */
function decodeError(errors: Interface, data: string): string | undefined {
  try {
    const e = errors.parseError(data);
    if (e) return `${e.name}(${e.args.map((a: unknown) => String(a)).join(", ")})`;
  } catch {
    /* not one of these errors */
  }
  return undefined;
}

/**
 * Decode an EntryPoint `FailedOp` / `FailedOpWithRevert` revert, else return the raw data. With `errors`, the
 * inner revert of `FailedOpWithRevert` (e.g. a validator's custom error) is decoded too.
 */
export function describeRevert(data: string | undefined, errors?: Interface): string {
  if (!data || data === "0x") return "reverted without data";
  const withPrefix = data.startsWith("0x") ? data : "0x" + data;
  try {
    const e = EP_ERRORS.parseError(withPrefix);
    if (e) {
      const outer = `${e.name}(op ${e.args[0]}, "${e.args[1]}")`;
      if (e.name !== "FailedOpWithRevert") return outer;
      const inner = String(e.args[2]);
      return `${outer}: ${(errors && decodeError(errors, inner)) ?? inner}`;
    }
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
  const refusal = refused ? describeRevert(trace.returnValue, bundle.errors) : undefined;
  return {
    name: scenario.name,
    expect: scenario.expect,
    refused,
    refusal,
    violations,
    names,
    stats: trace.stats,
    ok: meetsExpectation(scenario.expect, { refused, refusal, violations }, scenario.refusal),
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

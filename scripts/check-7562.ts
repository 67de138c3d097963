/**
 * ERC-7562 compliance check of the validation phase of real UserOperations, on the in-process Hardhat chain.
 *
 *   npx hardhat run scripts/check-7562.ts
 *
 * Every registered scenario builds a bundle, which is traced (`debug_traceCall` of `EntryPoint.handleOps`)
 * and checked. Exits non-zero when any scenario does not meet its expectation: "pass" / "refused" with no
 * violation, or, for the deliberately non-compliant fixtures (unstaked Reins factory, BadReinsValidator),
 * exactly the listed violations. Register more scenarios by appending to SCENARIOS.
 */
import { network } from "hardhat";
import { ensureEntryPoint } from "../src/infra/singletons.js";
import { formatViolations } from "../src/erc7562/index.js";
import {
  describeExpectation,
  runScenario,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
} from "../src/erc7562/scenario.js";
import { simpleAccountScenarios } from "../src/erc7562/scenarios/simple-account.js";
import { reinsScenarios } from "../src/erc7562/scenarios/reins.js";
import { passkeyScenarios } from "../src/erc7562/scenarios/passkey.js";
import { eip7702Scenarios } from "../src/erc7562/scenarios/eip7702.js";

const SCENARIOS: Scenario[] = [...simpleAccountScenarios, ...reinsScenarios, ...passkeyScenarios, ...eip7702Scenarios];

const { ethers } = await network.create();
const [deployer] = await ethers.getSigners();
const { address: entryPoint } = await ensureEntryPoint(deployer);
const ctx: ScenarioContext = { ethers, deployer, entryPoint, chainId: (await ethers.provider.getNetwork()).chainId };

const results: ScenarioResult[] = [];
for (const scenario of SCENARIOS) {
  const r = await runScenario(ethers.provider, ctx, scenario);
  results.push(r);
  const outcome = r.refused ? `refused: ${r.refusal}` : "accepted";
  console.log(`\n${r.ok ? "PASS" : "FAIL"}  ${r.name}`);
  console.log(`      expected ${describeExpectation(r.expect)}, ${outcome}; ${r.violations.length} violation(s)`);
  console.log(`      trace: ${r.stats.steps} steps, ${(r.stats.bytes / 1e6).toFixed(1)} MB, ${r.stats.ms} ms`);
  if (r.violations.length > 0) console.log(formatViolations(r.violations).replace(/^/gm, "      "));
}
const rows = [["result", "scenario", "expected", "outcome", "violations", "steps", "MB", "ms"]];
for (const r of results) {
  rows.push([
    r.ok ? "PASS" : "FAIL",
    r.name,
    describeExpectation(r.expect),
    r.refused ? "refused" : "accepted",
    String(r.violations.length),
    String(r.stats.steps),
    (r.stats.bytes / 1e6).toFixed(1),
    String(r.stats.ms),
  ]);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
console.log(
  "\n" +
    rows
      .map((row) =>
        row
          .map((cell, c) => cell.padEnd(widths[c]))
          .join("  ")
          .trimEnd(),
      )
      .join("\n"),
);
const failures = results.filter((r) => !r.ok).length;
console.log(`\n${results.length - failures}/${results.length} scenarios pass`);
if (failures > 0) process.exitCode = 1;

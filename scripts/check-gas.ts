/**
 * `npm run check:gas`: the gas regression gate. Re-runs the benchmark on a fresh in-process chain, writes the
 * result to a temporary directory, and compares it with the committed `reports/gas.json`: exits 1 when any
 * Reins scenario uses more than 1 % more gasUsed than committed (or is missing), printing a diff table.
 * After an intended change, regenerate the baseline with `npm run bench:gas` and commit it.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { network } from "hardhat";
import { runBenchmark, type GasResult } from "./bench/gas.js";
import { REGRESSION_TOLERANCE, compareResults, renderComparison } from "./bench/report.js";

const baselinePath = process.env.GAS_BASELINE ?? path.join("reports", "gas.json");
const baseline = JSON.parse(await readFile(baselinePath, "utf8")) as GasResult[];

const { ethers } = await network.create();
const { results } = await runBenchmark(ethers);
const dir = await mkdtemp(path.join(tmpdir(), "reins-gas-"));
await writeFile(path.join(dir, "gas.json"), JSON.stringify(results, null, 2) + "\n");

const rows = compareResults(baseline, results);
console.log(renderComparison(rows));
console.log(`\ncurrent run: ${path.join(dir, "gas.json")}   baseline: ${baselinePath}`);
const regressions = rows.filter((r) => r.regressed);
if (regressions.length) {
  console.error(
    `\n${regressions.length} Reins scenario(s) above the baseline by more than ${REGRESSION_TOLERANCE * 100}%: ` +
      regressions.map((r) => r.scenario).join(", "),
  );
  process.exitCode = 1;
} else {
  console.log(`\nOK: no Reins scenario above the baseline by more than ${REGRESSION_TOLERANCE * 100}%.`);
}

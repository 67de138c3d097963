/**
 * Gas regression gate inside `npm test`: the benchmark (scripts/bench-gas.ts) is re-run on a fresh chain and
 * every Reins scenario must stay within 1 % of the committed `reports/gas.json`. Regenerate the baseline with
 * `npm run bench:gas` after an intended change.
 */
import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { network } from "hardhat";
import { SCENARIOS, runBenchmark, type GasResult } from "../../scripts/bench/gas.js";
import { compareResults, renderComparison } from "../../scripts/bench/report.js";

describe("gas regression (reports/gas.json)", function () {
  let baseline: GasResult[];
  let current: GasResult[];

  before(async function () {
    baseline = JSON.parse(await readFile(new URL("../../reports/gas.json", import.meta.url), "utf8")) as GasResult[];
    const { ethers } = await network.create();
    current = (await runBenchmark(ethers)).results;
  });

  it("measures every scenario", function () {
    for (const scenario of SCENARIOS) {
      expect(
        current.some((r) => r.scenario === scenario && r.account === "reins"),
        scenario,
      ).to.equal(true);
    }
  });

  it("no Reins scenario uses more than 1% more gas than the committed baseline", function () {
    const rows = compareResults(baseline, current);
    const regressed = rows.filter((r) => r.regressed);
    expect(regressed, "\n" + renderComparison(rows)).to.deep.equal([]);
  });

  it("is deterministic: a second run gives identical numbers", async function () {
    const { ethers } = await network.create();
    const again = (await runBenchmark(ethers)).results;
    expect(again).to.deep.equal(current);
  });
});

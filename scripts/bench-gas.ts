/**
 * `npm run bench:gas`: Reins against SimpleAccount v0.8, one UserOperation per bundle, on a fresh in-process
 * chain. Writes `reports/gas.json` (the numbers the regression gate compares with) and `reports/gas.md` (table,
 * ratios, targets and a per-call gas breakdown of every transaction). `BENCH_OUT=dir` writes elsewhere.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { network } from "hardhat";
import { runBenchmark } from "./bench/gas.js";
import { renderMarkdown } from "./bench/report.js";

const outDir = process.env.BENCH_OUT ?? "reports";
const { ethers } = await network.create();
const out = await runBenchmark(ethers, { breakdown: true, log: (l) => console.log(l) });
await mkdir(outDir, { recursive: true });
await writeFile(path.join(outDir, "gas.json"), JSON.stringify(out.results, null, 2) + "\n");
await writeFile(path.join(outDir, "gas.md"), renderMarkdown(out));
console.log(`\nwrote ${path.join(outDir, "gas.json")} and ${path.join(outDir, "gas.md")}`);

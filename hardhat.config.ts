import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { configVariable, defineConfig } from "hardhat/config";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import type { HookContext } from "hardhat/types/hooks";
import type { CompilationJob, CompilerOutput, CompilerOutputError } from "hardhat/types/solidity";

const require = createRequire(import.meta.url);

/** One pinned compiler, taken from the `solc` npm package (this machine cannot download compilers). */
const SOLC_VERSION = "0.8.28";
const solcPath = require.resolve("solc/soljson.js");

/**
 * AgentSessions is the largest contract: compiled through the IR pipeline with runs 200 it is 20 kB (24.4 kB
 * with the legacy pipeline, close to the 24,576-byte limit). The rest is optimised for gas.
 */
/**
 * No metadata hash in the bytecode: Hardhat groups sources into compilation jobs whose remappings (part of the
 * metadata) depend on what else is built, so with the hash the same contract could get other bytecode, hence
 * another CREATE2 address, on a clean build than on an incremental one.
 */
const noMetadataHash = { bytecodeHash: "none", appendCBOR: false } as const;

const irPipeline = {
  version: SOLC_VERSION,
  path: solcPath,
  settings: { evmVersion: "cancun", viaIR: true, optimizer: { enabled: true, runs: 200 }, metadata: noMetadataHash },
};
const sizeSensitive: Record<string, typeof irPipeline> = {
  "contracts/modules/AgentSessions.sol": irPipeline,
  "contracts/modules/AgentSessionsAdmin.sol": irPipeline,
  "contracts/modules/CircuitBreaker.sol": irPipeline,
};

const compilerSettings = {
  evmVersion: "cancun",
  optimizer: { enabled: true, runs: 10_000 },
  viaIR: false,
  metadata: noMetadataHash,
};

// Test contracts (Solidity tests, harnesses, mocks) compile in a job of their own: in one job with everything else
// (and the EntryPoint simulations), a clean build made solc's wasm run out of memory (HHE908). The settings differ
// only in `debug.revertStrings: "default"`, which is the default: the bytecode is the same.
const testSources = ["contracts/test", "contracts/mocks"].flatMap((dir) =>
  readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".sol"))
    .map((f) => `${dir}/${f}`),
);
const testJob = {
  version: SOLC_VERSION,
  path: solcPath,
  settings: { ...compilerSettings, debug: { revertStrings: "default" } },
};
for (const f of testSources) sizeSensitive[f] ??= testJob;

/** Testnets: RPC URL and deployer key come from Hardhat's keystore or environment (configVariable), never from the repo. */
function testnet(name: string, chainId: number) {
  return {
    type: "http" as const,
    chainType: "l1" as const,
    chainId,
    url: configVariable(`${name}_RPC_URL`),
    accounts: [configVariable("REINS_DEPLOYER_KEY")],
  };
}

/**
 * Compiler warnings, each once and only about the build that is deployed. Hardhat compiles a source in every job
 * that imports it, and prints each job's warnings: the same warning of a production contract came out 2-3 times,
 * plus a "code size exceeds 24576 bytes" for AgentSessions built with the legacy pipeline as a dependency of the
 * Solidity invariant test (its own job, through the IR pipeline, is 20 kB). This drops (1) a warning already printed
 * in this run and (2) a size warning about a file that is not a root of the job (the file's own job reports its real
 * size). Every other warning of every contract is still printed.
 */
const warningsOnce = {
  id: "reins-warnings-once",
  hookHandlers: {
    solidity: async () => ({
      default: async () => {
        const printed = new Set<string>();
        const file = (text: string) => /-->\s+(?:\.\/)?(\S+?\.sol)/.exec(text)?.[1];
        return {
          getCompilationJobErrors: async (
            context: HookContext,
            job: Readonly<CompilationJob>,
            output: Readonly<CompilerOutput>,
            next: (
              c: HookContext,
              j: Readonly<CompilationJob>,
              o: Readonly<CompilerOutput>,
            ) => Promise<CompilerOutputError[]>,
          ) => {
            const roots = new Set([...job.dependencyGraph.getRoots().keys()].map((r) => r.replace(/^\.\//, "")));
            return (await next(context, job, output)).filter((e) => {
              if (e.severity === "error") return true;
              const text = e.formattedMessage ?? e.message;
              const where = file(text);
              if (/^Warning: Contract (code|initcode) size is/.test(text) && where && !roots.has(where)) return false;
              if (printed.has(text)) return false;
              printed.add(text);
              return true;
            });
          },
        };
      },
    }),
  },
};

/**
 * `--coverage` builds every root file in its own compilation job (`isolated`). The instrumented sources of all
 * roots in one job made solcjs (the wasm compiler, the only one this machine can install) run out of memory
 * ("RuntimeError: memory access out of bounds", HHE908) on a clean build; one root at a time stays within it.
 * Normal builds keep the merged jobs (faster, same bytecode: no metadata hash).
 */
const isolatedBuilds = process.argv.includes("--coverage");

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers, warningsOnce],
  solidity: {
    profiles: {
      default: {
        isolated: isolatedBuilds,
        compilers: [{ version: SOLC_VERSION, path: solcPath, settings: compilerSettings }],
        overrides: sizeSensitive,
      },
      production: {
        compilers: [{ version: SOLC_VERSION, path: solcPath, settings: compilerSettings }],
        overrides: sizeSensitive,
      },
    },
    npmFilesToBuild: [
      "@account-abstraction/contracts/core/EntryPointSimulations.sol",
      "@account-abstraction/contracts/accounts/SimpleAccountFactory.sol",
      "@account-abstraction/contracts/interfaces/IEntryPoint.sol",
    ],
  },
  paths: {
    tests: { mocha: "test", solidity: "contracts/test" },
  },
  /** `npm run coverage`: only production contracts are instrumented (mocks and Solidity test utilities are not). */
  coverage: { skipFiles: ["contracts/mocks/**", "contracts/test/**"] },
  test: {
    mocha: { timeout: 120_000 },
    /**
     * Solidity test profiles: `default` (CI, `npm test`): 1,000 fuzz and invariant runs; `deep`
     * (`npm run test:deep`, i.e. `hardhat test solidity --test-profile deep`): 10,000 of each.
     */
    solidity: {
      profiles: {
        default: { fuzz: { runs: 1000 }, invariant: { runs: 1000 } },
        deep: { fuzz: { runs: 10_000 }, invariant: { runs: 10_000, depth: 100 } },
      },
    },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
    /**
     * `npm run deploy:localhost`: any local node, at `REINS_RPC_URL` (default 127.0.0.1:8545), e.g. the one
     * `reins dev` prints; signs with `REINS_DEPLOYER_KEY` when set, else with the node's own accounts.
     */
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env.REINS_RPC_URL ?? "http://127.0.0.1:8545",
      accounts: process.env.REINS_DEPLOYER_KEY ? [process.env.REINS_DEPLOYER_KEY] : "remote",
    },
    sepolia: testnet("SEPOLIA", 11155111),
    baseSepolia: testnet("BASE_SEPOLIA", 84532),
    opSepolia: testnet("OP_SEPOLIA", 11155420),
    arbitrumSepolia: testnet("ARBITRUM_SEPOLIA", 421614),
  },
});

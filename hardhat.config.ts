import { createRequire } from "node:module";
import { configVariable, defineConfig } from "hardhat/config";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";

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
const sizeSensitive = {
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

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: {
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
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    sepolia: testnet("SEPOLIA", 11155111),
    baseSepolia: testnet("BASE_SEPOLIA", 84532),
    opSepolia: testnet("OP_SEPOLIA", 11155420),
    arbitrumSepolia: testnet("ARBITRUM_SEPOLIA", 421614),
  },
});

/**
 * The options and help of `reins dev` (kept out of main.ts so the command list stays short to merge).
 */
import type { OptionSpec } from "../args.js";

/** `reins dev`'s own options (the global --deployments and --json apply too). */
export const DEV_OPTIONS: Record<string, OptionSpec> = {
  "chain-id": {
    type: "string",
    value: "<id>",
    help: "chain id of the anvil chain (default 31337; e.g. 84532 for Base Sepolia)",
  },
  port: { type: "string", value: "<port>", help: "anvil's port on 127.0.0.1 (default 8545; 0 = any free port)" },
  "bundler-port": {
    type: "string",
    value: "<port>",
    help: "Alto's port on 127.0.0.1 (default 4337; 0 = any free port)",
  },
  // Not "--env-file": Node itself reads --env-file anywhere on its command line (node bin/reins.mjs …).
  "write-env": {
    type: "string",
    value: "<file>",
    help: "also write the export lines to this file (mode 600), to source elsewhere",
  },
};

/** `reins dev --help` details. */
export const DEV_DETAILS = [
  "Starts anvil (@foundry-rs/anvil) and Alto (@pimlico/alto) as separate process groups on 127.0.0.1, installs",
  "EntryPoint v0.8 and the deterministic-deployment proxy, deploys Reins at its CREATE2 addresses and a test token",
  "(TUSD, 6 decimals), funds fresh keys, writes <deployments>/<chainId>.json (default folder ./.reins-dev) and",
  "prints `export` lines (REINS_RPC_URL, REINS_BUNDLER_URL, REINS_DEPLOYMENTS, REINS_TOKENS, REINS_*_KEY).",
  "The keys are throwaway dev keys, printed because they are: never use them on a real network.",
  "Runs until Ctrl-C (SIGINT/SIGTERM): then anvil and Alto are stopped, nothing is left running. A port in use",
  "exits 2 before anything starts. Needs the repository's devDependencies (a checkout after npm ci) and compiled",
  "artifacts (npx hardhat compile).",
  "Example: reins dev --chain-id 84532 --write-env .reins-dev/env   # then, in another shell: source .reins-dev/env",
].join("\n");

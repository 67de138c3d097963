/**
 * Deploy Reins: `npx hardhat run deploy/deploy.ts [--network <name>]`.
 *
 * Uses the network's first signer (on testnets: `REINS_DEPLOYER_KEY`, from Hardhat's keystore or the
 * environment). Deterministic and idempotent: the addresses are the same on every chain, contracts already
 * deployed are skipped, and `deployments/<chainId>.json` (or `$REINS_DEPLOYMENTS/<chainId>.json`) only changes when
 * an address does. `--network localhost` is the node at `REINS_RPC_URL` (default http://127.0.0.1:8545).
 */
import { artifacts, network } from "hardhat";
import { deployReins } from "../src/deploy/deploy.js";

const STAKE_UNSUPPORTED =
  "REINS_STAKE_FACTORY is set, but ReinsAccountFactory has no addStake: EntryPoint stake belongs to msg.sender, " +
  "so only the factory itself could stake. Unset it (see the README's Deploy section)";

async function main(): Promise<void> {
  if (process.env.REINS_STAKE_FACTORY) throw new Error(STAKE_UNSUPPORTED);
  const { ethers, networkName } = await network.getOrCreate();
  const [signer] = await ethers.getSigners();
  if (!signer) throw new Error(`network ${networkName} has no accounts: set REINS_DEPLOYER_KEY (keystore or env)`);
  const deployer = await signer.getAddress();
  console.log(`Reins deploy on ${networkName} from ${deployer}`);

  const result = await deployReins(signer, {
    artifacts,
    log: (line) => console.log(`  ${line}`),
    ...(process.env.REINS_DEPLOYMENTS ? { deploymentsDir: process.env.REINS_DEPLOYMENTS } : {}),
  });

  console.log(`\nchain ${result.chainId}: ${result.deployed.length} deployed, ${result.skipped.length} already there`);
  console.table(
    Object.entries(result.addresses).map(([name, address]) => ({
      contract: name,
      address,
      status: result.deployed.includes(name as never) ? "deployed" : "skipped",
      gas: result.gasUsed[name as keyof typeof result.gasUsed]?.toString() ?? "",
    })),
  );
  console.log(`EntryPoint v0.8 ${result.entryPoint}`);
  if (result.file) console.log(`record: ${result.file}`);
}

try {
  await main();
} catch (e) {
  console.error(`deploy failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}

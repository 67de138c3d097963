/**
 * `reins dev`: a local rehearsal of a testnet deployment. Starts anvil (a separate chain process, chain id of
 * choice) and the Alto bundler on loopback, deploys Reins (deterministic CREATE2 addresses, EntryPoint v0.8 and the
 * deterministic-deployment proxy installed first) and a test token, funds fresh throwaway keys, writes the deployment
 * record and prints the environment to `source`. It runs until SIGINT/SIGTERM/SIGHUP, then stops both process
 * groups and exits 0; if anvil or Alto dies, it stops the other and exits 1.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  ContractFactory,
  JsonRpcProvider,
  Network,
  Wallet,
  formatUnits,
  getAddress,
  parseEther,
  toBeHex,
} from "ethers";
import { artifactsFromDirectory, deployReins } from "../../deploy/deploy.js";
import { buildPlan } from "../../deploy/plan.js";
import { MockERC20__factory } from "../../../types/ethers-contracts/index.js";
import { ENTRYPOINT_V08 } from "../../infra/singletons.js";
import { FailureError, UsageError } from "../errors.js";
import { LOOPBACK, ProcessGroup, checkPortFree, freePort, rpcCall, waitForRpc } from "../dev/processes.js";
import { altoCommand, anvilCommand, packageRoot, type ToolCommand } from "../dev/tools.js";
import type { DevInput } from "../input/dev.js";

/** Test token minted to the owner. */
const TOKEN = { name: "Test USD", symbol: "TUSD", decimals: 6, minted: 1_000_000n };
/** ETH each funded key gets. */
const FUNDING = { owner: "100", agent: "1", watchdog: "1", guardian: "1", sender: "10", deployer: "10", alto: "1000" };

/** A shell-safe `export NAME=value` line (values are URLs, paths, hex: single-quoted when needed). */
function exportLine(name: string, value: string): string {
  return /^[A-Za-z0-9_:/.,=@+-]+$/.test(value)
    ? `export ${name}=${value}`
    : `export ${name}='${value.replace(/'/g, `'\\''`)}'`;
}

/** `reins dev`. */
export async function dev(input: DevInput): Promise<number> {
  const root = packageRoot();
  const artifactsDir = path.join(root, "artifacts");
  const artifacts = artifactsFromDirectory(artifactsDir);
  // Everything that can be refused is refused before a process starts.
  await buildPlan(artifacts).catch((e: Error) => {
    throw new UsageError(e.message);
  });
  if (input.port !== 0) await checkPortFree(input.port, "--port");
  if (input.bundlerPort !== 0) await checkPortFree(input.bundlerPort, "--bundler-port");
  if (input.port !== 0 && input.port === input.bundlerPort) {
    throw new UsageError(`--port and --bundler-port are both ${input.port}`);
  }
  const rpcPort = input.port || (await freePort());
  let bundlerPort = input.bundlerPort || (await freePort());
  if (bundlerPort === rpcPort) bundlerPort = await freePort();
  const rpcUrl = `http://${LOOPBACK}:${rpcPort}`;
  const bundlerUrl = `http://${LOOPBACK}:${bundlerPort}`;
  const log = (line: string) => process.stderr.write(`reins dev: ${line}\n`);

  const groups: ProcessGroup[] = [];
  const killAll = () => groups.forEach((g) => g.kill());
  process.once("exit", killAll); // last resort: never leave a child behind
  const start = (name: string, cmd: ToolCommand) => {
    const g = new ProcessGroup(name, cmd.command, cmd.args, cmd.env, root);
    groups.push(g);
    return g;
  };
  const stopAll = async () => {
    await Promise.all(groups.map((g) => g.stop()));
  };

  // A signal during start-up stops everything too.
  let signalled: NodeJS.Signals | undefined;
  let wake: () => void = () => {};
  const stopRequested = new Promise<void>((done) => (wake = done));
  const onSignal = (s: NodeJS.Signals) => {
    signalled = s;
    wake();
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const s of signals) process.on(s, onSignal);

  let provider: JsonRpcProvider | undefined;
  try {
    log(`starting anvil (chain ${input.chainId}) on ${rpcUrl}`);
    const anvil = start("anvil", anvilCommand(root, rpcPort, input.chainId));
    await Promise.race([
      waitForRpc(anvil, rpcUrl, "eth_chainId", (r) => BigInt(String(r)) === input.chainId, 60_000),
      stopRequested,
    ]);
    if (signalled) return 0;

    provider = new JsonRpcProvider(rpcUrl, Network.from(input.chainId), {
      staticNetwork: true,
      batchMaxCount: 1,
      cacheTimeout: -1,
    });
    provider.pollingInterval = 100;
    const keys = {
      deployer: Wallet.createRandom(),
      owner: Wallet.createRandom(),
      agent: Wallet.createRandom(),
      watchdog: Wallet.createRandom(),
      guardian: Wallet.createRandom(),
      sender: Wallet.createRandom(),
      executor: Wallet.createRandom(),
      utility: Wallet.createRandom(),
    };
    const fund = async (address: string, eth: string) =>
      rpcCall(rpcUrl, "anvil_setBalance", [address, toBeHex(parseEther(eth))]);
    for (const [role, w] of Object.entries(keys)) {
      const eth = role === "executor" || role === "utility" ? FUNDING.alto : FUNDING[role as keyof typeof FUNDING];
      await fund(w.address, eth);
    }

    log("deploying Reins (deterministic addresses) and the test token");
    const deployer = keys.deployer.connect(provider);
    let result;
    try {
      result = await deployReins(deployer, { artifacts, deploymentsDir: input.deploymentsDir });
    } catch (e) {
      throw new FailureError(`deploy failed: ${(e as Error).message}`);
    }
    const token = await new MockERC20__factory(deployer).deploy(TOKEN.name, TOKEN.symbol, TOKEN.decimals);
    await token.waitForDeployment();
    const tokenAddress = getAddress(await token.getAddress());
    const minted = TOKEN.minted * 10n ** BigInt(TOKEN.decimals);
    await (await token.mint(keys.owner.address, minted)).wait();

    log(`starting Alto on ${bundlerUrl}`);
    const alto = start("alto", altoCommand(root, rpcUrl, bundlerPort, { executor: keys.executor.privateKey, utility: keys.utility.privateKey })); // prettier-ignore
    await Promise.race([
      waitForRpc(
        alto,
        bundlerUrl,
        "eth_supportedEntryPoints",
        (r) => Array.isArray(r) && r.some((ep) => String(ep).toLowerCase() === ENTRYPOINT_V08.toLowerCase()),
        90_000,
      ),
      stopRequested,
    ]);
    if (signalled) return 0;

    const env: [string, string][] = [
      ["REINS_RPC_URL", rpcUrl],
      ["REINS_BUNDLER_URL", bundlerUrl],
      ["REINS_DEPLOYMENTS", input.deploymentsDir],
      ["REINS_TOKENS", `${TOKEN.symbol}=${tokenAddress}`],
      ["REINS_OWNER_KEY", keys.owner.privateKey],
      ["REINS_AGENT_KEY", keys.agent.privateKey],
      ["REINS_WATCHDOG_KEY", keys.watchdog.privateKey],
      ["REINS_GUARDIAN_KEY", keys.guardian.privateKey],
      ["REINS_SENDER_KEY", keys.sender.privateKey],
      ["REINS_DEPLOYER_KEY", keys.deployer.privateKey],
    ];
    const exports = env.map(([k, v]) => exportLine(k, v));
    if (input.envFile) {
      mkdirSync(path.dirname(input.envFile), { recursive: true });
      writeFileSync(input.envFile, `${exports.join("\n")}\n`, { mode: 0o600 });
    }
    const addresses = Object.fromEntries(
      Object.entries(keys)
        .filter(([role]) => role !== "executor" && role !== "utility")
        .map(([role, w]) => [role, w.address]),
    );
    if (input.json) {
      process.stdout.write(
        `${JSON.stringify({
          event: "ready",
          chainId: Number(input.chainId),
          rpcUrl,
          bundlerUrl,
          entryPoint: ENTRYPOINT_V08,
          contracts: result.addresses,
          record: result.file,
          token: { symbol: TOKEN.symbol, address: tokenAddress, decimals: TOKEN.decimals },
          env: Object.fromEntries(env),
          addresses,
          pids: { anvil: anvil.pid, alto: alto.pid },
          ...(input.envFile ? { envFile: input.envFile } : {}),
        })}\n`,
      );
    } else {
      process.stdout.write(
        [
          `# reins dev: anvil chain ${input.chainId} on ${rpcUrl}, Alto (EntryPoint v0.8) on ${bundlerUrl}`,
          `# Reins deployed (record ${result.file}); ${TOKEN.symbol} ${tokenAddress} (${TOKEN.decimals} decimals)`,
          "# THROWAWAY DEV KEYS, generated for this run and printed only because they are: never use them, or this",
          "# output, on a real network.",
          ...exports,
          `# owner ${keys.owner.address}: ${FUNDING.owner} ETH, ${formatUnits(minted, TOKEN.decimals)} ${TOKEN.symbol}; ` +
            `agent ${keys.agent.address}, watchdog ${keys.watchdog.address}, guardian ${keys.guardian.address}: ` +
            `${FUNDING.agent} ETH each; sender ${keys.sender.address}: ${FUNDING.sender} ETH`,
          ...(input.envFile ? [`# also written to ${input.envFile} (source it in another shell)`] : []),
          `# anvil pid ${anvil.pid}, alto pid ${alto.pid}`,
          "# ready: Ctrl-C stops anvil and Alto",
          "",
        ].join("\n"),
      );
    }

    // Run until a signal, or until a child dies.
    const died = await Promise.race([
      stopRequested.then(() => undefined),
      ...groups.map((g) => g.closed.then((c) => ({ name: g.name, ...c, output: g.output() }))),
    ]);
    if (died && !signalled) {
      throw new FailureError(
        `${died.name} stopped (code ${died.code}, signal ${died.signal}): ${died.output}; stopped everything`,
      );
    }
    log(`${signalled}: stopping anvil and Alto`);
    return 0;
  } finally {
    provider?.destroy();
    await stopAll();
    for (const s of signals) process.off(s, onSignal);
    process.off("exit", killAll);
  }
}

/**
 * `reins console <account>`: serve the owner console on 127.0.0.1. The chain, the deployment record and the
 * tokens are found as every CLI command finds them (`--rpc` / REINS_RPC_URL, `deployments/<chainId>.json`,
 * `--token` / reins.config.json). Owner operations are signed in the browser wallet and sent through the
 * bundler (`--bundler` / REINS_BUNDLER_URL) or by `EntryPoint.handleOps` from a relayer key
 * (REINS_RELAYER_KEY, or `--relayer-key-env`); the console never holds the owner key. History (activity, spend,
 * requests, pending changes) comes from the SQLite event index (`--index`, default .reins-index.db, shared with
 * reins notify). Stops on SIGINT/SIGTERM.
 */
import { Wallet } from "ethers";
import { str, type Invocation } from "../cli/args.js";
import { CliContext } from "../cli/context.js";
import { UsageError } from "../cli/errors.js";
import { EventIndex } from "../indexer/index.js";
import { IndexedConsoleData } from "./indexData.js";
import { startConsole } from "./server.js";

/** Default port of `reins console`. */
export const DEFAULT_CONSOLE_PORT = 43370;

/** Parse `--port` (0 = a free port). */
export function parsePort(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_CONSOLE_PORT;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw new UsageError(`--port: expected 0..65535, got ${raw}`);
  return n;
}

/** `reins console`. */
export async function consoleCommand(inv: Invocation): Promise<number> {
  const port = parsePort(str(inv, "port"));
  const ctx = new CliContext(inv);
  const account = await ctx.account(inv.args.account);
  const { record, reins } = await ctx.deployment();
  const provider = await ctx.provider();
  let relayer: Wallet;
  if (ctx.bundlerUrl) relayer = new Wallet(Wallet.createRandom().privateKey, provider);
  else relayer = await ctx.key(str(inv, "relayer-key-env") ?? "REINS_RELAYER_KEY", "relayer (pays handleOps gas)");
  const sender = await ctx.sender(relayer);
  const tokens = (await ctx.knownTokens()).map((t) => ({ symbol: t.symbol, address: t.address }));
  const breaker = record.contracts.CircuitBreaker;
  // History from the shared SQLite event index (incremental; resumes after a restart), not a scan from block 0.
  const indexPath = str(inv, "index") ?? ".reins-index.db"; // the same default as reins notify / monitor --webhook
  const index = EventIndex.open({ path: indexPath, provider, deployment: record });
  const fromBlock = str(inv, "from-block") ?? "0";
  if (!/^\d+$/.test(fromBlock)) throw new UsageError(`--from-block: not a block number: ${fromBlock}`);
  index.follow(account, BigInt(fromBlock));
  await index.sync();
  const data = new IndexedConsoleData(index, provider, reins.timelock);
  let running;
  try {
    running = await startConsole({
      provider,
      deployment: { ...reins, breaker },
      account,
      sender,
      data,
      tokens,
      port,
      staticDir: str(inv, "static"),
    });
  } catch (e) {
    if ((e as { code?: string }).code === "EADDRINUSE")
      throw new UsageError(`--port ${port}: already in use (pass --port 0 for a free one)`);
    throw e;
  }
  const via = ctx.bundlerUrl ? `bundler ${ctx.bundlerUrl}` : `handleOps from relayer ${relayer.address}`;
  process.stdout.write(
    `reins console: ${running.url} (account ${account}, chain ${await ctx.chainId()}, owner operations via ${via})\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await running.close();
  index.close();
  ctx.close();
  return 0;
}

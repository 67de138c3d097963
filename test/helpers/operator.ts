/**
 * The set-up shared by the tests that drive Reins from another process (the `reins` CLI, the owner console):
 * Hardhat's in-process chain served over HTTP on a free loopback port, a connection to it with gas money for the
 * test's keys ({@link startHttpChain}); for the CLI tests also a temporary operator folder ({@link operatorFolder})
 * and the `reins` runners that check exit codes and one-line refusals ({@link operatorCli}).
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { parseEther, toBeHex } from "ethers";
import { runReins, type CliRun } from "./cli.js";

/** Hardhat's chain served over HTTP, and a Hardhat connection to it (for `hardhat_*` / `evm_*` calls). */
export interface HttpChain {
  /** The HTTP JSON-RPC server (in this process). */
  server: Awaited<ReturnType<typeof network.createServer>>;
  /** A connection to the server, as any other process sees the chain. */
  connection: Awaited<ReturnType<typeof network.create>>;
  /** `http://127.0.0.1:<port>`. */
  rpcUrl: string;
  /** Closes the connection, then the server; never throws. */
  close(): Promise<void>;
}

/**
 * Start Hardhat's default network as an HTTP server on 127.0.0.1 (port 0: a free one), connect to it, and give
 * each of `fund` a balance of `balance` (default 100 ETH) with `hardhat_setBalance`. On failure the server is
 * closed before the error is rethrown.
 */
export async function startHttpChain(
  fund: readonly { address: string }[] = [],
  balance: bigint = parseEther("100"),
): Promise<HttpChain> {
  const server = await network.createServer("default", "127.0.0.1", 0);
  let connection: HttpChain["connection"] | undefined;
  try {
    const { address, port } = await server.listen();
    const rpcUrl = `http://${address}:${port}`;
    connection = await network.create({ network: "localhost", chainType: "l1", override: { url: rpcUrl } });
    for (const w of fund) {
      await connection.ethers.provider.send("hardhat_setBalance", [w.address, toBeHex(balance)]);
    }
    const conn = connection;
    return {
      server,
      connection: conn,
      rpcUrl,
      close: async () => {
        await conn.close().catch(() => undefined);
        await server.close().catch(() => undefined);
      },
    };
  } catch (e) {
    await connection?.close().catch(() => undefined);
    await server.close().catch(() => undefined);
    throw e;
  }
}

/** A new temporary operator folder (`<tmp>/<prefix>XXXXXX`) whose `reins.config.json` declares `tokens`. */
export function operatorFolder(prefix: string, tokens: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, "reins.config.json"), JSON.stringify({ tokens }));
  return dir;
}

/** The contract addresses of the operator folder's deployment record for chain 31337 (after `reins deploy`). */
export function deployedContracts(dir: string): Record<string, string> {
  const file = join(dir, "deployments", "31337.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { contracts: Record<string, string> }).contracts;
}

/** Where {@link operatorCli} runs `reins`; functions, so a test can build the runners before its `before` hook. */
export interface OperatorCliOptions {
  /** The operator folder (the working directory). */
  dir: () => string;
  /** The environment every run gets (keys, RPC URL). */
  env: () => Record<string, string>;
  /** The chain's current block number (a refusal must not add a block). */
  block: () => Promise<number>;
}

/** `reins` runners for one operator folder; each takes extra environment variables for that run. */
export interface OperatorCli {
  /** Run `reins …` as a child process in the operator folder. */
  reins(args: string[], extraEnv?: Record<string, string>): Promise<CliRun>;
  /** {@link OperatorCli.reins}, expecting exit 0. */
  ok(args: string[], extraEnv?: Record<string, string>): Promise<CliRun>;
  /** {@link OperatorCli.ok} with `--json` appended; returns the parsed stdout. */
  json<T = Record<string, unknown>>(args: string[], extraEnv?: Record<string, string>): Promise<T>;
  /**
   * The command fails with `code`, exactly one line on stderr that starts with `reins: ` and matches `pattern`,
   * and no new block (nothing sent). Returns that line.
   */
  refused(args: string[], code: number, pattern: RegExp, extraEnv?: Record<string, string>): Promise<string>;
}

/** The `reins` runners of {@link OperatorCli} for the folder, environment and chain that `options` name. */
export function operatorCli(options: OperatorCliOptions): OperatorCli {
  const reins = (args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> =>
    runReins(args, { cwd: options.dir(), env: { ...options.env(), ...extraEnv } });
  const ok = async (args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> => {
    const r = await reins(args, extraEnv);
    expect(r.code, `reins ${args.join(" ")}\n${r.stderr}`).to.equal(0);
    return r;
  };
  return {
    reins,
    ok,
    json: async <T = Record<string, unknown>>(args: string[], extraEnv: Record<string, string> = {}) =>
      JSON.parse((await ok([...args, "--json"], extraEnv)).stdout) as T,
    refused: async (args, code, pattern, extraEnv = {}) => {
      const before = await options.block();
      const r = await reins(args, extraEnv);
      const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
      expect(lines, `reins ${args.join(" ")}: stderr`).to.have.length(1);
      expect(lines[0]).to.match(/^reins: /);
      expect(lines[0]).to.match(pattern);
      expect(r.code, `reins ${args.join(" ")}: ${lines[0]}`).to.equal(code);
      expect(await options.block(), "no transaction").to.equal(before);
      return lines[0];
    },
  };
}

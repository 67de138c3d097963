/**
 * Real-bundler test environment: Hardhat's in-process chain served over HTTP on loopback, the canonical
 * EntryPoint v0.8 on it, and the Alto bundler (`@pimlico/alto`) running as a child process against it.
 *
 * Every server listens on 127.0.0.1 with an OS-chosen port. Alto hard-codes `0.0.0.0`, so it is started with
 * `scripts/loopback-preload.cjs` preloaded, which pins wildcard listens to loopback. The child is spawned as
 * the leader of its own process group; `stop()` (and, as a backstop, process exit or a fatal signal) kills the
 * whole group, and `scripts/parent-watchdog.cjs` makes Alto exit on its own if this process is SIGKILLed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { Wallet, toBeHex, parseEther } from "ethers";
import { ENTRYPOINT_V08, ensureEntryPoint } from "../../src/infra/singletons.js";
import { WaitTimeoutError, waitFor } from "./wait.js";

const require = createRequire(import.meta.url);
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const LOOPBACK = "127.0.0.1";
/** The hardfork caps a transaction at 2^24 gas; bundles must stay below it. */
const MAX_GAS_PER_BUNDLE = 15_000_000n;

/** Raised when Alto does not come up; carries the tail of its output. */
export class BundlerStartError extends Error {
  override readonly name = "BundlerStartError" as const;
  constructor(
    message: string,
    readonly outputTail: string,
  ) {
    super(`${message}\n--- alto output (tail) ---\n${outputTail || "(none)"}`);
  }
}

/** Options for {@link startBundlerEnv}. */
export interface BundlerEnvOptions {
  /** How long to wait for Alto to answer `eth_supportedEntryPoints` (default 60 s). */
  readyTimeoutMs?: number;
  /** Number of executor (bundle-submitting) wallets Alto gets (default 1). */
  executors?: number;
  /** Extra Alto CLI flags, `name → value` without the leading dashes; a name given here replaces the default. */
  extraArgs?: Record<string, string>;
}

type Conn = NetworkConnection<"l1">;

/** A running chain + bundler pair. */
export interface BundlerEnv {
  /** Hardhat network connection to the served chain (over HTTP, so it sees what Alto does). */
  connection: Conn;
  ethers: Conn["ethers"];
  provider: Conn["ethers"]["provider"];
  chainId: bigint;
  entryPoint: string;
  /** Chain JSON-RPC endpoint (Hardhat's in-process chain served on loopback). */
  rpcUrl: string;
  /** Alto's JSON-RPC endpoint. */
  bundlerUrl: string;
  /** Alto's process id (leader of its own process group). */
  bundlerPid: number;
  /** The last lines Alto wrote to stdout/stderr. */
  bundlerOutput(): string;
  /** Stop Alto (whole process group) and the chain server. Idempotent. */
  stop(): Promise<void>;
}

/** Keeps the last `max` lines written by the child, for error reports. */
class OutputTail {
  private lines: string[] = [];
  constructor(private readonly max = 80) {}
  push(chunk: Buffer | string): void {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      this.lines.push(line);
    }
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }
  toString(): string {
    return this.lines.join("\n");
  }
}

/* ----------------------------------------------------------------------------------------------------------
 * Child-process bookkeeping: every Alto we start is recorded until it exits, and killed on process exit.
 * -------------------------------------------------------------------------------------------------------- */

const liveChildren = new Set<ChildProcess>();
let exitHooksInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // negative pid: the whole process group (child is its leader)
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on("exit", () => {
    for (const child of liveChildren) killGroup(child, "SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      for (const child of liveChildren) killGroup(child, "SIGKILL");
      // Re-raise with the default disposition when nobody else handles it, so the process still terminates.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

/** SIGTERM the child's process group, then SIGKILL it if it has not exited within `graceMs`. */
async function terminate(child: ChildProcess, graceMs = 3_000): Promise<void> {
  killGroup(child, "SIGTERM");
  if (!(await waitForExit(child, graceMs))) {
    killGroup(child, "SIGKILL");
    await waitForExit(child, graceMs);
  }
  liveChildren.delete(child);
}

/* ---------------------------------------------------------------------------------------------------------- */

/** A TCP port the OS reports free on loopback right now. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", fail);
    srv.listen(0, LOOPBACK, () => {
      const address = srv.address();
      if (address === null || typeof address === "string") {
        srv.close();
        fail(new Error("could not read the port of a loopback socket"));
        return;
      }
      srv.close(() => done(address.port));
    });
  });
}

/** Absolute path of Alto's CLI entry, read from its package.json `bin`. */
export function altoEntry(): string {
  let dir = dirname(require.resolve("@pimlico/alto"));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as {
        name?: string;
        bin?: string | Record<string, string>;
      };
      if (pkg.name === "@pimlico/alto") {
        const bin = typeof pkg.bin === "string" ? pkg.bin : pkg.bin?.alto;
        if (!bin) throw new Error("@pimlico/alto has no `alto` bin entry");
        return join(dir, bin);
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("could not find @pimlico/alto's package.json");
    dir = parent;
  }
}

async function rpc(url: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

async function waitUntilReady(url: string, child: ChildProcess, out: OutputTail, timeoutMs: number): Promise<void> {
  let lastError = "no answer yet";
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new BundlerStartError(
            `alto exited early (code ${child.exitCode}, signal ${child.signalCode})`,
            String(out),
          );
        }
        try {
          const eps = (await rpc(url, "eth_supportedEntryPoints", [], 1_000)) as string[];
          if (eps.some((ep) => ep.toLowerCase() === ENTRYPOINT_V08.toLowerCase())) return true;
          lastError = `eth_supportedEntryPoints answered ${JSON.stringify(eps)}`;
        } catch (e) {
          lastError = (e as Error).message;
        }
        return false;
      },
      { what: "alto to serve EntryPoint v0.8", timeoutMs, intervalMs: 100 },
    );
  } catch (e) {
    if (e instanceof WaitTimeoutError) {
      throw new BundlerStartError(`alto not ready after ${timeoutMs} ms (${lastError})`, String(out));
    }
    throw e;
  }
}

/**
 * Start a fresh chain and an Alto bundler for it. The chain is Hardhat's in-process simulated network, served
 * on an OS-chosen loopback port; the deterministic-deployment proxy and EntryPoint v0.8 are installed on it.
 * Alto gets freshly generated utility and executor keys funded with `hardhat_setBalance`.
 *
 * Always call `stop()` (e.g. in a mocha `after` hook); process exit kills a forgotten Alto as a backstop.
 */
export async function startBundlerEnv(options: BundlerEnvOptions = {}): Promise<BundlerEnv> {
  installExitHooks();
  const server = await network.createServer("default", LOOPBACK, 0);
  const { address, port: rpcPort } = await server.listen();
  const rpcUrl = `http://${address}:${rpcPort}`;
  let child: ChildProcess | undefined;
  let connection: Conn | undefined;

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c) await terminate(c);
    const conn = connection;
    connection = undefined;
    if (conn) await conn.close();
    await server.close().catch(() => undefined);
  };

  try {
    connection = await network.create({ network: "localhost", chainType: "l1", override: { url: rpcUrl } });
    const { ethers } = connection;
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const [deployer] = await ethers.getSigners();
    await ensureEntryPoint(deployer);

    const utility = Wallet.createRandom();
    const executors = Array.from({ length: options.executors ?? 1 }, () => Wallet.createRandom());
    for (const w of [utility, ...executors]) {
      await ethers.provider.send("hardhat_setBalance", [w.address, toBeHex(parseEther("1000"))]);
    }

    const bundlerPort = await freeLoopbackPort();
    const bundlerUrl = `http://${LOOPBACK}:${bundlerPort}`;
    const flags: Record<string, string> = {
      entrypoints: ENTRYPOINT_V08,
      "rpc-url": rpcUrl,
      port: String(bundlerPort),
      "executor-private-keys": executors.map((w) => w.privateKey).join(","),
      "utility-private-key": utility.privateKey,
      "safe-mode": "false", // Hardhat has no JS tracers, so ERC-7562 rule checks cannot run
      "block-time": "100",
      "min-bundle-interval": "50",
      "max-bundle-interval": "200",
      "max-gas-per-bundle": MAX_GAS_PER_BUNDLE.toString(),
      "enable-debug-endpoints": "true",
      "expiration-check": "false",
      "utility-wallet-monitor": "false",
      "refilling-wallets": "false",
      "log-level": "info",
      "public-client-log-level": "warn",
      "wallet-client-log-level": "warn",
      "rpc-log-level": "warn",
      ...options.extraArgs,
    };
    const args = [altoEntry(), ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v])];

    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith("ALTO_") || key === "SENTRY_DSN") delete env[key];
    env.NODE_OPTIONS = ["loopback-preload.cjs", "parent-watchdog.cjs"]
      .map((f) => `--require ${join(REPO_ROOT, "scripts", f)}`)
      .join(" ");
    env.REINS_PARENT_PID = String(process.pid); // Alto exits by itself if this process dies without cleanup
    env.DOTENV_CONFIG_PATH = "/dev/null"; // never pick up a stray .env from the working directory

    const out = new OutputTail();
    const spawned = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env,
      detached: true, // own process group, so the whole tree can be killed at once
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = spawned;
    liveChildren.add(spawned);
    spawned.once("exit", () => liveChildren.delete(spawned));
    spawned.stdout?.on("data", (d: Buffer) => out.push(d));
    spawned.stderr?.on("data", (d: Buffer) => out.push(d));
    const spawnFailed = new Promise<never>((_, fail) =>
      spawned.once("error", (e) => fail(new BundlerStartError(`could not spawn alto: ${e.message}`, String(out)))),
    );

    await Promise.race([waitUntilReady(bundlerUrl, spawned, out, options.readyTimeoutMs ?? 60_000), spawnFailed]);
    const bundlerPid = spawned.pid;
    if (bundlerPid === undefined) throw new BundlerStartError("alto has no pid", String(out));

    return {
      connection,
      ethers,
      provider: ethers.provider,
      chainId,
      entryPoint: ENTRYPOINT_V08,
      rpcUrl,
      bundlerUrl,
      bundlerPid,
      bundlerOutput: () => String(out),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

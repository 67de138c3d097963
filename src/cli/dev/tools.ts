/**
 * Where `reins dev` finds its tools and how it starts them: anvil (`@foundry-rs/anvil`) and the Alto bundler
 * (`@pimlico/alto`), both devDependencies of this repository, and the two preloads of `scripts/` that keep Alto
 * on loopback and make it exit when `reins dev` dies without cleaning up.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ENTRYPOINT_V08 } from "../../infra/singletons.js";
import { UsageError } from "../errors.js";
import { LOOPBACK } from "./processes.js";

const require = createRequire(import.meta.url);

/** The hardfork caps a transaction at 2^24 gas; bundles stay below it. */
const MAX_GAS_PER_BUNDLE = 15_000_000n;

/** The repository (or package) root: the nearest folder up whose package.json is `reins`. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "reins") {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new UsageError("reins dev: cannot find the reins package root");
    dir = parent;
  }
}

/** The folder of an installed npm package (found from its main entry: some packages do not export package.json). */
function packageDir(name: string): string {
  let dir: string;
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    /* not exported: walk up from the main entry */
  }
  try {
    dir = path.dirname(require.resolve(name));
  } catch {
    throw new UsageError(
      `reins dev needs ${name} (a devDependency of the reins repository: run it from a checkout after npm ci)`,
    );
  }
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === name) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new UsageError(`cannot find the package.json of ${name}`);
    dir = parent;
  }
}

/** The entry script of an npm package's `bin`. */
function binEntry(name: string, bin: string): string {
  const dir = packageDir(name);
  const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
    bin?: string | Record<string, string>;
  };
  const rel = typeof pkg.bin === "string" ? pkg.bin : pkg.bin?.[bin];
  if (!rel) throw new UsageError(`${name} has no \`${bin}\` bin entry`);
  return path.join(dir, rel);
}

/** A preload of the repository's `scripts/` folder. */
function preload(root: string, file: string): string {
  const p = path.join(root, "scripts", file);
  if (!existsSync(p)) throw new UsageError(`reins dev needs ${p} (run it from a reins checkout)`);
  return p;
}

/** The environment of a tool: no stray ALTO_* / .env settings; the parent watchdog armed. */
function toolEnv(root: string, preloads: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("ALTO_") || key === "SENTRY_DSN") delete env[key];
  env.NODE_OPTIONS = preloads.map((f) => `--require ${preload(root, f)}`).join(" ");
  env.REINS_PARENT_PID = String(process.pid); // the tool exits by itself if reins dev is SIGKILLed
  env.DOTENV_CONFIG_PATH = "/dev/null";
  return env;
}

/** What to spawn. */
export interface ToolCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * anvil through its Node wrapper (which runs the platform binary): the wrapper leads the process group and
 * carries the parent watchdog, so a SIGKILLed `reins dev` still takes anvil down.
 */
export function anvilCommand(root: string, port: number, chainId: bigint): ToolCommand {
  return {
    command: process.execPath,
    args: [
      binEntry("@foundry-rs/anvil", "anvil"),
      "--host",
      LOOPBACK,
      "--port",
      String(port),
      "--chain-id",
      chainId.toString(),
      "--accounts",
      "0", // no well-known funded mnemonic accounts: reins dev funds fresh keys
    ],
    env: { ...toolEnv(root, ["parent-watchdog.cjs"]), TARGET_TOOL: "anvil" },
  };
}

/** Keys Alto signs bundles with (funded by `reins dev`). */
export interface AltoKeys {
  executor: string;
  utility: string;
}

/** Alto against `rpcUrl` for EntryPoint v0.8, on loopback (the preload pins Alto's wildcard listen). */
export function altoCommand(root: string, rpcUrl: string, port: number, keys: AltoKeys): ToolCommand {
  const flags: Record<string, string> = {
    entrypoints: ENTRYPOINT_V08,
    "rpc-url": rpcUrl,
    port: String(port),
    "executor-private-keys": keys.executor,
    "utility-private-key": keys.utility,
    "safe-mode": "false", // anvil has no JS tracers: the ERC-7562 checks run in `npm run check:7562`
    "block-time": "100",
    "min-bundle-interval": "50",
    "max-bundle-interval": "200",
    "max-gas-per-bundle": MAX_GAS_PER_BUNDLE.toString(),
    "expiration-check": "false",
    "utility-wallet-monitor": "false",
    "refilling-wallets": "false",
    "log-level": "warn",
    "public-client-log-level": "warn",
    "wallet-client-log-level": "warn",
    "rpc-log-level": "warn",
  };
  return {
    command: process.execPath,
    args: [binEntry("@pimlico/alto", "alto"), ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v])],
    env: toolEnv(root, ["loopback-preload.cjs", "parent-watchdog.cjs"]),
  };
}

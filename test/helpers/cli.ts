/**
 * Run `reins` (bin/reins.mjs) as a separate process, the way an operator does: one helper for the CLI tests and
 * the end-to-end test. Every child is tracked until it closes; {@link killAllCli} (in an `after` hook) kills
 * what is left. Results resolve on `'close'` (not `'exit'`), so stdout and stderr are complete.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The `reins` launcher. */
export const REINS_BIN = join(REPO_ROOT, "bin", "reins.mjs");

/** Outcome of one `reins` run. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Where and with what environment `reins` runs. */
export interface CliOptions {
  /** Working directory (the operator folder). */
  cwd: string;
  /** Variables added to `process.env`. */
  env?: Record<string, string>;
  /** Variables removed from the child's environment (default: `REINS_BUNDLER_URL`, so tests pick their transport). */
  unset?: string[];
  /** SIGKILL after this long (default 60 s). */
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();
const closing = new WeakMap<ChildProcess, Promise<number | null>>();

function childEnv(options: CliOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...(options.env ?? {}) };
  for (const name of options.unset ?? ["REINS_BUNDLER_URL"]) {
    if (!(options.env && name in options.env)) delete env[name];
  }
  return env;
}

/**
 * Start `reins …` and return the child (stdout/stderr piped). For long-running commands (`monitor`, `dev`);
 * `detached` makes it the leader of its own process group.
 */
export function spawnReins(args: string[], options: CliOptions & { detached?: boolean }): ChildProcess {
  const child = spawn(process.execPath, [REINS_BIN, ...args], {
    cwd: options.cwd,
    env: childEnv(options),
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached ?? false,
  });
  live.add(child);
  closing.set(
    child,
    new Promise((done) =>
      child.once("close", (code) => {
        live.delete(child);
        done(code);
      }),
    ),
  );
  return child;
}

/** Run `reins …` to completion. */
export function runReins(args: string[], options: CliOptions): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawnReins(args, options);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.once("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** The non-empty lines of a stream's text. */
export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

/** Collects a child's stdout as JSON lines (for `reins monitor`). */
export function jsonLines(child: ChildProcess): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let buffer = "";
  child.stdout!.on("data", (d: Buffer) => {
    buffer += d.toString("utf8");
    let i;
    while ((i = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (line.trim()) out.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  return out;
}

/** Resolves with the exit code once the child has closed its streams. */
export function closed(child: ChildProcess): Promise<number | null> {
  const p = closing.get(child);
  if (!p) throw new Error("closed(): not a child started by spawnReins");
  return p;
}

/** SIGKILL every `reins` child still running (its process group when it leads one). */
export function killAllCli(): void {
  for (const child of live) {
    if (child.pid === undefined) continue;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  }
}

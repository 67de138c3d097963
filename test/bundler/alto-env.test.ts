/**
 * The real-bundler harness itself: it must not leave processes or servers behind, must fail loudly with
 * Alto's own output when Alto cannot start, and Alto must not outlive a test runner that was killed.
 */
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { BundlerStartError, startBundlerEnv } from "../helpers/alto.js";

const SCRIPTS = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "scripts");

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

async function refuses(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: "POST", body: "{}", signal: AbortSignal.timeout(2_000) });
    return false;
  } catch {
    return true;
  }
}

describe("real-bundler harness", function () {
  this.timeout(60_000);

  it("serves chain and bundler on loopback and stop() removes both, and Alto's process", async () => {
    const env = await startBundlerEnv();
    try {
      expect(new URL(env.rpcUrl).hostname).to.equal("127.0.0.1");
      expect(new URL(env.bundlerUrl).hostname).to.equal("127.0.0.1");
      expect(alive(env.bundlerPid)).to.equal(true);
    } finally {
      await env.stop();
    }
    expect(alive(env.bundlerPid)).to.equal(false);
    expect(await refuses(env.bundlerUrl)).to.equal(true);
    expect(await refuses(env.rpcUrl)).to.equal(true);
    await env.stop(); // idempotent
  });

  it("reports a failed start with the tail of Alto's output", async () => {
    let err: unknown;
    try {
      await startBundlerEnv({ extraArgs: { "log-level": "not-a-level" }, readyTimeoutMs: 20_000 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(BundlerStartError);
    const e = err as BundlerStartError;
    expect(e.name).to.equal("BundlerStartError");
    expect(e.message).to.match(/exited early/);
    expect(e.outputTail).to.match(/not-a-level/);
  });

  it("parent-watchdog preload ends a helper whose parent died without cleanup", async () => {
    // Stand-in parent that we kill with SIGKILL, as a crashed test runner would be.
    const parent = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
    const helper = spawn(process.execPath, ["-e", "setInterval(() => {}, 1_000)"], {
      stdio: "ignore",
      env: {
        ...process.env,
        NODE_OPTIONS: `--require ${join(SCRIPTS, "parent-watchdog.cjs")}`,
        REINS_PARENT_PID: String(parent.pid),
      },
    });
    try {
      await new Promise((r) => setTimeout(r, 700));
      expect(alive(helper.pid!)).to.equal(true); // the watchdog leaves it alone while the parent lives
      parent.kill("SIGKILL");
      expect(await eventually(() => helper.exitCode !== null || helper.signalCode !== null, 5_000)).to.equal(true);
    } finally {
      parent.kill("SIGKILL");
      helper.kill("SIGKILL");
    }
  });
});

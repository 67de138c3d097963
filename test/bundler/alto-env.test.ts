/**
 * The real-bundler harness itself: it must not leave processes or servers behind, must fail loudly with
 * Alto's own output when Alto cannot start, and Alto must not outlive a test runner that was killed.
 */
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { BundlerStartError, startBundlerEnv } from "../helpers/alto.js";
import { waitFor } from "../helpers/wait.js";

const SCRIPTS = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "scripts");

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function refuses(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: "POST", body: "{}", signal: AbortSignal.timeout(2_000) });
    return false;
  } catch {
    return true;
  }
}

describe("real-bundler harness", function () {
  this.timeout(120_000); // above the 60 s deadline of each wait

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
      await startBundlerEnv({ extraArgs: { "log-level": "not-a-level" }, readyTimeoutMs: 60_000 });
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
    // The helper reports each liveness probe the watchdog makes (`process.kill(parent, 0)`) on stdout, so the
    // test can see the watchdog at work instead of sleeping and hoping it ran.
    const helperCode = [
      "const kill = process.kill.bind(process);",
      "process.kill = (pid, signal) => {",
      "  if (signal === 0) process.stdout.write('probe ' + pid + '\\n');",
      "  return kill(pid, signal);",
      "};",
      "setInterval(() => {}, 1_000);",
    ].join("\n");
    const helper = spawn(process.execPath, ["-e", helperCode], {
      stdio: ["ignore", "pipe", "ignore"],
      env: {
        ...process.env,
        NODE_OPTIONS: `--require ${join(SCRIPTS, "parent-watchdog.cjs")}`,
        REINS_PARENT_PID: String(parent.pid),
      },
    });
    try {
      let out = "";
      helper.stdout!.on("data", (d: Buffer) => (out += d.toString("utf8")));
      const probes = () => out.split("\n").filter((l) => l === `probe ${parent.pid}`).length;
      const helperExited = () => helper.exitCode !== null || helper.signalCode !== null;
      // the watchdog probes the live parent twice and leaves the helper alone
      await waitFor(
        () => {
          if (helperExited()) throw new Error("the helper exited while its parent was alive");
          return probes() >= 2;
        },
        { what: "two parent-liveness probes by the watchdog" },
      );
      expect(alive(helper.pid!)).to.equal(true);
      parent.kill("SIGKILL");
      await waitFor(helperExited, { what: "the helper to end after its parent was killed" });
    } finally {
      parent.kill("SIGKILL");
      helper.kill("SIGKILL");
    }
  });
});

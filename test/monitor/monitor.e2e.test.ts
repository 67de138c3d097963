/**
 * End to end: Hardhat's in-process chain served over HTTP on loopback, a Reins account with a payments session
 * and a funded watchdog, and the monitor CLI (`scripts/monitor.ts`) running as a separate process.
 *
 * 1. A spend spike pauses the account; the detection latency is measured and printed.
 * 2. The monitor is SIGKILLed, the owner unpauses and the agent pays again; restarted on the same state file the
 *    monitor processes the events in between and does not pause a second time for the old alert.
 * 3. SIGTERM: exit code 0 with the state saved.
 * 4. An unreachable RPC is retried with backoff and logged; the process stays alive.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { network } from "hardhat";
import { JsonRpcProvider, Wallet, parseEther, toBeHex } from "ethers";
import { freeLoopbackPort } from "../helpers/alto.js";
import { waitFor } from "../helpers/wait.js";
import {
  agentOp,
  deploySessionWorld,
  grant,
  ownerCalls,
  paymentsConfig,
  sendAgent,
  transferCall,
  type SessionWorld,
} from "../helpers/sessions.js";
import { addressTopic } from "../../src/monitor/decode.js";
import { JsonLogger } from "../../src/monitor/log.js";
import { ReinsMonitor } from "../../src/monitor/monitor.js";
import { loadState, saveState } from "../../src/monitor/state.js";
import { resolveRules } from "../../src/monitor/rules.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(REPO_ROOT, "scripts", "monitor.ts");
const TUSD = 10n ** 6n;

type Line = { ts: string; level: string; event: string; [k: string]: unknown };

/** A monitor child process and the JSON lines it wrote. */
class MonitorProcess {
  readonly lines: Line[] = [];
  readonly stderr: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...env,
        // The monitor exits by itself if this test process dies without cleanup.
        REINS_PARENT_PID: String(process.pid),
        NODE_OPTIONS: `--require ${join(REPO_ROOT, "scripts", "parent-watchdog.cjs")}`,
      },
      detached: true, // own process group: kill the whole tree
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(this);
    let buf = "";
    this.child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString("utf8");
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(text) as Line);
        } catch {
          this.stderr.push(`(non-JSON stdout) ${text}`);
        }
      }
    });
    this.child.stderr!.on("data", (d: Buffer) => this.stderr.push(d.toString("utf8")));
    this.exited = new Promise((done) =>
      this.child.once("exit", (code, signal) => {
        live.delete(this);
        done({ code, signal });
      }),
    );
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  events(name: string): Line[] {
    return this.lines.filter((l) => l.event === name);
  }

  /** Poll until `pred` holds; fails at once if the monitor exits, or after `timeoutMs` with its last lines. */
  async waitFor(pred: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      () => {
        if (pred()) return true;
        if (!this.alive) throw new Error(`monitor exited while waiting for ${what}: ${this.stderr.join("")}`);
        return false;
      },
      { what, timeoutMs, detail: () => this.tail() },
    );
  }

  /** The last JSON lines and stderr, for failure messages. */
  tail(): string {
    const last = this.lines.slice(-10).map((l) => JSON.stringify(l));
    return `last lines:\n${last.join("\n")}\n${this.stderr.join("")}`;
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.alive || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      this.child.kill(signal);
    }
  }
}

const live = new Set<MonitorProcess>();

/** `lastBlock` of a monitor state file (-1 while it does not exist or cannot be read). */
function savedLastBlock(path: string): number {
  try {
    const lastBlock = (JSON.parse(readFileSync(path, "utf8")) as { lastBlock: number | null }).lastBlock;
    return lastBlock ?? -1;
  } catch {
    return -1;
  }
}

describe("monitor (end to end, separate process)", function () {
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let connection: Awaited<ReturnType<typeof network.create>>;
  let rpcUrl: string;
  let w: SessionWorld;
  let sessionId: string;
  let stateDir: string;
  const watchdog = Wallet.createRandom();

  before(async function () {
    server = await network.createServer("default", "127.0.0.1", 0);
    const { address, port } = await server.listen();
    rpcUrl = `http://${address}:${port}`;
    connection = await network.create({ network: "localhost", chainType: "l1", override: { url: rpcUrl } });
    const { ethers } = connection;
    w = await deploySessionWorld(ethers);
    sessionId = await grant(w, await paymentsConfig(w));
    await ownerCalls(w, {
      target: w.sessionsAddress,
      data: w.sessions.interface.encodeFunctionData("setWatchdog", [watchdog.address, true]),
    });
    await ethers.provider.send("hardhat_setBalance", [watchdog.address, toBeHex(parseEther("10"))]);
    stateDir = mkdtempSync(join(tmpdir(), "reins-monitor-e2e-"));
  });

  after(async function () {
    for (const m of [...live]) {
      m.kill("SIGKILL");
      await m.exited;
    }
    await connection?.close();
    await server?.close().catch(() => undefined);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  const pay = async (amount: bigint, to = w.recipients[0]) => {
    const { events, receipt } = await sendAgent(w, [await agentOp(w, sessionId, transferCall(w, to, amount * TUSD))]);
    expect(events[0].success, events[0].revertReason).to.equal(true);
    return receipt.hash;
  };
  const isPaused = () => w.sessions.isPaused(w.accountAddress);
  const pausedEvents = async () =>
    (
      await connection.ethers.provider.getLogs({
        address: w.sessionsAddress,
        topics: [w.sessions.interface.getEvent("Paused").topicHash, addressTopic(w.accountAddress)],
        fromBlock: 0,
      })
    ).length;
  const monitorArgs = (statePath: string, from: number) => [
    "--account", w.accountAddress,
    "--sessions", w.sessionsAddress,
    "--timelock", String(w.timelock.target),
    "--rpc", rpcUrl,
    "--state", statePath,
    "--poll-ms", "100",
    "--from-block", String(from),
  ]; // prettier-ignore

  it("pauses on a spend spike, resumes after SIGKILL without pausing twice, exits 0 on SIGTERM", async function () {
    const statePath = join(stateDir, "state.json");
    const env = { REINS_WATCHDOG_KEY: watchdog.privateKey };
    const from = (await connection.ethers.provider.getBlockNumber()) + 1;

    // Regular history: three payments of 10 TUSD to the same recipient.
    const history = [await pay(10n), await pay(10n), await pay(10n)];
    const first = new MonitorProcess(monitorArgs(statePath, from), env);
    await first.waitFor(
      () => history.every((h) => first.events("saw").some((l) => l.txHash === h)),
      "the monitor to see the history",
    );
    expect(first.events("alert")).to.have.length(0);
    expect(await isPaused()).to.equal(false);

    // The spike: 90 TUSD (instant tier, inside every on-chain limit) is 9× the mean.
    const t0 = performance.now();
    const spikeTx = await pay(90n);
    const spikeBlock = (await connection.ethers.provider.getTransactionReceipt(spikeTx))!.blockNumber;
    await waitFor(isPaused, { what: "the spike to pause the account", intervalMs: 10, detail: () => first.tail() });
    const latencyMs = performance.now() - t0;
    console.log(`      detection latency (spike tx mined → account paused): ${latencyMs.toFixed(0)} ms (poll 100 ms)`);
    expect(latencyMs).to.be.below(5_000);
    await first.waitFor(() => first.events("paused").length === 1, "the paused log line");
    const paused = first.events("paused")[0];
    expect(paused.rule).to.equal("spend-spike");
    expect(paused.numbers).to.include({ amount: (90n * TUSD).toString(), mean: (10n * TUSD).toString() });
    expect(paused.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(await pausedEvents()).to.equal(1);

    // SIGKILL: no cleanup at all. Then the owner unpauses and the agent pays normally twice.
    first.kill("SIGKILL");
    await first.exited;
    const { event: unpause } = await ownerCalls(w, {
      target: w.sessionsAddress,
      data: w.sessions.interface.encodeFunctionData("unpause"),
    });
    expect(unpause.success).to.equal(true);
    const between = [await pay(10n), await pay(12n)];
    const state = JSON.parse(readFileSync(statePath, "utf8")) as { alerts: { id: string; action: string }[] };
    expect(state.alerts.map((a) => a.action)).to.deep.equal(["paused"]);
    expect(state.alerts[0].id).to.include(spikeTx);

    // Restart on the same state file. Had it replayed the spike as new, it would pause the (now unpaused) account.
    const second = new MonitorProcess(monitorArgs(statePath, from), env);
    await second.waitFor(
      () => between.every((h) => second.events("saw").some((l) => l.txHash === h && l.replay === false)),
      "the restarted monitor to see the events in between",
    );
    expect(second.events("saw").some((l) => l.name === "Unpaused")).to.equal(true);
    const head = await connection.ethers.provider.getBlockNumber();
    await second.waitFor(() => second.events("range").some((l) => Number(l.toBlock) >= head), "catch-up");
    // A few more polls: mine empty blocks one by one and wait until the monitor has processed each (it saves
    // its cursor after every range), so three complete polls after the catch-up found nothing to act on.
    for (let i = 0; i < 3; i++) {
      await connection.ethers.provider.send("evm_mine", []);
      const block = await connection.ethers.provider.getBlockNumber();
      await second.waitFor(() => savedLastBlock(statePath) >= block, `the monitor to process block ${block}`);
    }
    expect(second.events("paused")).to.have.length(0);
    expect(second.events("alert")).to.have.length(0);
    expect(await pausedEvents()).to.equal(1);
    expect(await isPaused()).to.equal(false);
    expect(second.events("saw").filter((l) => l.txHash === history[0])).to.have.length(0); // no rescan from `from`
    const resumedFrom = second.events("start")[0].resumeFrom as number;
    console.log(
      `      restart: resumed after block ${resumedFrom} (spike in block ${spikeBlock}); saw ${second.events("saw").length} events, ` +
        `${second.events("alert-skipped").length} alert(s) skipped as already handled, Paused events on chain: ${await pausedEvents()}`,
    );

    // SIGTERM: state persisted, exit code 0.
    second.kill("SIGTERM");
    const exit = await second.exited;
    expect(exit.code).to.equal(0);
    const saved = JSON.parse(readFileSync(statePath, "utf8")) as { lastBlock: number };
    expect(saved.lastBlock).to.be.at.least(head);
    expect(second.events("stopped")).to.have.length(1);
  });

  it("replays a range whose pause was already sent without acting again", async function () {
    const saved = loadState(join(stateDir, "state.json"), w.accountAddress);
    const spike = saved.alerts[0];
    const spikeAt = saved.window.findIndex((e) => e.txHash === spike.txHash);
    expect(spikeAt).to.be.greaterThan(0);
    // A: what a crash right after the pause leaves (alert recorded, spike in the window, cursor before it).
    // B: the cursor and window from before the spike (e.g. an older copy of the file), alert still recorded.
    const cases = {
      crashAfterPause: { ...saved, lastBlock: spike.blockNumber - 1, window: saved.window.slice(0, spikeAt + 1) },
      olderWindow: { ...saved, lastBlock: spike.blockNumber - 1, window: saved.window.slice(0, spikeAt) },
    };
    for (const [name, state] of Object.entries(cases)) {
      const path = join(stateDir, `${name}.json`);
      saveState(path, state);
      const lines: Line[] = [];
      const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
      try {
        const monitor = new ReinsMonitor({
          provider,
          account: w.accountAddress,
          sessions: w.sessionsAddress,
          timelock: String(w.timelock.target),
          watchdog: new Wallet(watchdog.privateKey),
          statePath: path,
          logger: new JsonLogger((l) => lines.push(l as Line)),
        });
        while (await monitor.pollOnce()) {
          /* catch up */
        }
        const sawSpike = lines.find((l) => l.event === "saw" && l.txHash === spike.txHash);
        expect(sawSpike?.replay, name).to.equal(name === "crashAfterPause");
        if (name === "olderWindow")
          expect(
            lines.filter((l) => l.event === "alert-skipped"),
            name,
          ).to.have.length(1);
        expect(
          lines.filter((l) => l.event === "paused" || l.event === "alert"),
          name,
        ).to.have.length(0);
        expect(await pausedEvents(), name).to.equal(1);
        expect(await isPaused(), name).to.equal(false);
        expect(monitor.snapshot().alerts, name).to.have.length(1);
      } finally {
        provider.destroy();
      }
    }
  });

  it("decodes real OperationQueued events: approval-tier requests pause the account", async function () {
    const path = join(stateDir, "approval.json");
    const lines: Line[] = [];
    const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    try {
      const monitor = new ReinsMonitor({
        provider,
        account: w.accountAddress,
        sessions: w.sessionsAddress,
        timelock: String(w.timelock.target),
        watchdog: new Wallet(watchdog.privateKey),
        statePath: path,
        rules: resolveRules({ approvalBurst: { count: 3 } }),
        logger: new JsonLogger((l) => lines.push(l as Line)),
      });
      await monitor.pollOnce(); // cursor at the head
      for (let i = 0; i < 2; i++) await pay(1_500n); // above the 1,000 ceiling: approval tier
      while (await monitor.pollOnce()) {
        /* catch up */
      }
      expect(lines.filter((l) => l.event === "saw" && l.name === "OperationQueued" && l.tier === 2)).to.have.length(2);
      expect(await isPaused()).to.equal(false); // two is one below the threshold
      await pay(1_500n);
      while (await monitor.pollOnce()) {
        /* catch up */
      }
      const paused = lines.filter((l) => l.event === "paused");
      expect(paused.map((l) => l.rule)).to.deep.equal(["approval-burst"]);
      expect(await isPaused()).to.equal(true);
      expect(await pausedEvents()).to.equal(2);
    } finally {
      provider.destroy();
    }
  });

  it("retries an unreachable RPC with backoff and stays alive", async function () {
    const port = await freeLoopbackPort(); // nothing listens there
    const m = new MonitorProcess(
      [
        "--account", w.accountAddress,
        "--sessions", w.sessionsAddress,
        "--timelock", String(w.timelock.target),
        "--rpc", `http://127.0.0.1:${port}`,
        "--state", join(stateDir, "unreachable.json"),
      ], // prettier-ignore
      { REINS_WATCHDOG_KEY: watchdog.privateKey },
    );
    // Four failed attempts: the three backoff delays below were all taken and the process went on retrying.
    await m.waitFor(() => m.events("rpc-error").length >= 4, "four rpc-error lines");
    expect(m.alive, m.stderr.join("")).to.equal(true);
    const errors = m.events("rpc-error");
    expect(errors.length).to.be.at.least(3);
    const delays = errors.map((l) => Number(l.delayMs));
    expect(delays.slice(0, 3)).to.deep.equal([250, 500, 1000]);
    expect(errors.map((l) => Number(l.attempt)).slice(0, 3)).to.deep.equal([1, 2, 3]);
    m.kill("SIGKILL");
    await m.exited;
  });

  it("rejects bad input with one line and exit code 2", async function () {
    const m = new MonitorProcess(
      ["--account", "0x1234", "--sessions", w.sessionsAddress, "--timelock", String(w.timelock.target)],
      { REINS_WATCHDOG_KEY: watchdog.privateKey },
    );
    const exit = await m.exited;
    expect(exit.code).to.equal(2);
    expect(m.stderr.join("").trim()).to.equal("reins-monitor: --account: not an address: 0x1234");
    const noKey = new MonitorProcess(
      ["--account", w.accountAddress, "--sessions", w.sessionsAddress, "--timelock", String(w.timelock.target)],
      { REINS_WATCHDOG_KEY: "" },
    );
    expect((await noKey.exited).code).to.equal(2);
    expect(noKey.stderr.join("")).to.include("REINS_WATCHDOG_KEY");
  });
});

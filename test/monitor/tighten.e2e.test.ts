/**
 * End to end, in process: a Reins account with a security delay, a payments session, a `RiskEngineEnvelope`
 * accepted as grant delegate after the delay, and a `ReinsMonitor` (as a library) holding the watchdog and the
 * risk-engine keys, talking JSON-RPC to Hardhat's chain served on loopback.
 *
 * 1. `response: "tighten"`: a spend spike halves the session's budget on chain and does not pause; the agent
 *    keeps paying; a replay of the range (restart) and a crash right after the tighten was sent act only once.
 * 2. `response: "tighten-then-pause"`: the first spike tightens, a second one on the same session pauses.
 * 3. The engine key cannot raise a budget.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { JsonRpcProvider, Wallet, parseEther, toBeHex } from "ethers";
import type { RiskEngineEnvelope } from "../../types/ethers-contracts/index.js";
import { RiskEngineEnvelope__factory } from "../../types/ethers-contracts/index.js";
import {
  DAY,
  agentOp,
  deploySessionWorld,
  ownerCalls,
  paymentsConfig,
  sendAgent,
  transferCall,
  type SessionWorld,
} from "../helpers/sessions.js";
import { JsonLogger } from "../../src/monitor/log.js";
import { ReinsMonitor } from "../../src/monitor/monitor.js";
import { loadState, saveState } from "../../src/monitor/state.js";
import { resolveRules } from "../../src/monitor/rules.js";

const TUSD = 10n ** 6n;
const DELAY = 3600n;

type Line = { ts: string; level: string; event: string; [k: string]: unknown };

describe("monitor tightens budgets through the risk-engine key (end to end, in process)", function () {
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let connection: Awaited<ReturnType<typeof network.create>>;
  let rpcUrl: string;
  let provider: JsonRpcProvider;
  let w: SessionWorld;
  let envelope: RiskEngineEnvelope;
  let envelopeAddress: string;
  let sessionId: string;
  let stateDir: string;
  const watchdog = Wallet.createRandom();
  const engine = Wallet.createRandom();

  before(async function () {
    server = await network.createServer("default", "127.0.0.1", 0);
    const { address, port } = await server.listen();
    rpcUrl = `http://${address}:${port}`;
    connection = await network.create({ network: "localhost", chainType: "l1", override: { url: rpcUrl } });
    const { ethers } = connection;
    provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    w = await deploySessionWorld(ethers, DELAY);
    envelope = (await ethers.deployContract("RiskEngineEnvelope", [
      w.sessionsAddress,
    ])) as unknown as RiskEngineEnvelope;
    envelopeAddress = await envelope.getAddress();
    for (const key of [watchdog, engine]) {
      await ethers.provider.send("hardhat_setBalance", [key.address, toBeHex(parseEther("10"))]);
    }
    const base = await paymentsConfig(w);
    const grantData = w.sessions.interface.encodeFunctionData("grantSession", [base]);
    const delegateData = w.sessions.interface.encodeFunctionData("setGrantDelegate", [envelopeAddress, true]);
    const { event } = await ownerCalls(w, [
      { target: w.sessionsAddress, data: grantData }, // loosening: waits the security delay
      { target: w.sessionsAddress, data: delegateData }, // loosening: waits the security delay
      {
        target: envelopeAddress,
        data: envelope.interface.encodeFunctionData("setEnvelope", [
          engine.address,
          { maxDuration: 7n * DAY, maxUses: 100n, maxGasBudget: 10n ** 18n, maxGasCostPerOp: 10n ** 16n },
          [w.tokenAddress, ...w.recipients],
          base.budgets,
        ]),
      },
      {
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("setWatchdog", [watchdog.address, true]),
      },
    ]);
    expect(event.success, event.revertReason).to.equal(true);
    expect(await w.sessions.isGrantDelegate(envelopeAddress, w.accountAddress)).to.equal(false); // not yet
    await ethers.provider.send("evm_increaseTime", [Number(DELAY) + 1]);
    await ethers.provider.send("evm_mine", []);
    const receipt = (await (await w.sessions.applyChange(w.accountAddress, grantData)).wait())!;
    sessionId = receipt.logs.map((l) => w.sessions.interface.parseLog(l)).find((p) => p?.name === "SessionGranted")!
      .args.sessionId as string;
    await (await w.sessions.applyChange(w.accountAddress, delegateData)).wait();
    expect(await w.sessions.isGrantDelegate(envelopeAddress, w.accountAddress)).to.equal(true);
    stateDir = mkdtempSync(join(tmpdir(), "reins-monitor-tighten-"));
  });

  after(async function () {
    provider?.destroy();
    await connection?.close();
    await server?.close().catch(() => undefined);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  const pay = async (amount: bigint, to = w.recipients[0]) => {
    const { events, receipt } = await sendAgent(w, [await agentOp(w, sessionId, transferCall(w, to, amount * TUSD))]);
    expect(events[0].success, events[0].revertReason).to.equal(true);
    return receipt.hash;
  };
  const budget = async () => {
    const [b] = await w.sessions.budgetOf(sessionId, w.accountAddress, w.tokenAddress);
    return {
      instantThreshold: b.instantThreshold,
      ceiling: b.ceiling,
      periodCap: b.periodCap,
      lifetimeCap: b.lifetimeCap,
      period: b.period,
    };
  };
  const tightenEvents = async () =>
    (
      await provider.getLogs({
        address: w.sessionsAddress,
        topics: [w.sessions.interface.getEvent("BudgetSet").topicHash],
        fromBlock: 0,
      })
    ).length;
  const monitorFor = (statePath: string, rulesInput: unknown, lines: Line[]) =>
    new ReinsMonitor({
      provider,
      account: w.accountAddress,
      sessions: w.sessionsAddress,
      timelock: String(w.timelock.target),
      watchdog: new Wallet(watchdog.privateKey),
      engine: { key: new Wallet(engine.privateKey), envelope: envelopeAddress },
      statePath,
      rules: resolveRules(rulesInput),
      logger: new JsonLogger((l) => lines.push(l as Line)),
    });
  const catchUp = async (m: ReinsMonitor) => {
    while (await m.pollOnce()) {
      /* catch up */
    }
  };
  const of = (lines: Line[], event: string) => lines.filter((l) => l.event === event);

  it("tighten: a spend spike halves the session's budget on chain and does not pause", async function () {
    const statePath = join(stateDir, "tighten.json");
    const lines: Line[] = [];
    const m = monitorFor(statePath, { spendSpike: { response: "tighten" } }, lines);
    await m.pollOnce(); // cursor at the head
    expect(of(lines, "not-engine")).to.have.length(0);
    const original = await budget();
    expect(original.instantThreshold).to.equal(100n * TUSD);
    const setsBefore = await tightenEvents();

    for (let i = 0; i < 3; i++) await pay(10n);
    await catchUp(m);
    expect(of(lines, "alert")).to.have.length(0);

    const spike = await pay(90n); // 9× the mean, inside every on-chain limit
    const t0 = performance.now();
    await catchUp(m);
    const ms = performance.now() - t0;
    console.log(`      spike mined → budget tightened on chain: ${ms.toFixed(0)} ms (one pollOnce loop)`);

    const tightened = of(lines, "tightened");
    expect(tightened).to.have.length(1);
    const t = tightened[0];
    expect(t).to.include({ rule: "spend-spike", sessionId, token: w.tokenAddress });
    expect(t.txHash).to.match(/^0x[0-9a-f]{64}$/);
    const str = (b: Awaited<ReturnType<typeof budget>>) =>
      Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v.toString()]));
    expect(t.before).to.deep.equal(str(original));
    const halved = {
      instantThreshold: 50n * TUSD,
      ceiling: 500n * TUSD,
      periodCap: 1_000n * TUSD,
      lifetimeCap: 5_000n * TUSD,
      period: DAY,
    };
    expect(t.after).to.deep.equal(str(halved));
    expect(await budget()).to.deep.equal(halved); // on chain
    expect(await w.sessions.isPaused(w.accountAddress)).to.equal(false);
    expect(of(lines, "paused")).to.have.length(0);
    expect(await tightenEvents()).to.equal(setsBefore + 1);
    const rec = m.snapshot().alerts;
    expect(rec.map((a) => a.action)).to.deep.equal(["tightened"]);
    expect(rec[0].id).to.equal(`spend-spike:${spike}:${rec[0].id.split(":")[2]}`);

    // The account keeps running under the tighter budget: 40 TUSD is instant (≤ 50).
    await pay(40n);
    await catchUp(m);
    expect(of(lines, "tightened")).to.have.length(1);

    // Restart on a state whose cursor is before the spike (older copy of the file): the spike is re-evaluated,
    // the alert id is known, nothing is tightened again.
    const saved = loadState(statePath, w.accountAddress);
    const spikeAt = saved.window.findIndex((e) => e.txHash === spike);
    for (const [name, window] of Object.entries({
      replayedWindow: saved.window,
      olderWindow: saved.window.slice(0, spikeAt),
    })) {
      const path = join(stateDir, `restart-${name}.json`);
      saveState(path, { ...saved, lastBlock: rec[0].blockNumber - 1, window });
      const again: Line[] = [];
      await catchUp(monitorFor(path, { spendSpike: { response: "tighten" } }, again));
      expect(of(again, "tightened"), name).to.have.length(0);
      expect(of(again, "paused"), name).to.have.length(0);
      expect(await budget(), name).to.deep.equal(halved);
    }

    // Crash after the tighten transaction was sent but before it was recorded as done: the restart sees the
    // chain already at the budget it meant to set, marks it done and sends nothing.
    const crashed = { ...saved, lastBlock: rec[0].blockNumber - 1 };
    crashed.alerts = crashed.alerts.map((a) => ({ ...a, action: "tighten-pending" as const }));
    const crashPath = join(stateDir, "crash-pending.json");
    saveState(crashPath, crashed);
    const recovered: Line[] = [];
    const m2 = monitorFor(crashPath, { spendSpike: { response: "tighten" } }, recovered);
    await catchUp(m2);
    const r = of(recovered, "tightened");
    expect(r).to.have.length(1);
    expect(r[0]).to.include({ recovered: true, txHash: t.txHash });
    expect(m2.snapshot().alerts.map((a) => a.action)).to.deep.equal(["tightened"]);
    expect(await tightenEvents()).to.equal(setsBefore + 1);
    expect(await budget()).to.deep.equal(halved);
  });

  it("tighten-then-pause: the first spike tightens, a second spike on the same session pauses", async function () {
    const lines: Line[] = [];
    const rules = { spendSpike: { factor: 2, lookback: 3, response: "tighten-then-pause", escalateWithinSec: 3600 } };
    const m = monitorFor(join(stateDir, "escalate.json"), rules, lines);
    await m.pollOnce();
    for (let i = 0; i < 3; i++) await pay(10n);
    await pay(20n); // 2× the mean: tighten, 50 → 25 instant
    await catchUp(m);
    expect(of(lines, "tightened")).to.have.length(1);
    expect((await budget()).instantThreshold).to.equal(25n * TUSD);
    expect(await w.sessions.isPaused(w.accountAddress)).to.equal(false);

    for (let i = 0; i < 3; i++) await pay(10n);
    await pay(20n); // the same session again, within the hour
    await catchUp(m);
    expect(of(lines, "tightened")).to.have.length(1); // not tightened again
    expect(of(lines, "response").map((l) => l.reason)).to.deep.equal(["escalated"]);
    const paused = of(lines, "paused");
    expect(paused.map((l) => l.rule)).to.deep.equal(["spend-spike"]);
    expect(await w.sessions.isPaused(w.accountAddress)).to.equal(true);
    expect((await budget()).instantThreshold).to.equal(25n * TUSD);
    expect(m.snapshot().alerts.map((a) => a.action)).to.deep.equal(["tightened", "paused"]);
  });

  it("the engine key cannot raise a budget", async function () {
    const asEngine = RiskEngineEnvelope__factory.connect(envelopeAddress, engine.connect(provider));
    const current = await budget();
    const higher = { token: w.tokenAddress, ...current, periodCap: current.periodCap + 1n };
    await expect(asEngine.tighten(w.accountAddress, sessionId, higher)).to.be.revertedWithCustomError(
      w.sessions,
      "AgentSessionsInvalidConfig",
    );
    const longer = { token: w.tokenAddress, ...current, period: current.period + 1n };
    await expect(asEngine.tighten(w.accountAddress, sessionId, longer)).to.be.revertedWithCustomError(
      w.sessions,
      "AgentSessionsInvalidConfig",
    );
    expect(await budget()).to.deep.equal(current);
  });
});

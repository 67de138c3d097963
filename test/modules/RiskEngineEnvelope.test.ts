import { expect } from "chai";
import { network } from "hardhat";
import type { RiskEngineEnvelope } from "../../types/ethers-contracts/index.js";
import { randomWallet } from "../helpers/reins.js";
import {
  DAY,
  agentOp,
  deploySessionWorld,
  ownerCalls,
  paymentsConfig,
  sendAgent,
  transferCall,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const DELAY = 3600n;

async function engineWorld() {
  const w = await deploySessionWorld(ethers, DELAY);
  const envelope = (await ethers.deployContract("RiskEngineEnvelope", [
    w.sessionsAddress,
  ])) as unknown as RiskEngineEnvelope;
  const envelopeAddress = await envelope.getAddress();
  const [, , , , , , engine] = await ethers.getSigners();
  const base = await paymentsConfig(w);
  const caps = base.budgets;
  await ownerCalls(w, [
    {
      target: w.sessionsAddress,
      data: w.sessions.interface.encodeFunctionData("setGrantDelegate", [envelopeAddress, true]),
    },
    {
      target: envelopeAddress,
      data: envelope.interface.encodeFunctionData("setEnvelope", [
        engine.address,
        { maxDuration: 7n * DAY, maxUses: 100n, maxGasBudget: 10n ** 18n, maxGasCostPerOp: 10n ** 16n },
        [w.tokenAddress, ...w.recipients],
        caps,
      ]),
    },
  ]);
  // accepting a delegate and an envelope are loosening: they wait the security delay
  await networkHelpers.time.increase(DELAY + 1n);
  const setData = w.sessions.interface.encodeFunctionData("setGrantDelegate", [envelopeAddress, true]);
  await w.sessions.applyChange(w.accountAddress, setData);
  return { w, envelope, engine, base };
}

describe("RiskEngineEnvelope (automated grants)", () => {
  it("the engine grants inside the envelope; the agent can use the session at once", async () => {
    const { w, envelope, engine, base } = await networkHelpers.loadFixture(engineWorld);
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const config = { ...base, validUntil: now + 2n * DAY, maxUses: 10n };
    const id = await envelope.connect(engine).grant.staticCall(w.accountAddress, config);
    await (await envelope.connect(engine).grant(w.accountAddress, config)).wait();
    const { events } = await sendAgent(w, [await agentOp(w, id, transferCall(w, w.recipients[0], 5n))]);
    expect(events[0].success).to.equal(true);
  });

  it("is refused outside the envelope: duration, uses, target, budget, flags", async () => {
    const { w, envelope, engine, base } = await networkHelpers.loadFixture(engineWorld);
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const ok = { ...base, validUntil: now + DAY, maxUses: 10n };
    const cases: [string, typeof ok][] = [
      ["validUntil", { ...ok, validUntil: now + 30n * DAY }],
      ["maxUses", { ...ok, maxUses: 1000n }],
      ["flags", { ...ok, allowPaymaster: true }],
      ["target", { ...ok, permissions: [{ ...ok.permissions[1], target: randomWallet().address }] }],
      ["budget", { ...ok, budgets: [{ ...ok.budgets[0], periodCap: BigInt(ok.budgets[0].periodCap) + 1n }] }],
    ];
    for (const [field, config] of cases) {
      await expect(envelope.connect(engine).grant(w.accountAddress, config))
        .to.be.revertedWithCustomError(envelope, "RiskEngineEnvelopeExceeded")
        .withArgs(field);
    }
    // a stranger is not an engine
    await expect(envelope.connect(w.core.stranger).grant(w.accountAddress, ok)).to.be.revertedWithCustomError(
      envelope,
      "RiskEngineUnauthorized",
    );
  });

  it("tightens any session at once, cannot loosen, cannot unpause or move funds", async () => {
    const { w, envelope, engine, base } = await networkHelpers.loadFixture(engineWorld);
    // a session the owner granted (behind the security delay)
    const grantData = w.sessions.interface.encodeFunctionData("grantSession", [base]);
    await ownerCalls(w, { target: w.sessionsAddress, data: grantData });
    await networkHelpers.time.increase(DELAY + 1n);
    const tx = await w.sessions.applyChange(w.accountAddress, grantData);
    const receipt = (await tx.wait())!;
    const granted = receipt.logs
      .map((l) => w.sessions.interface.parseLog(l))
      .find((p) => p?.name === "SessionGranted")!;
    const id = granted.args.sessionId as string;
    const lower = { ...base.budgets[0], periodCap: 10n, lifetimeCap: 10n, ceiling: 10n, instantThreshold: 10n };
    await (await envelope.connect(engine).tighten(w.accountAddress, id, lower)).wait();
    const [budget] = await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress);
    expect(budget.periodCap).to.equal(10n);
    const higher = { ...lower, periodCap: 11n };
    await expect(envelope.connect(engine).tighten(w.accountAddress, id, higher)).to.be.revertedWithCustomError(
      w.sessions,
      "AgentSessionsInvalidConfig",
    );
    // the engine cannot renew a session it did not grant, and cannot unpause
    await expect(envelope.connect(engine).renew(w.accountAddress, id, 2n ** 40n)).to.be.revertedWithCustomError(
      envelope,
      "RiskEngineEnvelopeExceeded",
    );
    const soon = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + DAY;
    await expect(envelope.connect(engine).renew(w.accountAddress, id, soon)).to.be.revertedWithCustomError(
      w.sessions,
      "AgentSessionsUnauthorized",
    );
    await w.sessions.connect(engine).unpause(); // only touches the engine's own entry
    expect(await w.sessions.isPaused(w.accountAddress)).to.equal(false);
    // the engine revokes
    await (await envelope.connect(engine).revoke(w.accountAddress, id)).wait();
    expect((await w.sessions.getSession(id, w.accountAddress)).revoked).to.equal(true);
    // and has no way to call the account
    await expect(w.account.connect(engine).execute(ethers.ZeroHash, "0x")).to.be.revertedWithCustomError(
      w.account,
      "AccountUnauthorized",
    );
  });

  it("gas limits of the envelope hold; the owner removes the engine at once; envelopeOf reports it", async () => {
    const { w, envelope, engine, base } = await networkHelpers.loadFixture(engineWorld);
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const ok = { ...base, validUntil: now + DAY, maxUses: 10n };
    for (const [field, config] of [
      ["gasBudget", { ...ok, gasBudget: 10n ** 18n + 1n }],
      ["maxGasCostPerOp", { ...ok, maxGasCostPerOp: 10n ** 16n + 1n }],
    ] as const) {
      await expect(envelope.connect(engine).grant(w.accountAddress, config))
        .to.be.revertedWithCustomError(envelope, "RiskEngineEnvelopeExceeded")
        .withArgs(field);
    }
    const [env, activeFrom] = await envelope.envelopeOf(engine.address, w.accountAddress);
    expect(env.maxUses).to.equal(100n);
    expect(activeFrom).to.be.greaterThan(0n);
    await ownerCalls(w, {
      target: await envelope.getAddress(),
      data: envelope.interface.encodeFunctionData("removeEngine", [engine.address]),
    });
    expect((await envelope.envelopeOf(engine.address, w.accountAddress))[1]).to.equal(0n);
    await expect(envelope.connect(engine).grant(w.accountAddress, ok)).to.be.revertedWithCustomError(
      envelope,
      "RiskEngineUnauthorized",
    );
  });

  it("an envelope is not active before the security delay", async () => {
    const w = await deploySessionWorld(ethers, DELAY);
    const envelope = (await ethers.deployContract("RiskEngineEnvelope", [
      w.sessionsAddress,
    ])) as unknown as RiskEngineEnvelope;
    const [, , , , , , engine] = await ethers.getSigners();
    await ownerCalls(w, {
      target: await envelope.getAddress(),
      data: envelope.interface.encodeFunctionData("setEnvelope", [
        engine.address,
        { maxDuration: DAY, maxUses: 1n, maxGasBudget: 1n, maxGasCostPerOp: 1n },
        [],
        [],
      ]),
    });
    const cfg = await paymentsConfig(w);
    await expect(envelope.connect(engine).grant(w.accountAddress, cfg)).to.be.revertedWithCustomError(
      envelope,
      "RiskEngineUnauthorized",
    );
  });

  it("an active envelope dies with the session epoch (revoke-all); setting it again restarts the delay", async () => {
    const { w, envelope, engine } = await networkHelpers.loadFixture(engineWorld);
    const envelopeAddress = await envelope.getAddress();
    const [, activeFrom] = await envelope.envelopeOf(engine.address, w.accountAddress);
    // active: the envelope lets the call through to the session module (which knows no session 0)
    const revokeNone = () => envelope.connect(engine).revoke.staticCall(w.accountAddress, ethers.ZeroHash);
    await expect(revokeNone()).to.be.revertedWithCustomError(w.sessions, "AgentSessionsUnknownSession");
    await ownerCalls(w, {
      target: w.sessionsAddress,
      data: w.sessions.interface.encodeFunctionData("revokeAllSessions"),
    });
    await expect(revokeNone()).to.be.revertedWithCustomError(envelope, "RiskEngineUnauthorized");
    // the record still says when it was to become active (a voided envelope is not reported as removed)
    expect((await envelope.envelopeOf(engine.address, w.accountAddress))[1]).to.equal(activeFrom);
    const env = { maxDuration: DAY, maxUses: 1n, maxGasBudget: 1n, maxGasCostPerOp: 1n };
    const { receipt } = await ownerCalls(w, {
      target: envelopeAddress,
      data: envelope.interface.encodeFunctionData("setEnvelope", [engine.address, env, [], []]),
    });
    const now = BigInt((await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp);
    expect((await envelope.envelopeOf(engine.address, w.accountAddress))[1]).to.equal(now + DELAY);
    // only the module's own event reports it (the shared mechanism's events are not emitted here)
    const names = receipt!.logs
      .filter((l) => l.address.toLowerCase() === envelopeAddress.toLowerCase())
      .map((l) => envelope.interface.parseLog(l)!.name);
    expect(names).to.deep.equal(["EnvelopeSet"]);
    await expect(revokeNone()).to.be.revertedWithCustomError(envelope, "RiskEngineUnauthorized");
    // after the delay the envelope is active again: the call reaches the session module, which refuses it only
    // because the grant delegate died with the epoch too
    await networkHelpers.time.increase(DELAY);
    await expect(revokeNone()).to.be.revertedWithCustomError(w.sessions, "AgentSessionsUnauthorized");
  });
});

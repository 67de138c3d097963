import { expect } from "chai";
import type { Interface } from "ethers";
import { network } from "hardhat";
import type { CircuitBreaker } from "../../types/ethers-contracts/index.js";
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

const { ethers, networkHelpers } = await network.create();

const RULE = { SpendVelocity: 0n, Operations: 1n, NewRecipients: 2n };

async function breakerWorld() {
  const w = await deploySessionWorld(ethers);
  const breaker = (await ethers.deployContract("CircuitBreaker", [w.sessionsAddress])) as unknown as CircuitBreaker;
  const breakerAddress = await breaker.getAddress();
  await ownerCalls(w, {
    target: w.sessionsAddress,
    data: w.sessions.interface.encodeFunctionData("setBreaker", [breakerAddress]),
  });
  const sessionId = await grant(w, await paymentsConfig(w));
  return { w, breaker, breakerAddress, sessionId };
}

async function configure(
  w: SessionWorld,
  breaker: CircuitBreaker,
  window: bigint,
  maxOps: bigint,
  maxNewRecipients: bigint,
) {
  const { event } = await ownerCalls(w, {
    target: await breaker.getAddress(),
    data: breaker.interface.encodeFunctionData("configure", [{ window, maxOps, maxNewRecipients }]),
  });
  expect(event.success).to.equal(true);
}

async function pay(w: SessionWorld, sessionId: string, to: string, amount: bigint) {
  const { events, receipt } = await sendAgent(w, [await agentOp(w, sessionId, transferCall(w, to, amount))]);
  expect(events[0].success).to.equal(true);
  return receipt;
}

describe("CircuitBreaker", () => {
  it("operations rule: maxOps agent ops run, the next one trips, pauses and does not execute", async () => {
    const { w, breaker, sessionId } = await networkHelpers.loadFixture(breakerWorld);
    await configure(w, breaker, 3600n, 3n, 0n);
    for (let i = 0; i < 3; i++) await pay(w, sessionId, w.recipients[0], 1n);
    expect(await w.sessions.isPaused(w.accountAddress)).to.equal(false);
    const before = await w.token.balanceOf(w.recipients[0]);
    const receipt = await pay(w, sessionId, w.recipients[0], 1n);
    const tripped = receipt.logs.map((l) => breaker.interface.parseLog(l)).find((p) => p?.name === "BreakerTripped");
    expect(tripped!.args.rule).to.equal(RULE.Operations);
    expect(tripped!.args.value).to.equal(4n);
    expect(tripped!.args.limit).to.equal(3n);
    expect(await w.sessions.isPaused(w.accountAddress)).to.equal(true);
    expect(await w.token.balanceOf(w.recipients[0])).to.equal(before);
    // after it trips, no agent operation runs
    await expect(
      sendAgent(w, [await agentOp(w, sessionId, transferCall(w, w.recipients[0], 1n))]),
    ).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOpWithRevert");
  });

  it("operations rule: the window slides (ops older than the window stop counting)", async () => {
    const { w, breaker, sessionId } = await networkHelpers.loadFixture(breakerWorld);
    await configure(w, breaker, 300n, 2n, 0n);
    await pay(w, sessionId, w.recipients[0], 1n);
    await pay(w, sessionId, w.recipients[0], 1n);
    await networkHelpers.time.increase(400n + 100n); // > window + window/3
    await pay(w, sessionId, w.recipients[0], 1n);
    expect(await w.sessions.isPaused(w.accountAddress)).to.equal(false);
  });

  it("new-recipients rule: trips at threshold + 1 distinct first-time recipients, not at the threshold", async () => {
    const { w, breaker, sessionId } = await networkHelpers.loadFixture(breakerWorld);
    await configure(w, breaker, 3600n, 0n, 2n);
    await pay(w, sessionId, w.recipients[0], 1n);
    await pay(w, sessionId, w.recipients[0], 1n); // seen: does not count again
    await pay(w, sessionId, w.recipients[1], 1n);
    expect(await w.sessions.isPaused(w.accountAddress)).to.equal(false);
    const receipt = await pay(w, sessionId, w.recipients[2], 1n);
    const tripped = receipt.logs.map((l) => breaker.interface.parseLog(l)).find((p) => p?.name === "BreakerTripped");
    expect(tripped!.args.rule).to.equal(RULE.NewRecipients);
    expect(tripped!.args.value).to.equal(3n);
    expect(await w.token.balanceOf(w.recipients[2])).to.equal(0n);
  });

  it("spend-velocity rule: exactly the limit passes, one unit more trips", async () => {
    const { w, breaker, breakerAddress, sessionId } = await networkHelpers.loadFixture(breakerWorld);
    await configure(w, breaker, 3600n, 0n, 0n);
    await ownerCalls(w, {
      target: breakerAddress,
      data: breaker.interface.encodeFunctionData("setSpendLimit", [w.tokenAddress, 100n]),
    });
    await pay(w, sessionId, w.recipients[0], 60n);
    await pay(w, sessionId, w.recipients[0], 40n);
    expect(await w.sessions.isPaused(w.accountAddress)).to.equal(false);
    const receipt = await pay(w, sessionId, w.recipients[0], 1n);
    const tripped = receipt.logs.map((l) => breaker.interface.parseLog(l)).find((p) => p?.name === "BreakerTripped");
    expect(tripped!.args.rule).to.equal(RULE.SpendVelocity);
    expect(tripped!.args.token).to.equal(w.tokenAddress);
    expect(tripped!.args.value).to.equal(101n);
    expect(tripped!.args.limit).to.equal(100n);
    expect(await w.sessions.isPaused(w.accountAddress)).to.equal(true);
  });

  it("only the session module records operations; loosening waits the security delay", async () => {
    const w = await deploySessionWorld(ethers, 3600n);
    const breaker = (await ethers.deployContract("CircuitBreaker", [w.sessionsAddress])) as unknown as CircuitBreaker;
    await expect(
      breaker.recordOperation(w.accountAddress, ethers.ZeroHash, "0x", [], []),
    ).to.be.revertedWithCustomError(breaker, "CircuitBreakerUnauthorized");
    await configure(w, breaker, 3600n, 5n, 0n);
    expect((await breaker.configOf(w.accountAddress)).maxOps).to.equal(5n);
    await configure(w, breaker, 3600n, 50n, 0n); // loosening: proposed only
    expect((await breaker.configOf(w.accountAddress)).maxOps).to.equal(5n);
    await expect(breaker.applyConfig(w.accountAddress)).to.be.revertedWithCustomError(
      breaker,
      "CircuitBreakerNotReady",
    );
    await networkHelpers.time.increase(3601);
    await breaker.applyConfig(w.accountAddress);
    expect((await breaker.configOf(w.accountAddress)).maxOps).to.equal(50n);
    await configure(w, breaker, 3600n, 2n, 0n); // tightening: at once
    expect((await breaker.configOf(w.accountAddress)).maxOps).to.equal(2n);
    // a stranger configures only its own (irrelevant) entry
    await breaker.connect(w.core.stranger).configure({ window: 1n, maxOps: 0n, maxNewRecipients: 0n });
    expect((await breaker.configOf(w.accountAddress)).maxOps).to.equal(2n);
  });

  it("a pending loosening (shared security delay): reported with readyAt, cancelled by the account, voided by a revoke-all", async () => {
    const w = await deploySessionWorld(ethers, 3600n);
    const breaker = (await ethers.deployContract("CircuitBreaker", [w.sessionsAddress])) as unknown as CircuitBreaker;
    const breakerAddress = await breaker.getAddress();
    const call = (fn: string, args: unknown[]) => ({
      target: breakerAddress,
      data: (breaker.interface as unknown as Interface).encodeFunctionData(fn, args),
    });
    const t = w.tokenAddress;
    await configure(w, breaker, 3600n, 5n, 0n);
    await ownerCalls(w, call("setSpendLimit", [t, 100n]));
    const { receipt } = await ownerCalls(w, [
      call("configure", [{ window: 3600n, maxOps: 50n, maxNewRecipients: 0n }]),
      call("setSpendLimit", [t, 200n]),
    ]);
    const readyAt = BigInt((await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp) + 3600n;
    const proposed = receipt!.logs
      .map((l) => breaker.interface.parseLog(l))
      .filter((p) => p?.name === "DelayedChangeProposed");
    expect(proposed.map((p) => p!.args.readyAt)).to.deep.equal([readyAt, readyAt]);
    const [pending, pendingReadyAt] = await breaker.pendingConfigOf(w.accountAddress);
    expect([pending.maxOps, pendingReadyAt]).to.deep.equal([50n, readyAt]);
    expect(await breaker.pendingSpendLimitOf(w.accountAddress, t, 200n)).to.equal(readyAt);
    expect(await breaker.pendingSpendLimitOf(w.accountAddress, t, 300n)).to.equal(0n);
    // too early: the error carries readyAt and the current time
    const early = breaker.interface.parseError(
      await breaker.applyConfig.staticCall(w.accountAddress).then(
        () => "0x",
        (e: { data: string }) => e.data,
      ),
    );
    expect(early!.name).to.equal("CircuitBreakerNotReady");
    expect(early!.args[0]).to.equal(readyAt);
    expect(early!.args[1]).to.be.lessThan(readyAt);

    // the account cancels both; nothing is left to apply, a second cancel is refused
    const cancelled = await ownerCalls(w, [call("cancelConfig", []), call("cancelSpendLimit", [t, 200n])]);
    expect(cancelled.event.success).to.equal(true);
    expect((await breaker.pendingConfigOf(w.accountAddress))[1]).to.equal(0n);
    expect(await breaker.pendingSpendLimitOf(w.accountAddress, t, 200n)).to.equal(0n);
    await networkHelpers.time.increase(3601);
    await expect(breaker.applyConfig(w.accountAddress))
      .to.be.revertedWithCustomError(breaker, "CircuitBreakerNotReady")
      .withArgs(0n, (now: bigint) => now > readyAt);
    await expect(breaker.applySpendLimit(w.accountAddress, t, 200n)).to.be.revertedWithCustomError(
      breaker,
      "CircuitBreakerNotReady",
    );
    expect((await ownerCalls(w, call("cancelConfig", []))).event.success).to.equal(false);
    expect((await breaker.configOf(w.accountAddress)).maxOps).to.equal(5n);
    expect(await breaker.spendLimitOf(w.accountAddress, t)).to.equal(100n);

    // proposed again, then all sessions revoked: the view reports nothing pending, apply is voided
    await ownerCalls(w, call("configure", [{ window: 3600n, maxOps: 50n, maxNewRecipients: 0n }]));
    expect((await breaker.pendingConfigOf(w.accountAddress))[1]).to.not.equal(0n);
    await ownerCalls(w, {
      target: w.sessionsAddress,
      data: w.sessions.interface.encodeFunctionData("revokeAllSessions"),
    });
    expect((await breaker.pendingConfigOf(w.accountAddress))[1]).to.equal(0n);
    await networkHelpers.time.increase(3601);
    await expect(breaker.applyConfig(w.accountAddress))
      .to.be.revertedWithCustomError(breaker, "CircuitBreakerChangeVoided")
      .withArgs(0n, 1n);
  });
});

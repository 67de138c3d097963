/**
 * Attack-focused tests for AgentSessions budgets, tiers, the timelock queue and the watchdog.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress } from "ethers";
import { MODE_SINGLE, type Call } from "../../src/account/encoding.js";
import { handleOps } from "../helpers/reins.js";
import {
  DAY,
  HOUR,
  TIER,
  agentOp,
  deploySessionWorld,
  grant,
  ownerCalls,
  parseEvents,
  paymentsConfig,
  sendAgent,
  transferCall,
  type SessionConfig,
  type SessionWorld,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const U = 10n ** 6n; // one token unit (6 decimals)
const ETH = 10n ** 18n;
/** Timelock OperationState values. */
const STATE = { Unknown: 0n, Scheduled: 1n, Ready: 2n, Executed: 3n, Cancelled: 4n, Expired: 5n } as const;

type Budget = SessionConfig["budgets"][number];

function tokenBudget(w: SessionWorld, b: Partial<Budget> = {}): Budget {
  return {
    token: w.tokenAddress,
    instantThreshold: 100n * U,
    ceiling: 1_000n * U,
    periodCap: 2_000n * U,
    lifetimeCap: 10_000n * U,
    period: DAY,
    ...b,
  };
}

function nativeBudget(b: Partial<Budget> = {}): Budget {
  return {
    token: ZeroAddress,
    instantThreshold: 10n ** 16n,
    ceiling: 10n ** 17n,
    periodCap: 2n * 10n ** 17n,
    lifetimeCap: ETH,
    period: DAY,
    ...b,
  };
}

async function periodLeft(w: SessionWorld, id: string, token = w.tokenAddress): Promise<bigint> {
  const [, period] = await w.sessions.budgetOf(id, w.accountAddress, token);
  return period;
}

async function lifetimeLeft(w: SessionWorld, id: string, token = w.tokenAddress): Promise<bigint> {
  const [, , lifetime] = await w.sessions.budgetOf(id, w.accountAddress, token);
  return lifetime;
}

/** Send one agent op and return its event, receipt and the queue info (if it was queued). */
async function agent(w: SessionWorld, id: string, calls: Call | Call[], execType = 0) {
  const { events, receipt } = await sendAgent(w, [await agentOp(w, id, calls, {}, w.agent, execType)]);
  const evs = parseEvents(w, receipt);
  const q = evs.find((e) => e.name === "OperationQueued");
  const s = evs.find((e) => e.name === "OperationScheduled");
  return {
    event: events[0],
    receipt,
    evs,
    queued: q
      ? {
          id: q.args.requestId as string,
          tier: q.args.tier as bigint,
          mode: s!.args.mode as string,
          calldata: s!.args.executionCalldata as string,
        }
      : undefined,
  };
}

async function expectInstantOk(w: SessionWorld, id: string, calls: Call | Call[]) {
  const r = await agent(w, id, calls);
  expect(r.event.success, r.event.revertReason).to.equal(true);
  expect(r.queued, "unexpectedly queued").to.equal(undefined);
  return r;
}

async function expectQueued(w: SessionWorld, id: string, calls: Call | Call[], tier: bigint) {
  const r = await agent(w, id, calls);
  expect(r.event.success, r.event.revertReason).to.equal(true);
  expect(r.queued, "not queued").to.not.equal(undefined);
  expect(r.queued!.tier).to.equal(tier);
  return r.queued!;
}

function approveCall(w: SessionWorld, spender: string, amount: bigint): Call {
  return { target: w.tokenAddress, data: w.token.interface.encodeFunctionData("approve", [spender, amount]) };
}

function perm(target: string, selector: string, calldataLength: bigint, valueCap = 0n) {
  return { target, selector, valueCap, calldataLength, conditions: [] };
}

async function baseWorld() {
  return deploySessionWorld(ethers);
}

async function delayedWorld() {
  return deploySessionWorld(ethers, 2n * DAY);
}

describe("AgentSessions budgets, tiers, queue and watchdog (attacks)", () => {
  describe("1. period budget boundary", () => {
    it("exact remaining budget is instant, one unit more needs approval, freed after period + period/3", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const P = 100n * U;
      const id = await grant(
        w,
        await paymentsConfig(w, {
          budgets: [tokenBudget(w, { instantThreshold: P, ceiling: P, periodCap: P, lifetimeCap: 10n * P })],
        }),
      );
      const [r0, r1] = w.recipients;
      await expectInstantOk(w, id, transferCall(w, r0, P));
      expect(await w.token.balanceOf(r0)).to.equal(P);
      expect(await periodLeft(w, id)).to.equal(0n);

      const q = await expectQueued(w, id, transferCall(w, r1, 1n), TIER.Approval);
      expect(await w.token.balanceOf(r1)).to.equal(0n);
      expect(await w.timelock.state(w.accountAddress, q.id)).to.equal(STATE.Scheduled);

      // still counted near the end of the period
      await time.increase(DAY - 60n);
      expect(await periodLeft(w, id)).to.equal(0n);
      const q2 = await expectQueued(w, id, transferCall(w, r1, 1n), TIER.Approval);
      expect(q2.tier).to.equal(TIER.Approval);

      await time.increase(DAY / 3n + 60n + 1n);
      expect(await periodLeft(w, id)).to.equal(P);
      await expectInstantOk(w, id, transferCall(w, r1, P));
      expect(await w.token.balanceOf(r1)).to.equal(P);
    });
  });

  describe("2. cumulative spend", () => {
    it("a batch of small transfers is tiered by its sum", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const id = await grant(w, await paymentsConfig(w));
      const calls = [0, 1, 2].map((i) => transferCall(w, w.recipients[i], 40n * U)); // 120 > 100 instant
      const q = await expectQueued(w, id, calls, TIER.Delayed);
      for (const r of w.recipients) expect(await w.token.balanceOf(r)).to.equal(0n);
      // the queued batch runs after the delay and charges the sum
      await time.increase(HOUR + 1n);
      await w.timelock.execute(w.accountAddress, q.id, q.mode, q.calldata);
      for (const r of w.recipients) expect(await w.token.balanceOf(r)).to.equal(40n * U);
      expect(await periodLeft(w, id)).to.equal(2_000n * U - 120n * U);
      // a batch at exactly the threshold is instant
      await expectInstantOk(w, id, [
        transferCall(w, w.recipients[0], 50n * U),
        transferCall(w, w.recipients[1], 50n * U),
      ]);
    });

    it("the same split across ops is charged cumulatively against the period cap; lifetime holds across periods", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const id = await grant(
        w,
        await paymentsConfig(w, {
          budgets: [
            tokenBudget(w, {
              instantThreshold: 100n * U,
              ceiling: 100n * U,
              periodCap: 250n * U,
              lifetimeCap: 400n * U,
            }),
          ],
        }),
      );
      const r = w.recipients[0];
      await expectInstantOk(w, id, transferCall(w, r, 100n * U));
      await expectInstantOk(w, id, transferCall(w, r, 100n * U));
      expect(await periodLeft(w, id)).to.equal(50n * U);
      await expectQueued(w, id, transferCall(w, r, 100n * U), TIER.Approval);
      await expectQueued(w, id, transferCall(w, r, 51n * U), TIER.Approval);
      await expectInstantOk(w, id, transferCall(w, r, 50n * U));
      expect(await w.token.balanceOf(r)).to.equal(250n * U);

      // next period: the period cap is free but only 150 of the lifetime cap is left
      await time.increase(DAY + DAY / 3n + 1n);
      expect(await periodLeft(w, id)).to.equal(250n * U);
      expect(await lifetimeLeft(w, id)).to.equal(150n * U);
      await expectInstantOk(w, id, transferCall(w, r, 100n * U));
      await expectQueued(w, id, transferCall(w, r, 51n * U), TIER.Approval);
      await expectInstantOk(w, id, transferCall(w, r, 50n * U));
      expect(await lifetimeLeft(w, id)).to.equal(0n);
      await time.increase(3n * DAY);
      await expectQueued(w, id, transferCall(w, r, 1n), TIER.Approval);
      expect(await w.token.balanceOf(r)).to.equal(400n * U);
    });

    it("the fleet cap holds across two sessions", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const b = tokenBudget(w, { instantThreshold: 100n * U, ceiling: 100n * U, periodCap: 1_000n * U });
      const a = await grant(w, await paymentsConfig(w, { budgets: [b] }));
      const c = await grant(w, await paymentsConfig(w, { budgets: [b] }));
      const { event } = await ownerCalls(w, {
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("setFleetBudget", [w.tokenAddress, 150n * U, 1_000n * U, DAY]),
      });
      expect(event.success, event.revertReason).to.equal(true);
      await expectInstantOk(w, a, transferCall(w, w.recipients[0], 100n * U));
      // session c still has its own 1000 period budget, but the fleet has 50 left
      expect(await periodLeft(w, c)).to.equal(1_000n * U);
      await expectQueued(w, c, transferCall(w, w.recipients[1], 100n * U), TIER.Approval);
      expect(await w.token.balanceOf(w.recipients[1])).to.equal(0n);
      await expectInstantOk(w, c, transferCall(w, w.recipients[1], 50n * U));
      const [set, fp] = await w.sessions.fleetRemaining(w.accountAddress, w.tokenAddress);
      expect(set).to.equal(true);
      expect(fp).to.equal(0n);
      await expectQueued(w, a, transferCall(w, w.recipients[0], 1n), TIER.Approval);
    });
  });

  describe("3. spend that hides", () => {
    it("approve(attacker, x) is counted and the allowance is gone after the op", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const [, , , attacker] = await ethers.getSigners();
      const cfg = await paymentsConfig(w);
      cfg.permissions = [
        ...cfg.permissions,
        perm(w.tokenAddress, w.token.interface.getFunction("approve")!.selector, 68n),
      ];
      const id = await grant(w, cfg);
      const r = await expectInstantOk(w, id, approveCall(w, attacker.address, 80n * U));
      const spend = r.evs.find((e) => e.name === "SpendRecorded");
      expect(spend?.args.amount).to.equal(80n * U);
      expect(await periodLeft(w, id)).to.equal(2_000n * U - 80n * U);
      expect(await w.token.allowance(w.accountAddress, attacker.address)).to.equal(0n);
      await expect(
        w.token.connect(attacker).transferFrom(w.accountAddress, attacker.address, 1n),
      ).to.be.revertedWithCustomError(w.token, "ERC20InsufficientAllowance");
      // an approval above the instant threshold is tiered like a transfer
      await expectQueued(w, id, approveCall(w, attacker.address, 500n * U), TIER.Delayed);
      await expectQueued(w, id, approveCall(w, attacker.address, 5_000n * U), TIER.Approval);
      expect(await w.token.allowance(w.accountAddress, attacker.address)).to.equal(0n);
      // increaseAllowance: OZ 5 ERC20 (MockERC20) has no increaseAllowance, so it cannot be exercised here.
      expect(w.token.interface.getFunction("increaseAllowance(address,uint256)" as never)).to.equal(null);
    });

    it("ETH sent as value to a whitelisted payable function counts against the native budget", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const sink = await ethers.deployContract("Sink");
      const sinkAddress = await sink.getAddress();
      const ping = sink.interface.getFunction("ping")!.selector;
      const cfg = await paymentsConfig(w);
      cfg.permissions = [...cfg.permissions, perm(sinkAddress, ping, 36n, ETH)];
      const id = await grant(w, cfg);
      const call = (value: bigint): Call => ({
        target: sinkAddress,
        value,
        data: sink.interface.encodeFunctionData("ping", [1n]),
      });
      const before = await periodLeft(w, id, ZeroAddress);
      await expectInstantOk(w, id, call(10n ** 16n));
      expect(await ethers.provider.getBalance(sinkAddress)).to.equal(10n ** 16n);
      expect(await periodLeft(w, id, ZeroAddress)).to.equal(before - 10n ** 16n);
      await expectQueued(w, id, call(10n ** 16n + 1n), TIER.Delayed);
      // split in a batch: tiered by the sum
      await expectQueued(w, id, [call(6n * 10n ** 15n), call(6n * 10n ** 15n)], TIER.Delayed);
      await expectQueued(w, id, call(2n * 10n ** 17n), TIER.Approval);
      expect(await ethers.provider.getBalance(sinkAddress)).to.equal(10n ** 16n);
      expect(await sink.calls()).to.equal(1n);
    });

    it("a whitelisted router that pulls more than told is stopped by the balance check", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const [, , , attacker] = await ethers.getSigners();
      const router = await ethers.deployContract("GreedyRouter");
      const routerAddress = await router.getAddress();
      // the owner approved the router earlier, for its own use
      const { event } = await ownerCalls(w, approveCall(w, routerAddress, 1_000_000n * U));
      expect(event.success, event.revertReason).to.equal(true);
      const cfg = await paymentsConfig(w);
      cfg.permissions = [
        ...cfg.permissions,
        perm(routerAddress, router.interface.getFunction("pull")!.selector, 100n),
        perm(w.tokenAddress, w.token.interface.getFunction("approve")!.selector, 68n),
      ];
      const id = await grant(w, cfg);
      const pull = (amount: bigint): Call => ({
        target: routerAddress,
        data: router.interface.encodeFunctionData("pull", [w.tokenAddress, w.accountAddress, amount]),
      });
      const balance = await w.token.balanceOf(w.accountAddress);
      // told 20, pulls 200 > instant threshold 100: the execution reverts, nothing moves, nothing charged
      const r = await agent(w, id, pull(20n * U));
      expect(r.event.success).to.equal(false);
      expect(r.queued).to.equal(undefined);
      expect(await w.token.balanceOf(w.accountAddress)).to.equal(balance);
      expect(await w.token.balanceOf(routerAddress)).to.equal(0n);
      expect(await periodLeft(w, id)).to.equal(2_000n * U);

      // told 1, pulls 10 (within budget): charged the real drop; the approve in the same batch leaves no allowance
      await expectInstantOk(w, id, [pull(1n * U), approveCall(w, attacker.address, 5n * U)]);
      expect(await w.token.balanceOf(routerAddress)).to.equal(10n * U);
      expect(await w.token.allowance(w.accountAddress, attacker.address)).to.equal(0n);
      expect(await periodLeft(w, id)).to.equal(2_000n * U - 10n * U);
      // the batch repeated until the period budget is gone would need approval of the real amount, never more
      const totalLost = balance - (await w.token.balanceOf(w.accountAddress));
      expect(totalLost).to.equal(10n * U);
    });
  });

  describe("4. reverted execution", () => {
    it("an op that reverts during execution consumes no budget", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const id = await grant(w, await paymentsConfig(w));
      // the owner moves almost everything away, leaving 10 units
      const balance = await w.token.balanceOf(w.accountAddress);
      const sweep = await ownerCalls(w, transferCall(w, w.recipients[2], balance - 10n * U));
      expect(sweep.event.success, sweep.event.revertReason).to.equal(true);
      await expectInstantOk(w, id, transferCall(w, w.recipients[0], 5n * U));
      const left = await periodLeft(w, id);
      const life = await lifetimeLeft(w, id);
      expect(left).to.equal(2_000n * U - 5n * U);
      const r = await agent(w, id, transferCall(w, w.recipients[0], 50n * U)); // more than the 5 left
      expect(r.event.success).to.equal(false);
      expect(await periodLeft(w, id)).to.equal(left);
      expect(await lifetimeLeft(w, id)).to.equal(life);
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(5n * U);
    });
  });

  describe("5. queue", () => {
    it("a delayed op runs once, only after its delay, and is charged then", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const [, , stranger] = await ethers.getSigners();
      const id = await grant(w, await paymentsConfig(w));
      const r = w.recipients[0];
      const q = await expectQueued(w, id, transferCall(w, r, 500n * U), TIER.Delayed);
      expect(await periodLeft(w, id)).to.equal(2_000n * U); // nothing charged while queued
      await expect(
        w.timelock.connect(stranger).execute(w.accountAddress, q.id, q.mode, q.calldata),
      ).to.be.revertedWithCustomError(w.timelock, "ReinsTimelockUnexpectedState");
      await time.increase(HOUR);
      const tx = await w.timelock.connect(stranger).execute(w.accountAddress, q.id, q.mode, q.calldata);
      const receipt = (await tx.wait())!;
      console.log("      gas (queued execution via timelock.execute):", receipt.gasUsed);
      expect(await w.token.balanceOf(r)).to.equal(500n * U);
      expect(await periodLeft(w, id)).to.equal(1_500n * U);
      expect(await w.timelock.state(w.accountAddress, q.id)).to.equal(STATE.Executed);
      await expect(
        w.timelock.connect(stranger).execute(w.accountAddress, q.id, q.mode, q.calldata),
      ).to.be.revertedWithCustomError(w.timelock, "ReinsTimelockUnexpectedState");
      expect(await w.token.balanceOf(r)).to.equal(500n * U);
      // a different payload under the same id is refused
      const q2 = await expectQueued(w, id, transferCall(w, r, 500n * U), TIER.Delayed);
      await time.increase(HOUR);
      await expect(
        w.timelock.execute(w.accountAddress, q2.id, MODE_SINGLE, q.calldata.replace(/.$/, "1")),
      ).to.be.revertedWithCustomError(w.timelock, "ReinsTimelockCallMismatch");
    });

    it("the owner cancels a queued op", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const id = await grant(w, await paymentsConfig(w));
      const q = await expectQueued(w, id, transferCall(w, w.recipients[0], 500n * U), TIER.Delayed);
      const { event } = await ownerCalls(w, {
        target: await w.timelock.getAddress(),
        data: w.timelock.interface.encodeFunctionData("cancel", [w.accountAddress, q.id]),
      });
      expect(event.success, event.revertReason).to.equal(true);
      expect(await w.timelock.state(w.accountAddress, q.id)).to.equal(STATE.Cancelled);
      await time.increase(HOUR);
      await expect(w.timelock.execute(w.accountAddress, q.id, q.mode, q.calldata)).to.be.revertedWithCustomError(
        w.timelock,
        "ReinsTimelockUnexpectedState",
      );
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(0n);
    });

    it("a watchdog pause with cancelQueued clears the queue; pause without it still blocks execution", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const [, , , watchdog] = await ethers.getSigners();
      const id = await grant(w, await paymentsConfig(w));
      await ownerCalls(w, {
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("setWatchdog", [watchdog.address, true]),
      });
      const q = await expectQueued(w, id, transferCall(w, w.recipients[0], 500n * U), TIER.Delayed);
      const q2 = await expectQueued(w, id, transferCall(w, w.recipients[1], 1_500n * U), TIER.Approval);
      await w.sessions.connect(watchdog).pause(w.accountAddress, true);
      expect(await w.timelock.state(w.accountAddress, q.id)).to.equal(STATE.Cancelled);
      expect(await w.timelock.state(w.accountAddress, q2.id)).to.equal(STATE.Cancelled);
      // the owner unpauses; the cleared ops stay dead
      await ownerCalls(w, { target: w.sessionsAddress, data: w.sessions.interface.encodeFunctionData("unpause") });
      await time.increase(HOUR);
      await expect(w.timelock.execute(w.accountAddress, q.id, q.mode, q.calldata)).to.be.revertedWithCustomError(
        w.timelock,
        "ReinsTimelockUnexpectedState",
      );
      // pause without clearing: the queued op is re-checked when it runs and refused
      const q3 = await expectQueued(w, id, transferCall(w, w.recipients[0], 500n * U), TIER.Delayed);
      await w.sessions.connect(watchdog).pause(w.accountAddress, false);
      await time.increase(HOUR);
      expect(await w.timelock.state(w.accountAddress, q3.id)).to.equal(STATE.Ready);
      await expect(w.timelock.execute(w.accountAddress, q3.id, q3.mode, q3.calldata)).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsPaused",
      );
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(0n);
    });

    it("a queued op of a revoked session is refused when it runs", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const id = await grant(w, await paymentsConfig(w));
      const q = await expectQueued(w, id, transferCall(w, w.recipients[0], 500n * U), TIER.Delayed);
      await ownerCalls(w, {
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("revokeSession", [id]),
      });
      await time.increase(HOUR);
      await expect(w.timelock.execute(w.accountAddress, q.id, q.mode, q.calldata)).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsRevoked",
      );
    });

    it("a queued op expires after the approval window", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const id = await grant(w, await paymentsConfig(w));
      const q = await expectQueued(w, id, transferCall(w, w.recipients[0], 500n * U), TIER.Delayed);
      await time.increase(HOUR + DAY);
      expect(await w.timelock.state(w.accountAddress, q.id)).to.equal(STATE.Expired);
      await expect(w.timelock.execute(w.accountAddress, q.id, q.mode, q.calldata)).to.be.revertedWithCustomError(
        w.timelock,
        "ReinsTimelockUnexpectedState",
      );
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(0n);
    });

    it("an approval-tier op runs at once when the owner approves, and never without approval", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const id = await grant(w, await paymentsConfig(w));
      const [r0, r1] = w.recipients;
      // without approval: not after the delay, and it expires
      const q = await expectQueued(w, id, transferCall(w, r0, 1_500n * U), TIER.Approval);
      await time.increase(HOUR + 1n);
      expect(await w.timelock.state(w.accountAddress, q.id)).to.equal(STATE.Scheduled);
      await expect(w.timelock.execute(w.accountAddress, q.id, q.mode, q.calldata)).to.be.revertedWithCustomError(
        w.timelock,
        "ReinsTimelockUnexpectedState",
      );
      await time.increase(DAY);
      expect(await w.timelock.state(w.accountAddress, q.id)).to.equal(STATE.Expired);
      expect(await w.token.balanceOf(r0)).to.equal(0n);

      // with approval: runs at once, no waiting
      const q2 = await expectQueued(w, id, transferCall(w, r1, 1_500n * U), TIER.Approval);
      const { event } = await ownerCalls(w, {
        target: await w.timelock.getAddress(),
        data: w.timelock.interface.encodeFunctionData("approve", [q2.id]),
      });
      expect(event.success, event.revertReason).to.equal(true);
      expect(await w.timelock.state(w.accountAddress, q2.id)).to.equal(STATE.Ready);
      await w.timelock.execute(w.accountAddress, q2.id, q2.mode, q2.calldata);
      expect(await w.token.balanceOf(r1)).to.equal(1_500n * U);
    });

    it("nobody but the account approves", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const [, , stranger] = await ethers.getSigners();
      const id = await grant(w, await paymentsConfig(w));
      const q = await expectQueued(w, id, transferCall(w, w.recipients[0], 1_500n * U), TIER.Approval);
      // approve is keyed by msg.sender: a stranger "approving" touches only its own (non-existent) op
      await expect(w.timelock.connect(stranger).approve(q.id)).to.be.revertedWithCustomError(
        w.timelock,
        "ReinsTimelockUnexpectedState",
      );
      expect(await w.timelock.state(w.accountAddress, q.id)).to.equal(STATE.Scheduled);
    });
  });

  describe("6. delayed loosening", () => {
    async function proposal(w: SessionWorld, data: string) {
      const { event, receipt } = await ownerCalls(w, { target: w.sessionsAddress, data });
      expect(event.success, event.revertReason).to.equal(true);
      const evs = parseEvents(w, receipt);
      return { evs, proposed: evs.find((e) => e.name === "ChangeProposed") };
    }

    async function grantDelayed(w: SessionWorld, cfg: SessionConfig): Promise<string> {
      const { proposed } = await proposal(w, w.sessions.interface.encodeFunctionData("grantSession", [cfg]));
      expect(proposed, "grant not delayed").to.not.equal(undefined);
      await time.increase(2n * DAY);
      const receipt = (await (await w.sessions.applyChange(w.accountAddress, proposed!.args.data as string)).wait())!;
      const granted = parseEvents(w, receipt).find((e) => e.name === "SessionGranted");
      return granted!.args.sessionId as string;
    }

    it("raising a budget waits the security delay; the owner can cancel; lowering applies at once", async () => {
      const w = await networkHelpers.loadFixture(delayedWorld);
      const cfg = await paymentsConfig(w);
      cfg.validUntil = BigInt(cfg.validUntil) + 10n * DAY;
      const id = await grantDelayed(w, cfg);
      const raise = w.sessions.interface.encodeFunctionData("setBudget", [
        id,
        tokenBudget(w, { periodCap: 5_000n * U }),
      ]);
      const { proposed, evs } = await proposal(w, raise);
      expect(proposed).to.not.equal(undefined);
      expect(evs.find((e) => e.name === "BudgetSet")).to.equal(undefined);
      expect((await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress))[0].periodCap).to.equal(2_000n * U);
      await expect(w.sessions.applyChange(w.accountAddress, raise)).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsChangeNotReady",
      );
      await time.increase(2n * DAY - 10n);
      await expect(w.sessions.applyChange(w.accountAddress, raise)).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsChangeNotReady",
      );
      await time.increase(10n);
      await w.sessions.applyChange(w.accountAddress, raise);
      expect((await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress))[0].periodCap).to.equal(5_000n * U);
      // replaying the applied change fails
      await expect(w.sessions.applyChange(w.accountAddress, raise)).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsChangeNotReady",
      );

      // cancelled proposal never applies
      const raise2 = w.sessions.interface.encodeFunctionData("setBudget", [
        id,
        tokenBudget(w, { periodCap: 5_000n * U, instantThreshold: 900n * U }),
      ]);
      const p2 = await proposal(w, raise2);
      const changeHash = p2.proposed!.args.changeHash as string;
      const c = await ownerCalls(w, {
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("cancelChange", [changeHash]),
      });
      expect(c.event.success, c.event.revertReason).to.equal(true);
      expect(await w.sessions.pendingChange(w.accountAddress, changeHash)).to.equal(0n);
      await time.increase(3n * DAY);
      await expect(w.sessions.applyChange(w.accountAddress, raise2)).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsChangeNotReady",
      );
      expect((await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress))[0].instantThreshold).to.equal(100n * U);

      // lowering applies in the same block
      const lower = await proposal(
        w,
        w.sessions.interface.encodeFunctionData("setBudget", [
          id,
          tokenBudget(w, { instantThreshold: 10n * U, periodCap: 5_000n * U }),
        ]),
      );
      expect(lower.proposed).to.equal(undefined);
      expect(lower.evs.find((e) => e.name === "BudgetSet")).to.not.equal(undefined);
      expect((await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress))[0].instantThreshold).to.equal(10n * U);
      await expectQueued(w, id, transferCall(w, w.recipients[0], 11n * U), TIER.Delayed);

      // mixed change (one field lower, one higher) is loosening
      const mixed = await proposal(
        w,
        w.sessions.interface.encodeFunctionData("setBudget", [
          id,
          tokenBudget(w, { instantThreshold: 5n * U, periodCap: 6_000n * U }),
        ]),
      );
      expect(mixed.proposed).to.not.equal(undefined);
      expect((await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress))[0].instantThreshold).to.equal(10n * U);
    });
  });

  describe("7. watchdog", () => {
    it("pause freezes agents, not the owner; the watchdog cannot unpause or configure; the owner unpauses", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const [, , stranger, watchdog] = await ethers.getSigners();
      const id = await grant(w, await paymentsConfig(w));
      await expect(w.sessions.connect(watchdog).pause(w.accountAddress, false)).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsUnauthorized",
      );
      await ownerCalls(w, {
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("setWatchdog", [watchdog.address, true]),
      });
      await expect(w.sessions.connect(stranger).pause(w.accountAddress, false)).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsUnauthorized",
      );
      await w.sessions.connect(watchdog).pause(w.accountAddress, false);
      expect(await w.sessions.isPaused(w.accountAddress)).to.equal(true);

      const op = await agentOp(w, id, transferCall(w, w.recipients[0], 1n * U));
      await expect(handleOps(w.core, [op])).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOpWithRevert");
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(0n);

      // owner ops still work
      const o = await ownerCalls(w, transferCall(w, w.recipients[1], 7n * U));
      expect(o.event.success, o.event.revertReason).to.equal(true);
      expect(await w.token.balanceOf(w.recipients[1])).to.equal(7n * U);

      // the watchdog cannot unpause the account (unpause only touches the caller's own entry)
      await w.sessions.connect(watchdog).unpause();
      expect(await w.sessions.isPaused(w.accountAddress)).to.equal(true);
      // nor configure it: grant / setBudget / setWatchdog from the watchdog apply only to the watchdog's own address
      const cfg = await paymentsConfig(w);
      await w.sessions.connect(watchdog).grantSession(cfg);
      await expect(
        w.sessions.connect(watchdog).setBudget(id, tokenBudget(w, { instantThreshold: 1_000n * U })),
      ).to.be.revertedWithCustomError(w.sessions, "AgentSessionsUnknownSession");
      expect((await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress))[0].instantThreshold).to.equal(100n * U);
      await (await w.sessions.connect(watchdog).revokeByWatchdog(w.accountAddress, id)).wait();
      // a watchdog can revoke (tighten) but that is all; re-grant a fresh session for the rest
      await expect(w.sessions.connect(watchdog).applyChange(w.accountAddress, "0x")).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsChangeNotReady",
      );
      const op2 = await agentOp(w, id, transferCall(w, w.recipients[0], 1n * U));
      await expect(handleOps(w.core, [op2])).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOpWithRevert");

      // the owner unpauses and grants again: the agent works
      await ownerCalls(w, { target: w.sessionsAddress, data: w.sessions.interface.encodeFunctionData("unpause") });
      expect(await w.sessions.isPaused(w.accountAddress)).to.equal(false);
      const id2 = await grant(w, cfg);
      const r = await expectInstantOk(w, id2, transferCall(w, w.recipients[0], 1n * U));
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(1n * U);
    });

    it("after unpause, the paused session itself works again", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const [, , , watchdog] = await ethers.getSigners();
      const id = await grant(w, await paymentsConfig(w));
      await ownerCalls(w, {
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("setWatchdog", [watchdog.address, true]),
      });
      await w.sessions.connect(watchdog).pause(w.accountAddress, false);
      const op = await agentOp(w, id, transferCall(w, w.recipients[0], 1n * U));
      await expect(handleOps(w.core, [op])).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOpWithRevert");
      await ownerCalls(w, { target: w.sessionsAddress, data: w.sessions.interface.encodeFunctionData("unpause") });
      const r = await expectInstantOk(w, id, transferCall(w, w.recipients[0], 1n * U));
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(1n * U);
    });
  });

  describe("gas", () => {
    it("prints the actualGasUsed of an instant agent ERC-20 transfer", async () => {
      const w = await networkHelpers.loadFixture(baseWorld);
      const id = await grant(w, await paymentsConfig(w));
      await expectInstantOk(w, id, transferCall(w, w.recipients[0], 1n * U)); // warm the recipient
      const r = await expectInstantOk(w, id, transferCall(w, w.recipients[0], 1n * U));
      console.log("      gas (instant agent ERC-20 transfer, actualGasUsed):", r.event.actualGasUsed);
      const q = await expectQueued(w, id, transferCall(w, w.recipients[0], 500n * U), TIER.Delayed);
      const qr = await agent(w, id, transferCall(w, w.recipients[1], 500n * U));
      console.log("      gas (agent op that queues, actualGasUsed):", qr.event.actualGasUsed);
      await time.increase(HOUR);
      const rc = (await (await w.timelock.execute(w.accountAddress, q.id, q.mode, q.calldata)).wait())!;
      console.log("      gas (queued execution, timelock.execute tx gasUsed):", rc.gasUsed);
    });
  });
});

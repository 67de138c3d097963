/**
 * Non-standard tokens driven by real agent UserOperations (EntryPoint.handleOps → AgentSessions): a token that
 * returns false instead of reverting, a fee-on-transfer token and an ERC-777-style token whose recipient hook
 * re-enters. In every case the session's budget is never exceeded by what actually leaves the account.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroHash, type BaseContract } from "ethers";
import { MODE_SINGLE, type Call } from "../../src/account/encoding.js";
import { packUserOp } from "../../src/userop/userop.js";
import {
  DAY,
  HOUR,
  OP,
  TIER,
  agentOp,
  deploySessionWorld,
  grant,
  parseEvents,
  paymentsConfig,
  sendAgent,
  type SessionWorld,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const U = 10n ** 6n;
const STATE = { Scheduled: 1n, Ready: 2n, Executed: 3n } as const;

function word(address: string): string {
  return "0x" + address.slice(2).toLowerCase().padStart(64, "0");
}

interface Erc20Like extends BaseContract {
  balanceOf(a: string): Promise<bigint>;
}

/** A session allowed `token.transfer(to ∈ recipients, ·)` with a budget for `token` only. */
async function tokenSession(
  w: SessionWorld,
  token: string,
  recipients: string[],
  budget = { instantThreshold: 100n * U, ceiling: 1_000n * U, periodCap: 300n * U, lifetimeCap: 1_000n * U },
): Promise<string> {
  const transfer = w.token.interface.getFunction("transfer")!.selector;
  return grant(
    w,
    await paymentsConfig(w, {
      permissions: [
        {
          target: token,
          selector: transfer,
          valueCap: 0n,
          calldataLength: 68n,
          conditions: [{ op: OP.OneOf, word: 0n, value: ZeroHash, oneOf: recipients.map(word) }],
        },
      ],
      budgets: [{ token, period: DAY, ...budget }],
    }),
  );
}

function transferOf(token: string, to: string, amount: bigint): Call {
  return {
    target: token,
    data: ethers.Interface.from(["function transfer(address,uint256)"]).encodeFunctionData("transfer", [to, amount]),
  };
}

async function agent(w: SessionWorld, id: string, calls: Call | Call[]) {
  // room for the re-entry attempts made from token hooks
  const { events, receipt } = await sendAgent(w, [await agentOp(w, id, calls, { callGasLimit: 3_000_000n })]);
  const evs = parseEvents(w, receipt);
  return {
    event: events[0],
    evs,
    charged: evs.filter((e) => e.name === "SpendRecorded").map((e) => e.args.amount as bigint),
    queued: evs.find((e) => e.name === "OperationQueued"),
    scheduled: evs.find((e) => e.name === "OperationScheduled"),
  };
}

async function periodLeft(w: SessionWorld, id: string, token: string): Promise<bigint> {
  const [, period] = await w.sessions.budgetOf(id, w.accountAddress, token);
  return period;
}

function revertName(w: SessionWorld, data: string | undefined): string | undefined {
  if (!data) return undefined;
  return w.sessions.interface.parseError(data)?.name;
}

describe("Security: non-standard tokens through real agent UserOperations", () => {
  describe("a token that returns false instead of reverting", () => {
    it("the op 'succeeds', nothing moves, the calldata amount is charged, and the budget is never exceeded", async () => {
      const w = await deploySessionWorld(ethers);
      const token = await ethers.deployContract("FalseReturningToken");
      const tokenAddress = await token.getAddress();
      await token.mint(w.accountAddress, 10_000n * U);
      const [to] = w.recipients;
      const id = await tokenSession(w, tokenAddress, [to]);

      // three transfers of 100: each UserOperation succeeds, the token moves nothing, 100 is charged each time
      for (let i = 1n; i <= 3n; i++) {
        const r = await agent(w, id, transferOf(tokenAddress, to, 100n * U));
        expect(r.event.success, r.event.revertReason).to.equal(true);
        expect(r.queued).to.equal(undefined);
        expect(r.charged).to.deep.equal([100n * U]); // max(calldata 100, balance drop 0)
        expect(await token.balanceOf(to)).to.equal(0n);
        expect(await periodLeft(w, id, tokenAddress)).to.equal(300n * U - i * 100n * U);
      }
      expect(await token.balanceOf(w.accountAddress)).to.equal(10_000n * U);
      // the period cap (300) is used up by the phantom transfers: one more unit is no longer instant
      const r = await agent(w, id, transferOf(tokenAddress, to, 1n * U));
      expect(r.event.success, r.event.revertReason).to.equal(true);
      expect(r.queued?.args.tier).to.equal(TIER.Approval);
      expect(r.charged).to.deep.equal([]);

      // the token starts working: a new day's transfer moves and is charged once, as usual
      await token.setFailing(false);
      await time.increase(DAY + DAY / 3n + 1n);
      const ok = await agent(w, id, transferOf(tokenAddress, to, 50n * U));
      expect(ok.event.success, ok.event.revertReason).to.equal(true);
      expect(ok.charged).to.deep.equal([50n * U]);
      expect(await token.balanceOf(to)).to.equal(50n * U);
      const [, , lifetime] = await w.sessions.budgetOf(id, w.accountAddress, tokenAddress);
      expect(lifetime).to.equal(1_000n * U - 350n * U);
    });
  });

  describe("a fee-on-transfer token (10 % on top, paid by the sender)", () => {
    it("charges the balance drop (amount + fee), not the calldata amount", async () => {
      const w = await deploySessionWorld(ethers);
      const [, , , feeSink] = await ethers.getSigners();
      const token = await ethers.deployContract("FeeOnTransferToken", [1_000n, feeSink.address]);
      const tokenAddress = await token.getAddress();
      await token.mint(w.accountAddress, 10_000n * U);
      const [to] = w.recipients;
      const id = await tokenSession(w, tokenAddress, [to]);

      const r = await agent(w, id, transferOf(tokenAddress, to, 50n * U));
      expect(r.event.success, r.event.revertReason).to.equal(true);
      expect(r.charged).to.deep.equal([55n * U]);
      expect(await token.balanceOf(w.accountAddress)).to.equal(10_000n * U - 55n * U);
      expect(await periodLeft(w, id, tokenAddress)).to.equal(300n * U - 55n * U);
    });

    it("an instant-tier amount whose fee pushes the drop over the instant threshold reverts; nothing moves", async () => {
      const w = await deploySessionWorld(ethers);
      const [, , , feeSink] = await ethers.getSigners();
      const token = await ethers.deployContract("FeeOnTransferToken", [1_000n, feeSink.address]);
      const tokenAddress = await token.getAddress();
      await token.mint(w.accountAddress, 10_000n * U);
      const [to] = w.recipients;
      const id = await tokenSession(w, tokenAddress, [to]);

      // calldata 100 = instant threshold, real drop 110 > 100: AgentSessionsBudgetExceeded, the op reverts
      const r = await agent(w, id, transferOf(tokenAddress, to, 100n * U));
      expect(r.event.success).to.equal(false);
      expect(revertName(w, r.event.revertReason)).to.equal("AgentSessionsBudgetExceeded");
      expect(await token.balanceOf(w.accountAddress)).to.equal(10_000n * U);
      expect(await periodLeft(w, id, tokenAddress)).to.equal(300n * U);
    });

    it("repeated transfers never take more than the period cap out of the account", async () => {
      const w = await deploySessionWorld(ethers);
      const [, , , feeSink] = await ethers.getSigners();
      const token = await ethers.deployContract("FeeOnTransferToken", [1_000n, feeSink.address]);
      const tokenAddress = await token.getAddress();
      await token.mint(w.accountAddress, 10_000n * U);
      const [to] = w.recipients;
      const id = await tokenSession(w, tokenAddress, [to]);
      const start = await token.balanceOf(w.accountAddress);
      let refused = 0;
      for (const amount of [90n, 90n, 90n, 30n, 25n, 5n].map((x) => x * U)) {
        const r = await agent(w, id, transferOf(tokenAddress, to, amount));
        if (!r.event.success || r.queued) refused++;
        const lost = start - (await token.balanceOf(w.accountAddress));
        expect(lost).to.be.lte(300n * U);
        expect(300n * U - (await periodLeft(w, id, tokenAddress))).to.equal(lost); // charged == what left
      }
      // 99 + 99 = 198 fit; 99 more would not (calldata 90 < 102 left, but drop 99 ≤ 102: fits → 297);
      // then 30 (drop 33 > 3 left) and 25 are refused, 5 is queued for approval (calldata 5 > 3 left)
      expect(start - (await token.balanceOf(w.accountAddress))).to.equal(297n * U);
      expect(refused).to.equal(3);
    });
  });

  describe("an ERC-777-style token whose recipient hook re-enters", () => {
    async function hookWorld() {
      const w = await deploySessionWorld(ethers);
      const token = await ethers.deployContract("HookToken");
      const tokenAddress = await token.getAddress();
      await token.mint(w.accountAddress, 10_000n * U);
      const attacker = await ethers.deployContract("ReentrantRecipient");
      const attackerAddress = await attacker.getAddress();
      const id = await tokenSession(w, tokenAddress, [attackerAddress], {
        instantThreshold: 100n * U,
        ceiling: 1_000n * U,
        periodCap: 2_000n * U,
        lifetimeCap: 5_000n * U,
      });
      return { w, token, tokenAddress, attacker, attackerAddress, id };
    }

    it("re-entering account.execute, executeFromExecutor, AgentSessions, the timelock and the EntryPoint all fail", async () => {
      const { w, token, tokenAddress, attacker, attackerAddress, id } = await hookWorld();
      const steal = transferOf(tokenAddress, attackerAddress, 1_000n * U);
      const stealExec = w.account.interface.encodeFunctionData("execute", [
        MODE_SINGLE,
        ethers.solidityPacked(["address", "uint256", "bytes"], [steal.target, 0n, steal.data]),
      ]);
      const stealFromExecutor = w.account.interface.encodeFunctionData("executeFromExecutor", [
        MODE_SINGLE,
        ethers.solidityPacked(["address", "uint256", "bytes"], [steal.target, 0n, steal.data]),
      ]);
      // a forged UserOperation naming the account, handed straight to the session module
      const nextNonce = (await w.core.entryPoint.getNonce(w.accountAddress, BigInt(w.sessionsAddress) << 32n)) + 1n;
      const forged = await agentOp(w, id, steal, { nonce: nextNonce });
      const forgedExecute = w.sessions.interface.encodeFunctionData("executeAuthorized", [
        packUserOp(forged),
        ZeroHash,
      ]);
      const forgedQueued = w.sessions.interface.encodeFunctionData("executeQueued", [
        w.accountAddress,
        ZeroHash,
        id,
        MODE_SINGLE,
        ethers.solidityPacked(["address", "uint256", "bytes"], [steal.target, 0n, steal.data]),
        true,
      ]);
      // a second, validly signed agent op pushed into the EntryPoint from inside the first one
      const nested = w.core.entryPoint.interface.encodeFunctionData("handleOps", [
        [packUserOp(forged)],
        attackerAddress,
      ]);
      const calls: [string, string][] = [
        [w.accountAddress, stealExec],
        [w.accountAddress, stealFromExecutor],
        [w.sessionsAddress, forgedExecute],
        [w.sessionsAddress, forgedQueued],
        [await w.core.entryPoint.getAddress(), nested],
      ];
      for (const [target, data] of calls) await attacker.arm(target, data);

      const r = await agent(w, id, transferOf(tokenAddress, attackerAddress, 10n * U));
      expect(r.event.success, r.event.revertReason).to.equal(true);
      expect(await attacker.hookRuns()).to.equal(1n);
      expect(await attacker.resultCount()).to.equal(BigInt(calls.length));
      for (let i = 0; i < calls.length; i++) expect(await attacker.succeeded(i), `re-entry ${i}`).to.equal(false);
      // the named refusals
      const reasons = await Promise.all(calls.map((_, i) => attacker.results(i)));
      expect(w.account.interface.parseError(reasons[0])?.name).to.equal("AccountUnauthorized");
      expect(w.account.interface.parseError(reasons[1])?.name).to.equal("ReinsAccountUnauthorizedModule");
      expect(w.sessions.interface.parseError(reasons[2])?.name).to.equal("AgentSessionsUnauthorized");
      expect(w.sessions.interface.parseError(reasons[3])?.name).to.equal("AgentSessionsUnauthorized");
      expect(reasons[4].slice(0, 10)).to.equal(ethers.id("ReentrancyGuardReentrantCall()").slice(0, 10));
      // only the 10 the agent signed for left, and 10 was charged
      expect(await token.balanceOf(attackerAddress)).to.equal(10n * U);
      expect(r.charged).to.deep.equal([10n * U]);
      // the forged op's nonce was never used
      expect(await w.core.entryPoint.getNonce(w.accountAddress, BigInt(w.sessionsAddress) << 32n)).to.equal(nextNonce);
    });

    it("a hook that runs a Ready queued op inside an instant op: the outer op is charged the whole drop, so it reverts; the queued op still runs exactly once", async () => {
      const { w, token, tokenAddress, attacker, attackerAddress, id } = await hookWorld();
      const start = await token.balanceOf(w.accountAddress);
      const q = await agent(w, id, transferOf(tokenAddress, attackerAddress, 500n * U));
      expect(q.queued?.args.tier).to.equal(TIER.Delayed);
      const reqId = q.queued!.args.requestId as string;
      const executeQueued = w.timelock.interface.encodeFunctionData("execute", [
        w.accountAddress,
        reqId,
        q.scheduled!.args.mode as string,
        q.scheduled!.args.executionCalldata as string,
      ]);
      await attacker.arm(await w.timelock.getAddress(), executeQueued);

      // before the delay the re-entry fails (Scheduled); the instant op itself goes through
      const early = await agent(w, id, transferOf(tokenAddress, attackerAddress, 10n * U));
      expect(early.event.success, early.event.revertReason).to.equal(true);
      expect(await attacker.succeeded(0)).to.equal(false);
      expect(await w.timelock.state(w.accountAddress, reqId)).to.equal(STATE.Scheduled);

      // after the delay the hook runs the queued 500 inside an instant 10: the outer op sees a 510 drop,
      // more than its instant tier (100), and reverts as a whole
      await time.increase(HOUR);
      const inner = await agent(w, id, transferOf(tokenAddress, attackerAddress, 10n * U));
      expect(inner.event.success).to.equal(false);
      expect(revertName(w, inner.event.revertReason)).to.equal("AgentSessionsBudgetExceeded");
      expect(await w.timelock.state(w.accountAddress, reqId)).to.equal(STATE.Ready);
      expect(start - (await token.balanceOf(w.accountAddress))).to.equal(10n * U);

      // run normally: exactly once, charged once; the hook's own nested re-entry of the same id fails
      await w.timelock.execute(
        w.accountAddress,
        reqId,
        q.scheduled!.args.mode as string,
        q.scheduled!.args.executionCalldata as string,
      );
      expect(await attacker.succeeded(0)).to.equal(false); // nested execute of the same id: nonReentrant
      expect(await w.timelock.state(w.accountAddress, reqId)).to.equal(STATE.Executed);
      const lost = start - (await token.balanceOf(w.accountAddress));
      expect(lost).to.equal(510n * U);
      expect(2_000n * U - (await periodLeft(w, id, tokenAddress))).to.equal(510n * U);
      await expect(
        w.timelock.execute(
          w.accountAddress,
          reqId,
          q.scheduled!.args.mode as string,
          q.scheduled!.args.executionCalldata as string,
        ),
      ).to.be.revertedWithCustomError(w.timelock, "ReinsTimelockUnexpectedState");
    });
  });
});

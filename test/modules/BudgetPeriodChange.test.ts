import { expect } from "chai";
import { network } from "hardhat";
import {
  DAY,
  TIER,
  agentOp,
  deploySessionWorld,
  ownerCalls,
  parseEvents,
  paymentsConfig,
  sendAgent,
  transferCall,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const DELAY = 2n * DAY;

describe("AgentSessions: changing a budget's period", () => {
  it("a longer period with the same caps is loosening (it would clear the window's spend): it waits the delay", async () => {
    const w = await deploySessionWorld(ethers, DELAY);
    const base = await paymentsConfig(w);
    const budget = {
      ...base.budgets[0],
      instantThreshold: 100n,
      ceiling: 100n,
      periodCap: 100n,
      lifetimeCap: 10_000n,
      period: DAY,
    };
    const config = { ...base, budgets: [budget] };
    // grant (loosening: proposed, then applied after the delay)
    const grantData = w.sessions.interface.encodeFunctionData("grantSession", [config]);
    await ownerCalls(w, { target: w.sessionsAddress, data: grantData });
    await networkHelpers.time.increase(DELAY + 1n);
    const applied = await (await w.sessions.applyChange(w.accountAddress, grantData)).wait();
    const sessionId = parseEvents(w, applied!).find((e) => e.name === "SessionGranted")!.args.sessionId as string;
    // spend the whole period cap
    const spent = await sendAgent(w, [await agentOp(w, sessionId, transferCall(w, w.recipients[0], 100n))]);
    expect(spent.events[0].success).to.equal(true);
    let [, periodLeft] = await w.sessions.budgetOf(sessionId, w.accountAddress, w.tokenAddress);
    expect(periodLeft).to.equal(0n);
    // same caps, period 1 day -> 2 days: proposed only, nothing changes now
    const { receipt } = await ownerCalls(w, {
      target: w.sessionsAddress,
      data: w.sessions.interface.encodeFunctionData("setBudget", [sessionId, { ...budget, period: 2n * DAY }]),
    });
    expect(parseEvents(w, receipt).map((e) => e.name)).to.include("ChangeProposed");
    [, periodLeft] = await w.sessions.budgetOf(sessionId, w.accountAddress, w.tokenAddress);
    expect(periodLeft).to.equal(0n);
    // the agent's next 100 is not instant: it needs the owner
    const next = await sendAgent(w, [await agentOp(w, sessionId, transferCall(w, w.recipients[0], 100n))]);
    const queued = parseEvents(w, next.receipt).find((e) => e.name === "OperationQueued");
    expect(queued?.args.tier).to.equal(TIER.Approval);
    expect(await w.token.balanceOf(w.recipients[0])).to.equal(100n);
  });
});

import { expect } from "chai";
import { network } from "hardhat";
import {
  agentOp,
  deploySessionWorld,
  grant,
  parseEvents,
  paymentsConfig,
  sendAgent,
  transferCall,
  TIER,
} from "../helpers/sessions.js";

const { ethers } = await network.create();

describe("AgentSessions smoke", () => {
  it("an in-scope instant transfer runs; a larger one is queued", async () => {
    const w = await deploySessionWorld(ethers);
    const id = await grant(w, await paymentsConfig(w));
    const { events, receipt } = await sendAgent(w, [
      await agentOp(w, id, transferCall(w, w.recipients[0], 50n * 10n ** 6n)),
    ]);
    expect(events[0].success, events[0].revertReason).to.equal(true);
    expect(await w.token.balanceOf(w.recipients[0])).to.equal(50n * 10n ** 6n);
    console.log("      gas (instant agent erc20):", events[0].actualGasUsed, receipt.gasUsed);
    const q = await sendAgent(w, [await agentOp(w, id, transferCall(w, w.recipients[1], 500n * 10n ** 6n))]);
    expect(q.events[0].success, q.events[0].revertReason).to.equal(true);
    const queued = parseEvents(w, q.receipt).find((e) => e.name === "OperationQueued");
    expect(queued?.args.tier).to.equal(TIER.Delayed);
    expect(await w.token.balanceOf(w.recipients[1])).to.equal(0n);
  });
});

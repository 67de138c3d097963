import { expect } from "chai";
import { network } from "hardhat";
import {
  agentOp,
  deploySessionWorld,
  grant,
  ownerCalls,
  paymentsConfig,
  sendAgent,
  transferCall,
} from "../helpers/sessions.js";

const { ethers } = await network.create();

describe("Watchdog through a UserOperation", () => {
  it("a watchdog that is itself a smart account pauses with a UserOperation; its pause freezes the agent at once", async () => {
    const victim = await deploySessionWorld(ethers);
    const sessionId = await grant(victim, await paymentsConfig(victim));
    // the watchdog's key controls its own Reins account, which needs no ETH on the key (bundler-paid gas)
    const watchdogWorld = await deploySessionWorld(ethers);
    await ownerCalls(victim, {
      target: victim.sessionsAddress,
      data: victim.sessions.interface.encodeFunctionData("setWatchdog", [watchdogWorld.accountAddress, true]),
    });
    const { event } = await ownerCalls(watchdogWorld, {
      target: victim.sessionsAddress,
      data: victim.sessions.interface.encodeFunctionData("pause", [victim.accountAddress, true]),
    });
    expect(event.success).to.equal(true);
    expect(await victim.sessions.isPaused(victim.accountAddress)).to.equal(true);
    await expect(
      sendAgent(victim, [await agentOp(victim, sessionId, transferCall(victim, victim.recipients[0], 1n))]),
    ).to.be.revertedWithCustomError(victim.core.entryPoint, "FailedOpWithRevert");
    // the watchdog account cannot unpause the victim (unpause only acts on the caller's own entry)
    await ownerCalls(watchdogWorld, {
      target: victim.sessionsAddress,
      data: victim.sessions.interface.encodeFunctionData("unpause"),
    });
    expect(await victim.sessions.isPaused(victim.accountAddress)).to.equal(true);
  });

  it("an account that is not a registered watchdog cannot pause", async () => {
    const victim = await deploySessionWorld(ethers);
    const other = await deploySessionWorld(ethers);
    const { event } = await ownerCalls(other, {
      target: victim.sessionsAddress,
      data: victim.sessions.interface.encodeFunctionData("pause", [victim.accountAddress, false]),
    });
    expect(event.success).to.equal(false);
    expect(await victim.sessions.isPaused(victim.accountAddress)).to.equal(false);
  });
});

/**
 * The account's direct path for the usual owner operation (`execute` with one call in default mode): the same
 * semantics as OpenZeppelin's `execSingle` it replaces there (target zero is the account itself, a failure reverts
 * with the callee's reason, or `FailedCall` when the callee gives none).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { Interface, ZeroAddress } from "ethers";
import { MODULE_TYPE_EXECUTOR, accountInterface } from "../../src/account/encoding.js";
import { deploySessionWorld, ownerCalls } from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();

async function world() {
  const w = await deploySessionWorld(ethers);
  const executor = await ethers.deployContract("ForwardingExecutor");
  return { w, executor: await executor.getAddress() };
}

describe("ReinsAccount: one owner call in default mode", () => {
  it("a call to address(0) is a call to the account itself", async () => {
    const { w, executor } = await networkHelpers.loadFixture(world);
    const { event } = await ownerCalls(w, {
      target: ZeroAddress,
      data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, executor, "0x"]),
    });
    expect(event.success).to.equal(true);
    expect(await w.account.isModuleInstalled(MODULE_TYPE_EXECUTOR, executor, "0x")).to.equal(true);
  });

  it("a failing call fails the operation with the callee's reason, or FailedCall when it gives none", async () => {
    const { w } = await networkHelpers.loadFixture(world);
    const balance = await w.token.balanceOf(w.accountAddress);
    const tooMuch = await ownerCalls(w, {
      target: w.tokenAddress,
      data: w.token.interface.encodeFunctionData("transfer", [w.recipients[0], balance + 1n]),
    });
    expect(tooMuch.event.success).to.equal(false);
    expect(w.token.interface.parseError(tooMuch.event.revertReason!)?.name).to.equal("ERC20InsufficientBalance");

    // MockERC20 has no receive function: a plain value transfer to it reverts without data
    const silent = await ownerCalls(w, { target: w.tokenAddress, value: 1n });
    expect(silent.event.success).to.equal(false);
    expect(new Interface(["error FailedCall()"]).parseError(silent.event.revertReason!)?.name).to.equal("FailedCall");
    expect(await w.token.balanceOf(w.recipients[0])).to.equal(0n);
  });
});

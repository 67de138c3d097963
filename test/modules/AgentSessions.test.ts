import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, ZeroHash, concat, keccak256, toUtf8Bytes } from "ethers";
import {
  MODE_DELEGATECALL,
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_VALIDATOR,
  accountInterface,
  encodeDelegate,
  executeCalldata,
  wrapExecuteUserOp,
} from "../../src/account/encoding.js";
import { ENTRYPOINT_V08 } from "../../src/infra/singletons.js";
import { getUserOpHash } from "../../src/userop/userop.js";
import { signSessionOp } from "../../src/session/signature.js";
import { buildOp, randomWallet } from "../helpers/reins.js";
import {
  DAY,
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

async function world() {
  const w = await deploySessionWorld(ethers);
  const sessionId = await grant(w, await paymentsConfig(w));
  return { w, sessionId };
}

/** Everything an attack must leave unchanged. */
async function snapshot(w: SessionWorld, sessionId: string) {
  return {
    native: await ethers.provider.getBalance(w.accountAddress),
    token: await w.token.balanceOf(w.accountAddress),
    deposit: await w.core.entryPoint.balanceOf(w.accountAddress),
    root: await w.account.rootValidator(),
    owner: await w.core.ownerValidator.ownerOf(w.accountAddress),
    sessionsInstalled: await w.account.isModuleInstalled(MODULE_TYPE_VALIDATOR, w.sessionsAddress, "0x"),
    session: (await w.sessions.getSession(sessionId, w.accountAddress)).toString(),
  };
}

/** Validation refuses the op: handleOps reverts (the bundler would drop it) and nothing changes. */
async function expectRefused(
  w: SessionWorld,
  sessionId: string,
  op: Awaited<ReturnType<typeof agentOp>>,
  error?: string,
) {
  const before = await snapshot(w, sessionId);
  const attempt = sendAgent(w, [op]);
  if (error) {
    await expect(attempt).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOpWithRevert");
    // the inner reason is our named error
    try {
      await w.core.entryPoint.handleOps.staticCall(
        [(await import("../../src/userop/userop.js")).packUserOp(op)],
        ZeroAddress,
      );
    } catch (e) {
      const data = (e as { data?: string }).data ?? "";
      const parsed = w.core.entryPoint.interface.parseError(data);
      const inner = w.sessions.interface.parseError(parsed!.args.inner);
      expect(inner?.name).to.equal(error);
    }
  } else {
    await expect(attempt).to.be.revert(ethers);
  }
  const after = await snapshot(w, sessionId);
  expect(after).to.deep.equal({ ...before, session: after.session === before.session ? before.session : "changed" });
}

describe("AgentSessions: validation and scope", () => {
  it("runs an in-scope op and emits events naming the session", async () => {
    const { w, sessionId } = await networkHelpers.loadFixture(world);
    const op = await agentOp(w, sessionId, transferCall(w, w.recipients[0], 10n));
    const { events, receipt } = await sendAgent(w, [op]);
    expect(events[0].success).to.equal(true);
    expect(await w.token.balanceOf(w.recipients[0])).to.equal(10n);
    const names = receipt.logs.map((l) => w.sessions.interface.parseLog(l)?.name).filter(Boolean);
    expect(names).to.include.members(["SpendRecorded", "SessionOperationExecuted"]);
    const executed = receipt.logs
      .map((l) => w.sessions.interface.parseLog(l))
      .find((p) => p?.name === "SessionOperationExecuted");
    expect(executed!.args.sessionId).to.equal(sessionId);
  });

  it("the same agent key fails on another account, on another chain id, after revocation, and on replay", async () => {
    const { w, sessionId } = await networkHelpers.loadFixture(world);
    // another account (same modules, another owner): the session id does not exist there
    const w2 = await deploySessionWorld(ethers);
    const foreign = await agentOp({ ...w2, agent: w.agent }, sessionId, transferCall(w2, w2.recipients[0], 1n));
    await expect(sendAgent(w2, [foreign])).to.be.revertedWithCustomError(w2.core.entryPoint, "FailedOpWithRevert");
    // another chain id: the signature does not match this chain's hash
    const op = await agentOp(w, sessionId, transferCall(w, w.recipients[0], 1n));
    const otherChainHash = getUserOpHash(op, ENTRYPOINT_V08, w.core.chainId + 1n);
    const crossChain = {
      ...op,
      signature: signSessionOp(
        w.agent.signingKey,
        { chainId: w.core.chainId + 1n, sessions: w.sessionsAddress },
        otherChainHash,
        sessionId,
      ),
    };
    await expect(sendAgent(w, [crossChain]))
      .to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp")
      .withArgs(0n, "AA24 signature error");
    // replay of an executed op
    await sendAgent(w, [op]);
    await expect(sendAgent(w, [op])).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp");
    // revocation by the owner ends it at once
    await ownerCalls(w, {
      target: w.sessionsAddress,
      data: w.sessions.interface.encodeFunctionData("revokeSession", [sessionId]),
    });
    await expectRefused(
      w,
      sessionId,
      await agentOp(w, sessionId, transferCall(w, w.recipients[0], 1n)),
      "AgentSessionsRevoked",
    );
  });

  it("a key that is not the session's agent fails with AA24", async () => {
    const { w, sessionId } = await networkHelpers.loadFixture(world);
    const op = await agentOp(w, sessionId, transferCall(w, w.recipients[0], 1n), {}, randomWallet());
    await expect(sendAgent(w, [op]))
      .to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp")
      .withArgs(0n, "AA24 signature error");
  });

  it("is not due before validAfter and expires after validUntil (AA22); renewal extends; the agent revokes itself", async () => {
    const w = await deploySessionWorld(ethers);
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const id = await grant(w, await paymentsConfig(w, { validAfter: now + 100n, validUntil: now + 1000n }));
    const early = await agentOp(w, id, transferCall(w, w.recipients[0], 1n));
    await expect(sendAgent(w, [early]))
      .to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp")
      .withArgs(0n, "AA22 expired or not due");
    await networkHelpers.time.increase(200);
    expect((await sendAgent(w, [early])).events[0].success).to.equal(true);
    await networkHelpers.time.increase(1000);
    const late = await agentOp(w, id, transferCall(w, w.recipients[0], 1n));
    await expect(sendAgent(w, [late]))
      .to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp")
      .withArgs(0n, "AA22 expired or not due");
    // renewal by the owner (security delay 0 in this world) revives it
    await ownerCalls(w, {
      target: w.sessionsAddress,
      data: w.sessions.interface.encodeFunctionData("renewSession", [id, now + 10n * DAY]),
    });
    expect((await sendAgent(w, [late])).events[0].success).to.equal(true);
    // the agent shuts itself down with its own key
    const agentSigner = w.agent.connect(ethers.provider);
    await (await ethers.getSigners())[0].sendTransaction({ to: w.agent.address, value: 10n ** 18n });
    await expect(w.sessions.connect(agentSigner).revokeSelf(w.accountAddress, id)).to.emit(
      w.sessions,
      "SessionRevoked",
    );
    await expectRefused(w, id, await agentOp(w, id, transferCall(w, w.recipients[0], 1n)), "AgentSessionsRevoked");
    // a stranger cannot revoke it
    await expect(w.sessions.connect(w.core.stranger).revokeSelf(w.accountAddress, id)).to.be.revertedWithCustomError(
      w.sessions,
      "AgentSessionsUnauthorized",
    );
  });

  describe("refuses, with no state change", () => {
    it("a call outside the scope and a batch with one such call", async () => {
      const { w, sessionId } = await networkHelpers.loadFixture(world);
      const stranger = randomWallet().address;
      await expectRefused(
        w,
        sessionId,
        await agentOp(w, sessionId, transferCall(w, stranger, 1n)),
        "AgentSessionsConditionFailed",
      );
      await expectRefused(
        w,
        sessionId,
        await agentOp(w, sessionId, [transferCall(w, w.recipients[0], 1n), { target: stranger, value: 1n }]),
        "AgentSessionsScopeViolation",
      );
      const otherToken = await ethers.deployContract("MockERC20", ["X", "X", 18]);
      await expectRefused(
        w,
        sessionId,
        await agentOp(w, sessionId, {
          target: await otherToken.getAddress(),
          data: otherToken.interface.encodeFunctionData("transfer", [w.recipients[0], 1n]),
        }),
        "AgentSessionsScopeViolation",
      );
    });

    it("an amount above the argument condition", async () => {
      const { w, sessionId } = await networkHelpers.loadFixture(world);
      await expectRefused(
        w,
        sessionId,
        await agentOp(w, sessionId, transferCall(w, w.recipients[0], 10n ** 12n + 1n)),
        "AgentSessionsConditionFailed",
      );
    });

    it("delegatecall mode and try mode when the session does not allow it", async () => {
      const { w, sessionId } = await networkHelpers.loadFixture(world);
      const writer = await ethers.deployContract("DelegateWriter");
      const inner = accountInterface.encodeFunctionData("execute", [
        MODE_DELEGATECALL,
        encodeDelegate(await writer.getAddress(), writer.interface.encodeFunctionData("write", [ZeroHash, ZeroHash])),
      ]);
      await expectRefused(
        w,
        sessionId,
        await agentOp(w, sessionId, [], { callData: wrapExecuteUserOp(inner) }),
        "AgentSessionsModeNotAllowed",
      );
      await expectRefused(
        w,
        sessionId,
        await agentOp(w, sessionId, transferCall(w, w.recipients[0], 1n), {}, w.agent, 1),
        "AgentSessionsModeNotAllowed",
      );
    });

    it("calls to the account itself: installModule, uninstallModule, upgradeToAndCall, nested execute", async () => {
      const { w, sessionId } = await networkHelpers.loadFixture(world);
      const evil = await ethers.deployContract("ForwardingExecutor");
      const selfCalls = [
        accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, await evil.getAddress(), "0x"]),
        accountInterface.encodeFunctionData("uninstallModule", [MODULE_TYPE_VALIDATOR, w.sessionsAddress, "0x"]),
        accountInterface.encodeFunctionData("upgradeToAndCall", [await evil.getAddress(), "0x"]),
        executeCalldata({ target: w.recipients[0], value: 1n }),
      ];
      for (const data of selfCalls) {
        await expectRefused(
          w,
          sessionId,
          await agentOp(w, sessionId, { target: w.accountAddress, data }),
          "AgentSessionsForbiddenTarget",
        );
      }
    });

    it("calls to Reins modules: raising its own limits, renewing itself, granting a session, the timelock", async () => {
      const { w, sessionId } = await networkHelpers.loadFixture(world);
      const cfg = await paymentsConfig(w);
      const raise = w.sessions.interface.encodeFunctionData("setBudget", [
        sessionId,
        {
          ...cfg.budgets[0],
          periodCap: 10n ** 30n,
          lifetimeCap: 10n ** 30n,
          ceiling: 10n ** 30n,
          instantThreshold: 10n ** 30n,
        },
      ]);
      const renew = w.sessions.interface.encodeFunctionData("renewSession", [sessionId, 2n ** 47n]);
      const grantNew = w.sessions.interface.encodeFunctionData("grantSession", [cfg]);
      for (const data of [raise, renew, grantNew]) {
        await expectRefused(
          w,
          sessionId,
          await agentOp(w, sessionId, { target: w.sessionsAddress, data }),
          "AgentSessionsForbiddenTarget",
        );
      }
      const approve = w.timelock.interface.encodeFunctionData("approve", [ZeroHash]);
      await expectRefused(
        w,
        sessionId,
        await agentOp(w, sessionId, { target: await w.timelock.getAddress(), data: approve }),
        "AgentSessionsForbiddenTarget",
      );
      // the owner validator is an installed module: refused at grant time
      const bad = await paymentsConfig(w, {
        permissions: [
          {
            target: await w.core.ownerValidator.getAddress(),
            selector: "0x13af4035",
            valueCap: 0n,
            calldataLength: 0n,
            conditions: [],
          },
        ],
      });
      const { event } = await ownerCalls(w, {
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("grantSession", [bad]),
      });
      expect(event.success).to.equal(false);
    });

    it("calls to the EntryPoint: withdrawTo and addStake", async () => {
      const { w, sessionId } = await networkHelpers.loadFixture(world);
      const ep = w.core.entryPoint.interface;
      for (const data of [
        ep.encodeFunctionData("withdrawTo", [w.recipients[0], 1n]),
        ep.encodeFunctionData("addStake", [1]),
        ep.encodeFunctionData("depositTo", [w.accountAddress]),
      ]) {
        await expectRefused(
          w,
          sessionId,
          await agentOp(w, sessionId, { target: ENTRYPOINT_V08, data }),
          "AgentSessionsForbiddenTarget",
        );
      }
    });

    it("plain execute call data (skipping executeUserOp), fallback selectors and executeFromExecutor", async () => {
      const { w, sessionId } = await networkHelpers.loadFixture(world);
      const plain = await agentOp(w, sessionId, [], {
        callData: executeCalldata(transferCall(w, w.recipients[0], 1n)),
      });
      await expectRefused(w, sessionId, plain, "CallPolicyInvalidCallData");
      const fromExecutor = concat([
        accountInterface.getFunction("executeUserOp")!.selector,
        ethers.id("executeFromExecutor(bytes32,bytes)").slice(0, 10),
        ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes"], [ZeroHash, "0x"]),
      ]);
      await expectRefused(
        w,
        sessionId,
        await agentOp(w, sessionId, [], { callData: fromExecutor }),
        "CallPolicyInvalidCallData",
      );
      const fallbackSel = concat([
        accountInterface.getFunction("executeUserOp")!.selector,
        keccak256(toUtf8Bytes("x")).slice(0, 10),
      ]);
      await expectRefused(
        w,
        sessionId,
        await agentOp(w, sessionId, [], { callData: fallbackSel }),
        "CallPolicyInvalidCallData",
      );
    });

    it("non-canonical ABI offsets and trailing bytes", async () => {
      const { w, sessionId } = await networkHelpers.loadFixture(world);
      const good = wrapExecuteUserOp(executeCalldata(transferCall(w, w.recipients[0], 1n)));
      const trailing = concat([good, "0x" + "00".repeat(32)]);
      await expectRefused(
        w,
        sessionId,
        await agentOp(w, sessionId, [], { callData: trailing }),
        "CallPolicyInvalidCallData",
      );
      // offset 0x60 instead of 0x40, with a dummy word inserted
      const body = good.slice(2 + 16); // after the two selectors
      const mode = body.slice(0, 64);
      const rest = body.slice(128);
      const shifted = "0x" + good.slice(2, 18) + mode + (0x60).toString(16).padStart(64, "0") + "00".repeat(32) + rest;
      await expectRefused(
        w,
        sessionId,
        await agentOp(w, sessionId, [], { callData: shifted }),
        "CallPolicyInvalidCallData",
      );
      // trailing bytes inside the inner call: transfer(to, amount) ‖ extra word
      const extra = { target: w.tokenAddress, data: concat([transferCall(w, w.recipients[0], 1n).data!, ZeroHash]) };
      await expectRefused(w, sessionId, await agentOp(w, sessionId, extra), "AgentSessionsCalldataLength");
    });
  });

  it("gas drain: an op over the per-op gas cap is refused; the attacker earns nothing beyond the budget", async () => {
    const w = await deploySessionWorld(ethers);
    const id = await grant(w, await paymentsConfig(w, { maxGasCostPerOp: 10n ** 15n, gasBudget: 3n * 10n ** 15n }));
    const attacker = randomWallet().address;
    const huge = await agentOp(w, id, transferCall(w, w.recipients[0], 1n), {
      maxFeePerGas: 10n ** 12n,
      maxPriorityFeePerGas: 10n ** 12n,
    });
    await expect(sendAgent(w, [huge], attacker)).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOpWithRevert");
    expect(await ethers.provider.getBalance(attacker)).to.equal(0n);
    // within the per-op cap but repeated: the total gas budget stops it
    let paid = 0n;
    for (let i = 0; i < 5; i++) {
      const op = await agentOp(w, id, transferCall(w, w.recipients[0], 1n), {
        maxFeePerGas: 10n ** 9n,
        maxPriorityFeePerGas: 10n ** 9n,
      });
      try {
        await sendAgent(w, [op], attacker);
      } catch {
        break;
      }
      paid = await ethers.provider.getBalance(attacker);
    }
    expect(paid).to.be.lessThanOrEqual(3n * 10n ** 15n);
    const s = await w.sessions.getSession(id, w.accountAddress);
    expect(s.gasSpent).to.be.lessThanOrEqual(3n * 10n ** 15n);
  });

  it("an op with paymasterAndData is refused when the session does not allow paymasters", async () => {
    const { w, sessionId } = await networkHelpers.loadFixture(world);
    const op = await agentOp(w, sessionId, transferCall(w, w.recipients[0], 1n), {
      paymaster: randomWallet().address,
      paymasterVerificationGasLimit: 10_000n,
      paymasterPostOpGasLimit: 10_000n,
      paymasterData: "0x",
    });
    await expectRefused(w, sessionId, op, "AgentSessionsPaymasterNotAllowed");
  });

  it("ERC-1271: a session key cannot sign a permit or any message", async () => {
    const { w, sessionId } = await networkHelpers.loadFixture(world);
    const hash = keccak256(toUtf8Bytes("permit"));
    const sig = concat([w.sessionsAddress, sessionId, ZeroHash, w.agent.signingKey.sign(hash).serialized]);
    expect(await w.account.isValidSignature(hash, sig)).to.equal("0xffffffff");
  });

  it("uninstalling and reinstalling the session module does not revive old sessions", async () => {
    const { w, sessionId } = await networkHelpers.loadFixture(world);
    for (const type of [MODULE_TYPE_VALIDATOR, MODULE_TYPE_EXECUTOR]) {
      const { event } = await ownerCalls(w, {
        target: w.accountAddress,
        data: accountInterface.encodeFunctionData("uninstallModule", [type, w.sessionsAddress, "0x"]),
      });
      expect(event.success).to.equal(true);
    }
    for (const type of [MODULE_TYPE_VALIDATOR, MODULE_TYPE_EXECUTOR]) {
      await ownerCalls(w, {
        target: w.accountAddress,
        data: accountInterface.encodeFunctionData("installModule", [type, w.sessionsAddress, "0x"]),
      });
    }
    expect(await w.account.isModuleInstalled(MODULE_TYPE_VALIDATOR, w.sessionsAddress, "0x")).to.equal(true);
    await expectRefused(
      w,
      sessionId,
      await agentOp(w, sessionId, transferCall(w, w.recipients[0], 1n)),
      "AgentSessionsUnknownSession",
    );
  });

  it("usage limit: the op after maxUses is refused", async () => {
    const w = await deploySessionWorld(ethers);
    const id = await grant(w, await paymentsConfig(w, { maxUses: 1n }));
    expect(
      (await sendAgent(w, [await agentOp(w, id, transferCall(w, w.recipients[0], 1n))])).events[0].success,
    ).to.equal(true);
    await expectRefused(
      w,
      id,
      await agentOp(w, id, transferCall(w, w.recipients[0], 1n)),
      "AgentSessionsUsageExceeded",
    );
  });

  it("malformed, short and zero signatures fail signature validation (AA24), not with a revert", async () => {
    const { w, sessionId } = await networkHelpers.loadFixture(world);
    const op = await buildOp(
      w.core,
      w.accountAddress,
      w.sessionsAddress,
      wrapExecuteUserOp(executeCalldata(transferCall(w, w.recipients[0], 1n))),
    );
    for (const signature of ["0x", "0x1234", concat([sessionId, ZeroHash, "0x" + "00".repeat(65)])]) {
      await expect(sendAgent(w, [{ ...op, signature }]))
        .to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp")
        .withArgs(0n, "AA24 signature error");
    }
  });
});

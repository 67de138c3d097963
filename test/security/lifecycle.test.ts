/**
 * Issue 12: every expiry, revocation, narrowing and recovery takes effect on every path an agent operation can run
 * through (validation, instant execution, queued execution delayed and approved, pending changes applied later,
 * recovery follow-ups). Each attack is a real signed UserOperation (the attacker as bundler) and checks "nothing
 * lost" against a snapshot.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, ZeroHash, concat, type Wallet } from "ethers";
import {
  MODE_SINGLE,
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_HOOK,
  MODULE_TYPE_VALIDATOR,
  accountInterface,
  encodeSingle,
  type Call,
} from "../../src/account/encoding.js";
import type { CircuitBreaker, GuardianRecovery, RiskEngineEnvelope } from "../../types/ethers-contracts/index.js";
import { buildOp, handleOps, randomWallet, signAsOwner, signDigest, userOpEvents } from "../helpers/reins.js";
import {
  DAY,
  HOUR,
  OP,
  TIER,
  agentOp,
  deploySessionWorld,
  grant,
  ownerCalls,
  parseEvents,
  paymentsConfig,
  transferCall,
  type SessionConfig,
  type SessionWorld,
} from "../helpers/sessions.js";
import {
  agentInstant,
  agentQueued,
  decodeRevert,
  expectUnchanged,
  runAgent,
  snapshot,
  validationRefusal,
} from "../helpers/attacks.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;
const U = 10n ** 6n;
const STATE = { Scheduled: 1n, Ready: 2n, Executed: 3n, Cancelled: 4n } as const;
const word = (v: bigint | string) => "0x" + BigInt(v).toString(16).padStart(64, "0");

async function world() {
  const w = await deploySessionWorld(ethers);
  const id = await grant(w, await paymentsConfig(w));
  return { w, id };
}

async function delayedWorld() {
  const w = await deploySessionWorld(ethers, DAY);
  // a security delay: the grant itself waits; apply it
  const { receipt } = await ownerCalls(w, {
    target: w.sessionsAddress,
    data: w.sessions.interface.encodeFunctionData("grantSession", [await paymentsConfig(w)]),
  });
  const proposed = parseEvents(w, receipt).find((e) => e.name === "ChangeProposed")!;
  await time.increase(DAY);
  const applied = await (await w.sessions.applyChange(w.accountAddress, proposed.args.data as string)).wait();
  const granted = parseEvents(w, applied!).find((e) => e.name === "SessionGranted")!;
  return { w, id: granted.args.sessionId as string };
}

function sessionsCall(w: SessionWorld, fn: string, args: unknown[]): Call {
  return { target: w.sessionsAddress, data: w.sessions.interface.encodeFunctionData(fn as never, args as never) };
}

async function ownerOk(w: SessionWorld, calls: Call | Call[]) {
  const r = await ownerCalls(w, calls);
  expect(r.event.success, `owner op failed: ${decodeRevert(w, r.event.revertReason)?.name}`).to.equal(true);
  return r;
}

/** Propose a loosening change as the owner; returns its call data (from ChangeProposed). */
async function propose(w: SessionWorld, call: Call): Promise<string> {
  const { receipt } = await ownerOk(w, call);
  const p = parseEvents(w, receipt).find((e) => e.name === "ChangeProposed");
  expect(p, "no change proposed").to.not.equal(undefined);
  return p!.args.data as string;
}

async function executeQueued(w: SessionWorld, q: { id: string; mode: string; calldata: string }) {
  return w.timelock.execute(w.accountAddress, q.id, q.mode, q.calldata);
}

describe("Security: lifecycle edges (issue 12)", () => {
  describe("1. queued operations do not outlive their session", () => {
    it("a delayed request does not run after validUntil, although its timelock delay passed", async () => {
      const { w } = await networkHelpers.loadFixture(world);
      const now = BigInt(await time.latest());
      const id = await grant(w, await paymentsConfig(w, { validUntil: now + 2n * HOUR }));
      const q = await agentQueued(w, id, transferCall(w, w.recipients[0], 500n * U), TIER.Delayed);
      await time.increaseTo(now + 3n * HOUR); // an hour after validUntil, well inside the request's window
      expect(await w.timelock.state(w.accountAddress, q.id)).to.equal(STATE.Ready);
      const before = await snapshot(w, { sessionIds: [id], queue: [q.id] });
      await expect(executeQueued(w, q)).to.be.revertedWithCustomError(w.sessions, "AgentSessionsOutsideWindow");
      expectUnchanged(before, await snapshot(w, { sessionIds: [id], queue: [q.id] }));
    });

    it("the boundary is the EntryPoint's: a request runs at validUntil exactly, not one second later", async () => {
      for (const offset of [0n, 1n]) {
        const { w } = await networkHelpers.loadFixture(world);
        const now = BigInt(await time.latest());
        const validUntil = now + 2n * HOUR;
        const id = await grant(w, await paymentsConfig(w, { validUntil }));
        const q = await agentQueued(w, id, transferCall(w, w.recipients[0], 500n * U), TIER.Delayed);
        await time.setNextBlockTimestamp(validUntil + offset);
        if (offset === 0n) await executeQueued(w, q);
        else await expect(executeQueued(w, q)).to.be.revertedWithCustomError(w.sessions, "AgentSessionsOutsideWindow");
        expect(await w.token.balanceOf(w.recipients[0])).to.equal(offset === 0n ? 500n * U : 0n);
      }
    });

    it("cutting a session short (renewSession(now + 5)) binds a queued request at once", async () => {
      const { w, id } = await networkHelpers.loadFixture(world);
      const q = await agentQueued(w, id, transferCall(w, w.recipients[0], 800n * U), TIER.Delayed);
      const now = BigInt(await time.latest());
      await ownerOk(w, sessionsCall(w, "renewSession", [id, now + 5n]));
      await time.increase(HOUR + 1n);
      const before = await snapshot(w, { sessionIds: [id], queue: [q.id] });
      await expect(executeQueued(w, q)).to.be.revertedWithCustomError(w.sessions, "AgentSessionsOutsideWindow");
      expectUnchanged(before, await snapshot(w, { sessionIds: [id], queue: [q.id] }));
    });

    it("an owner-approved request of an expired session does not run either (documented decision)", async () => {
      const { w, id } = await networkHelpers.loadFixture(world);
      const q = await agentQueued(w, id, transferCall(w, w.recipients[0], 1_500n * U), TIER.Approval);
      const now = BigInt(await time.latest());
      await ownerOk(w, sessionsCall(w, "renewSession", [id, now + 5n]));
      await time.increase(10);
      await ownerOk(w, {
        target: await w.timelock.getAddress(),
        data: w.timelock.interface.encodeFunctionData("approve", [q.id]),
      });
      expect(await w.timelock.state(w.accountAddress, q.id)).to.equal(STATE.Ready);
      const before = await snapshot(w, { sessionIds: [id] });
      await expect(executeQueued(w, q)).to.be.revertedWithCustomError(w.sessions, "AgentSessionsOutsideWindow");
      expectUnchanged(before, await snapshot(w, { sessionIds: [id] }));
    });

    it("inside the window the same approved request runs (the rule is the window, not approval)", async () => {
      const { w, id } = await networkHelpers.loadFixture(world);
      const q = await agentQueued(w, id, transferCall(w, w.recipients[0], 1_500n * U), TIER.Approval);
      await ownerOk(w, {
        target: await w.timelock.getAddress(),
        data: w.timelock.interface.encodeFunctionData("approve", [q.id]),
      });
      const before = await w.token.balanceOf(w.recipients[0]);
      await executeQueued(w, q);
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(before + 1_500n * U);
    });
  });

  describe("2. pending loosening changes die with the epoch", () => {
    async function pendingGrant(w: SessionWorld, recipient: string) {
      const cfg = await paymentsConfig(w, { agent: w.agent.address });
      (cfg.permissions[0].conditions[0] as { oneOf: string[] }).oneOf = [word(recipient)];
      return propose(w, sessionsCall(w, "grantSession", [cfg]));
    }

    it("revokeAllSessions voids a pending grant: applyChange after the delay refuses it", async () => {
      const { w } = await networkHelpers.loadFixture(delayedWorld);
      const data = await pendingGrant(w, randomWallet().address);
      await ownerOk(w, sessionsCall(w, "revokeAllSessions", []));
      await time.increase(DAY);
      await expect(w.sessions.applyChange(w.accountAddress, data)).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsChangeVoided",
      );
      expect(await w.sessions.pendingChange(w.accountAddress, ethers.keccak256(data))).to.equal(0n);
    });

    it("an uninstall + reinstall of AgentSessions voids pending grants, permissions and budget raises", async () => {
      const { w, id } = await networkHelpers.loadFixture(delayedWorld);
      const grantData = await pendingGrant(w, randomWallet().address);
      const permData = await propose(
        w,
        sessionsCall(w, "addPermission", [
          id,
          {
            target: randomWallet().address,
            selector: "0x00000000",
            valueCap: 10n ** 18n,
            calldataLength: 0n,
            conditions: [],
          },
        ]),
      );
      const budgetData = await propose(
        w,
        sessionsCall(w, "setBudget", [
          id,
          {
            token: w.tokenAddress,
            instantThreshold: 1_000n * U,
            ceiling: 1_000n * U,
            periodCap: 100_000n * U,
            lifetimeCap: 100_000n * U,
            period: DAY,
          },
        ]),
      );
      const delay = AbiCoder.defaultAbiCoder().encode(["uint32"], [DAY]);
      await ownerOk(w, [
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("uninstallModule", [
            MODULE_TYPE_VALIDATOR,
            w.sessionsAddress,
            "0x",
          ]),
        },
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("uninstallModule", [MODULE_TYPE_EXECUTOR, w.sessionsAddress, "0x"]),
        },
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_VALIDATOR, w.sessionsAddress, delay]),
        },
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, w.sessionsAddress, delay]),
        },
      ]);
      await time.increase(DAY);
      for (const data of [grantData, permData, budgetData]) {
        await expect(w.sessions.applyChange(w.accountAddress, data)).to.be.revertedWithCustomError(
          w.sessions,
          "AgentSessionsChangeVoided",
        );
      }
    });

    it("a change proposed after the revoke-all still applies (only earlier ones die)", async () => {
      const { w } = await networkHelpers.loadFixture(delayedWorld);
      await ownerOk(w, sessionsCall(w, "revokeAllSessions", []));
      const data = await pendingGrant(w, randomWallet().address);
      await time.increase(DAY);
      await expect(w.sessions.applyChange(w.accountAddress, data)).to.emit(w.sessions, "SessionGranted");
    });

    it("guardian recovery whose follow-up revokes all sessions voids pending changes and clears agent requests", async () => {
      const { w, id } = await networkHelpers.loadFixture(delayedWorld);
      const recovery = (await ethers.deployContract("GuardianRecovery")) as unknown as GuardianRecovery;
      const guardians = [randomWallet(), randomWallet()];
      const installData = AbiCoder.defaultAbiCoder().encode(
        ["address[]", "uint8", "uint32", "uint32", "uint32", "tuple(address target, bytes data)[]"],
        [
          guardians.map((g) => g.address),
          2,
          HOUR,
          DAY,
          2n * DAY,
          [[w.sessionsAddress, w.sessions.interface.encodeFunctionData("revokeAllSessions")]],
        ],
      );
      await ownerOk(w, {
        target: w.accountAddress,
        data: accountInterface.encodeFunctionData("installModule", [
          MODULE_TYPE_EXECUTOR,
          await recovery.getAddress(),
          installData,
        ]),
      });
      const q = await agentQueued(w, id, transferCall(w, w.recipients[0], 500n * U), TIER.Delayed);
      const data = await pendingGrant(w, randomWallet().address);
      const newOwner = randomWallet();
      const digest = await recovery.recoveryDigest(w.accountAddress, newOwner.address);
      const sigs = [...guardians]
        .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
        .map((g) => concat([g.address, signDigest(g, digest)]));
      await recovery.proposeRecovery(w.accountAddress, newOwner.address, sigs);
      await time.increase(HOUR);
      await recovery.completeRecovery(w.accountAddress);
      expect(await w.timelock.state(w.accountAddress, q.id)).to.equal(STATE.Cancelled);
      await time.increase(DAY);
      await expect(w.sessions.applyChange(w.accountAddress, data)).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsChangeVoided",
      );
      const refusal = await validationRefusal(w, await agentOp(w, id, transferCall(w, w.recipients[0], 1n)));
      expect(refusal.name).to.equal("AgentSessionsUnknownSession");
    });

    it("a breaker loosening and a risk-engine envelope proposed before a revoke-all are void", async () => {
      const { w } = await networkHelpers.loadFixture(delayedWorld);
      const breaker = (await ethers.deployContract("CircuitBreaker", [w.sessionsAddress])) as unknown as CircuitBreaker;
      const envelope = (await ethers.deployContract("RiskEngineEnvelope", [
        w.sessionsAddress,
      ])) as unknown as RiskEngineEnvelope;
      const b = await breaker.getAddress();
      await ownerOk(w, {
        target: b,
        data: breaker.interface.encodeFunctionData("configure", [{ window: HOUR, maxOps: 5, maxNewRecipients: 0 }]),
      });
      await ownerOk(w, [
        {
          target: b,
          data: breaker.interface.encodeFunctionData("configure", [{ window: HOUR, maxOps: 0, maxNewRecipients: 0 }]),
        },
        { target: b, data: breaker.interface.encodeFunctionData("setSpendLimit", [w.tokenAddress, 1n]) },
      ]);
      await ownerOk(w, {
        target: b,
        data: breaker.interface.encodeFunctionData("setSpendLimit", [w.tokenAddress, 10n ** 30n]),
      });
      const engine = randomWallet();
      const env = { maxDuration: DAY, maxUses: 10, maxGasBudget: 10n ** 18n, maxGasCostPerOp: 10n ** 16n };
      await ownerOk(w, {
        target: await envelope.getAddress(),
        data: envelope.interface.encodeFunctionData("setEnvelope", [engine.address, env, [w.tokenAddress], []]),
      });
      await ownerOk(w, sessionsCall(w, "revokeAllSessions", []));
      await time.increase(DAY);
      await expect(breaker.applyConfig(w.accountAddress)).to.be.revertedWithCustomError(
        breaker,
        "CircuitBreakerChangeVoided",
      );
      await expect(breaker.applySpendLimit(w.accountAddress, w.tokenAddress, 10n ** 30n)).to.be.revertedWithCustomError(
        breaker,
        "CircuitBreakerChangeVoided",
      );
      const cfg = await paymentsConfig(w, { agent: randomWallet().address });
      await expect(
        envelope.connect(engine.connect(ethers.provider)).revoke.staticCall(w.accountAddress, ZeroHash),
      ).to.be.revertedWithCustomError(envelope, "RiskEngineUnauthorized");
      void cfg;
    });

    it("a grant delegate accepted before a revoke-all can no longer grant", async () => {
      const { w } = await networkHelpers.loadFixture(world);
      const delegate = randomWallet().connect(ethers.provider);
      await (await ethers.provider.getSigner(0)).sendTransaction({ to: delegate.address, value: 10n ** 18n });
      await ownerOk(w, sessionsCall(w, "setGrantDelegate", [delegate.address, true]));
      expect(await w.sessions.isGrantDelegate(delegate.address, w.accountAddress)).to.equal(true);
      await ownerOk(w, sessionsCall(w, "revokeAllSessions", []));
      expect(await w.sessions.isGrantDelegate(delegate.address, w.accountAddress)).to.equal(false);
      await expect(
        w.sessions.connect(delegate).grantSessionFor(w.accountAddress, await paymentsConfig(w)),
      ).to.be.revertedWithCustomError(w.sessions, "AgentSessionsUnauthorized");
    });
  });

  describe("3. narrowing a scope narrows it, for new and queued operations", () => {
    async function narrowed(w: SessionWorld, id: string, mode: "replace" | "remove+add") {
      const cfg = await paymentsConfig(w);
      const perm = structuredClone(cfg.permissions[0]) as SessionConfig["permissions"][number];
      (perm.conditions[0] as { oneOf: string[] }).oneOf = [word(w.recipients[0])];
      const calls: Call[] = [];
      if (mode === "remove+add") calls.push(sessionsCall(w, "removePermission", [id, w.tokenAddress, "0xa9059cbb"]));
      calls.push(sessionsCall(w, "addPermission", [id, perm]));
      await ownerOk(w, calls);
    }

    for (const mode of ["replace", "remove+add"] as const) {
      it(`a recipient dropped from a one-of set (${mode}) can no longer be paid, fresh or queued`, async () => {
        const { w, id } = await networkHelpers.loadFixture(world);
        const dropped = w.recipients[1];
        const q = await agentQueued(w, id, transferCall(w, dropped, 600n * U), TIER.Delayed);
        await narrowed(w, id, mode);
        const refusal = await validationRefusal(w, await agentOp(w, id, transferCall(w, dropped, 1n * U)));
        expect(refusal.name).to.equal("AgentSessionsConditionFailed");
        await agentInstant(w, id, transferCall(w, w.recipients[0], 1n * U)); // the kept recipient still works
        await time.increase(HOUR);
        const before = await snapshot(w, { sessionIds: [id], queue: [q.id] });
        await expect(executeQueued(w, q)).to.be.revertedWithCustomError(w.sessions, "AgentSessionsConditionFailed");
        expectUnchanged(before, await snapshot(w, { sessionIds: [id], queue: [q.id] }));
      });
    }

    it("removePermission alone refuses a queued request of that permission", async () => {
      const { w, id } = await networkHelpers.loadFixture(world);
      const q = await agentQueued(w, id, transferCall(w, w.recipients[1], 600n * U), TIER.Delayed);
      await ownerOk(w, sessionsCall(w, "removePermission", [id, w.tokenAddress, "0xa9059cbb"]));
      await time.increase(HOUR);
      await expect(executeQueued(w, q)).to.be.revertedWithCustomError(w.sessions, "AgentSessionsScopeViolation");
    });
  });

  describe("4. no session reaches what configures the account", () => {
    it("the zero address and the breaker are refused as targets at grant time", async () => {
      const { w } = await networkHelpers.loadFixture(world);
      const breaker = await ethers.deployContract("CircuitBreaker", [w.sessionsAddress]);
      const delegate = randomWallet().address;
      await ownerOk(w, [
        sessionsCall(w, "setBreaker", [await breaker.getAddress()]),
        sessionsCall(w, "setGrantDelegate", [delegate, true]),
      ]);
      for (const target of [ethers.ZeroAddress, await breaker.getAddress()]) {
        const cfg = await paymentsConfig(w);
        cfg.permissions = [
          { target, selector: "0x00000000", valueCap: 10n ** 18n, calldataLength: 0n, conditions: [] },
        ];
        const r = await ownerCalls(w, sessionsCall(w, "grantSession", [cfg]));
        expect(r.event.success).to.equal(false);
        expect(decodeRevert(w, r.event.revertReason)?.name).to.equal("AgentSessionsForbiddenTarget");
      }
    });

    it("a module installed after the grant is unreachable from then on (checked in validation)", async () => {
      const { w, id } = await networkHelpers.loadFixture(world);
      const sink = await ethers.deployContract("ForwardingExecutor");
      const sinkAddr = await sink.getAddress();
      await ownerOk(
        w,
        sessionsCall(w, "addPermission", [
          id,
          { target: sinkAddr, selector: "0x00000000", valueCap: 10n ** 15n, calldataLength: 0n, conditions: [] },
        ]),
      );
      await ownerOk(w, {
        target: w.accountAddress,
        data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, sinkAddr, "0x"]),
      });
      const refusal = await validationRefusal(w, await agentOp(w, id, { target: sinkAddr, value: 1n }));
      expect(refusal.name).to.equal("AgentSessionsForbiddenTarget");
    });

    it("an agent call to a breaker that is not attached yet cannot configure it (refused while agents execute)", async () => {
      const { w, id } = await networkHelpers.loadFixture(world);
      const breaker = (await ethers.deployContract("CircuitBreaker", [w.sessionsAddress])) as unknown as CircuitBreaker;
      const b = await breaker.getAddress();
      const configure = breaker.interface.encodeFunctionData("configure", [
        { window: HOUR, maxOps: 0, maxNewRecipients: 0 },
      ]);
      await ownerOk(
        w,
        sessionsCall(w, "addPermission", [
          id,
          { target: b, selector: configure.slice(0, 10), valueCap: 0n, calldataLength: 0n, conditions: [] },
        ]),
      );
      const r = await runAgent(w, id, { target: b, data: configure });
      expect(r.event.success).to.equal(false);
      expect(r.revert?.name).to.equal("CircuitBreakerUnauthorized");
      expect((await breaker.configOf(w.accountAddress)).window).to.equal(0n);
    });

    it("an agent call to the risk-engine envelope cannot set an envelope for an attacker's engine", async () => {
      const { w, id } = await networkHelpers.loadFixture(world);
      const envelope = (await ethers.deployContract("RiskEngineEnvelope", [
        w.sessionsAddress,
      ])) as unknown as RiskEngineEnvelope;
      const e = await envelope.getAddress();
      const attacker = randomWallet().address;
      const data = envelope.interface.encodeFunctionData("setEnvelope", [
        attacker,
        { maxDuration: DAY, maxUses: 10, maxGasBudget: 10n ** 18n, maxGasCostPerOp: 10n ** 16n },
        [w.tokenAddress],
        [],
      ]);
      await ownerOk(
        w,
        sessionsCall(w, "addPermission", [
          id,
          { target: e, selector: data.slice(0, 10), valueCap: 0n, calldataLength: 0n, conditions: [] },
        ]),
      );
      const r = await runAgent(w, id, { target: e, data });
      expect(r.event.success).to.equal(false);
      expect(r.revert?.name).to.equal("RiskEngineUnauthorized");
      expect((await envelope.envelopeOf(attacker, w.accountAddress))[1]).to.equal(0n);
    });
  });

  describe("6. owner lock-out and overreach", () => {
    it("a watchdog pause with cancelQueued cancels agent requests only, never the owner's queued operations", async () => {
      const { w, id } = await networkHelpers.loadFixture(world);
      const watchdog = randomWallet().connect(ethers.provider);
      await (await ethers.provider.getSigner(0)).sendTransaction({ to: watchdog.address, value: 10n ** 18n });
      await ownerOk(w, sessionsCall(w, "setWatchdog", [watchdog.address, true]));
      const agentReq = await agentQueued(w, id, transferCall(w, w.recipients[0], 500n * U), TIER.Delayed);
      const inner = transferCall(w, w.recipients[2], 7n);
      const { receipt } = await ownerOk(w, {
        target: await w.timelock.getAddress(),
        data: w.timelock.interface.encodeFunctionData("schedule", [
          MODE_SINGLE,
          encodeSingle(inner),
          HOUR,
          DAY,
          false,
          ethers.ZeroAddress,
          ZeroHash,
        ]),
      });
      const ownerReq = parseEvents(w, receipt).find((e) => e.name === "OperationScheduled")!.args.id as string;
      await w.sessions.connect(watchdog).pause(w.accountAddress, true);
      expect(await w.timelock.state(w.accountAddress, agentReq.id)).to.equal(STATE.Cancelled);
      await time.increase(HOUR);
      expect(await w.timelock.state(w.accountAddress, ownerReq)).to.equal(STATE.Ready);
      await w.timelock.execute(w.accountAddress, ownerReq, MODE_SINGLE, encodeSingle(inner));
      expect(await w.token.balanceOf(w.recipients[2])).to.equal(7n);
    });

    it("with the owner safety net on, a hook that reverts can still be removed after the hook-removal delay", async () => {
      const { w } = await networkHelpers.loadFixture(world);
      const recovery = (await ethers.deployContract("GuardianRecovery")) as unknown as GuardianRecovery;
      const hook = await ethers.deployContract("CountingHook");
      const guardians = [randomWallet(), randomWallet()];
      const installData = AbiCoder.defaultAbiCoder().encode(
        ["address[]", "uint8", "uint32", "uint32", "uint32", "tuple(address target, bytes data)[]"],
        [guardians.map((g) => g.address), 2, HOUR, DAY, 2n * DAY, []],
      );
      const ov = await w.core.ownerValidator.getAddress();
      await ownerOk(w, [
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("installModule", [
            MODULE_TYPE_EXECUTOR,
            await recovery.getAddress(),
            installData,
          ]),
        },
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, ov, "0x"]),
        },
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_HOOK, await hook.getAddress(), "0x"]),
        },
        {
          target: ov,
          data: w.core.ownerValidator.interface.encodeFunctionData("enableSafetyNet", [
            { lockSource: await recovery.getAddress(), timelock: await w.timelock.getAddress(), minDelay: DAY },
          ]),
        },
      ]);
      await hook.setRevertAll(true);
      // the owner's only way: the direct, delayed hook removal (the safety net allows exactly this call)
      const op = signAsOwner(
        w.core,
        await buildOp(w.core, w.accountAddress, ov, w.account.interface.encodeFunctionData("requestHookRemoval")),
        w.owner,
      );
      const [ev] = userOpEvents(w.core, await handleOps(w.core, [op]));
      expect(ev.success, decodeRevert(w, ev.revertReason)?.name).to.equal(true);
      await expect(w.account.completeHookRemoval()).to.be.revertedWithCustomError(
        w.account,
        "ReinsAccountHookRemovalNotReady",
      );
      await time.increase(3n * DAY);
      await w.account.completeHookRemoval();
      expect(await w.account.hook()).to.equal(ethers.ZeroAddress);
    });

    it("guardians unblock a recovery that a reverting hook stops, through the delayed hook removal", async () => {
      const { w } = await networkHelpers.loadFixture(world);
      const recovery = (await ethers.deployContract("GuardianRecovery")) as unknown as GuardianRecovery;
      const hook = await ethers.deployContract("CountingHook");
      const guardians = [randomWallet(), randomWallet()];
      const installData = AbiCoder.defaultAbiCoder().encode(
        ["address[]", "uint8", "uint32", "uint32", "uint32", "tuple(address target, bytes data)[]"],
        [guardians.map((g) => g.address), 2, HOUR, DAY, 2n * DAY, []],
      );
      await ownerOk(w, [
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("installModule", [
            MODULE_TYPE_EXECUTOR,
            await recovery.getAddress(),
            installData,
          ]),
        },
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_HOOK, await hook.getAddress(), "0x"]),
        },
      ]);
      await hook.setRevertAll(true);
      const newOwner = randomWallet();
      const digest = await recovery.recoveryDigest(w.accountAddress, newOwner.address);
      const sigs = [...guardians]
        .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
        .map((g) => concat([g.address, signDigest(g, digest)]));
      await recovery.proposeRecovery(w.accountAddress, newOwner.address, sigs);
      await expect(recovery.requestHookRemoval(w.accountAddress)).to.be.revertedWithCustomError(
        recovery,
        "GuardianRecoveryNotReady",
      );
      await time.increase(HOUR);
      await expect(recovery.completeRecovery(w.accountAddress)).to.be.revert(ethers); // the hook reverts
      await recovery.requestHookRemoval(w.accountAddress);
      await time.increase(3n * DAY);
      await w.account.completeHookRemoval();
      await recovery.completeRecovery(w.accountAddress);
      expect(await w.core.ownerValidator.ownerOf(w.accountAddress)).to.equal(newOwner.address);
    });

    it("nobody else can request a hook removal", async () => {
      const { w } = await networkHelpers.loadFixture(world);
      await expect(w.account.requestHookRemoval()).to.be.revertedWithCustomError(
        w.account,
        "ReinsAccountUnauthorizedModule",
      );
    });
  });

  describe("8. smaller edges", () => {
    it("a batch with a used-up token period (approval, limit 0) and an instant native payment is queued for approval, naming the token", async () => {
      const { w } = await networkHelpers.loadFixture(world);
      const cfg = await paymentsConfig(w);
      cfg.budgets = [
        {
          token: w.tokenAddress,
          instantThreshold: 100n * U,
          ceiling: 100n * U,
          periodCap: 100n * U,
          lifetimeCap: 1_000n * U,
          period: DAY,
        },
        cfg.budgets[1],
      ];
      const id = await grant(w, cfg);
      await agentInstant(w, id, transferCall(w, w.recipients[0], 100n * U));
      const q = await agentQueued(
        w,
        id,
        [transferCall(w, w.recipients[0], 1n * U), { target: w.recipients[1], value: 10n ** 15n }],
        TIER.Approval,
      );
      expect(q.token).to.equal(w.tokenAddress);
      expect(q.amount).to.equal(1n * U);
      expect(q.limit).to.equal(0n);
    });

    it("an empty batch is refused in validation (no use, no gas charged)", async () => {
      const { w, id } = await networkHelpers.loadFixture(world);
      const refusal = await validationRefusal(w, await agentOp(w, id, []));
      expect(refusal.name).to.equal("AgentSessionsEmptyBatch");
    });

    it("the breaker does not mark recipients of an operation that trips it", async () => {
      const { w, id } = await networkHelpers.loadFixture(world);
      const breaker = (await ethers.deployContract("CircuitBreaker", [w.sessionsAddress])) as unknown as CircuitBreaker;
      const b = await breaker.getAddress();
      await ownerOk(w, [
        sessionsCall(w, "setBreaker", [b]),
        {
          target: b,
          data: breaker.interface.encodeFunctionData("configure", [{ window: DAY, maxOps: 0, maxNewRecipients: 1 }]),
        },
      ]);
      // two new recipients at once: trips, pays nothing
      const r = await runAgent(w, id, [transferCall(w, w.recipients[0], 1n), transferCall(w, w.recipients[1], 1n)]);
      expect(r.event.success).to.equal(true);
      expect(await w.sessions.isPaused(w.accountAddress)).to.equal(true);
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(0n);
      await ownerOk(w, sessionsCall(w, "unpause", []));
      await agentInstant(w, id, transferCall(w, w.recipients[0], 1n)); // first new recipient in the window
      await runAgent(w, id, transferCall(w, w.recipients[1], 1n)); // second: still new, so it trips
      expect(await w.sessions.isPaused(w.accountAddress)).to.equal(true);
      expect(await w.token.balanceOf(w.recipients[1])).to.equal(0n);
    });

    it("a reinstall cannot lower the security delay or grant initial sessions at once", async () => {
      const { w } = await networkHelpers.loadFixture(delayedWorld);
      const cfg = await paymentsConfig(w, { agent: randomWallet().address });
      const init = AbiCoder.defaultAbiCoder().encode(
        [
          "uint32",
          "tuple(address agent,uint48 validAfter,uint48 validUntil,uint32 maxUses,uint128 maxGasCostPerOp,uint128 gasBudget,bool allowTry,bool allowPaymaster,uint32 queueDelay,uint32 approvalWindow,tuple(address target,bytes4 selector,uint128 valueCap,uint16 calldataLength,tuple(uint8 op,uint8 word,bytes32 value,bytes32[] oneOf)[] conditions)[] permissions,tuple(address token,uint128 instantThreshold,uint128 ceiling,uint128 periodCap,uint128 lifetimeCap,uint32 period)[] budgets)[]",
        ],
        [0n, [cfg]],
      );
      const { receipt } = await ownerOk(w, [
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("uninstallModule", [
            MODULE_TYPE_VALIDATOR,
            w.sessionsAddress,
            "0x",
          ]),
        },
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("uninstallModule", [MODULE_TYPE_EXECUTOR, w.sessionsAddress, "0x"]),
        },
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_VALIDATOR, w.sessionsAddress, init]),
        },
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, w.sessionsAddress, "0x"]),
        },
      ]);
      const evs = parseEvents(w, receipt);
      expect(evs.filter((e) => e.name === "SessionGranted")).to.have.length(0);
      expect(evs.filter((e) => e.name === "ChangeProposed")).to.have.length(2);
      expect((await w.sessions.accountConfig(w.accountAddress)).securityDelay).to.equal(DAY);
    });
  });
});

export type { Wallet };

import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, type BytesLike, solidityPacked, toBeHex, ZeroAddress, ZeroHash } from "ethers";
import { ENTRYPOINT_V08 } from "../../src/infra/singletons.js";

const { ethers, networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

const MODULE_TYPE_EXECUTOR = 2n;
const MODE_SINGLE = ZeroHash;
const MODE_BATCH = "0x01" + "00".repeat(31);
const MODE_DELEGATECALL = "0xff" + "00".repeat(31);
const MODE_STATICCALL = "0xfe" + "00".repeat(31);

const HOUR = 3600n;
const DAY = 24n * HOUR;

/** Mirrors `ReinsTimelock.OperationState`. */
enum State {
  Unknown,
  Scheduled,
  Ready,
  Executed,
  Cancelled,
  Expired,
}

/** The `expectedStates` bitmap of `ReinsTimelockUnexpectedState`. */
function states(...list: State[]): string {
  return toBeHex(
    list.reduce((acc, s) => acc | (1n << BigInt(s)), 0n),
    32,
  );
}

function encodeSingle(target: string, value: bigint, data: BytesLike): string {
  return solidityPacked(["address", "uint256", "bytes"], [target, value, data]);
}

function encodeBatch(calls: { target: string; value: bigint; data: BytesLike }[]): string {
  return AbiCoder.defaultAbiCoder().encode(
    ["tuple(address,uint256,bytes)[]"],
    [calls.map((c) => [c.target, c.value, c.data])],
  );
}

interface ScheduleArgs {
  mode?: string;
  executionCalldata?: string;
  delay?: bigint;
  validFor?: bigint;
  approvalRequired?: boolean;
  guard?: string;
  context?: string;
}

async function deployFixture() {
  const [owner, stranger, watchdog, keeper] = await ethers.getSigners();
  const timelock = await ethers.deployContract("ReinsTimelock");
  const account = await ethers.deployContract("MockERC7579Account", [ENTRYPOINT_V08, owner.address]);
  const target = await ethers.deployContract("MockCallTarget");
  const guard = await ethers.deployContract("MockQueueGuard");
  const reenterer = await ethers.deployContract("MockReentrantTarget");
  const timelockAddr = await timelock.getAddress();
  const accountAddr = await account.getAddress();
  const targetAddr = await target.getAddress();
  const guardAddr = await guard.getAddress();

  await account.ownerInstall(MODULE_TYPE_EXECUTOR, timelockAddr, "0x");
  await account.ownerInstall(MODULE_TYPE_EXECUTOR, guardAddr, "0x");

  /** Has the account call the timelock (as the owner would through a UserOperation). */
  const asAccount = (data: string) => account.ownerExecute(MODE_SINGLE, encodeSingle(timelockAddr, 0n, data));

  /** A single call to `target.ping(arg)`. */
  const pingCall = (arg: bigint) => encodeSingle(targetAddr, 0n, target.interface.encodeFunctionData("ping", [arg]));

  /** Schedules through the account; returns the id (from the event) plus the inputs, to execute later. */
  async function schedule(args: ScheduleArgs = {}) {
    const mode = args.mode ?? MODE_SINGLE;
    const executionCalldata = args.executionCalldata ?? pingCall(42n);
    const delay = args.delay ?? HOUR;
    const validFor = args.validFor ?? DAY;
    const tx = await asAccount(
      timelock.interface.encodeFunctionData("schedule", [
        mode,
        executionCalldata,
        delay,
        validFor,
        args.approvalRequired ?? false,
        args.guard ?? ZeroAddress,
        args.context ?? ZeroHash,
      ]),
    );
    const receipt = await tx.wait();
    const log = receipt!.logs
      .map((l) => {
        try {
          return timelock.interface.parseLog(l);
        } catch {
          return null;
        }
      })
      .find((l) => l?.name === "OperationScheduled");
    const id: string = log!.args.id;
    const op = await timelock.getOperation(accountAddr, id);
    return { id, mode, executionCalldata, readyAt: op.readyAt, expiresAt: op.expiresAt, tx, receipt: receipt! };
  }

  return {
    owner,
    stranger,
    watchdog,
    keeper,
    timelock,
    account,
    target,
    guard,
    reenterer,
    timelockAddr,
    accountAddr,
    targetAddr,
    guardAddr,
    asAccount,
    pingCall,
    schedule,
  };
}

describe("ReinsTimelock", () => {
  describe("module", () => {
    it("is an executor only", async () => {
      const { timelock } = await loadFixture(deployFixture);
      expect(await timelock.isModuleType(MODULE_TYPE_EXECUTOR)).to.equal(true);
      for (const t of [1n, 3n, 4n]) expect(await timelock.isModuleType(t)).to.equal(false);
    });

    it("marks the account on install and refuses a second install", async () => {
      const { timelock, accountAddr, stranger } = await loadFixture(deployFixture);
      expect(await timelock.isInitialized(accountAddr)).to.equal(true);
      expect(await timelock.isInitialized(stranger.address)).to.equal(false);
      await timelock.connect(stranger).onInstall("0x");
      await expect(timelock.connect(stranger).onInstall("0x"))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockAlreadyInstalled")
        .withArgs(stranger.address);
    });

    it("the mock account's shortcuts are owner-only", async () => {
      const { account, timelockAddr, stranger } = await loadFixture(deployFixture);
      await expect(account.connect(stranger).ownerExecute(MODE_SINGLE, encodeSingle(timelockAddr, 0n, "0x")))
        .to.be.revertedWithCustomError(account, "MockERC7579AccountNotOwner")
        .withArgs(stranger.address);
      await expect(account.connect(stranger).ownerUninstall(MODULE_TYPE_EXECUTOR, timelockAddr, "0x"))
        .to.be.revertedWithCustomError(account, "MockERC7579AccountNotOwner")
        .withArgs(stranger.address);
    });

    it("refuses to uninstall from an account it is not installed on", async () => {
      const { timelock, stranger } = await loadFixture(deployFixture);
      await expect(timelock.connect(stranger).onUninstall("0x"))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockNotInstalled")
        .withArgs(stranger.address);
    });
  });

  describe("schedule", () => {
    it("stores the operation, emits it with its calldata and bumps the nonce", async () => {
      const { timelock, accountAddr, guardAddr, pingCall, schedule } = await loadFixture(deployFixture);
      const context = toBeHex(7n, 32);
      const cd = pingCall(1n);
      const expectedId = await timelock.hashOperation(accountAddr, 0n, MODE_SINGLE, cd);
      const { id, tx, readyAt, expiresAt } = await schedule({
        executionCalldata: cd,
        delay: HOUR,
        validFor: DAY,
        approvalRequired: true,
        guard: guardAddr,
        context,
      });
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      expect(id).to.equal(expectedId);
      expect(readyAt).to.equal(now + HOUR);
      expect(expiresAt).to.equal(now + HOUR + DAY);
      await expect(tx)
        .to.emit(timelock, "OperationScheduled")
        .withArgs(accountAddr, id, guardAddr, context, MODE_SINGLE, cd, now + HOUR, now + HOUR + DAY, true);

      const op = await timelock.getOperation(accountAddr, id);
      expect(op.state).to.equal(State.Scheduled);
      expect(op.guard).to.equal(guardAddr);
      expect(op.nonce).to.equal(0n);
      expect(op.epoch).to.equal(0n);
      expect(op.approvalRequired).to.equal(true);
      expect(op.approved).to.equal(false);
      expect(op.context).to.equal(context);
      expect(await timelock.nonceOf(accountAddr)).to.equal(1n);

      // Same call again: new nonce, new id.
      const second = await schedule({ executionCalldata: cd });
      expect(second.id).to.not.equal(id);
      expect(await timelock.nonceOf(accountAddr)).to.equal(2n);
    });

    it("reverts for an account that has not installed the module", async () => {
      const { timelock, stranger, pingCall } = await loadFixture(deployFixture);
      await expect(
        timelock.connect(stranger).schedule(MODE_SINGLE, pingCall(1n), HOUR, DAY, false, ZeroAddress, ZeroHash),
      )
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockNotInstalled")
        .withArgs(stranger.address);
    });

    it("refuses delegatecall and any call type other than single and batch", async () => {
      const { timelock, pingCall, schedule } = await loadFixture(deployFixture);
      await expect(schedule({ mode: MODE_DELEGATECALL, executionCalldata: pingCall(1n) }))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnsupportedCallType")
        .withArgs("0xff");
      await expect(schedule({ mode: MODE_STATICCALL }))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnsupportedCallType")
        .withArgs("0xfe");
    });

    it("refuses the try execution type (a starved call must not consume the operation)", async () => {
      const { timelock, schedule } = await loadFixture(deployFixture);
      await expect(schedule({ mode: "0x0001" + "00".repeat(30) }))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnsupportedExecType")
        .withArgs("0x01");
      await expect(schedule({ mode: "0x0101" + "00".repeat(30) }))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnsupportedExecType")
        .withArgs("0x01");
    });

    it("refuses an empty validity window and one that overflows uint48", async () => {
      const { timelock, schedule } = await loadFixture(deployFixture);
      await expect(schedule({ validFor: 0n }))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockInvalidWindow")
        .withArgs(HOUR, 0n);
      const max48 = (1n << 48n) - 1n;
      await expect(schedule({ delay: max48 - 10n, validFor: max48 }))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockInvalidWindow")
        .withArgs(max48 - 10n, max48);
    });
  });

  describe("execute", () => {
    it("fails before the delay, succeeds once after it (for anyone), then fails as Executed", async () => {
      const { timelock, accountAddr, target, keeper, schedule } = await loadFixture(deployFixture);
      const { id, mode, executionCalldata, readyAt } = await schedule();

      await time.setNextBlockTimestamp(readyAt - 1n);
      await expect(timelock.connect(keeper).execute(accountAddr, id, mode, executionCalldata))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(id, State.Scheduled, states(State.Ready));

      await time.setNextBlockTimestamp(readyAt);
      await expect(timelock.connect(keeper).execute(accountAddr, id, mode, executionCalldata))
        .to.emit(timelock, "OperationExecuted")
        .withArgs(accountAddr, id);
      expect(await target.calls()).to.equal(1n);
      expect(await target.lastCaller()).to.equal(accountAddr);
      expect(await target.lastArg()).to.equal(42n);
      expect(await timelock.state(accountAddr, id)).to.equal(State.Executed);

      await expect(timelock.connect(keeper).execute(accountAddr, id, mode, executionCalldata))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(id, State.Executed, states(State.Ready));
      expect(await target.calls()).to.equal(1n);
    });

    it("runs a batch, forwarding value from the account", async () => {
      const { timelock, accountAddr, target, targetAddr, owner, schedule } = await loadFixture(deployFixture);
      await owner.sendTransaction({ to: accountAddr, value: 10n });
      const ping = (arg: bigint) => target.interface.encodeFunctionData("ping", [arg]);
      const { id, mode, executionCalldata } = await schedule({
        mode: MODE_BATCH,
        executionCalldata: encodeBatch([
          { target: targetAddr, value: 0n, data: ping(1n) },
          { target: targetAddr, value: 3n, data: ping(2n) },
        ]),
        delay: 0n,
      });
      await timelock.execute(accountAddr, id, mode, executionCalldata);
      expect(await target.calls()).to.equal(2n);
      expect(await target.lastArg()).to.equal(2n);
      expect(await target.lastValue()).to.equal(3n);
    });

    it("refuses a call that differs from the scheduled one", async () => {
      const { timelock, accountAddr, pingCall, schedule } = await loadFixture(deployFixture);
      const { id, executionCalldata } = await schedule({ delay: 0n });
      const other = pingCall(43n);
      await expect(timelock.execute(accountAddr, id, MODE_SINGLE, other))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockCallMismatch")
        .withArgs(accountAddr, id, await timelock.hashOperation(accountAddr, 0n, MODE_SINGLE, other));
      const tryMode = "0x0001" + "00".repeat(30);
      await expect(timelock.execute(accountAddr, id, tryMode, executionCalldata))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockCallMismatch")
        .withArgs(accountAddr, id, await timelock.hashOperation(accountAddr, 0n, tryMode, executionCalldata));
      expect(await timelock.state(accountAddr, id)).to.equal(State.Ready);
    });

    it("leaves the operation Ready when the execution reverts", async () => {
      const { timelock, accountAddr, target, targetAddr, schedule } = await loadFixture(deployFixture);
      const { id, mode, executionCalldata } = await schedule({
        executionCalldata: encodeSingle(targetAddr, 0n, target.interface.encodeFunctionData("fail")),
        delay: 0n,
      });
      await expect(timelock.execute(accountAddr, id, mode, executionCalldata)).to.be.revertedWithCustomError(
        target,
        "MockCallTargetFailed",
      );
      expect(await timelock.state(accountAddr, id)).to.equal(State.Ready);
    });

    it("an operation whose call re-enters execute for the same id runs once", async () => {
      const { timelock, accountAddr, reenterer, schedule } = await loadFixture(deployFixture);
      const reentererAddr = await reenterer.getAddress();
      const { id, mode, executionCalldata } = await schedule({
        executionCalldata: encodeSingle(reentererAddr, 0n, reenterer.interface.encodeFunctionData("reenter")),
        delay: 0n,
      });
      await reenterer.arm(await timelock.getAddress(), accountAddr, id, mode, executionCalldata);

      const tx = await timelock.execute(accountAddr, id, mode, executionCalldata);
      const receipt = await tx.wait();
      const executed = receipt!.logs.filter((l) => timelock.interface.parseLog(l)?.name === "OperationExecuted");
      expect(executed.length).to.equal(1);
      expect(await reenterer.calls()).to.equal(1n);
      expect(await reenterer.innerSuccesses()).to.equal(0n);
      expect(await reenterer.lastRevertData()).to.equal(
        timelock.interface.getError("ReentrancyGuardReentrantCall")!.selector,
      );
      expect(await timelock.state(accountAddr, id)).to.equal(State.Executed);
    });

    it("a queued operation cannot approve another one", async () => {
      const { timelock, timelockAddr, accountAddr, schedule } = await loadFixture(deployFixture);
      const gated = await schedule({ approvalRequired: true });
      const sneaky = await schedule({
        executionCalldata: encodeSingle(timelockAddr, 0n, timelock.interface.encodeFunctionData("approve", [gated.id])),
        delay: 0n,
      });
      await expect(
        timelock.execute(accountAddr, sneaky.id, sneaky.mode, sneaky.executionCalldata),
      ).to.be.revertedWithCustomError(timelock, "ReentrancyGuardReentrantCall");
      expect(await timelock.state(accountAddr, gated.id)).to.equal(State.Scheduled);
    });

    it("expires at expiresAt, not before", async () => {
      const { timelock, accountAddr, target, schedule } = await loadFixture(deployFixture);
      const a = await schedule({ validFor: HOUR });
      const b = await schedule({ validFor: HOUR, executionCalldata: a.executionCalldata });
      await time.setNextBlockTimestamp(a.expiresAt - 1n);
      await timelock.execute(accountAddr, a.id, a.mode, a.executionCalldata);
      expect(await target.calls()).to.equal(1n);

      await time.increaseTo(b.expiresAt);
      expect(await timelock.state(accountAddr, b.id)).to.equal(State.Expired);
      await expect(timelock.execute(accountAddr, b.id, b.mode, b.executionCalldata))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(b.id, State.Expired, states(State.Ready));
      expect(await target.calls()).to.equal(1n);
      expect(await timelock.state(accountAddr, a.id)).to.equal(State.Executed);
    });

    it("reverts for an unknown id", async () => {
      const { timelock, accountAddr, pingCall } = await loadFixture(deployFixture);
      const id = toBeHex(1234n, 32);
      await expect(timelock.execute(accountAddr, id, MODE_SINGLE, pingCall(1n)))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(id, State.Unknown, states(State.Ready));
      expect((await timelock.getOperation(accountAddr, id)).state).to.equal(State.Unknown);
    });
  });

  describe("approval", () => {
    it("an approval-required operation never runs without approval, even after the delay", async () => {
      const { timelock, accountAddr, schedule } = await loadFixture(deployFixture);
      const { id, mode, executionCalldata, readyAt } = await schedule({ approvalRequired: true });
      await time.increaseTo(readyAt + HOUR);
      expect(await timelock.state(accountAddr, id)).to.equal(State.Scheduled);
      await expect(timelock.execute(accountAddr, id, mode, executionCalldata))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(id, State.Scheduled, states(State.Ready));
    });

    it("runs at once after approval, even before the delay", async () => {
      const { timelock, accountAddr, target, asAccount, schedule } = await loadFixture(deployFixture);
      const { id, mode, executionCalldata, readyAt } = await schedule({ approvalRequired: true, delay: DAY });
      await expect(asAccount(timelock.interface.encodeFunctionData("approve", [id])))
        .to.emit(timelock, "OperationApproved")
        .withArgs(accountAddr, id);
      const op = await timelock.getOperation(accountAddr, id);
      expect(op.approved).to.equal(true);
      expect(op.state).to.equal(State.Ready);
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      expect(now).to.be.lessThan(readyAt);
      await timelock.execute(accountAddr, id, mode, executionCalldata);
      expect(await target.calls()).to.equal(1n);
    });

    it("refuses to approve an expired, executed or cancelled operation", async () => {
      const { timelock, accountAddr, asAccount, schedule } = await loadFixture(deployFixture);
      const allowed = states(State.Scheduled, State.Ready);
      const expired = await schedule({ approvalRequired: true, validFor: HOUR });
      await time.increaseTo(expired.expiresAt);
      await expect(asAccount(timelock.interface.encodeFunctionData("approve", [expired.id])))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(expired.id, State.Expired, allowed);

      const done = await schedule({ delay: 0n });
      await timelock.execute(accountAddr, done.id, done.mode, done.executionCalldata);
      await expect(asAccount(timelock.interface.encodeFunctionData("approve", [done.id])))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(done.id, State.Executed, allowed);

      const cancelled = await schedule({ approvalRequired: true });
      await asAccount(timelock.interface.encodeFunctionData("cancel", [accountAddr, cancelled.id]));
      await expect(asAccount(timelock.interface.encodeFunctionData("approve", [cancelled.id])))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(cancelled.id, State.Cancelled, allowed);
    });

    it("a stranger cannot approve: approvals only address the caller's own operations", async () => {
      const { timelock, accountAddr, stranger, schedule } = await loadFixture(deployFixture);
      const { id } = await schedule({ approvalRequired: true, delay: 0n });
      await expect(timelock.connect(stranger).approve(id))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(id, State.Unknown, states(State.Scheduled, State.Ready));
      expect(await timelock.state(accountAddr, id)).to.equal(State.Scheduled);
    });
  });

  describe("cancel", () => {
    it("by the account", async () => {
      const { timelock, accountAddr, asAccount, schedule } = await loadFixture(deployFixture);
      const { id, mode, executionCalldata } = await schedule({ delay: 0n });
      await expect(asAccount(timelock.interface.encodeFunctionData("cancel", [accountAddr, id])))
        .to.emit(timelock, "OperationCancelled")
        .withArgs(accountAddr, id, accountAddr);
      expect(await timelock.state(accountAddr, id)).to.equal(State.Cancelled);
      await expect(timelock.execute(accountAddr, id, mode, executionCalldata))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(id, State.Cancelled, states(State.Ready));
      await expect(asAccount(timelock.interface.encodeFunctionData("cancel", [accountAddr, id])))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(id, State.Cancelled, states(State.Scheduled, State.Ready));
    });

    it("by the operation's guard, and only its own operations", async () => {
      const { timelock, timelockAddr, accountAddr, guard, guardAddr, schedule } = await loadFixture(deployFixture);
      const guarded = await schedule({ guard: guardAddr });
      const unguarded = await schedule();
      await expect(guard.cancelOn(timelockAddr, accountAddr, unguarded.id))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnauthorizedCaller")
        .withArgs(accountAddr, guardAddr);
      await expect(guard.cancelOn(timelockAddr, accountAddr, guarded.id))
        .to.emit(timelock, "OperationCancelled")
        .withArgs(accountAddr, guarded.id, guardAddr);
      expect(await timelock.state(accountAddr, guarded.id)).to.equal(State.Cancelled);
      expect(await timelock.state(accountAddr, unguarded.id)).to.equal(State.Scheduled);
    });

    it("a stranger cannot cancel", async () => {
      const { timelock, accountAddr, stranger, schedule } = await loadFixture(deployFixture);
      const { id } = await schedule();
      await expect(timelock.connect(stranger).cancel(accountAddr, id))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnauthorizedCaller")
        .withArgs(accountAddr, stranger.address);
      expect(await timelock.state(accountAddr, id)).to.equal(State.Scheduled);
    });

    it("cancelAll by the account cancels every queued operation, new ones still work", async () => {
      const { timelock, accountAddr, asAccount, schedule } = await loadFixture(deployFixture);
      const a = await schedule({ delay: 0n });
      const b = await schedule({ approvalRequired: true });
      await expect(asAccount(timelock.interface.encodeFunctionData("cancelAll")))
        .to.emit(timelock, "QueueCleared")
        .withArgs(accountAddr, 1n);
      expect(await timelock.epochOf(accountAddr)).to.equal(1n);
      expect(await timelock.state(accountAddr, a.id)).to.equal(State.Cancelled);
      expect(await timelock.state(accountAddr, b.id)).to.equal(State.Cancelled);
      await expect(timelock.execute(accountAddr, a.id, a.mode, a.executionCalldata))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(a.id, State.Cancelled, states(State.Ready));
      const c = await schedule({ delay: 0n });
      expect((await timelock.getOperation(accountAddr, c.id)).epoch).to.equal(1n);
      await timelock.execute(accountAddr, c.id, c.mode, c.executionCalldata);
    });

    it("cancelAllFor by a registered canceller only, until revoked", async () => {
      const { timelock, accountAddr, watchdog, stranger, asAccount, schedule } = await loadFixture(deployFixture);
      const a = await schedule();
      await expect(timelock.connect(watchdog).cancelAllFor(accountAddr))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnauthorizedCaller")
        .withArgs(accountAddr, watchdog.address);

      await expect(asAccount(timelock.interface.encodeFunctionData("setCanceller", [watchdog.address, true])))
        .to.emit(timelock, "CancellerSet")
        .withArgs(accountAddr, watchdog.address, true);
      expect(await timelock.isCanceller(accountAddr, watchdog.address)).to.equal(true);
      await expect(timelock.connect(stranger).cancelAllFor(accountAddr))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnauthorizedCaller")
        .withArgs(accountAddr, stranger.address);
      await expect(timelock.connect(watchdog).cancelAllFor(accountAddr))
        .to.emit(timelock, "QueueCleared")
        .withArgs(accountAddr, 1n);
      expect(await timelock.state(accountAddr, a.id)).to.equal(State.Cancelled);

      await asAccount(timelock.interface.encodeFunctionData("setCanceller", [watchdog.address, false]));
      expect(await timelock.isCanceller(accountAddr, watchdog.address)).to.equal(false);
      await expect(timelock.connect(watchdog).cancelAllFor(accountAddr))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnauthorizedCaller")
        .withArgs(accountAddr, watchdog.address);
    });

    it("cancellers can be given at install", async () => {
      const { timelock, timelockAddr, account, watchdog } = await loadFixture(deployFixture);
      const other = await ethers.deployContract("MockERC7579Account", [ENTRYPOINT_V08, watchdog.address]);
      const otherAddr = await other.getAddress();
      const initData = AbiCoder.defaultAbiCoder().encode(["address[]"], [[watchdog.address]]);
      await expect(other.connect(watchdog).ownerInstall(MODULE_TYPE_EXECUTOR, timelockAddr, initData))
        .to.emit(timelock, "CancellerSet")
        .withArgs(otherAddr, watchdog.address, true);
      expect(await timelock.isCanceller(otherAddr, watchdog.address)).to.equal(true);
      expect(await timelock.isCanceller(await account.getAddress(), watchdog.address)).to.equal(false);
    });
  });

  describe("uninstall", () => {
    it("cancels the queue; reinstalling revives neither operations nor cancellers", async () => {
      const { timelock, timelockAddr, account, accountAddr, watchdog, asAccount, schedule } =
        await loadFixture(deployFixture);
      const a = await schedule({ delay: 0n });
      const b = await schedule({ approvalRequired: true });
      await asAccount(timelock.interface.encodeFunctionData("setCanceller", [watchdog.address, true]));

      await expect(account.ownerUninstall(MODULE_TYPE_EXECUTOR, timelockAddr, "0x"))
        .to.emit(timelock, "QueueCleared")
        .withArgs(accountAddr, 1n);
      expect(await timelock.isInitialized(accountAddr)).to.equal(false);
      expect(await timelock.state(accountAddr, a.id)).to.equal(State.Cancelled);
      expect(await timelock.isCanceller(accountAddr, watchdog.address)).to.equal(false);

      await account.ownerInstall(MODULE_TYPE_EXECUTOR, timelockAddr, "0x");
      expect(await timelock.isInitialized(accountAddr)).to.equal(true);
      expect(await timelock.state(accountAddr, a.id)).to.equal(State.Cancelled);
      expect(await timelock.state(accountAddr, b.id)).to.equal(State.Cancelled);
      expect(await timelock.isCanceller(accountAddr, watchdog.address)).to.equal(false);
      await expect(timelock.execute(accountAddr, a.id, a.mode, a.executionCalldata))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(a.id, State.Cancelled, states(State.Ready));
      await expect(asAccount(timelock.interface.encodeFunctionData("approve", [b.id])))
        .to.be.revertedWithCustomError(timelock, "ReinsTimelockUnexpectedState")
        .withArgs(b.id, State.Cancelled, states(State.Scheduled, State.Ready));

      // Nonces continue: a new operation with the same call gets a fresh id and runs.
      const c = await schedule({ delay: 0n });
      expect(c.id).to.not.equal(a.id);
      expect((await timelock.getOperation(accountAddr, c.id)).nonce).to.equal(2n);
      await timelock.execute(accountAddr, c.id, c.mode, c.executionCalldata);
      expect(await timelock.state(accountAddr, c.id)).to.equal(State.Executed);
    });
  });

  describe("guard", () => {
    it("hands the execution to the guard, after marking the operation Executed", async () => {
      const { timelock, timelockAddr, accountAddr, target, guard, guardAddr, asAccount, schedule } =
        await loadFixture(deployFixture);
      const context = toBeHex(0xc0ffeen, 32);
      const { id, mode, executionCalldata } = await schedule({ guard: guardAddr, context, approvalRequired: true });
      await asAccount(timelock.interface.encodeFunctionData("approve", [id]));

      await expect(timelock.execute(accountAddr, id, mode, executionCalldata))
        .to.emit(timelock, "OperationExecuted")
        .withArgs(accountAddr, id);
      expect(await guard.callCount()).to.equal(1n);
      const call = await guard.callAt(0n);
      expect(call.caller).to.equal(timelockAddr);
      expect(call.account).to.equal(accountAddr);
      expect(call.id).to.equal(id);
      expect(call.context).to.equal(context);
      expect(call.mode).to.equal(mode);
      expect(call.executionCalldata).to.equal(executionCalldata);
      expect(call.approved).to.equal(true);
      expect(call.stateDuringCall).to.equal(State.Executed);
      // The guard executed through the account.
      expect(await target.calls()).to.equal(1n);
      expect(await target.lastCaller()).to.equal(accountAddr);
    });

    it("tells the guard an unapproved operation was not approved", async () => {
      const { timelock, accountAddr, guard, guardAddr, schedule } = await loadFixture(deployFixture);
      const { id, mode, executionCalldata } = await schedule({ guard: guardAddr, delay: 0n });
      await timelock.execute(accountAddr, id, mode, executionCalldata);
      expect((await guard.callAt(0n)).approved).to.equal(false);
      expect((await guard.callAt(0n)).context).to.equal(ZeroHash);
    });
  });

  describe("gas", () => {
    it("measures schedule and execute", async () => {
      const { timelock, accountAddr, guardAddr, pingCall, asAccount, schedule } = await loadFixture(deployFixture);
      // Baseline: the account call path alone (account -> timelock view), to subtract from schedule.
      const base = await (await asAccount(timelock.interface.encodeFunctionData("nonceOf", [accountAddr]))).wait();
      // Warm-up: nonce and target storage are non-zero from here on, as in steady state.
      const warm = await schedule({ delay: 0n });
      await timelock.execute(accountAddr, warm.id, warm.mode, warm.executionCalldata);

      const plain = await schedule({ delay: 0n, executionCalldata: pingCall(7n) });
      const withCtx = await schedule({ delay: 0n, guard: guardAddr, context: toBeHex(1n, 32) });
      const execPlain = await (
        await timelock.execute(accountAddr, plain.id, plain.mode, plain.executionCalldata)
      ).wait();
      const execGuard = await (
        await timelock.execute(accountAddr, withCtx.id, withCtx.mode, withCtx.executionCalldata)
      ).wait();

      const rows = {
        "account call baseline (ownerExecute -> timelock.nonceOf)": base!.gasUsed,
        "schedule via ownerExecute, no context (2 new slots)": plain.receipt.gasUsed,
        "schedule via ownerExecute, guard + context (3 new slots)": withCtx.receipt.gasUsed,
        "execute, direct (account.executeFromExecutor -> ping)": execPlain!.gasUsed,
        "execute, via MockQueueGuard (mock stores a full call record)": execGuard!.gasUsed,
      };
      console.log("      gas used (whole transaction):");
      for (const [k, v] of Object.entries(rows)) console.log(`        ${k}: ${v}`);
      expect(plain.receipt.gasUsed).to.be.lessThan(120_000n);
    });
  });
});

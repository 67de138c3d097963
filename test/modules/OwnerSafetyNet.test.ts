import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, ZeroAddress, ZeroHash, concat, type Wallet } from "ethers";
import {
  MODE_SINGLE,
  MODULE_TYPE_EXECUTOR,
  accountInterface,
  encodeSingle,
  executeCalldata,
} from "../../src/account/encoding.js";
import type { GuardianRecovery } from "../../types/ethers-contracts/index.js";
import { signMessageWithPasskey } from "../../src/client/passkey.js";
import { packUserOp } from "../../src/userop/userop.js";
import { buildOp, handleOps, opHash, randomWallet, signAsOwner, signDigest, userOpEvents } from "../helpers/reins.js";
import {
  deployPasskeyRecoveryWorld,
  passkeyAttempt,
  passkeyOp,
  selfCall,
  type PasskeyRecoveryWorld,
} from "../helpers/passkey.js";
import {
  DAY,
  HOUR,
  deploySessionWorld,
  ownerCalls,
  parseEvents,
  transferCall,
  type SessionWorld,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();

const MIN_DELAY = DAY;
const STATE = { Scheduled: 1n, Ready: 2n, Executed: 3n, Cancelled: 4n };

/** `guardian ‖ signature` entries over `digest`, sorted by guardian address. */
function sign(digest: string, guardians: Wallet[]): string[] {
  return [...guardians]
    .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
    .map((g) => concat([g.address, signDigest(g, digest)]));
}

async function safetyNetWorld() {
  const w = await deploySessionWorld(ethers);
  const recovery = (await ethers.deployContract("GuardianRecovery")) as unknown as GuardianRecovery;
  const recoveryAddress = await recovery.getAddress();
  const timelockAddress = await w.timelock.getAddress();
  const ov = await w.core.ownerValidator.getAddress();
  const guardians = [randomWallet(), randomWallet(), randomWallet()];
  const installData = AbiCoder.defaultAbiCoder().encode(
    ["address[]", "uint8", "uint32", "uint32", "uint32", "tuple(address target, bytes data)[]"],
    [
      guardians.map((g) => g.address),
      2,
      HOUR, // recovery delay: shorter than the owner's minimum delay
      DAY,
      2n * DAY, // lock duration
      [
        [timelockAddress, w.timelock.interface.encodeFunctionData("cancelAll")],
        [w.sessionsAddress, w.sessions.interface.encodeFunctionData("revokeAllSessions")],
      ],
    ],
  );
  const { event } = await ownerCalls(w, [
    {
      target: w.accountAddress,
      data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, recoveryAddress, installData]),
    },
    {
      target: w.accountAddress,
      data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, ov, "0x"]),
    },
    {
      target: ov,
      data: w.core.ownerValidator.interface.encodeFunctionData("enableSafetyNet", [
        { lockSource: recoveryAddress, timelock: timelockAddress, minDelay: MIN_DELAY },
      ]),
    },
  ]);
  expect(event.success, event.revertReason).to.equal(true);
  return { w, recovery, guardians, thief: w.owner };
}

/** The thief (holding the owner key) signs an owner operation; returns the bundle outcome or the refusal. */
async function ownerAttempt(w: SessionWorld, callData: string) {
  const op = signAsOwner(
    w.core,
    await buildOp(w.core, w.accountAddress, await w.core.ownerValidator.getAddress(), callData),
    w.owner,
  );
  return handleOps(w.core, [op]);
}

function scheduleCall(
  w: SessionWorld,
  inner: ReturnType<typeof transferCall>,
  delay: bigint,
  guard: string,
  validFor = DAY,
) {
  return {
    target: w.timelock.target as string,
    data: w.timelock.interface.encodeFunctionData("schedule", [
      MODE_SINGLE,
      encodeSingle(inner),
      delay,
      validFor,
      false,
      guard,
      ZeroHash,
    ]),
  };
}

describe("Owner safety net (stolen owner key)", () => {
  it("a direct owner transfer, a module change and an upgrade are refused: they must wait in the timelock", async () => {
    const { w } = await networkHelpers.loadFixture(safetyNetWorld);
    const thief = randomWallet().address;
    for (const callData of [
      executeCalldata(transferCall(w, thief, 1n)),
      executeCalldata({ target: thief, value: 1n }),
      accountInterface.encodeFunctionData("upgradeToAndCall", [thief, "0x"]),
      executeCalldata({
        target: await w.core.ownerValidator.getAddress(),
        data: w.core.ownerValidator.interface.encodeFunctionData("disableSafetyNet"),
      }),
    ]) {
      await expect(ownerAttempt(w, callData)).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOpWithRevert");
    }
    // scheduling with less than the minimum delay, or without this module as guard, is refused too
    const ov = await w.core.ownerValidator.getAddress();
    await expect(
      ownerAttempt(w, executeCalldata(scheduleCall(w, transferCall(w, thief, 1n), MIN_DELAY - 1n, ov))),
    ).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOpWithRevert");
    await expect(
      ownerAttempt(
        w,
        executeCalldata(
          scheduleCall(w, transferCall(w, thief, 1n), MIN_DELAY, "0x0000000000000000000000000000000000000000"),
        ),
      ),
    ).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOpWithRevert");
    expect(await w.token.balanceOf(thief)).to.equal(0n);
  });

  it("the thief's large transfer waits; guardians lock and recover to a new owner before the delay ends; nothing leaves", async () => {
    const { w, recovery, guardians } = await networkHelpers.loadFixture(safetyNetWorld);
    const thief = randomWallet().address;
    const ov = await w.core.ownerValidator.getAddress();
    const before = await w.token.balanceOf(w.accountAddress);
    // 1. the thief schedules a drain (the only thing the owner key can do at once)
    const receipt = await ownerAttempt(
      w,
      executeCalldata(scheduleCall(w, transferCall(w, thief, before), MIN_DELAY, ov)),
    );
    expect(userOpEvents(w.core, receipt)[0].success).to.equal(true);
    const scheduled = parseEvents(w, receipt).find((e) => e.name === "OperationScheduled")!;
    const id = scheduled.args.id as string;
    // 2. guardians (2 of 3) lock: the owner key stops validating at all (AA22, not due until the lock ends)
    await recovery.lock(
      w.accountAddress,
      sign(await recovery.lockDigest(w.accountAddress), [guardians[0], guardians[1]]),
    );
    await expect(ownerAttempt(w, executeCalldata(scheduleCall(w, transferCall(w, thief, 1n), MIN_DELAY, ov))))
      .to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp")
      .withArgs(0n, "AA22 expired or not due");
    // ... and cannot cancel the guardians' recovery
    const newOwner = randomWallet();
    await recovery.proposeRecovery(
      w.accountAddress,
      newOwner.address,
      sign(await recovery.recoveryDigest(w.accountAddress, newOwner.address), [guardians[1], guardians[2]]),
    );
    await expect(
      ownerAttempt(
        w,
        executeCalldata({
          target: await recovery.getAddress(),
          data: recovery.interface.encodeFunctionData("cancelRecovery"),
        }),
      ),
    ).to.be.revert(ethers);
    // 3. after the recovery delay (shorter than the owner's minimum delay) the recovery completes
    await networkHelpers.time.increase(HOUR + 1n);
    await recovery.completeRecovery(w.accountAddress);
    expect(await w.core.ownerValidator.ownerOf(w.accountAddress)).to.equal(newOwner.address);
    // the thief's queued drain was cancelled by the recovery; even after its delay it cannot run
    expect(await w.timelock.state(w.accountAddress, id)).to.equal(STATE.Cancelled);
    await networkHelpers.time.increase(MIN_DELAY);
    await expect(
      w.timelock.execute(
        w.accountAddress,
        id,
        scheduled.args.mode as string,
        scheduled.args.executionCalldata as string,
      ),
    ).to.be.revertedWithCustomError(w.timelock, "ReinsTimelockUnexpectedState");
    expect(await w.token.balanceOf(w.accountAddress)).to.equal(before);
    expect(await w.token.balanceOf(thief)).to.equal(0n);
    // the old key is dead; the new owner's (delayed) operations validate
    const sched = executeCalldata(scheduleCall(w, transferCall(w, newOwner.address, 1n), MIN_DELAY, ov));
    await expect(ownerAttempt(w, sched)).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp");
    const op = signAsOwner(w.core, await buildOp(w.core, w.accountAddress, ov, sched), newOwner);
    expect(userOpEvents(w.core, await handleOps(w.core, [op]))[0].success).to.equal(true);
  });

  it("while locked, a ready queued owner operation cannot run; after the lock it can", async () => {
    const { w, recovery, guardians } = await networkHelpers.loadFixture(safetyNetWorld);
    const payee = randomWallet().address;
    const ov = await w.core.ownerValidator.getAddress();
    const receipt = await ownerAttempt(
      w,
      executeCalldata(scheduleCall(w, transferCall(w, payee, 5n), MIN_DELAY, ov, 3n * DAY)),
    );
    const s = parseEvents(w, receipt).find((e) => e.name === "OperationScheduled")!;
    await recovery.lock(
      w.accountAddress,
      sign(await recovery.lockDigest(w.accountAddress), [guardians[0], guardians[2]]),
    );
    await networkHelpers.time.increase(MIN_DELAY + 1n);
    await expect(
      w.timelock.execute(
        w.accountAddress,
        s.args.id as string,
        s.args.mode as string,
        s.args.executionCalldata as string,
      ),
    ).to.be.revertedWithCustomError(w.core.ownerValidator, "OwnerValidatorLocked");
    await networkHelpers.time.increase(DAY + 1n); // the lock (2 days) ends; the op stays valid for 3 days
    await w.timelock.execute(
      w.accountAddress,
      s.args.id as string,
      s.args.mode as string,
      s.args.executionCalldata as string,
    );
    expect(await w.token.balanceOf(payee)).to.equal(5n);
  });

  it("a stranger cannot run queued owner operations through the guard, and ERC-1271 is refused while the net is on", async () => {
    const { w } = await networkHelpers.loadFixture(safetyNetWorld);
    await expect(
      w.core.ownerValidator.executeQueued(
        w.accountAddress,
        ZeroHash,
        ZeroHash,
        MODE_SINGLE,
        encodeSingle(transferCall(w, w.core.stranger.address, 1n)),
        false,
      ),
    ).to.be.revertedWithCustomError(w.core.ownerValidator, "OwnerValidatorUnauthorized");
    const hash = ethers.id("permit");
    const digest = await w.core.ownerValidator.messageDigest(w.accountAddress, hash);
    const sig = concat([await w.core.ownerValidator.getAddress(), signDigest(w.owner, digest)]);
    expect(await w.account.isValidSignature(hash, sig)).to.equal("0xffffffff");
  });

  it("a batch passes only if every call is allowed; the owner can cancel its own queued operation at once", async () => {
    const { w } = await networkHelpers.loadFixture(safetyNetWorld);
    const ov = await w.core.ownerValidator.getAddress();
    const payee = randomWallet().address;
    // a batch of two schedules passes; a batch with one direct transfer is refused whole
    const two = [
      scheduleCall(w, transferCall(w, payee, 1n), MIN_DELAY, ov),
      scheduleCall(w, transferCall(w, payee, 2n), MIN_DELAY, ov),
    ];
    const receipt = await ownerAttempt(w, executeCalldata(two));
    expect(userOpEvents(w.core, receipt)[0].success).to.equal(true);
    const ids = parseEvents(w, receipt)
      .filter((e) => e.name === "OperationScheduled")
      .map((e) => e.args.id as string);
    expect(ids).to.have.length(2);
    await expect(ownerAttempt(w, executeCalldata([two[0], transferCall(w, payee, 1n)]))).to.be.revertedWithCustomError(
      w.core.entryPoint,
      "FailedOpWithRevert",
    );
    // try mode is refused too
    await expect(ownerAttempt(w, executeCalldata(two[0], 1))).to.be.revertedWithCustomError(
      w.core.entryPoint,
      "FailedOpWithRevert",
    );
    // cancelling its own queued operation is allowed at once
    const cancel = {
      target: w.timelock.target as string,
      data: w.timelock.interface.encodeFunctionData("cancel", [w.accountAddress, ids[0]]),
    };
    expect(userOpEvents(w.core, await ownerAttempt(w, executeCalldata(cancel)))[0].success).to.equal(true);
    expect(await w.timelock.state(w.accountAddress, ids[0])).to.equal(STATE.Cancelled);
    expect(await w.timelock.state(w.accountAddress, ids[1])).to.equal(STATE.Scheduled);
  });

  it("enableSafetyNet refuses an account without an owner and a second owner install", async () => {
    const { w } = await networkHelpers.loadFixture(safetyNetWorld);
    const cfg = { lockSource: w.timelock.target as string, timelock: w.timelock.target as string, minDelay: 1n };
    await expect(w.core.ownerValidator.connect(w.core.stranger).enableSafetyNet(cfg)).to.be.revertedWithCustomError(
      w.core.ownerValidator,
      "OwnerValidatorNotInstalled",
    );
    const impersonated = await ethers.getImpersonatedSigner(w.accountAddress);
    await networkHelpers.setBalance(w.accountAddress, 10n ** 18n);
    await expect(
      w.core.ownerValidator.connect(impersonated).onInstall(w.core.stranger.address),
    ).to.be.revertedWithCustomError(w.core.ownerValidator, "OwnerValidatorAlreadyInstalled");
  });

  it("uninstalling the owner validator's executor role keeps the owner", async () => {
    const w = await deploySessionWorld(ethers);
    const ov = await w.core.ownerValidator.getAddress();
    await ownerCalls(w, {
      target: w.accountAddress,
      data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, ov, "0x"]),
    });
    await ownerCalls(w, {
      target: w.accountAddress,
      data: accountInterface.encodeFunctionData("uninstallModule", [MODULE_TYPE_EXECUTOR, ov, "0x"]),
    });
    expect(await w.core.ownerValidator.ownerOf(w.accountAddress)).to.equal(w.owner.address);
  });
});

// ------------------------------------------------------------------------------------- passkey root

function passkeySafetyNetWorld() {
  return deployPasskeyRecoveryWorld(ethers, true);
}

/** A timelock schedule of `inner` with `delay` and `guard` (a call for the passkey world's account). */
function passkeySchedule(
  p: PasskeyRecoveryWorld,
  inner: ReturnType<typeof transferCall>,
  delay: bigint,
  guard: string,
) {
  return scheduleCall(p.w, inner, delay, guard);
}

describe("Owner safety net with a passkey root (same rules, PasskeyValidator)", () => {
  it("direct transfers, module changes, upgrades and turning the net off are refused; short or unguarded schedules too", async () => {
    const p = await networkHelpers.loadFixture(passkeySafetyNetWorld);
    const { w } = p;
    const thief = randomWallet().address;
    expect((await p.validator.safetyNetOf(w.accountAddress))[0]).to.equal(true);
    for (const callData of [
      executeCalldata(transferCall(w, thief, 1n)),
      executeCalldata({ target: thief, value: 1n }),
      executeCalldata({
        target: w.accountAddress,
        data: w.account.interface.encodeFunctionData("setRootValidator", [thief]),
      }),
      accountInterface.encodeFunctionData("upgradeToAndCall", [thief, "0x"]),
      executeCalldata({
        target: p.validatorAddress,
        data: p.validator.interface.encodeFunctionData("disableSafetyNet"),
      }),
      executeCalldata({
        target: p.validatorAddress,
        data: p.validator.interface.encodeFunctionData("setPasskey", [p.passkey.qx, p.passkey.qy]),
      }),
      executeCalldata(passkeySchedule(p, transferCall(w, thief, 1n), MIN_DELAY - 1n, p.validatorAddress)),
      executeCalldata(passkeySchedule(p, transferCall(w, thief, 1n), MIN_DELAY, ZeroAddress)),
    ]) {
      await expect(passkeyAttempt(p, callData)).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOpWithRevert");
    }
    expect(await w.token.balanceOf(thief)).to.equal(0n);
    expect((await p.validator.safetyNetOf(w.accountAddress))[0]).to.equal(true);
    // the refusal is the safety net's, named by the module (an eth_call of validateUserOp as the account)
    const op = await passkeyOp(p, executeCalldata(transferCall(w, thief, 1n)));
    const data = p.validator.interface.encodeFunctionData("validateUserOp", [packUserOp(op), opHash(w.core, op)]);
    await expect(ethers.provider.call({ to: p.validatorAddress, from: w.accountAddress, data }))
      .to.be.revertedWithCustomError(p.validator, "OwnerValidatorDelayRequired")
      .withArgs(0n, w.tokenAddress, "0xa9059cbb");
  });

  it("a stolen passkey's drain waits; guardians lock, the passkey cannot cancel, recovery hands the account to an ECDSA owner", async () => {
    const p = await networkHelpers.loadFixture(passkeySafetyNetWorld);
    const { w, recovery, guardians } = p;
    const thief = randomWallet().address;
    const before = await w.token.balanceOf(w.accountAddress);
    // 1. the thief (holding the passkey) schedules a drain: the only thing it can do at once
    const receipt = await passkeyAttempt(
      p,
      executeCalldata(passkeySchedule(p, transferCall(w, thief, before), MIN_DELAY, p.validatorAddress)),
    );
    expect(userOpEvents(w.core, receipt)[0].success).to.equal(true);
    const scheduled = parseEvents(w, receipt).find((e) => e.name === "OperationScheduled")!;
    const id = scheduled.args.id as string;
    // 2. guardians lock: the passkey stops validating (AA22, not due until the lock ends)
    await recovery.lock(
      w.accountAddress,
      sign(await recovery.lockDigest(w.accountAddress), [guardians[0], guardians[1]]),
    );
    const sched = executeCalldata(passkeySchedule(p, transferCall(w, thief, 1n), MIN_DELAY, p.validatorAddress));
    await expect(passkeyAttempt(p, sched))
      .to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp")
      .withArgs(0n, "AA22 expired or not due");
    const newOwner = randomWallet();
    await recovery.proposeRecovery(
      w.accountAddress,
      newOwner.address,
      sign(await recovery.recoveryDigest(w.accountAddress, newOwner.address), [guardians[1], guardians[2]]),
    );
    // ... and cannot cancel the recovery
    const cancel = executeCalldata({
      target: p.recoveryAddress,
      data: recovery.interface.encodeFunctionData("cancelRecovery"),
    });
    await expect(passkeyAttempt(p, cancel)).to.be.revert(ethers);
    // 3. the recovery completes: OwnerValidator with the new ECDSA owner is root, the passkey validator is gone
    await networkHelpers.time.increase(HOUR + 1n);
    await recovery.completeRecovery(w.accountAddress);
    const ov = await w.core.ownerValidator.getAddress();
    expect(await w.account.rootValidator()).to.equal(ov);
    expect(await w.core.ownerValidator.ownerOf(w.accountAddress)).to.equal(newOwner.address);
    expect(await w.account.isModuleInstalled(1n, p.validatorAddress, "0x")).to.equal(false);
    expect(await p.validator.isInitialized(w.accountAddress)).to.equal(false);
    expect((await p.validator.safetyNetOf(w.accountAddress))[0]).to.equal(false);
    // the queued drain was cancelled by the recovery's onRecovery calls and can never run
    expect(await w.timelock.state(w.accountAddress, id)).to.equal(STATE.Cancelled);
    await networkHelpers.time.increase(MIN_DELAY);
    await expect(
      w.timelock.execute(
        w.accountAddress,
        id,
        scheduled.args.mode as string,
        scheduled.args.executionCalldata as string,
      ),
    ).to.be.revertedWithCustomError(w.timelock, "ReinsTimelockUnexpectedState");
    expect(await w.token.balanceOf(w.accountAddress)).to.equal(before);
    // the stolen passkey signs nothing any more (its validator is not installed: AA24)
    await expect(passkeyAttempt(p, executeCalldata([])))
      .to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp")
      .withArgs(0n, "AA24 signature error");
    // the new ECDSA owner's operations validate
    const op = signAsOwner(
      w.core,
      await buildOp(w.core, w.accountAddress, ov, executeCalldata(transferCall(w, newOwner.address, 1n))),
      newOwner,
    );
    expect(userOpEvents(w.core, await handleOps(w.core, [op]))[0].success).to.equal(true);
    expect(await w.token.balanceOf(newOwner.address)).to.equal(1n);
  });

  it("while locked, a ready queued passkey operation cannot run; after the lock it can", async () => {
    const p = await networkHelpers.loadFixture(passkeySafetyNetWorld);
    const { w, recovery, guardians } = p;
    const payee = randomWallet().address;
    const receipt = await passkeyAttempt(
      p,
      executeCalldata(scheduleCall(w, transferCall(w, payee, 5n), MIN_DELAY, p.validatorAddress, 3n * DAY)),
    );
    const s = parseEvents(w, receipt).find((e) => e.name === "OperationScheduled")!;
    await recovery.lock(
      w.accountAddress,
      sign(await recovery.lockDigest(w.accountAddress), [guardians[0], guardians[2]]),
    );
    await networkHelpers.time.increase(MIN_DELAY + 1n);
    const run = () =>
      w.timelock.execute(
        w.accountAddress,
        s.args.id as string,
        s.args.mode as string,
        s.args.executionCalldata as string,
      );
    await expect(run()).to.be.revertedWithCustomError(p.validator, "OwnerValidatorLocked");
    await networkHelpers.time.increase(DAY + 1n);
    await run();
    expect(await w.token.balanceOf(payee)).to.equal(5n);
  });

  it("a stranger cannot run queued operations through the passkey guard; ERC-1271 is refused while the net is on", async () => {
    const p = await networkHelpers.loadFixture(passkeySafetyNetWorld);
    const { w } = p;
    await expect(
      p.validator.executeQueued(
        w.accountAddress,
        ZeroHash,
        ZeroHash,
        MODE_SINGLE,
        encodeSingle(transferCall(w, w.core.stranger.address, 1n)),
        false,
      ),
    ).to.be.revertedWithCustomError(p.validator, "OwnerValidatorUnauthorized");
    const hash = ethers.id("permit");
    const sig = await signMessageWithPasskey(
      w.accountAddress,
      p.validatorAddress,
      hash,
      w.core.chainId,
      p.passkey.signer,
    );
    expect(await w.account.isValidSignature(hash, sig)).to.equal("0xffffffff");
    // the same signature is good once the net is off (turned off through the timelock, after the delay)
    const off = { target: p.validatorAddress, data: p.validator.interface.encodeFunctionData("disableSafetyNet") };
    const receipt = await passkeyAttempt(p, executeCalldata(scheduleCall(w, off, MIN_DELAY, p.validatorAddress)));
    const s = parseEvents(w, receipt).find((e) => e.name === "OperationScheduled")!;
    await networkHelpers.time.increase(MIN_DELAY + 1n);
    await w.timelock.execute(
      w.accountAddress,
      s.args.id as string,
      s.args.mode as string,
      s.args.executionCalldata as string,
    );
    expect((await p.validator.safetyNetOf(w.accountAddress))[0]).to.equal(false);
    expect(await w.account.isValidSignature(hash, sig)).to.equal("0x1626ba7e");
    // enableSafetyNet refuses an account without a passkey
    const cfg = { lockSource: p.recoveryAddress, timelock: p.recoveryAddress, minDelay: 1n };
    await expect(p.validator.connect(w.core.stranger).enableSafetyNet(cfg)).to.be.revertedWithCustomError(
      p.validator,
      "PasskeyValidatorNotInstalled",
    );
  });

  it("uninstalling the passkey validator's executor role keeps the passkey and its safety net", async () => {
    const p = await networkHelpers.loadFixture(passkeySafetyNetWorld);
    const { w } = p;
    // module changes must wait in the timelock: schedule the executor removal, run it after the delay
    const remove = selfCall(w, "uninstallModule", [MODULE_TYPE_EXECUTOR, p.validatorAddress, "0x"]);
    const receipt = await passkeyAttempt(p, executeCalldata(scheduleCall(w, remove, MIN_DELAY, p.validatorAddress)));
    const s = parseEvents(w, receipt).find((e) => e.name === "OperationScheduled")!;
    await networkHelpers.time.increase(MIN_DELAY + 1n);
    await w.timelock.execute(
      w.accountAddress,
      s.args.id as string,
      s.args.mode as string,
      s.args.executionCalldata as string,
    );
    expect(await w.account.isModuleInstalled(MODULE_TYPE_EXECUTOR, p.validatorAddress, "0x")).to.equal(false);
    expect(await p.validator.passkeyOf(w.accountAddress)).to.deep.equal([p.passkey.qx, p.passkey.qy]);
    expect((await p.validator.safetyNetOf(w.accountAddress))[0]).to.equal(true);
  });
});

import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, Interface, TypedDataEncoder, ZeroAddress, ZeroHash, concat, getAddress, type Wallet } from "ethers";
import { MODULE_TYPE_EXECUTOR, accountInterface, executeCalldata } from "../../src/account/encoding.js";
import { packUserOp } from "../../src/userop/userop.js";
import {
  buildOp,
  counterfactualAccount,
  deployCore,
  factoryData,
  fund,
  handleOps,
  randomWallet,
  signAsOwner,
  signDigest,
  userOpEvents,
  type Core,
} from "../helpers/reins.js";
import type { GuardianRecovery, MockERC1271Guardian } from "../../types/ethers-contracts/index.js";
import { signMessageWithPasskey } from "../../src/client/passkey.js";
import { softwarePasskey } from "../../src/erc7562/scenarios/passkey.js";
import {
  deployPasskeyRecoveryWorld,
  guardianSignatures,
  passkeyAttempt,
  passkeyCalls,
  passkeyOp,
  selfCall,
  type PasskeyRecoveryWorld,
} from "../helpers/passkey.js";
import { HOUR, transferCall } from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();

const RECOVERY_DELAY = 3n * 24n * 3600n;
const SECURITY_DELAY = 2n * 24n * 3600n;
const LOCK_DURATION = 7n * 24n * 3600n;

interface RecoveryCall {
  target: string;
  data: string;
}

/** `onInstall` data of GuardianRecovery. */
function installData(
  guardians: string[],
  threshold: number,
  onRecovery: RecoveryCall[] = [],
  delays: { recovery?: bigint; security?: bigint; lock?: bigint } = {},
): string {
  return AbiCoder.defaultAbiCoder().encode(
    ["address[]", "uint8", "uint32", "uint32", "uint32", "tuple(address target, bytes data)[]"],
    [
      guardians,
      threshold,
      delays.recovery ?? RECOVERY_DELAY,
      delays.security ?? SECURITY_DELAY,
      delays.lock ?? LOCK_DURATION,
      onRecovery.map((c) => [c.target, c.data]),
    ],
  );
}

/** A guardian: an EOA (signs digests) or an ERC-1271 contract (approves digests). */
type Guardian =
  { kind: "eoa"; wallet: Wallet; address: string } | { kind: "1271"; contract: MockERC1271Guardian; address: string };

const eoa = (wallet: Wallet): Guardian => ({ kind: "eoa", wallet, address: wallet.address });

/** `guardian ‖ signature` entries over `digest`, sorted by guardian address (the order the module requires). */
async function sign(digest: string, guardians: Guardian[], sort = true): Promise<string[]> {
  const ordered = sort ? [...guardians].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1)) : guardians;
  const out: string[] = [];
  for (const g of ordered) {
    if (g.kind === "eoa") {
      out.push(concat([g.address, signDigest(g.wallet, digest)]));
    } else {
      await (await g.contract.setApproved(digest, true)).wait();
      out.push(concat([g.address, "0x"]));
    }
  }
  return out;
}

/** Sign and send an owner operation with `callData`; returns the UserOperationEvent. */
async function ownerOp(core: Core, sender: string, owner: Wallet, callData: string) {
  const op = signAsOwner(core, await buildOp(core, sender, await core.ownerValidator.getAddress(), callData), owner);
  const [event] = userOpEvents(core, await handleOps(core, [op]));
  return event;
}

/** `execute` calldata that has the account call the module. */
function callModule(module: GuardianRecovery, fn: string, args: unknown[]): string {
  const data = (module.interface as Interface).encodeFunctionData(fn, args);
  return executeCalldata({ target: module.target as string, data });
}

/** The custom error name in a failed operation's revert reason. */
function errorName(module: GuardianRecovery, reason: string | undefined): string | undefined {
  return reason === undefined ? undefined : module.interface.parseError(reason)?.name;
}

async function fixture() {
  const core = await deployCore(ethers);
  const module = await ethers.deployContract("GuardianRecovery");
  const target = await ethers.deployContract("RecordingTarget");
  const token = await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6]);
  const owner = randomWallet();
  const guardians = [randomWallet(), randomWallet(), randomWallet()];
  const onRecovery = [
    { target: target.target as string, data: target.interface.encodeFunctionData("record", ["0xaa"]) },
    { target: target.target as string, data: target.interface.encodeFunctionData("record", ["0xbb"]) },
  ];
  const handle = await counterfactualAccount(core, owner, [
    {
      moduleTypeId: MODULE_TYPE_EXECUTOR,
      module: module.target as string,
      initData: installData(
        guardians.map((g) => g.address),
        2,
        onRecovery,
      ),
    },
  ]);
  await fund(ethers, handle.address);
  const deployOp = signAsOwner(
    core,
    await buildOp(core, handle.address, await core.ownerValidator.getAddress(), "0x", factoryData(core, handle)),
    owner,
  );
  await handleOps(core, [deployOp]);
  await token.mint(handle.address, 1_000_000n);
  const account = await ethers.getContractAt("ReinsAccount", handle.address);
  return { core, module, target, token, owner, guardians, onRecovery, account, address: handle.address };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

/** Propose a recovery of the fixture account to `newOwner` signed by `signers` (default: guardians 0 and 2). */
async function propose(f: Fixture, newOwner: string, signers: Guardian[] = [eoa(f.guardians[0]), eoa(f.guardians[2])]) {
  const sigs = await sign(await f.module.recoveryDigest(f.address, newOwner), signers);
  return f.module.connect(f.core.stranger).proposeRecovery(f.address, newOwner, sigs);
}

describe("GuardianRecovery", () => {
  describe("installation", () => {
    it("is installed as an executor at account creation with its configuration", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await f.account.isModuleInstalled(MODULE_TYPE_EXECUTOR, f.module.target, "0x")).to.equal(true);
      expect(await f.module.isModuleType(MODULE_TYPE_EXECUTOR)).to.equal(true);
      expect(await f.module.isModuleType(1n)).to.equal(false);
      expect(await f.module.guardiansOf(f.address)).to.deep.equal(f.guardians.map((g) => g.address));
      expect(await f.module.thresholdOf(f.address)).to.equal(2n);
      expect(await f.module.delaysOf(f.address)).to.deep.equal([RECOVERY_DELAY, SECURITY_DELAY, LOCK_DURATION]);
      expect((await f.module.onRecoveryCallsOf(f.address)).length).to.equal(2);
      expect(await f.module.isGuardian(f.address, f.guardians[1].address)).to.equal(true);
      expect(await f.module.isGuardian(f.address, f.owner.address)).to.equal(false);
    });

    it("rejects a bad threshold, zero or duplicate guardians, zero delays and a second install", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const m = f.module.connect(f.core.stranger);
      const [a, b] = [randomWallet().address, randomWallet().address];
      await expect(m.onInstall(installData([a, b], 0)))
        .to.be.revertedWithCustomError(m, "GuardianRecoveryInvalidThreshold")
        .withArgs(0, 2);
      await expect(m.onInstall(installData([a, b], 3)))
        .to.be.revertedWithCustomError(m, "GuardianRecoveryInvalidThreshold")
        .withArgs(3, 2);
      await expect(m.onInstall(installData([], 1)))
        .to.be.revertedWithCustomError(m, "GuardianRecoveryInvalidThreshold")
        .withArgs(1, 0);
      await expect(m.onInstall(installData([a, ZeroAddress], 1)))
        .to.be.revertedWithCustomError(m, "GuardianRecoveryInvalidGuardian")
        .withArgs(1, ZeroAddress);
      await expect(m.onInstall(installData([a, b, a], 2)))
        .to.be.revertedWithCustomError(m, "GuardianRecoveryInvalidGuardian")
        .withArgs(2, a);
      for (const delays of [{ recovery: 0n }, { security: 0n }, { lock: 0n }]) {
        await expect(m.onInstall(installData([a], 1, [], delays))).to.be.revertedWithCustomError(
          m,
          "GuardianRecoveryInvalidDelay",
        );
      }
      await expect(m.onInstall(installData([a], 1, [{ target: ZeroAddress, data: "0x" }])))
        .to.be.revertedWithCustomError(m, "GuardianRecoveryInvalidRecoveryCall")
        .withArgs(0);
      const many = Array.from({ length: 33 }, () => randomWallet().address);
      await expect(m.onInstall(installData(many, 1)))
        .to.be.revertedWithCustomError(m, "GuardianRecoveryTooManyGuardians")
        .withArgs(33, 32);
      await m.onInstall(installData([a], 1));
      await expect(m.onInstall(installData([a], 1)))
        .to.be.revertedWithCustomError(m, "GuardianRecoveryAlreadyInstalled")
        .withArgs(f.core.stranger.address);
    });
  });

  describe("recovery of a lost owner key", () => {
    it("2-of-3 guardians recover to a new owner after the delay; funds stay, onRecovery calls ran", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const newOwner = randomWallet();
      const ethBefore = await ethers.provider.getBalance(f.address);
      const nonce = await f.module.nonceOf(f.address);

      const proposeTx = await propose(f, newOwner.address);
      const proposeReceipt = (await proposeTx.wait())!;
      const readyAt = BigInt((await ethers.provider.getBlock(proposeReceipt.blockNumber))!.timestamp) + RECOVERY_DELAY;
      await expect(proposeTx)
        .to.emit(f.module, "RecoveryProposed")
        .withArgs(f.address, newOwner.address, nonce, readyAt);
      expect(await f.module.pendingRecovery(f.address)).to.deep.equal([newOwner.address, readyAt]);

      await networkHelpers.time.increase(RECOVERY_DELAY);
      const completeTx = await f.module.connect(f.core.stranger).completeRecovery(f.address);
      const completeReceipt = (await completeTx.wait())!;
      await expect(completeTx).to.emit(f.module, "RecoveryCompleted").withArgs(f.address, newOwner.address);
      await expect(completeTx)
        .to.emit(f.core.ownerValidator, "OwnerChanged")
        .withArgs(f.address, f.owner.address, newOwner.address);
      console.log(
        `      gas: proposeRecovery (2 ECDSA guardians) ${proposeReceipt.gasUsed}, ` +
          `completeRecovery (setOwner + 2 onRecovery calls) ${completeReceipt.gasUsed}`,
      );

      expect(await f.core.ownerValidator.ownerOf(f.address)).to.equal(newOwner.address);
      expect(await f.module.pendingRecovery(f.address)).to.deep.equal([ZeroAddress, 0n]);
      expect(await ethers.provider.getBalance(f.address)).to.equal(ethBefore);
      expect(await f.token.balanceOf(f.address)).to.equal(1_000_000n);

      // the onRecovery calls ran, in order, made by the account
      expect(await f.target.count()).to.equal(2n);
      expect(await f.target.recordAt(0)).to.deep.equal([f.address, "0xaa"]);
      expect(await f.target.recordAt(1)).to.deep.equal([f.address, "0xbb"]);

      // the new owner's operation moves the funds
      const recipient = randomWallet().address;
      const transfer = executeCalldata([
        { target: recipient, value: 1000n },
        { target: f.token.target as string, data: f.token.interface.encodeFunctionData("transfer", [recipient, 7n]) },
      ]);
      expect((await ownerOp(f.core, f.address, newOwner, transfer)).success).to.equal(true);
      expect(await ethers.provider.getBalance(recipient)).to.equal(1000n);
      expect(await f.token.balanceOf(recipient)).to.equal(7n);

      // the old key's operation is rejected at validation
      const oldOp = signAsOwner(
        f.core,
        await buildOp(f.core, f.address, await f.core.ownerValidator.getAddress(), transfer),
        f.owner,
      );
      await expect(f.core.entryPoint.handleOps([packUserOp(oldOp)], f.core.bundler.address, { gasLimit: 15_000_000n }))
        .to.be.revertedWithCustomError(f.core.entryPoint, "FailedOp")
        .withArgs(0, "AA24 signature error");
    });

    it("a failing onRecovery call does not block the owner change", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      await f.target.setReverting(true);
      const newOwner = randomWallet();
      await propose(f, newOwner.address);
      await networkHelpers.time.increase(RECOVERY_DELAY);
      await expect(f.module.completeRecovery(f.address)).to.emit(f.account, "ERC7579TryExecuteFail");
      expect(await f.core.ownerValidator.ownerOf(f.address)).to.equal(newOwner.address);
      expect(await f.target.count()).to.equal(0n);
    });

    it("the digest is EIP-712 over Recovery(account,newOwner,nonce) in the module's domain", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const newOwner = randomWallet().address;
      const nonce = await f.module.nonceOf(f.address);
      const domain = {
        name: "GuardianRecovery",
        version: "1",
        chainId: f.core.chainId,
        verifyingContract: f.module.target as string,
      };
      const recovery = {
        Recovery: [
          { name: "account", type: "address" },
          { name: "newOwner", type: "address" },
          { name: "nonce", type: "uint256" },
        ],
      };
      const lockT = {
        Lock: [
          { name: "account", type: "address" },
          { name: "nonce", type: "uint256" },
        ],
      };
      expect(await f.module.recoveryDigest(f.address, newOwner)).to.equal(
        TypedDataEncoder.hash(domain, recovery, { account: f.address, newOwner, nonce }),
      );
      expect(await f.module.lockDigest(f.address)).to.equal(
        TypedDataEncoder.hash(domain, lockT, { account: f.address, nonce }),
      );
    });
  });

  describe("signature rules", () => {
    it("fewer than M signatures fail", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      await expect(propose(f, randomWallet().address, [eoa(f.guardians[0])]))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryInsufficientSignatures")
        .withArgs(1, 2);
    });

    it("a signature from a non-guardian fails", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const outsider = randomWallet();
      const newOwner = randomWallet().address;
      const sigs = await sign(await f.module.recoveryDigest(f.address, newOwner), [eoa(f.guardians[0]), eoa(outsider)]);
      const index = sigs.findIndex((s) => s.toLowerCase().startsWith(outsider.address.toLowerCase()));
      await expect(f.module.proposeRecovery(f.address, newOwner, sigs))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryNotGuardian")
        .withArgs(index, outsider.address);
    });

    it("a guardian's prefix with someone else's signature fails", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const newOwner = randomWallet().address;
      const digest = await f.module.recoveryDigest(f.address, newOwner);
      const [g0, g1] = [f.guardians[0], f.guardians[1]].sort((a, b) =>
        BigInt(a.address) < BigInt(b.address) ? -1 : 1,
      );
      const forged = [
        concat([g0.address, signDigest(g0, digest)]),
        concat([g1.address, signDigest(randomWallet(), digest)]),
      ];
      await expect(f.module.proposeRecovery(f.address, newOwner, forged))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryInvalidSignature")
        .withArgs(1, g1.address);
      await expect(f.module.proposeRecovery(f.address, newOwner, [forged[0], "0x1234"]))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryMalformedSignature")
        .withArgs(1, 2);
    });

    it("duplicate or unordered signatures fail", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const newOwner = randomWallet().address;
      const digest = await f.module.recoveryDigest(f.address, newOwner);
      const [one] = await sign(digest, [eoa(f.guardians[0])]);
      await expect(f.module.proposeRecovery(f.address, newOwner, [one, one]))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryUnorderedSignatures")
        .withArgs(1, f.guardians[0].address, f.guardians[0].address);
      const sorted = await sign(digest, [eoa(f.guardians[0]), eoa(f.guardians[1])]);
      await expect(f.module.proposeRecovery(f.address, newOwner, [sorted[1], sorted[0]])).to.be.revertedWithCustomError(
        f.module,
        "GuardianRecoveryUnorderedSignatures",
      );
    });

    it("signatures for another account or another chain id fail", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const newOwner = randomWallet().address;
      const signers = [eoa(f.guardians[0]), eoa(f.guardians[1])];
      const otherAccountSigs = await sign(await f.module.recoveryDigest(f.core.stranger.address, newOwner), signers);
      await expect(f.module.proposeRecovery(f.address, newOwner, otherAccountSigs)).to.be.revertedWithCustomError(
        f.module,
        "GuardianRecoveryInvalidSignature",
      );
      const nonce = await f.module.nonceOf(f.address);
      const otherChain = TypedDataEncoder.hash(
        {
          name: "GuardianRecovery",
          version: "1",
          chainId: f.core.chainId + 1n,
          verifyingContract: f.module.target as string,
        },
        {
          Recovery: [
            { name: "account", type: "address" },
            { name: "newOwner", type: "address" },
            { name: "nonce", type: "uint256" },
          ],
        },
        { account: f.address, newOwner, nonce },
      );
      await expect(f.module.proposeRecovery(f.address, newOwner, await sign(otherChain, signers)))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryInvalidSignature")
        .withArgs(0, getAddress(signers.map((s) => s.address).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0]));
      // and a signature for another new owner does not carry over
      const otherOwnerSigs = await sign(await f.module.recoveryDigest(f.address, randomWallet().address), signers);
      await expect(f.module.proposeRecovery(f.address, newOwner, otherOwnerSigs)).to.be.revertedWithCustomError(
        f.module,
        "GuardianRecoveryInvalidSignature",
      );
    });

    it("signatures cannot be replayed after completion (nonce)", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const newOwner = randomWallet().address;
      const sigs = await sign(await f.module.recoveryDigest(f.address, newOwner), [
        eoa(f.guardians[0]),
        eoa(f.guardians[1]),
      ]);
      await f.module.proposeRecovery(f.address, newOwner, sigs);
      await networkHelpers.time.increase(RECOVERY_DELAY);
      await f.module.completeRecovery(f.address);
      await expect(f.module.proposeRecovery(f.address, newOwner, sigs)).to.be.revertedWithCustomError(
        f.module,
        "GuardianRecoveryInvalidSignature",
      );
    });

    it("an ERC-1271 guardian counts as a guardian, and only for hashes it approved", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const g1271 = await ethers.deployContract("MockERC1271Guardian");
      const contractGuardian: Guardian = { kind: "1271", contract: g1271, address: g1271.target as string };
      // replace the guardian set with {1271 contract, guardian 0}, 2-of-2
      const set = [g1271.target as string, f.guardians[0].address];
      expect(
        (await ownerOp(f.core, f.address, f.owner, callModule(f.module, "proposeGuardianChange", [set, 2]))).success,
      ).to.equal(true);
      await networkHelpers.time.increase(SECURITY_DELAY);
      await f.module.applyGuardianChange(f.address);

      const newOwner = randomWallet().address;
      const digest = await f.module.recoveryDigest(f.address, newOwner);
      // without the contract's approval the signature fails
      const unapproved = [
        concat([g1271.target as string, "0x"]),
        concat([f.guardians[0].address, signDigest(f.guardians[0], digest)]),
      ].sort((a, b) => (BigInt(a.slice(0, 42)) < BigInt(b.slice(0, 42)) ? -1 : 1));
      await expect(f.module.proposeRecovery(f.address, newOwner, unapproved))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryInvalidSignature")
        .withArgs(
          unapproved.findIndex((s) => s.startsWith((g1271.target as string).toLowerCase())),
          g1271.target,
        );
      await propose(f, newOwner, [contractGuardian, eoa(f.guardians[0])]);
      await networkHelpers.time.increase(RECOVERY_DELAY);
      await f.module.completeRecovery(f.address);
      expect(await f.core.ownerValidator.ownerOf(f.address)).to.equal(newOwner);
    });
  });

  describe("owner cancellation and timing", () => {
    it("the owner cancels a malicious recovery during the delay; completing it then fails", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const attacker = randomWallet().address;
      await propose(f, attacker);
      const nonce = await f.module.nonceOf(f.address);
      const ev = await ownerOp(f.core, f.address, f.owner, callModule(f.module, "cancelRecovery", []));
      expect(ev.success).to.equal(true);
      expect(await f.module.pendingRecovery(f.address)).to.deep.equal([ZeroAddress, 0n]);
      expect(await f.module.nonceOf(f.address)).to.equal(nonce + 1n);
      await networkHelpers.time.increase(RECOVERY_DELAY);
      await expect(f.module.completeRecovery(f.address))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryNoPendingRecovery")
        .withArgs(f.address);
      expect(await f.core.ownerValidator.ownerOf(f.address)).to.equal(f.owner.address);
    });

    it("emits RecoveryCancelled; only the account itself can cancel its recovery", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const attacker = randomWallet().address;
      await propose(f, attacker);
      await expect(f.module.connect(f.core.stranger).cancelRecovery())
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryNoPendingRecovery")
        .withArgs(f.core.stranger.address);
      await networkHelpers.impersonateAccount(f.address);
      const asAccount = await ethers.getSigner(f.address);
      await expect(f.module.connect(asAccount).cancelRecovery())
        .to.emit(f.module, "RecoveryCancelled")
        .withArgs(f.address, attacker, false);
    });

    it("completing before the delay fails", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const tx = await propose(f, randomWallet().address);
      const readyAt =
        BigInt((await ethers.provider.getBlock((await tx.wait())!.blockNumber))!.timestamp) + RECOVERY_DELAY;
      await networkHelpers.time.setNextBlockTimestamp(readyAt - 1n);
      await expect(f.module.completeRecovery(f.address))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryNotReady")
        .withArgs(f.address, readyAt, readyAt - 1n);
      await networkHelpers.time.setNextBlockTimestamp(readyAt);
      await expect(f.module.completeRecovery(f.address)).to.emit(f.module, "RecoveryCompleted");
    });

    it("only one recovery is pending at a time", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const first = randomWallet().address;
      await propose(f, first);
      const [, readyAt] = await f.module.pendingRecovery(f.address);
      await expect(propose(f, randomWallet().address))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryPending")
        .withArgs(f.address, first, readyAt);
    });
  });

  describe("lock", () => {
    it("while locked the owner cannot cancel; guardians complete the recovery, which lifts the lock", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const signers = [eoa(f.guardians[1]), eoa(f.guardians[2])];
      expect(await f.module.isLocked(f.address)).to.equal(false);
      const lockTx = await f.module.lock(f.address, await sign(await f.module.lockDigest(f.address), signers));
      const lockedAt = BigInt((await ethers.provider.getBlock((await lockTx.wait())!.blockNumber))!.timestamp);
      await expect(lockTx)
        .to.emit(f.module, "AccountLocked")
        .withArgs(f.address, lockedAt + LOCK_DURATION);
      expect(await f.module.isLocked(f.address)).to.equal(true);

      const newOwner = randomWallet();
      await propose(f, newOwner.address, signers);
      // the thief holding the owner key cannot cancel
      const ev = await ownerOp(f.core, f.address, f.owner, callModule(f.module, "cancelRecovery", []));
      expect(ev.success).to.equal(false);
      expect(errorName(f.module, ev.revertReason)).to.equal("GuardianRecoveryLocked");
      const [pendingOwner] = await f.module.pendingRecovery(f.address);
      expect(pendingOwner).to.equal(newOwner.address);
      // nor change guardians
      const change = await ownerOp(
        f.core,
        f.address,
        f.owner,
        callModule(f.module, "proposeGuardianChange", [[f.owner.address], 1]),
      );
      expect(change.success).to.equal(false);

      await networkHelpers.time.increase(RECOVERY_DELAY);
      await expect(f.module.completeRecovery(f.address)).to.emit(f.module, "AccountUnlocked").withArgs(f.address);
      expect(await f.module.isLocked(f.address)).to.equal(false);
      expect(await f.module.lockedUntil(f.address)).to.equal(0n);
      expect(await f.core.ownerValidator.ownerOf(f.address)).to.equal(newOwner.address);
    });

    it("guardians (not the owner) can cancel a recovery while locked", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const signers = [eoa(f.guardians[0]), eoa(f.guardians[1])];
      await f.module.lock(f.address, await sign(await f.module.lockDigest(f.address), signers));
      const mistaken = randomWallet().address;
      await propose(f, mistaken, signers);
      const cancelSigs = await sign(await f.module.cancelRecoveryDigest(f.address), signers);
      await expect(f.module.cancelRecoveryByGuardians(f.address, cancelSigs.slice(0, 1)))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryInsufficientSignatures")
        .withArgs(1, 2);
      await expect(f.module.cancelRecoveryByGuardians(f.address, cancelSigs))
        .to.emit(f.module, "RecoveryCancelled")
        .withArgs(f.address, mistaken, true);
      expect(await f.module.isLocked(f.address)).to.equal(true);
    });

    it("a recovery proposed while locked extends the lock to its ready time", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const signers = [eoa(f.guardians[0]), eoa(f.guardians[1])];
      await f.module.lock(f.address, await sign(await f.module.lockDigest(f.address), signers));
      await networkHelpers.time.increase(LOCK_DURATION - 10n);
      await propose(f, randomWallet().address, signers);
      const [, readyAt] = await f.module.pendingRecovery(f.address);
      expect(await f.module.lockedUntil(f.address)).to.equal(readyAt);
      await networkHelpers.time.increase(RECOVERY_DELAY - 100n);
      const ev = await ownerOp(f.core, f.address, f.owner, callModule(f.module, "cancelRecovery", []));
      expect(errorName(f.module, ev.revertReason)).to.equal("GuardianRecoveryLocked");
    });

    it("the lock expires on its own; lock signatures cannot be replayed", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const sigs = await sign(await f.module.lockDigest(f.address), [eoa(f.guardians[0]), eoa(f.guardians[1])]);
      await f.module.lock(f.address, sigs);
      await networkHelpers.time.increase(LOCK_DURATION);
      expect(await f.module.isLocked(f.address)).to.equal(false);
      await expect(f.module.lock(f.address, sigs)).to.be.revertedWithCustomError(
        f.module,
        "GuardianRecoveryInvalidSignature",
      );
      // once expired the owner can cancel again
      await propose(f, randomWallet().address);
      expect((await ownerOp(f.core, f.address, f.owner, callModule(f.module, "cancelRecovery", []))).success).to.equal(
        true,
      );
    });
  });

  describe("guardian changes", () => {
    it("wait the security delay; applying early fails; the new set replaces the old one", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const next = [randomWallet(), randomWallet()];
      const ev = await ownerOp(
        f.core,
        f.address,
        f.owner,
        callModule(f.module, "proposeGuardianChange", [next.map((g) => g.address), 1]),
      );
      expect(ev.success).to.equal(true);
      const [, , readyAt] = await f.module.pendingGuardianChange(f.address);
      await networkHelpers.time.setNextBlockTimestamp(readyAt - 1n);
      await expect(f.module.applyGuardianChange(f.address))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryGuardianChangeNotReady")
        .withArgs(f.address, readyAt, readyAt - 1n);
      expect(await f.module.guardiansOf(f.address)).to.deep.equal(f.guardians.map((g) => g.address));
      await networkHelpers.time.setNextBlockTimestamp(readyAt);
      await expect(f.module.applyGuardianChange(f.address))
        .to.emit(f.module, "GuardiansChanged")
        .withArgs(
          f.address,
          next.map((g) => g.address),
          1,
        );
      expect(await f.module.guardiansOf(f.address)).to.deep.equal(next.map((g) => g.address));
      expect(await f.module.thresholdOf(f.address)).to.equal(1n);
      expect(await f.module.isGuardian(f.address, f.guardians[0].address)).to.equal(false);
      // old guardians no longer count, new ones do
      await expect(
        propose(f, randomWallet().address, [eoa(f.guardians[0]), eoa(f.guardians[1])]),
      ).to.be.revertedWithCustomError(f.module, "GuardianRecoveryNotGuardian");
      await expect(propose(f, randomWallet().address, [eoa(next[1])])).to.emit(f.module, "RecoveryProposed");
    });

    it("the owner can cancel a pending change", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      await ownerOp(f.core, f.address, f.owner, callModule(f.module, "proposeGuardianChange", [[f.owner.address], 1]));
      const ev = await ownerOp(f.core, f.address, f.owner, callModule(f.module, "cancelGuardianChange", []));
      expect(ev.success).to.equal(true);
      await networkHelpers.time.increase(SECURITY_DELAY);
      await expect(f.module.applyGuardianChange(f.address))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryNoPendingGuardianChange")
        .withArgs(f.address);
      expect(await f.module.guardiansOf(f.address)).to.deep.equal(f.guardians.map((g) => g.address));
    });

    it("cannot be applied while a recovery is pending, and a completed recovery discards it", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      await ownerOp(f.core, f.address, f.owner, callModule(f.module, "proposeGuardianChange", [[f.owner.address], 1]));
      const newOwner = randomWallet().address;
      await propose(f, newOwner);
      await networkHelpers.time.increase(SECURITY_DELAY);
      const [, readyAt] = await f.module.pendingRecovery(f.address);
      await expect(f.module.applyGuardianChange(f.address))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryPending")
        .withArgs(f.address, newOwner, readyAt);
      await networkHelpers.time.increase(RECOVERY_DELAY);
      await expect(f.module.completeRecovery(f.address)).to.emit(f.module, "GuardianChangeCancelled");
      await expect(f.module.applyGuardianChange(f.address)).to.be.revertedWithCustomError(
        f.module,
        "GuardianRecoveryNoPendingGuardianChange",
      );
    });

    it("validates the proposed set", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const ev = await ownerOp(
        f.core,
        f.address,
        f.owner,
        callModule(f.module, "proposeGuardianChange", [[f.owner.address], 2]),
      );
      expect(errorName(f.module, ev.revertReason)).to.equal("GuardianRecoveryInvalidThreshold");
    });
  });

  describe("uninstall", () => {
    it("uninstall then reinstall does not revive a pending recovery or old signatures", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const newOwner = randomWallet().address;
      const signers = [eoa(f.guardians[0]), eoa(f.guardians[1])];
      const sigs = await sign(await f.module.recoveryDigest(f.address, newOwner), signers);
      await f.module.proposeRecovery(f.address, newOwner, sigs);
      const staleSigs = await sign(await f.module.recoveryDigest(f.address, newOwner), signers);

      const moduleAddr = f.module.target as string;
      const uninstall = accountInterface.encodeFunctionData("uninstallModule", [
        MODULE_TYPE_EXECUTOR,
        moduleAddr,
        "0x",
      ]);
      expect((await ownerOp(f.core, f.address, f.owner, uninstall)).success).to.equal(true);
      expect(await f.module.thresholdOf(f.address)).to.equal(0n);
      expect(await f.module.guardiansOf(f.address)).to.deep.equal([]);
      expect(await f.module.isGuardian(f.address, f.guardians[0].address)).to.equal(false);
      expect(await f.module.pendingRecovery(f.address)).to.deep.equal([ZeroAddress, 0n]);
      await expect(f.module.completeRecovery(f.address))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryNotInstalled")
        .withArgs(f.address);

      const install = accountInterface.encodeFunctionData("installModule", [
        MODULE_TYPE_EXECUTOR,
        moduleAddr,
        installData(
          f.guardians.map((g) => g.address),
          2,
          f.onRecovery,
        ),
      ]);
      expect((await ownerOp(f.core, f.address, f.owner, install)).success).to.equal(true);
      await networkHelpers.time.increase(RECOVERY_DELAY);
      await expect(f.module.completeRecovery(f.address))
        .to.be.revertedWithCustomError(f.module, "GuardianRecoveryNoPendingRecovery")
        .withArgs(f.address);
      for (const s of [sigs, staleSigs]) {
        await expect(f.module.proposeRecovery(f.address, newOwner, s)).to.be.revertedWithCustomError(
          f.module,
          "GuardianRecoveryInvalidSignature",
        );
      }
      expect(await f.core.ownerValidator.ownerOf(f.address)).to.equal(f.owner.address);
    });
  });
});

// ------------------------------------------------------------------------------------- passkey root

function passkeyRecoveryWorld() {
  return deployPasskeyRecoveryWorld(ethers, false);
}

/** Guardians 0 and 2 propose recovering the passkey world's account to `newOwner`. */
async function proposeFor(p: PasskeyRecoveryWorld, newOwner: string) {
  const digest = await p.recovery.recoveryDigest(p.w.accountAddress, newOwner);
  return p.recovery.proposeRecovery(
    p.w.accountAddress,
    newOwner,
    guardianSignatures(digest, [p.guardians[0], p.guardians[2]]),
  );
}

describe("GuardianRecovery with a passkey root (PasskeyValidator)", () => {
  it("a lost passkey is recovered to an ECDSA owner on OwnerValidator; the old passkey signs nothing; the owner rotates back to a new passkey", async () => {
    const p = await networkHelpers.loadFixture(passkeyRecoveryWorld);
    const { w, recovery } = p;
    const ov = await w.core.ownerValidator.getAddress();
    const newOwner = randomWallet();
    const hash = ethers.id("order");
    const oldSig = await signMessageWithPasskey(
      w.accountAddress,
      p.validatorAddress,
      hash,
      w.core.chainId,
      p.passkey.signer,
    );
    expect(await w.account.isValidSignature(hash, oldSig)).to.equal("0x1626ba7e");

    await proposeFor(p, newOwner.address);
    await networkHelpers.time.increase(HOUR);
    const tx = await recovery.connect(w.core.stranger).completeRecovery(w.accountAddress);
    await expect(tx).to.emit(recovery, "RecoveryCompleted").withArgs(w.accountAddress, newOwner.address);
    await expect(tx).to.emit(w.account, "RootValidatorChanged").withArgs(p.validatorAddress, ov);
    await expect(tx).to.emit(p.validator, "PasskeyChanged").withArgs(w.accountAddress, ZeroHash, ZeroHash);
    console.log(
      `      gas: completeRecovery of a passkey root (install + root + uninstall + 2 onRecovery calls) ${(await tx.wait())!.gasUsed}`,
    );

    expect(await w.account.rootValidator()).to.equal(ov);
    expect(await w.core.ownerValidator.ownerOf(w.accountAddress)).to.equal(newOwner.address);
    expect(await w.account.isModuleInstalled(1n, p.validatorAddress, "0x")).to.equal(false);
    expect(await p.validator.passkeyOf(w.accountAddress)).to.deep.equal([ZeroHash, ZeroHash]);
    // the old passkey: no operation validates (AA24), no ERC-1271 signature either
    await expect(passkeyAttempt(p, executeCalldata(transferCall(w, newOwner.address, 1n))))
      .to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp")
      .withArgs(0n, "AA24 signature error");
    expect(await w.account.isValidSignature(hash, oldSig)).to.equal("0xffffffff");

    // the new ECDSA owner moves funds, then rotates to a new passkey in one owner operation
    const next = softwarePasskey();
    const key = AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [next.qx, next.qy]);
    const rotate = signAsOwner(
      w.core,
      await buildOp(
        w.core,
        w.accountAddress,
        ov,
        executeCalldata([
          transferCall(w, newOwner.address, 3n),
          selfCall(w, "installModule", [1n, p.validatorAddress, key]),
          selfCall(w, "setRootValidator", [p.validatorAddress]),
          selfCall(w, "uninstallModule", [1n, ov, "0x"]),
        ]),
      ),
      newOwner,
    );
    const [ev] = userOpEvents(w.core, await handleOps(w.core, [rotate]));
    expect(ev.success, ev.revertReason).to.equal(true);
    expect(await w.token.balanceOf(newOwner.address)).to.equal(3n);
    expect(await w.account.rootValidator()).to.equal(p.validatorAddress);
    // the lost passkey stays out after the rotation (a different key is installed now)
    await expect(passkeyAttempt(p, executeCalldata(transferCall(w, newOwner.address, 1n))))
      .to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp")
      .withArgs(0n, "AA24 signature error");
    const op = await passkeyOp(p, executeCalldata(transferCall(w, newOwner.address, 1n)), next.signer);
    expect(userOpEvents(w.core, await handleOps(w.core, [op]))[0].success).to.equal(true);
    expect(await w.token.balanceOf(newOwner.address)).to.equal(4n);
  });

  it("with OwnerValidator still installed as an ordinary validator, the recovery re-keys it and makes it root", async () => {
    const p = await networkHelpers.loadFixture(passkeyRecoveryWorld);
    const { w, recovery } = p;
    const ov = await w.core.ownerValidator.getAddress();
    const spare = randomWallet();
    const { event } = await passkeyCalls(p, selfCall(w, "installModule", [1n, ov, spare.address]));
    expect(event.success, event.revertReason).to.equal(true);
    const newOwner = randomWallet();
    await proposeFor(p, newOwner.address);
    await networkHelpers.time.increase(HOUR);
    await expect(recovery.completeRecovery(w.accountAddress))
      .to.emit(w.core.ownerValidator, "OwnerChanged")
      .withArgs(w.accountAddress, spare.address, newOwner.address);
    expect(await w.account.rootValidator()).to.equal(ov);
    expect(await w.account.isModuleInstalled(1n, p.validatorAddress, "0x")).to.equal(false);
    // the spare key is out too
    const stale = signAsOwner(w.core, await buildOp(w.core, w.accountAddress, ov, executeCalldata([])), spare);
    await expect(handleOps(w.core, [stale])).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp");
  });

  it("the passkey owner cancels a malicious recovery during the delay; completing it then fails", async () => {
    const p = await networkHelpers.loadFixture(passkeyRecoveryWorld);
    const { w, recovery } = p;
    await proposeFor(p, randomWallet().address);
    const { event } = await passkeyCalls(p, {
      target: p.recoveryAddress,
      data: recovery.interface.encodeFunctionData("cancelRecovery"),
    });
    expect(event.success, event.revertReason).to.equal(true);
    await networkHelpers.time.increase(HOUR);
    await expect(recovery.completeRecovery(w.accountAddress)).to.be.revertedWithCustomError(
      recovery,
      "GuardianRecoveryNoPendingRecovery",
    );
    expect(await w.account.rootValidator()).to.equal(p.validatorAddress);
    expect((await passkeyCalls(p, [])).event.success).to.equal(true);
  });

  it("while the guardians' lock holds, the passkey owner cannot cancel; the recovery completes", async () => {
    const p = await networkHelpers.loadFixture(passkeyRecoveryWorld);
    const { w, recovery, guardians } = p;
    await recovery.lock(
      w.accountAddress,
      guardianSignatures(await recovery.lockDigest(w.accountAddress), [guardians[1], guardians[2]]),
    );
    const newOwner = randomWallet();
    await proposeFor(p, newOwner.address);
    const { event } = await passkeyCalls(p, {
      target: p.recoveryAddress,
      data: recovery.interface.encodeFunctionData("cancelRecovery"),
    });
    expect(event.success).to.equal(false);
    expect(recovery.interface.parseError(event.revertReason!)?.name).to.equal("GuardianRecoveryLocked");
    await networkHelpers.time.increase(HOUR);
    await recovery.completeRecovery(w.accountAddress);
    expect(await recovery.isLocked(w.accountAddress)).to.equal(false);
    expect(await w.core.ownerValidator.ownerOf(w.accountAddress)).to.equal(newOwner.address);
    expect(await w.account.rootValidator()).to.equal(await w.core.ownerValidator.getAddress());
  });
});

import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, ZeroHash, concat, keccak256, toUtf8Bytes, parseEther, zeroPadValue } from "ethers";
import {
  MODE_DELEGATECALL,
  MODE_SINGLE,
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_FALLBACK,
  MODULE_TYPE_HOOK,
  MODULE_TYPE_VALIDATOR,
  accountInterface,
  encodeDelegate,
  encodeSingle,
  executeCalldata,
  wrapExecuteUserOp,
} from "../../src/account/encoding.js";
import { ENTRYPOINT_V08 } from "../../src/infra/singletons.js";
import { packUserOp } from "../../src/userop/userop.js";
import {
  buildOp,
  counterfactualAccount,
  deployCore,
  factoryData,
  fund,
  handleOps,
  opHash,
  randomWallet,
  signAsOwner,
  userOpEvents,
  type Core,
} from "../helpers/reins.js";

const { ethers, networkHelpers } = await network.create();

async function deployedAccountFixture() {
  const core = await deployCore(ethers);
  const owner = randomWallet();
  const handle = await counterfactualAccount(core, owner);
  await fund(ethers, handle.address);
  const op = signAsOwner(
    core,
    await buildOp(core, handle.address, await core.ownerValidator.getAddress(), "0x", factoryData(core, handle)),
    owner,
  );
  await handleOps(core, [op]);
  const account = await ethers.getContractAt("ReinsAccount", handle.address);
  const token = await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6]);
  await token.mint(handle.address, 1_000_000_000n);
  return { core, owner, handle, account, token };
}

/** Sign and send an owner operation with `callData`; returns the UserOperationEvent. */
async function ownerOp(core: Core, sender: string, owner: ReturnType<typeof randomWallet>, callData: string) {
  const op = signAsOwner(core, await buildOp(core, sender, await core.ownerValidator.getAddress(), callData), owner);
  const receipt = await handleOps(core, [op]);
  const [event] = userOpEvents(core, receipt);
  return event;
}

/** Call `validateUserOp` as the EntryPoint would, returning the validation data (or throwing on revert). */
async function validateAsEntryPoint(core: Core, accountAddress: string, op: Parameters<typeof packUserOp>[0]) {
  await networkHelpers.impersonateAccount(ENTRYPOINT_V08);
  await networkHelpers.setBalance(ENTRYPOINT_V08, parseEther("1"));
  const ep = await ethers.getSigner(ENTRYPOINT_V08);
  const account = await ethers.getContractAt("ReinsAccount", accountAddress);
  return account.connect(ep).validateUserOp.staticCall(packUserOp(op), opHash(core, op), 0n);
}

describe("ReinsAccount", () => {
  describe("deployment", () => {
    it("is deployed by its first UserOperation through initCode, at the counterfactual address", async () => {
      const core = await deployCore(ethers);
      const owner = randomWallet();
      const handle = await counterfactualAccount(core, owner);
      expect(await ethers.provider.getCode(handle.address)).to.equal("0x");
      await fund(ethers, handle.address);
      const recipient = randomWallet().address;
      const op = signAsOwner(
        core,
        await buildOp(
          core,
          handle.address,
          await core.ownerValidator.getAddress(),
          executeCalldata({ target: recipient, value: 12345n }),
          factoryData(core, handle),
        ),
        owner,
      );
      const [event] = userOpEvents(core, await handleOps(core, [op]));
      expect(event.success).to.equal(true);
      expect(await ethers.provider.getBalance(recipient)).to.equal(12345n);
      const account = await ethers.getContractAt("ReinsAccount", handle.address);
      expect(await account.rootValidator()).to.equal(await core.ownerValidator.getAddress());
      expect(await core.ownerValidator.ownerOf(handle.address)).to.equal(owner.address);
      // 61-byte ERC-1967 proxy
      expect((await ethers.provider.getCode(handle.address)).length).to.equal(2 + 61 * 2);
    });

    it("commits the address to the owner and modules: other init data gives another address", async () => {
      const core = await deployCore(ethers);
      const a = await counterfactualAccount(core, randomWallet());
      const b = await counterfactualAccount(core, randomWallet());
      const c = await counterfactualAccount(core, a.owner, [], zeroPadValue("0x01", 32));
      expect(new Set([a.address, b.address, c.address]).size).to.equal(3);
      // a front-runner deploying with b's init data cannot land on a's address
      await core.factory.createAccount(b.initCall, b.salt);
      expect(await ethers.provider.getCode(a.address)).to.equal("0x");
    });

    it("createAccount is idempotent and refuses a call that is not initialize", async () => {
      const { core, handle, account } = await networkHelpers.loadFixture(deployedAccountFixture);
      const again = await core.factory.createAccount.staticCall(handle.initCall, handle.salt);
      expect(again).to.equal(handle.address);
      await expect(core.factory.createAccount(handle.initCall, handle.salt)).to.not.emit(
        core.factory,
        "AccountCreated",
      );
      expect(await core.ownerValidator.ownerOf(await account.getAddress())).to.equal(handle.owner.address);
      await expect(core.factory.createAccount("0x12345678", ZeroHash))
        .to.be.revertedWithCustomError(core.factory, "ReinsFactoryInvalidInitCall")
        .withArgs("0x12345678");
    });

    it("initialises exactly once: the implementation and a live proxy refuse initialize", async () => {
      const { core, account } = await networkHelpers.loadFixture(deployedAccountFixture);
      const ov = await core.ownerValidator.getAddress();
      await expect(account.initialize(ov, randomWallet().address, [])).to.be.revertedWithCustomError(
        account,
        "ReinsAccountAlreadyInitialized",
      );
      await expect(core.implementation.initialize(ov, randomWallet().address, [])).to.be.revertedWithCustomError(
        core.implementation,
        "ReinsAccountAlreadyInitialized",
      );
    });
  });

  describe("execution through the EntryPoint", () => {
    it("sends native value, ERC-20 and batches", async () => {
      const { core, owner, handle, token } = await networkHelpers.loadFixture(deployedAccountFixture);
      const [r1, r2, r3] = [randomWallet().address, randomWallet().address, randomWallet().address];
      expect(
        (await ownerOp(core, handle.address, owner, executeCalldata({ target: r1, value: 777n }))).success,
      ).to.equal(true);
      expect(await ethers.provider.getBalance(r1)).to.equal(777n);
      const transfer = (to: string, amount: bigint) => token.interface.encodeFunctionData("transfer", [to, amount]);
      const tokenAddr = await token.getAddress();
      expect(
        (await ownerOp(core, handle.address, owner, executeCalldata({ target: tokenAddr, data: transfer(r2, 5n) })))
          .success,
      ).to.equal(true);
      expect(await token.balanceOf(r2)).to.equal(5n);
      const batch = executeCalldata([
        { target: tokenAddr, data: transfer(r3, 1n) },
        { target: tokenAddr, data: transfer(r3, 2n) },
        { target: r3, value: 3n },
      ]);
      expect((await ownerOp(core, handle.address, owner, batch)).success).to.equal(true);
      expect(await token.balanceOf(r3)).to.equal(3n);
      expect(await ethers.provider.getBalance(r3)).to.equal(3n);
    });

    it("try mode continues past a failing call; default mode reverts the whole batch", async () => {
      const { core, owner, handle, token } = await networkHelpers.loadFixture(deployedAccountFixture);
      const r = randomWallet().address;
      const tokenAddr = await token.getAddress();
      const ok = token.interface.encodeFunctionData("transfer", [r, 1n]);
      const bad = token.interface.encodeFunctionData("transfer", [r, 10n ** 30n]);
      const calls = [
        { target: tokenAddr, data: bad },
        { target: tokenAddr, data: ok },
      ];
      expect((await ownerOp(core, handle.address, owner, executeCalldata(calls))).success).to.equal(false);
      expect(await token.balanceOf(r)).to.equal(0n);
      expect((await ownerOp(core, handle.address, owner, executeCalldata(calls, 1))).success).to.equal(true);
      expect(await token.balanceOf(r)).to.equal(1n);
    });

    it("refuses delegatecall through execute, allows it only in an owner-validated executeUserOp", async () => {
      const { core, owner, handle } = await networkHelpers.loadFixture(deployedAccountFixture);
      const writer = await ethers.deployContract("DelegateWriter");
      const slot = keccak256(toUtf8Bytes("test.slot"));
      const data = writer.interface.encodeFunctionData("write", [slot, zeroPadValue("0x2a", 32)]);
      const inner = accountInterface.encodeFunctionData("execute", [
        MODE_DELEGATECALL,
        encodeDelegate(await writer.getAddress(), data),
      ]);
      const direct = await ownerOp(core, handle.address, owner, inner);
      expect(direct.success).to.equal(false);
      expect(await ethers.provider.getStorage(handle.address, slot)).to.equal(ZeroHash);
      const wrapped = await ownerOp(core, handle.address, owner, wrapExecuteUserOp(inner));
      expect(wrapped.success).to.equal(true);
      expect(await ethers.provider.getStorage(handle.address, slot)).to.equal(zeroPadValue("0x2a", 32));
    });

    it("refuses executeUserOp call data that does not wrap execute", async () => {
      const { core, owner, handle } = await networkHelpers.loadFixture(deployedAccountFixture);
      const inner = accountInterface.encodeFunctionData("upgradeToAndCall", [randomWallet().address, "0x"]);
      const event = await ownerOp(core, handle.address, owner, wrapExecuteUserOp(inner));
      expect(event.success).to.equal(false);
    });
  });

  describe("validation", () => {
    it("returns SIG_VALIDATION_FAILED (no revert) for malformed, wrong-length, zero and foreign signatures", async () => {
      const { core, owner, handle } = await networkHelpers.loadFixture(deployedAccountFixture);
      const base = await buildOp(
        core,
        handle.address,
        await core.ownerValidator.getAddress(),
        executeCalldata({ target: ZeroAddress }),
      );
      const good = signAsOwner(core, base, owner);
      expect(await validateAsEntryPoint(core, handle.address, good)).to.equal(0n);
      const badSignatures = [
        "0x",
        "0x1234",
        good.signature.slice(0, -2), // 64 bytes
        good.signature + "00", // 66 bytes
        "0x" + "00".repeat(65), // all zero
        signAsOwner(core, base, randomWallet()).signature, // another key
      ];
      for (const signature of badSignatures) {
        expect(await validateAsEntryPoint(core, handle.address, { ...base, signature })).to.equal(1n);
      }
    });

    it("refuses the malleable (high-s) twin of a valid signature", async () => {
      const { core, owner, handle } = await networkHelpers.loadFixture(deployedAccountFixture);
      const base = await buildOp(core, handle.address, await core.ownerValidator.getAddress(), "0x");
      const sig = owner.signingKey.sign(opHash(core, base));
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const highS = zeroPadValue("0x" + (n - BigInt(sig.s)).toString(16), 32);
      const flippedV = sig.v === 27 ? "0x1c" : "0x1b";
      const malleable = concat([sig.r, highS, flippedV]);
      expect(await validateAsEntryPoint(core, handle.address, { ...base, signature: malleable })).to.equal(1n);
    });

    it("fails validation for a nonce key naming a validator that is not installed", async () => {
      const { core, owner, handle } = await networkHelpers.loadFixture(deployedAccountFixture);
      const otherValidator = await ethers.deployContract("OwnerValidator");
      const op = signAsOwner(core, await buildOp(core, handle.address, await otherValidator.getAddress(), "0x"), owner);
      expect(await validateAsEntryPoint(core, handle.address, op)).to.equal(1n);
      const zeroKey = signAsOwner(core, await buildOp(core, handle.address, ZeroAddress, "0x"), owner);
      expect(await validateAsEntryPoint(core, handle.address, zeroKey)).to.equal(1n);
      await expect(handleOps(core, [op])).to.be.revertedWithCustomError(core.entryPoint, "FailedOp");
    });

    it("routes ERC-1271 to installed validators only, bound to the account", async () => {
      const { core, owner, handle, account } = await networkHelpers.loadFixture(deployedAccountFixture);
      const hash = keccak256(toUtf8Bytes("hello"));
      const ov = await core.ownerValidator.getAddress();
      const digest = await core.ownerValidator.messageDigest(handle.address, hash);
      const sig = owner.signingKey.sign(digest).serialized;
      expect(await account.isValidSignature(hash, concat([ov, sig]))).to.equal("0x1626ba7e");
      // raw signature over the hash (replayable elsewhere) is refused
      expect(await account.isValidSignature(hash, concat([ov, owner.signingKey.sign(hash).serialized]))).to.equal(
        "0xffffffff",
      );
      const notInstalled = await ethers.deployContract("OwnerValidator");
      expect(await account.isValidSignature(hash, concat([await notInstalled.getAddress(), sig]))).to.equal(
        "0xffffffff",
      );
      expect(await account.isValidSignature(hash, "0x1234")).to.equal("0xffffffff");
    });
  });

  describe("access control", () => {
    it("strangers cannot execute, manage modules, upgrade or act as an executor", async () => {
      const { core, account } = await networkHelpers.loadFixture(deployedAccountFixture);
      const s = account.connect(core.stranger);
      const any = randomWallet().address;
      await expect(s.execute(MODE_SINGLE, encodeSingle({ target: any, value: 1n })))
        .to.be.revertedWithCustomError(account, "AccountUnauthorized")
        .withArgs(core.stranger.address);
      await expect(s.installModule(MODULE_TYPE_EXECUTOR, any, "0x")).to.be.revertedWithCustomError(
        account,
        "AccountUnauthorized",
      );
      await expect(s.uninstallModule(MODULE_TYPE_VALIDATOR, any, "0x")).to.be.revertedWithCustomError(
        account,
        "AccountUnauthorized",
      );
      await expect(s.upgradeToAndCall(await core.implementation.getAddress(), "0x")).to.be.revertedWithCustomError(
        account,
        "AccountUnauthorized",
      );
      await expect(s.executeFromExecutor(MODE_SINGLE, encodeSingle({ target: any })))
        .to.be.revertedWithCustomError(account, "ReinsAccountUnauthorizedModule")
        .withArgs(MODULE_TYPE_EXECUTOR, core.stranger.address);
      await expect(s.setRootValidator(any)).to.be.revertedWithCustomError(account, "AccountUnauthorized");
    });
  });

  describe("modules", () => {
    it("the owner installs and uninstalls an executor, which can then execute, then not", async () => {
      const { core, owner, handle, account } = await networkHelpers.loadFixture(deployedAccountFixture);
      const executor = await ethers.deployContract("ForwardingExecutor");
      const exAddr = await executor.getAddress();
      const install = accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, exAddr, "0x"]);
      expect((await ownerOp(core, handle.address, owner, install)).success).to.equal(true);
      expect(await account.isModuleInstalled(MODULE_TYPE_EXECUTOR, exAddr, "0x")).to.equal(true);
      const r = randomWallet().address;
      await executor.forward(handle.address, MODE_SINGLE, encodeSingle({ target: r, value: 9n }));
      expect(await ethers.provider.getBalance(r)).to.equal(9n);
      const uninstall = accountInterface.encodeFunctionData("uninstallModule", [MODULE_TYPE_EXECUTOR, exAddr, "0x"]);
      expect((await ownerOp(core, handle.address, owner, uninstall)).success).to.equal(true);
      expect(await account.isModuleInstalled(MODULE_TYPE_EXECUTOR, exAddr, "0x")).to.equal(false);
      await expect(
        executor.forward(handle.address, MODE_SINGLE, encodeSingle({ target: r, value: 9n })),
      ).to.be.revertedWithCustomError(account, "ReinsAccountUnauthorizedModule");
    });

    it("executors cannot delegatecall", async () => {
      const { core, owner, handle, account } = await networkHelpers.loadFixture(deployedAccountFixture);
      const executor = await ethers.deployContract("ForwardingExecutor");
      const install = accountInterface.encodeFunctionData("installModule", [
        MODULE_TYPE_EXECUTOR,
        await executor.getAddress(),
        "0x",
      ]);
      await ownerOp(core, handle.address, owner, install);
      const writer = await ethers.deployContract("DelegateWriter");
      const data = writer.interface.encodeFunctionData("write", [ZeroHash, zeroPadValue("0x01", 32)]);
      await expect(
        executor.forward(handle.address, MODE_DELEGATECALL, encodeDelegate(await writer.getAddress(), data)),
      ).to.be.revertedWithCustomError(account, "ReinsAccountDelegatecallNotAllowed");
    });

    it("the root (last owner) validator cannot be uninstalled", async () => {
      const { core, owner, handle, account } = await networkHelpers.loadFixture(deployedAccountFixture);
      const ov = await core.ownerValidator.getAddress();
      const uninstallRoot = accountInterface.encodeFunctionData("uninstallModule", [MODULE_TYPE_VALIDATOR, ov, "0x"]);
      const ev = await ownerOp(core, handle.address, owner, uninstallRoot);
      expect(ev.success).to.equal(false);
      expect(await account.isModuleInstalled(MODULE_TYPE_VALIDATOR, ov, "0x")).to.equal(true);
      expect(await account.rootValidator()).to.equal(ov);
    });

    it("a module whose onUninstall reverts is still removed", async () => {
      const { core, owner, handle, account } = await networkHelpers.loadFixture(deployedAccountFixture);
      const bad = await ethers.deployContract("RevertingUninstallModule");
      const addr = await bad.getAddress();
      for (const type of [MODULE_TYPE_VALIDATOR, MODULE_TYPE_EXECUTOR]) {
        await ownerOp(
          core,
          handle.address,
          owner,
          accountInterface.encodeFunctionData("installModule", [type, addr, "0x"]),
        );
        expect(await account.isModuleInstalled(type, addr, "0x")).to.equal(true);
        const ev = await ownerOp(
          core,
          handle.address,
          owner,
          accountInterface.encodeFunctionData("uninstallModule", [type, addr, "0x"]),
        );
        expect(ev.success).to.equal(true);
        expect(await account.isModuleInstalled(type, addr, "0x")).to.equal(false);
      }
    });

    it("a hook wraps execute, executor and fallback paths, and a broken hook can still be removed", async () => {
      const { core, owner, handle, account } = await networkHelpers.loadFixture(deployedAccountFixture);
      const hook = await ethers.deployContract("CountingHook");
      const hookAddr = await hook.getAddress();
      await ownerOp(
        core,
        handle.address,
        owner,
        accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_HOOK, hookAddr, "0x"]),
      );
      expect(await account.isModuleInstalled(MODULE_TYPE_HOOK, hookAddr, "0x")).to.equal(true);
      await ownerOp(core, handle.address, owner, executeCalldata({ target: randomWallet().address, value: 1n }));
      expect(await hook.preChecks(handle.address)).to.equal(1n);
      expect(await hook.postChecks(handle.address)).to.equal(1n);
      // fallback path
      const echo = await ethers.deployContract("EchoFallback");
      const echoSel = echo.interface.getFunction("echo")!.selector;
      await ownerOp(
        core,
        handle.address,
        owner,
        accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_FALLBACK, await echo.getAddress(), echoSel]),
      );
      const before = await hook.preChecks(handle.address);
      const echoAtAccount = new ethers.Contract(handle.address, echo.interface, core.stranger);
      await expect(echoAtAccount.echo(41n))
        .to.emit(echo, "Echoed")
        .withArgs(handle.address, core.stranger.address, 41n);
      expect(await hook.preChecks(handle.address)).to.equal(before + 1n);
      expect(await hook.lastSelector(handle.address)).to.equal(echoSel);
      // executor path
      const executor = await ethers.deployContract("ForwardingExecutor");
      await ownerOp(
        core,
        handle.address,
        owner,
        accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, await executor.getAddress(), "0x"]),
      );
      const b2 = await hook.preChecks(handle.address);
      await executor.forward(handle.address, MODE_SINGLE, encodeSingle({ target: randomWallet().address }));
      expect(await hook.preChecks(handle.address)).to.equal(b2 + 1n);
      // a hook that reverts on everything blocks execution, but not its own removal
      await hook.setRevertAll(true);
      expect(
        (await ownerOp(core, handle.address, owner, executeCalldata({ target: randomWallet().address }))).success,
      ).to.equal(false);
      const remove = accountInterface.encodeFunctionData("uninstallModule", [MODULE_TYPE_HOOK, hookAddr, "0x"]);
      expect((await ownerOp(core, handle.address, owner, remove)).success).to.equal(true);
      expect(await account.hook()).to.equal(ZeroAddress);
    });

    it("reports the ERC-7579 configuration", async () => {
      const { account } = await networkHelpers.loadFixture(deployedAccountFixture);
      expect(await account.accountId()).to.equal("reins.account.0.1.0");
      for (const t of [1n, 2n, 3n, 4n]) expect(await account.supportsModule(t)).to.equal(true);
      expect(await account.supportsModule(5n)).to.equal(false);
      expect(await account.supportsExecutionMode(MODE_SINGLE)).to.equal(true);
      expect(await account.supportsExecutionMode(MODE_DELEGATECALL)).to.equal(true);
      expect(await account.supportsExecutionMode("0xfe" + "00".repeat(31))).to.equal(false);
    });
  });

  describe("upgrades", () => {
    it("the owner upgrades through a UserOperation; the new implementation keeps state", async () => {
      const { core, owner, handle, account } = await networkHelpers.loadFixture(deployedAccountFixture);
      const v2 = await ethers.deployContract("ReinsAccount");
      const data = accountInterface.encodeFunctionData("upgradeToAndCall", [await v2.getAddress(), "0x"]);
      expect((await ownerOp(core, handle.address, owner, data)).success).to.equal(true);
      const implSlot = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";
      expect(await ethers.provider.getStorage(handle.address, implSlot)).to.equal(
        zeroPadValue(await v2.getAddress(), 32),
      );
      expect(await account.rootValidator()).to.equal(await core.ownerValidator.getAddress());
      const r = randomWallet().address;
      expect((await ownerOp(core, handle.address, owner, executeCalldata({ target: r, value: 1n }))).success).to.equal(
        true,
      );
    });
  });

  describe("owner rotation", () => {
    it("the account rotates its owner; the old key stops validating", async () => {
      const { core, owner, handle } = await networkHelpers.loadFixture(deployedAccountFixture);
      const next = randomWallet();
      const rotate = executeCalldata({
        target: await core.ownerValidator.getAddress(),
        data: core.ownerValidator.interface.encodeFunctionData("setOwner", [next.address]),
      });
      expect((await ownerOp(core, handle.address, owner, rotate)).success).to.equal(true);
      expect(await core.ownerValidator.ownerOf(handle.address)).to.equal(next.address);
      const op = signAsOwner(
        core,
        await buildOp(core, handle.address, await core.ownerValidator.getAddress(), "0x"),
        owner,
      );
      expect(await validateAsEntryPoint(core, handle.address, op)).to.equal(1n);
      await expect(
        core.ownerValidator.connect(core.stranger).setOwner(core.stranger.address),
      ).to.be.revertedWithCustomError(core.ownerValidator, "OwnerValidatorNotInstalled");
    });
  });
});

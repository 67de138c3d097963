/**
 * Reusable ERC-7579 account behaviour suite: `shouldBehaveLikeERC7579Account(getContext)` runs the same
 * specification against any ERC-7579 account implementation. The context acts as the account's owner
 * (through whatever path the account offers: a UserOperation, an owner shortcut) and reports failures with
 * their revert data instead of throwing, so the suite judges every account alike.
 */
import { expect } from "chai";
import { Interface, ZeroAddress, ZeroHash } from "ethers";
import {
  MODE_BATCH,
  MODE_SINGLE,
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_FALLBACK,
  MODULE_TYPE_HOOK,
  MODULE_TYPE_VALIDATOR,
  encodeMode,
  encodeSingle,
  type Call,
} from "../../src/account/encoding.js";
import type { Ethers } from "../helpers/reins.js";

export type Result = { ok: true } | { ok: false; revertData: string };

export interface ERC7579Context {
  ethers: Ethers;
  /** The account under test. */
  account: string;
  /** Whether the account supports hook modules (type 4). */
  supportsHooks: boolean;
  /** As the owner: `installModule`. */
  install(moduleTypeId: bigint, module: string, initData: string): Promise<Result>;
  /** As the owner: `uninstallModule`. */
  uninstall(moduleTypeId: bigint, module: string, deInitData: string): Promise<Result>;
  /** As the owner: ERC-7579 `execute` of one call or a batch. */
  execute(calls: Call | Call[]): Promise<Result>;
  /** Advance the chain's clock. */
  increaseTime(seconds: bigint): Promise<void>;
}

const ERRORS = new Interface([
  "error ERC7579MismatchedModuleTypeId(uint256 moduleTypeId, address module)",
  "error ERC7579AlreadyInstalledModule(uint256 moduleTypeId, address module)",
  "error ERC7579UninstalledModule(uint256 moduleTypeId, address module)",
  "error ERC7579UnsupportedModuleType(uint256 moduleTypeId)",
]);

function errorName(r: Result): string | undefined {
  if (r.ok) return undefined;
  try {
    return ERRORS.parseError(r.revertData)?.name;
  } catch {
    return undefined;
  }
}

function expectOk(r: Result, what: string) {
  expect(r.ok, `${what}: ${r.ok ? "" : r.revertData}`).to.equal(true);
}

export function shouldBehaveLikeERC7579Account(getContext: () => Promise<ERC7579Context>) {
  async function cfg(ctx: ERC7579Context) {
    return ctx.ethers.getContractAt("ReinsAccount", ctx.account); // ERC-7579 views share one ABI
  }

  describe("ERC-7579 account configuration", () => {
    it("supports validators, executors and fallbacks (hooks as declared), no other module type", async () => {
      const ctx = await getContext();
      const a = await cfg(ctx);
      expect(await a.supportsModule(MODULE_TYPE_VALIDATOR)).to.equal(true);
      expect(await a.supportsModule(MODULE_TYPE_EXECUTOR)).to.equal(true);
      expect(await a.supportsModule(MODULE_TYPE_FALLBACK)).to.equal(true);
      expect(await a.supportsModule(MODULE_TYPE_HOOK)).to.equal(ctx.supportsHooks);
      expect(await a.supportsModule(0n)).to.equal(false);
      expect(await a.supportsModule(5n)).to.equal(false);
      expect(await a.accountId())
        .to.be.a("string")
        .and.not.equal("");
    });

    it("supports single and batch executions in default and try mode, not unknown call types", async () => {
      const ctx = await getContext();
      const a = await cfg(ctx);
      expect(await a.supportsExecutionMode(MODE_SINGLE)).to.equal(true);
      expect(await a.supportsExecutionMode(MODE_BATCH)).to.equal(true);
      expect(await a.supportsExecutionMode(encodeMode(0x00, 0x01))).to.equal(true);
      expect(await a.supportsExecutionMode(encodeMode(0x01, 0x01))).to.equal(true);
      expect(await a.supportsExecutionMode(encodeMode(0xfe))).to.equal(false);
      expect(await a.supportsExecutionMode(encodeMode(0x00, 0x07))).to.equal(false);
    });
  });

  describe("ERC-7579 modules", () => {
    it("installs, reports and uninstalls a validator", async () => {
      const ctx = await getContext();
      const a = await cfg(ctx);
      const validator = await ctx.ethers.deployContract("OwnerValidator");
      const v = await validator.getAddress();
      const [, , , , , owner] = await ctx.ethers.getSigners();
      expect(await a.isModuleInstalled(MODULE_TYPE_VALIDATOR, v, "0x")).to.equal(false);
      expectOk(await ctx.install(MODULE_TYPE_VALIDATOR, v, owner.address), "install validator");
      expect(await a.isModuleInstalled(MODULE_TYPE_VALIDATOR, v, "0x")).to.equal(true);
      expect(await a.isModuleInstalled(MODULE_TYPE_EXECUTOR, v, "0x")).to.equal(false);
      expect(await validator.ownerOf(ctx.account)).to.equal(owner.address); // onInstall ran with the data
      expectOk(await ctx.uninstall(MODULE_TYPE_VALIDATOR, v, "0x"), "uninstall validator");
      expect(await a.isModuleInstalled(MODULE_TYPE_VALIDATOR, v, "0x")).to.equal(false);
      expect(await validator.ownerOf(ctx.account)).to.equal(ZeroAddress); // onUninstall ran
    });

    it("an installed executor can executeFromExecutor; after uninstall, or never installed, it cannot", async () => {
      const ctx = await getContext();
      const a = await cfg(ctx);
      const executor = await ctx.ethers.deployContract("ForwardingExecutor");
      const stranger = await ctx.ethers.deployContract("ForwardingExecutor");
      const sink = await ctx.ethers.deployContract("Sink");
      const e = await executor.getAddress();
      const ping = encodeSingle({
        target: await sink.getAddress(),
        data: sink.interface.encodeFunctionData("ping", [1n]),
      });
      await expect(stranger.forward(ctx.account, MODE_SINGLE, ping)).to.be.revert(ctx.ethers);
      expectOk(await ctx.install(MODULE_TYPE_EXECUTOR, e, "0x"), "install executor");
      expect(await a.isModuleInstalled(MODULE_TYPE_EXECUTOR, e, "0x")).to.equal(true);
      await (await executor.forward(ctx.account, MODE_SINGLE, ping)).wait();
      expect(await sink.calls()).to.equal(1n);
      await expect(stranger.forward(ctx.account, MODE_SINGLE, ping)).to.be.revert(ctx.ethers);
      expectOk(await ctx.uninstall(MODULE_TYPE_EXECUTOR, e, "0x"), "uninstall executor");
      expect(await a.isModuleInstalled(MODULE_TYPE_EXECUTOR, e, "0x")).to.equal(false);
      await expect(executor.forward(ctx.account, MODE_SINGLE, ping)).to.be.revert(ctx.ethers);
      expect(await sink.calls()).to.equal(1n);
    });

    it("refuses a module whose type does not match, a second install, and uninstalling what is not installed", async () => {
      const ctx = await getContext();
      const a = await cfg(ctx);
      const executor = await ctx.ethers.deployContract("ForwardingExecutor");
      const e = await executor.getAddress();
      const mismatch = await ctx.install(MODULE_TYPE_VALIDATOR, e, "0x");
      expect(mismatch.ok).to.equal(false);
      expect(errorName(mismatch)).to.equal("ERC7579MismatchedModuleTypeId");
      expect(await a.isModuleInstalled(MODULE_TYPE_VALIDATOR, e, "0x")).to.equal(false);

      const notInstalled = await ctx.uninstall(MODULE_TYPE_EXECUTOR, e, "0x");
      expect(notInstalled.ok).to.equal(false);
      expect(errorName(notInstalled)).to.equal("ERC7579UninstalledModule");

      expectOk(await ctx.install(MODULE_TYPE_EXECUTOR, e, "0x"), "install executor");
      const twice = await ctx.install(MODULE_TYPE_EXECUTOR, e, "0x");
      expect(twice.ok).to.equal(false);
      expect(errorName(twice)).to.equal("ERC7579AlreadyInstalledModule");

      const unsupported = await ctx.install(9n, e, "0x");
      expect(unsupported.ok).to.equal(false);
      expect(errorName(unsupported)).to.equal("ERC7579UnsupportedModuleType");
    });

    it("routes a fallback selector to its installed handler and stops after uninstall", async () => {
      const ctx = await getContext();
      const a = await cfg(ctx);
      const handler = await ctx.ethers.deployContract("EchoFallback");
      const h = await handler.getAddress();
      const selector = handler.interface.getFunction("echo")!.selector;
      const echo = new ctx.ethers.Contract(ctx.account, handler.interface, (await ctx.ethers.getSigners())[0]);
      expectOk(await ctx.install(MODULE_TYPE_FALLBACK, h, selector), "install fallback");
      expect(await a.isModuleInstalled(MODULE_TYPE_FALLBACK, h, selector)).to.equal(true);
      expect(await echo.echo.staticCall(41n)).to.equal(42n);
      expectOk(await ctx.uninstall(MODULE_TYPE_FALLBACK, h, selector), "uninstall fallback");
      expect(await a.isModuleInstalled(MODULE_TYPE_FALLBACK, h, selector)).to.equal(false);
      await expect(echo.echo.staticCall(41n)).to.be.revert(ctx.ethers);
    });
  });

  describe("Reins modules on this account", () => {
    it("ReinsTimelock as an executor: a scheduled call runs once after its delay; uninstall clears the queue", async () => {
      const ctx = await getContext();
      const a = await cfg(ctx);
      const timelock = await ctx.ethers.deployContract("ReinsTimelock");
      const t = await timelock.getAddress();
      const sink = await ctx.ethers.deployContract("Sink");
      expect(await timelock.isModuleType(MODULE_TYPE_EXECUTOR)).to.equal(true);
      expect(await timelock.isModuleType(MODULE_TYPE_VALIDATOR)).to.equal(false);
      expectOk(await ctx.install(MODULE_TYPE_EXECUTOR, t, "0x"), "install timelock");
      expect(await a.isModuleInstalled(MODULE_TYPE_EXECUTOR, t, "0x")).to.equal(true);
      expect(await timelock.isInitialized(ctx.account)).to.equal(true);

      const call = encodeSingle({
        target: await sink.getAddress(),
        data: sink.interface.encodeFunctionData("ping", [7n]),
      });
      const schedule = (nonceCall: string) => ({
        target: t,
        data: timelock.interface.encodeFunctionData("schedule", [
          MODE_SINGLE,
          nonceCall,
          3600n,
          86400n,
          false,
          ZeroAddress,
          ZeroHash,
        ]),
      });
      const nonce = await timelock.nonceOf(ctx.account);
      expectOk(await ctx.execute(schedule(call)), "schedule");
      const id = await timelock.hashOperation(ctx.account, nonce, MODE_SINGLE, call);
      await expect(timelock.execute(ctx.account, id, MODE_SINGLE, call)).to.be.revertedWithCustomError(
        timelock,
        "ReinsTimelockUnexpectedState",
      );
      await ctx.increaseTime(3600n);
      await (await timelock.execute(ctx.account, id, MODE_SINGLE, call)).wait();
      expect(await sink.calls()).to.equal(1n);
      await expect(timelock.execute(ctx.account, id, MODE_SINGLE, call)).to.be.revertedWithCustomError(
        timelock,
        "ReinsTimelockUnexpectedState",
      );

      const nonce2 = await timelock.nonceOf(ctx.account);
      expectOk(await ctx.execute(schedule(call)), "schedule again");
      const id2 = await timelock.hashOperation(ctx.account, nonce2, MODE_SINGLE, call);
      expectOk(await ctx.uninstall(MODULE_TYPE_EXECUTOR, t, "0x"), "uninstall timelock");
      expect(await timelock.isInitialized(ctx.account)).to.equal(false);
      await ctx.increaseTime(3600n);
      expect(await timelock.state(ctx.account, id2)).to.equal(4n); // Cancelled
      expect(await sink.calls()).to.equal(1n);
    });

    it("AgentSessions: validator and executor types; onInstall marks the account, onUninstall revokes every session", async () => {
      const ctx = await getContext();
      const a = await cfg(ctx);
      const timelock = await ctx.ethers.deployContract("ReinsTimelock");
      const sessions = await ctx.ethers.deployContract("AgentSessions", [await timelock.getAddress()]);
      const s = await sessions.getAddress();
      expect(await sessions.isModuleType(MODULE_TYPE_VALIDATOR)).to.equal(true);
      expect(await sessions.isModuleType(MODULE_TYPE_EXECUTOR)).to.equal(true);
      expect(await sessions.isModuleType(MODULE_TYPE_FALLBACK)).to.equal(false);
      expect(await sessions.isModuleType(MODULE_TYPE_HOOK)).to.equal(false);
      const delay = ctx.ethers.AbiCoder.defaultAbiCoder().encode(["uint32"], [600n]);
      expectOk(await ctx.install(MODULE_TYPE_VALIDATOR, s, delay), "install sessions as validator");
      expectOk(await ctx.install(MODULE_TYPE_EXECUTOR, s, delay), "install sessions as executor");
      expect(await a.isModuleInstalled(MODULE_TYPE_VALIDATOR, s, "0x")).to.equal(true);
      expect(await a.isModuleInstalled(MODULE_TYPE_EXECUTOR, s, "0x")).to.equal(true);
      expect(await sessions.isInitialized(ctx.account)).to.equal(true);
      const before = await sessions.accountConfig(ctx.account);
      expect(before.securityDelay).to.equal(600n);
      expectOk(await ctx.uninstall(MODULE_TYPE_VALIDATOR, s, "0x"), "uninstall sessions validator");
      expect(await sessions.isInitialized(ctx.account)).to.equal(false);
      expect((await sessions.accountConfig(ctx.account)).epoch).to.equal(before.epoch + 1n);
      expectOk(await ctx.uninstall(MODULE_TYPE_EXECUTOR, s, "0x"), "uninstall sessions executor");
      expect((await sessions.accountConfig(ctx.account)).epoch).to.equal(before.epoch + 1n); // second call: no-op
      expect(await a.isModuleInstalled(MODULE_TYPE_EXECUTOR, s, "0x")).to.equal(false);
    });
  });
}

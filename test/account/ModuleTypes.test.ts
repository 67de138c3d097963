/**
 * The account's one-word module types (`installedModuleTypes`) and the session module's one-call forbidden-target
 * check built on it, with the per-type `isModuleInstalled` fallback for ERC-7579 accounts that lack the view.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, type Signer } from "ethers";
import {
  MODE_SINGLE,
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_HOOK,
  MODULE_TYPE_VALIDATOR,
  accountInterface,
  encodeSingle,
  type Call,
} from "../../src/account/encoding.js";
import { ENTRYPOINT_V08 } from "../../src/infra/singletons.js";
import { validationRefusal } from "../helpers/attacks.js";
import {
  agentOp,
  deploySessionWorld,
  grant,
  ownerCalls,
  paymentsConfig,
  type SessionWorld,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();

const bit = (moduleTypeId: bigint) => 1n << moduleTypeId;
const VALIDATOR = bit(MODULE_TYPE_VALIDATOR);
const EXECUTOR = bit(MODULE_TYPE_EXECUTOR);
const HOOK = bit(MODULE_TYPE_HOOK);

async function world() {
  const w = await deploySessionWorld(ethers);
  const hook = await ethers.deployContract("CountingHook");
  const executor = await ethers.deployContract("ForwardingExecutor");
  return { w, hook: await hook.getAddress(), executor: await executor.getAddress() };
}

function accountCall(w: SessionWorld, fn: "installModule" | "uninstallModule", args: unknown[]): Call {
  return { target: w.accountAddress, data: accountInterface.encodeFunctionData(fn, args) };
}

async function ownerOk(w: SessionWorld, calls: Call | Call[]) {
  const { event } = await ownerCalls(w, calls);
  expect(event.success, "owner operation").to.equal(true);
}

describe("Module types in one word", () => {
  it("installedModuleTypes reports validator, executor and hook bits as isModuleInstalled does, through install and uninstall", async () => {
    const { w, hook, executor } = await networkHelpers.loadFixture(world);
    const types = (m: string) => w.account.installedModuleTypes(m);
    const root = await w.core.ownerValidator.getAddress();
    expect(await types(root)).to.equal(VALIDATOR); // the root validator lives in its own field
    expect(await types(w.sessionsAddress)).to.equal(VALIDATOR | EXECUTOR);
    expect(await types(await w.timelock.getAddress())).to.equal(EXECUTOR);
    expect(await types(ZeroAddress)).to.equal(0n);
    expect(await types(executor)).to.equal(0n);

    await ownerOk(w, [
      accountCall(w, "installModule", [MODULE_TYPE_HOOK, hook, "0x"]),
      accountCall(w, "installModule", [MODULE_TYPE_EXECUTOR, executor, "0x"]),
    ]);
    expect(await types(hook)).to.equal(HOOK);
    expect(await types(executor)).to.equal(EXECUTOR);
    for (const [m, t] of [
      [hook, MODULE_TYPE_HOOK],
      [executor, MODULE_TYPE_EXECUTOR],
    ] as const) {
      expect(await w.account.isModuleInstalled(t, m, "0x")).to.equal(true);
    }

    // uninstalling the session module's validator type keeps its executor type
    await ownerOk(w, [
      accountCall(w, "uninstallModule", [MODULE_TYPE_VALIDATOR, w.sessionsAddress, "0x"]),
      accountCall(w, "uninstallModule", [MODULE_TYPE_EXECUTOR, executor, "0x"]),
      accountCall(w, "uninstallModule", [MODULE_TYPE_HOOK, hook, "0x"]),
    ]);
    expect(await types(w.sessionsAddress)).to.equal(EXECUTOR);
    expect(await w.account.isModuleInstalled(MODULE_TYPE_VALIDATOR, w.sessionsAddress, "0x")).to.equal(false);
    expect(await w.account.isModuleInstalled(MODULE_TYPE_EXECUTOR, w.sessionsAddress, "0x")).to.equal(true);
    expect(await types(executor)).to.equal(0n);
    expect(await types(hook)).to.equal(0n);
  });

  it("a hook installed after the grant is unreachable for the session (one call into the account)", async () => {
    const { w, hook } = await networkHelpers.loadFixture(world);
    const cfg = await paymentsConfig(w);
    cfg.permissions = [
      ...cfg.permissions,
      { target: hook, selector: "0x00000000", valueCap: 10n ** 15n, calldataLength: 0n, conditions: [] },
    ];
    const id = await grant(w, cfg);
    await ownerOk(w, accountCall(w, "installModule", [MODULE_TYPE_HOOK, hook, "0x"]));
    const refusal = await validationRefusal(w, await agentOp(w, id, { target: hook, value: 1n }));
    expect(refusal.name).to.equal("AgentSessionsForbiddenTarget");
  });

  it("on an ERC-7579 account without the view, installed modules are still refused (isModuleInstalled per type)", async () => {
    const { w, executor } = await networkHelpers.loadFixture(world);
    const [, , , , , , owner] = await ethers.getSigners();
    const mock = (await ethers.deployContract("MockERC7579Account", [ENTRYPOINT_V08, owner.address])).connect(
      owner as Signer,
    );
    const delay = ethers.AbiCoder.defaultAbiCoder().encode(["uint32"], [0]);
    await (await mock.ownerInstall(MODULE_TYPE_VALIDATOR, w.sessionsAddress, delay)).wait();
    await (await mock.ownerInstall(MODULE_TYPE_EXECUTOR, executor, "0x")).wait();
    const grantOn = async (target: string) => {
      const cfg = await paymentsConfig(w);
      cfg.permissions = [{ target, selector: "0x00000000", valueCap: 1n, calldataLength: 0n, conditions: [] }];
      const call = encodeSingle({
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("grantSession", [cfg]),
      });
      return mock.ownerExecute(MODE_SINGLE, call);
    };
    await expect(grantOn(executor)).to.be.revertedWithCustomError(w.sessions, "AgentSessionsForbiddenTarget");
    await expect(grantOn(w.recipients[0])).to.emit(w.sessions, "SessionGranted");
  });
});

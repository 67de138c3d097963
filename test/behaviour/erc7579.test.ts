/**
 * The ERC-7579 behaviour suite run against two implementations: ReinsAccount (owner actions as real
 * UserOperations through EntryPoint v0.8) and MockERC7579Account (OpenZeppelin's AccountERC7579, owner
 * shortcuts).
 */
import { network } from "hardhat";
import type { Signer } from "ethers";
import { executeCalldata, type Call } from "../../src/account/encoding.js";
import { ENTRYPOINT_V08 } from "../../src/infra/singletons.js";
import { MODE_BATCH, MODE_SINGLE, encodeBatch, encodeSingle } from "../../src/account/encoding.js";
import {
  buildOp,
  counterfactualAccount,
  deployCore,
  factoryData,
  fund,
  handleOps,
  randomWallet,
  signAsOwner,
  userOpEvents,
} from "../helpers/reins.js";
import { shouldBehaveLikeERC7579Account, type ERC7579Context, type Result } from "./erc7579.behaviour.js";

const { ethers, networkHelpers } = await network.create();
const increaseTime = async (s: bigint) => {
  await networkHelpers.time.increase(s);
};

async function reinsFixture() {
  const core = await deployCore(ethers);
  const owner = randomWallet();
  const handle = await counterfactualAccount(core, owner);
  await fund(ethers, handle.address);
  const validator = await core.ownerValidator.getAddress();
  const account = await ethers.getContractAt("ReinsAccount", handle.address);
  let deployed = false;
  async function ownerOp(callData: string): Promise<Result> {
    const extra = deployed ? {} : factoryData(core, handle);
    const op = signAsOwner(core, await buildOp(core, handle.address, validator, callData, extra), owner);
    const [ev] = userOpEvents(core, await handleOps(core, [op]));
    deployed = true;
    return ev.success ? { ok: true } : { ok: false, revertData: ev.revertReason ?? "0x" };
  }
  // deploy the account with a no-op owner operation
  await ownerOp(executeCalldata([]));
  return { account, ownerOp };
}

async function revertData(p: Promise<unknown>): Promise<Result> {
  try {
    await p;
    return { ok: true };
  } catch (e) {
    const data = (e as { data?: string }).data;
    if (typeof data !== "string") throw e;
    return { ok: false, revertData: data };
  }
}

async function mockFixture() {
  const [, , , , , , owner] = await ethers.getSigners();
  const mock = await ethers.deployContract("MockERC7579Account", [ENTRYPOINT_V08, owner.address]);
  return { mock: mock.connect(owner as Signer) as typeof mock };
}

function modeAndCalldata(calls: Call | Call[]): [string, string] {
  return Array.isArray(calls) ? [MODE_BATCH, encodeBatch(calls)] : [MODE_SINGLE, encodeSingle(calls)];
}

describe("ERC-7579 behaviour: ReinsAccount", () => {
  shouldBehaveLikeERC7579Account(async (): Promise<ERC7579Context> => {
    const { account, ownerOp } = await networkHelpers.loadFixture(reinsFixture);
    return {
      ethers,
      account: await account.getAddress(),
      supportsHooks: true,
      install: (t, m, d) => ownerOp(account.interface.encodeFunctionData("installModule", [t, m, d])),
      uninstall: (t, m, d) => ownerOp(account.interface.encodeFunctionData("uninstallModule", [t, m, d])),
      execute: (calls) => ownerOp(executeCalldata(calls)),
      increaseTime,
    };
  });
});

describe("ERC-7579 behaviour: MockERC7579Account (OpenZeppelin AccountERC7579)", () => {
  shouldBehaveLikeERC7579Account(async (): Promise<ERC7579Context> => {
    const { mock } = await networkHelpers.loadFixture(mockFixture);
    const run = async (f: () => Promise<unknown>, s: () => Promise<unknown>) => {
      const r = await revertData(s());
      if (r.ok) await ((await f()) as { wait(): Promise<unknown> }).wait();
      return r;
    };
    return {
      ethers,
      account: await mock.getAddress(),
      supportsHooks: false,
      install: (t, m, d) =>
        run(
          () => mock.ownerInstall(t, m, d),
          () => mock.ownerInstall.staticCall(t, m, d),
        ),
      uninstall: (t, m, d) =>
        run(
          () => mock.ownerUninstall(t, m, d),
          () => mock.ownerUninstall.staticCall(t, m, d),
        ),
      execute: (calls) => {
        const [mode, data] = modeAndCalldata(calls);
        return run(
          () => mock.ownerExecute(mode, data),
          () => mock.ownerExecute.staticCall(mode, data),
        );
      },
      increaseTime,
    };
  });
});

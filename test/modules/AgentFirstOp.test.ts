import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, keccak256 } from "ethers";
import {
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_VALIDATOR,
  executeCalldata,
  wrapExecuteUserOp,
} from "../../src/account/encoding.js";
import { signSessionOp } from "../../src/session/signature.js";
import {
  buildOp,
  counterfactualAccount,
  deployCore,
  factoryData,
  fund,
  handleOps,
  opHash,
  randomWallet,
  userOpEvents,
} from "../helpers/reins.js";
import { paymentsConfig, type SessionWorld } from "../helpers/sessions.js";

const { ethers } = await network.create();

const SESSION_CONFIG_TYPE =
  "tuple(address agent,uint48 validAfter,uint48 validUntil,uint32 maxUses,uint128 maxGasCostPerOp,uint128 gasBudget," +
  "bool allowTry,bool allowPaymaster,uint32 queueDelay,uint32 approvalWindow," +
  "tuple(address target,bytes4 selector,uint128 valueCap,uint16 calldataLength,tuple(uint8 op,uint8 word,bytes32 value,bytes32[] oneOf)[] conditions)[] permissions," +
  "tuple(address token,uint128 instantThreshold,uint128 ceiling,uint128 periodCap,uint128 lifetimeCap,uint32 period)[] budgets)[]";

describe("AgentSessions: initial sessions in the account's init data", () => {
  it("the agent's first operation deploys the account and pays, under the session the owner committed to", async () => {
    const core = await deployCore(ethers);
    const timelock = await ethers.deployContract("ReinsTimelock");
    const sessions = await ethers.deployContract("AgentSessions", [await timelock.getAddress()]);
    const token = await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6]);
    const owner = randomWallet();
    const agent = randomWallet();
    const recipients = [randomWallet().address, randomWallet().address, randomWallet().address];
    // the session config needs the token and recipients only (paymentsConfig reads w.token / w.recipients / w.agent)
    const proto = {
      core,
      agent,
      token,
      tokenAddress: await token.getAddress(),
      recipients,
    } as unknown as SessionWorld;
    const config = await paymentsConfig(proto);
    const sessionsAddress = await sessions.getAddress();
    const initData = AbiCoder.defaultAbiCoder().encode(["uint32", SESSION_CONFIG_TYPE], [0, [toTuple(config)]]);
    const handle = await counterfactualAccount(core, owner, [
      { moduleTypeId: MODULE_TYPE_VALIDATOR, module: sessionsAddress, initData },
      { moduleTypeId: MODULE_TYPE_EXECUTOR, module: sessionsAddress, initData: "0x" },
      { moduleTypeId: MODULE_TYPE_EXECUTOR, module: await timelock.getAddress(), initData: "0x" },
    ]);
    await fund(ethers, handle.address);
    await token.mint(handle.address, 1_000n * 10n ** 6n);
    const sessionId = keccak256(AbiCoder.defaultAbiCoder().encode(["address", "uint256"], [handle.address, 1n]));
    const pay = {
      target: await token.getAddress(),
      data: token.interface.encodeFunctionData("transfer", [recipients[0], 7n]),
    };
    const op = await buildOp(core, handle.address, sessionsAddress, wrapExecuteUserOp(executeCalldata(pay)), {
      ...factoryData(core, handle),
      callGasLimit: 600_000n,
      verificationGasLimit: 2_000_000n,
      maxFeePerGas: 1_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    });
    const signed = {
      ...op,
      signature: signSessionOp(
        agent.signingKey,
        { chainId: core.chainId, sessions: sessionsAddress },
        opHash(core, op),
        sessionId,
      ),
    };
    const [event] = userOpEvents(core, await handleOps(core, [signed]));
    expect(event.success, event.revertReason).to.equal(true);
    expect(await token.balanceOf(recipients[0])).to.equal(7n);
    expect((await sessions.getSession(sessionId, handle.address)).agent).to.equal(agent.address);
    // a different initial session (another agent) would be another address: the owner's commitment holds
    const other = await counterfactualAccount(core, owner, [
      {
        moduleTypeId: MODULE_TYPE_VALIDATOR,
        module: sessionsAddress,
        initData: AbiCoder.defaultAbiCoder().encode(
          ["uint32", SESSION_CONFIG_TYPE],
          [0, [toTuple({ ...config, agent: randomWallet().address })]],
        ),
      },
      { moduleTypeId: MODULE_TYPE_EXECUTOR, module: sessionsAddress, initData: "0x" },
      { moduleTypeId: MODULE_TYPE_EXECUTOR, module: await timelock.getAddress(), initData: "0x" },
    ]);
    expect(other.address).to.not.equal(handle.address);
  });
});

/** The SessionConfig struct as the positional tuple the ABI coder takes. */
function toTuple(c: Awaited<ReturnType<typeof paymentsConfig>>): unknown[] {
  return [
    c.agent,
    c.validAfter,
    c.validUntil,
    c.maxUses,
    c.maxGasCostPerOp,
    c.gasBudget,
    c.allowTry,
    c.allowPaymaster,
    c.queueDelay,
    c.approvalWindow,
    c.permissions.map((p) => [
      p.target,
      p.selector,
      p.valueCap,
      p.calldataLength,
      p.conditions.map((k) => [k.op, k.word, k.value, k.oneOf]),
    ]),
    c.budgets.map((b) => [b.token, b.instantThreshold, b.ceiling, b.periodCap, b.lifetimeCap, b.period]),
  ];
}

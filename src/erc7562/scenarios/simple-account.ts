/**
 * Reference scenarios on eth-infinitism's SimpleAccount v0.8 (deployed through SimpleAccountFactory):
 * the baseline every Reins scenario is compared against.
 */
import { Interface, Wallet, parseEther } from "ethers";
import { getUserOpHash, type UserOperation } from "../../userop/userop.js";
import { sendHandleOps, type Scenario, type ScenarioBundle, type ScenarioContext } from "../scenario.js";

const FACTORY = "@account-abstraction/contracts/accounts/SimpleAccountFactory.sol:SimpleAccountFactory";
const ACCOUNT = new Interface(["function execute(address dest, uint256 value, bytes func)"]);
const ENTRY_POINT = "@account-abstraction/contracts/interfaces/IEntryPoint.sol:IEntryPoint";

/** A fresh SimpleAccount (not yet deployed), its owner, and a signer for its operations. */
export interface SimpleAccountSetup {
  owner: Wallet;
  factory: string;
  sender: string;
  names: Record<string, string>;
  /** The first operation: deploys the account through initCode. */
  firstOp: () => Promise<UserOperation>;
  /** An operation with the given nonce and no initCode. */
  op: (nonce: bigint) => Promise<UserOperation>;
}

/** Deploy a SimpleAccountFactory, pick an owner, fund the counterfactual account with 1 ETH. */
export async function setupSimpleAccount(ctx: ScenarioContext): Promise<SimpleAccountSetup> {
  const { ethers, deployer, entryPoint, chainId } = ctx;
  const factory = await (await ethers.getContractFactory(FACTORY, deployer)).deploy(entryPoint);
  await factory.waitForDeployment();
  const factoryAddress = await factory.getAddress();
  const owner = new Wallet(Wallet.createRandom().privateKey);
  const sender: string = await factory.getFunction("getAddress")(owner.address, 0n);
  await (await deployer.sendTransaction({ to: sender, value: parseEther("1") })).wait();
  const implementation: string = await factory.getFunction("accountImplementation")();
  const ep = await ethers.getContractAt(ENTRY_POINT, entryPoint);
  const senderCreator: string = await ep.getFunction("senderCreator")();
  const callData = ACCOUNT.encodeFunctionData("execute", [await deployer.getAddress(), 0n, "0x"]);
  const sign = (op: UserOperation): UserOperation => ({
    ...op,
    signature: owner.signingKey.sign(getUserOpHash(op, entryPoint, chainId)).serialized,
  });
  const base = (nonce: bigint): UserOperation => ({
    sender,
    nonce,
    callData,
    callGasLimit: 100_000n,
    verificationGasLimit: 500_000n,
    preVerificationGas: 60_000n,
    maxFeePerGas: 2_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
    signature: "0x",
  });
  return {
    owner,
    factory: factoryAddress,
    sender,
    names: {
      [sender]: "SimpleAccount",
      [implementation]: "SimpleAccount impl",
      [factoryAddress]: "SimpleAccountFactory",
      [senderCreator]: "SenderCreator",
      [entryPoint]: "EntryPoint",
    },
    firstOp: async () =>
      sign({
        ...base(0n),
        factory: factoryAddress,
        factoryData: factory.interface.encodeFunctionData("createAccount", [owner.address, 0n]),
      }),
    op: async (nonce) => sign(base(nonce)),
  };
}

/** The SimpleAccount baseline scenarios. */
export const simpleAccountScenarios: Scenario[] = [
  {
    name: "SimpleAccount: first op deploys the account (initCode)",
    expect: "pass",
    build: async (ctx): Promise<ScenarioBundle> => {
      const s = await setupSimpleAccount(ctx);
      return { ops: [await s.firstOp()], names: s.names };
    },
  },
  {
    name: "SimpleAccount: plain op (account deployed)",
    expect: "pass",
    build: async (ctx): Promise<ScenarioBundle> => {
      const s = await setupSimpleAccount(ctx);
      await sendHandleOps(ctx.deployer, ctx.entryPoint, [await s.firstOp()]);
      return { ops: [await s.op(1n)], names: s.names };
    },
  },
  {
    name: "SimpleAccount: op signed by a stranger is refused",
    expect: "refused",
    build: async (ctx): Promise<ScenarioBundle> => {
      const s = await setupSimpleAccount(ctx);
      await sendHandleOps(ctx.deployer, ctx.entryPoint, [await s.firstOp()]);
      const op = await s.op(1n);
      const stranger = Wallet.createRandom();
      const signature = stranger.signingKey.sign(getUserOpHash(op, ctx.entryPoint, ctx.chainId)).serialized;
      return { ops: [{ ...op, signature }], names: s.names };
    },
  },
];

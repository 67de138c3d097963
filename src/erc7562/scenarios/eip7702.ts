/**
 * ERC-7562 scenarios on an EOA made a Reins account with EIP-7702 (ReinsAccount7702 as its delegate), every
 * entity unstaked:
 * - the first operation carries EntryPoint v0.8's `0x7702` initCode with the EOA's signed
 *   `initializeWithSignature`: the EntryPoint has SenderCreator call the delegated sender, which installs
 *   OwnerValidator, AgentSessions and the timelock. The init frame runs the sender's own code and writes only its
 *   own storage and slots associated with it; the sender exists already (it is delegated), so unlike a factory
 *   deployment (STO-022) no staked entity is needed. The delegation itself is set before tracing, as a bundler's
 *   simulation applies the operation's authorisation;
 * - a later owner operation and a later agent-session payment, as on a proxy account.
 * Built with the client library (`ReinsOwner`, `AgentSession`, `eip7702FirstOperation`).
 */
import { Interface, Wallet, parseEther, type Signer } from "ethers";
import { executeCalldata, type Call } from "../../account/encoding.js";
import { AgentSession } from "../../client/agent.js";
import { eip7702FirstOperation, upgradeEoa } from "../../client/eip7702.js";
import { ReinsOwner, type ReinsDeployment } from "../../client/owner.js";
import { policy } from "../../client/policy.js";
import { DirectSender } from "../../client/transport/direct.js";
import { getUserOpHash, nonceKey, type UserOperation } from "../../userop/userop.js";
import type { Scenario, ScenarioBundle, ScenarioContext } from "../scenario.js";

const EP = new Interface(["function getNonce(address sender, uint192 key) view returns (uint256)"]);

interface Eip7702World {
  deployment: ReinsDeployment;
  implementation: string;
  token: string;
  names: Record<string, string>;
  sender: DirectSender;
}

async function deployWorld(ctx: ScenarioContext): Promise<Eip7702World> {
  const { ethers, deployer } = ctx;
  const deploy = async (name: string, args: unknown[] = []) =>
    (await ethers.deployContract(name, args, deployer)).getAddress();
  const ownerValidator = await deploy("OwnerValidator");
  const timelock = await deploy("ReinsTimelock");
  const sessions = await deploy("AgentSessions", [timelock]);
  const implementation = await deploy("ReinsAccount7702");
  const token = await deploy("MockERC20", ["Test USD", "TUSD", 6]);
  return {
    // No factory in EIP-7702 mode; the field is unused by these calls.
    deployment: { factory: implementation, ownerValidator, sessions, timelock },
    implementation,
    token,
    sender: new DirectSender(deployer),
    names: {
      [implementation]: "ReinsAccount7702 impl",
      [ownerValidator]: "OwnerValidator",
      [sessions]: "AgentSessions",
      [timelock]: "ReinsTimelock",
      [token]: "MockERC20",
      [ctx.entryPoint]: "EntryPoint",
    },
  };
}

/** A funded EOA (ETH and 1,000 TUSD) and its owner client. */
async function fundedEoa(ctx: ScenarioContext, w: Eip7702World): Promise<{ eoa: Wallet; owner: ReinsOwner }> {
  const eoa = new Wallet(Wallet.createRandom().privateKey, ctx.ethers.provider);
  await (await ctx.deployer.sendTransaction({ to: eoa.address, value: parseEther("5") })).wait();
  const token = await ctx.ethers.getContractAt("MockERC20", w.token, ctx.deployer);
  await (await token.getFunction("mint")(eoa.address, 1_000_000_000n)).wait();
  const owner = new ReinsOwner({
    owner: eoa,
    provider: ctx.ethers.provider,
    deployment: w.deployment,
    sender: w.sender,
  });
  return { eoa, owner };
}

/** An owner operation for `calls`, signed by the EOA (the owner), with `first` fields when given. */
async function ownerOp(
  ctx: ScenarioContext,
  w: Eip7702World,
  owner: ReinsOwner,
  account: string,
  calls: Call | Call[],
  first: Partial<UserOperation> = {},
): Promise<UserOperation> {
  const [nonce] = EP.decodeFunctionResult(
    "getNonce",
    await ctx.ethers.provider.call({
      to: ctx.entryPoint,
      data: EP.encodeFunctionData("getNonce", [account, nonceKey(w.deployment.ownerValidator)]),
    }),
  );
  const op: UserOperation = {
    sender: account,
    nonce: nonce as bigint,
    callData: executeCalldata(calls),
    callGasLimit: 300_000n,
    verificationGasLimit: 1_500_000n,
    preVerificationGas: 60_000n,
    maxFeePerGas: 2_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
    signature: "0x",
    ...first,
  };
  return { ...op, signature: await owner.signOperation(op) };
}

/** Set the EOA's delegation with an authorisation-only type-4 transaction (what a bundler's simulation applies). */
async function delegate(eoa: Wallet, implementation: string, payer: Signer): Promise<void> {
  const auth = await eoa.authorize({ address: implementation });
  await (await payer.sendTransaction({ type: 4, to: await payer.getAddress(), authorizationList: [auth] })).wait();
}

/** The EIP-7702 scenarios (registered in `scripts/check-7562.ts`). */
export const eip7702Scenarios: Scenario[] = [
  {
    name: "Reins 7702: first op initialises the delegated EOA (0x7702 initCode, signed initializeWithSignature)",
    expect: "pass",
    build: async (ctx): Promise<ScenarioBundle> => {
      const w = await deployWorld(ctx);
      const { eoa, owner } = await fundedEoa(ctx, w);
      const first = await eip7702FirstOperation(owner, eoa, w.implementation, { securityDelay: 0 });
      await delegate(eoa, w.implementation, ctx.deployer);
      const { eip7702Auth: _auth, ...withoutAuth } = first;
      const setCanceller = {
        target: w.deployment.timelock,
        data: owner.timelock.interface.encodeFunctionData("setCanceller", [w.deployment.sessions, true]),
      };
      const op = await ownerOp(ctx, w, owner, eoa.address, setCanceller, withoutAuth);
      return { ops: [op], names: { ...w.names, [eoa.address]: "EOA (ReinsAccount7702)" } };
    },
  },
  {
    name: "Reins 7702: later owner op and agent-session payment from the delegated EOA",
    expect: "pass",
    build: async (ctx): Promise<ScenarioBundle> => {
      const w = await deployWorld(ctx);
      const { eoa, owner } = await fundedEoa(ctx, w);
      await upgradeEoa(owner, eoa, w.implementation, { securityDelay: 0 });
      const agentKey = Wallet.createRandom().connect(ctx.ethers.provider);
      const payee = Wallet.createRandom().address;
      const config = await policy()
        .agent(agentKey.address)
        .validFor("30d")
        .maxUses(100)
        .gas({ perOp: "0.01", total: "1" })
        .allowTransfer("TUSD", { to: [payee], max: "100" })
        .budget("TUSD", { instant: "50", ceiling: "100", perPeriod: "300", period: "24h", lifetime: "500" })
        .build({
          provider: ctx.ethers.provider,
          account: eoa.address,
          tokens: { TUSD: { address: w.token, decimals: 6 } },
        });
      const sessionId = await owner.grantSession(config);
      const agent = new AgentSession({
        agent: agentKey,
        account: eoa.address,
        sessionId,
        sessions: w.deployment.sessions,
        sender: w.sender,
      });
      const token = await ctx.ethers.getContractAt("MockERC20", w.token, ctx.deployer);
      const pay = { target: w.token, data: token.interface.encodeFunctionData("transfer", [payee, 10_000_000n]) };
      await agent.send(pay); // the session's first use; the traced op is a later one
      const draft = await agent.buildOperation(pay);
      const hash = getUserOpHash(draft, ctx.entryPoint, ctx.chainId);
      const agentOp = { ...draft, signature: await agent.signOperationHash(hash) };
      const later = await ownerOp(ctx, w, owner, eoa.address, { target: payee, value: parseEther("0.01") });
      return { ops: [later, agentOp], names: { ...w.names, [eoa.address]: "EOA (ReinsAccount7702)" } };
    },
  },
];

/**
 * Client test fixture: a Reins deployment on the in-process chain, an account created through {@link ReinsOwner}
 * (DirectSender), a 6-decimal token, and a payments policy built with the policy builder.
 */
import { Wallet, parseEther } from "ethers";
import {
  AgentSession,
  DirectSender,
  ReinsOwner,
  policy,
  type ReinsDeployment,
  type TokenRegistry,
} from "../../src/client/index.js";
import { deployCore, randomWallet, type Core, type Ethers } from "../helpers/reins.js";
import type { AgentSessions, MockERC20, ReinsTimelock } from "../../types/ethers-contracts/index.js";

export interface ClientWorld {
  core: Core;
  deployment: ReinsDeployment;
  sender: DirectSender;
  owner: ReinsOwner;
  ownerKey: Wallet;
  agentKey: Wallet;
  account: string;
  sessions: AgentSessions;
  timelock: ReinsTimelock;
  token: MockERC20;
  tokenAddress: string;
  tokens: TokenRegistry;
  recipients: string[];
}

/** Deploy everything and create the account through the owner client. */
export async function clientWorld(ethers: Ethers): Promise<ClientWorld> {
  const core = await deployCore(ethers);
  const timelock = await ethers.deployContract("ReinsTimelock");
  const sessions = await ethers.deployContract("AgentSessions", [await timelock.getAddress()]);
  const token = await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6]);
  const deployment: ReinsDeployment = {
    factory: await core.factory.getAddress(),
    ownerValidator: await core.ownerValidator.getAddress(),
    sessions: await sessions.getAddress(),
    timelock: await timelock.getAddress(),
  };
  const ownerKey = randomWallet().connect(ethers.provider);
  const agentKey = randomWallet().connect(ethers.provider);
  const sender = new DirectSender(core.bundler);
  const owner = new ReinsOwner({ owner: ownerKey, provider: ethers.provider, deployment, sender });
  // securityDelay 0: grants in these tests apply at once (the library's default is DEFAULT_SECURITY_DELAY, 1 day).
  const { account } = await owner.createAccount({
    securityDelay: 0,
    prefund: { from: core.deployer, value: parseEther("100") },
  });
  await (await token.mint(account, 1_000_000n * 10n ** 6n)).wait();
  const tokenAddress = await token.getAddress();
  return {
    core,
    deployment,
    sender,
    owner,
    ownerKey,
    agentKey,
    account,
    sessions,
    timelock,
    token,
    tokenAddress,
    tokens: { TUSD: { address: tokenAddress, decimals: 6 } },
    recipients: [randomWallet().address, randomWallet().address, randomWallet().address],
  };
}

/** TUSD transfers to the recipients: instant ≤ 100, delayed ≤ 1,000 (1 h), 2,000/day, 10,000 lifetime. */
export function paymentsPolicy(w: ClientWorld) {
  return policy()
    .agent(w.agentKey.address)
    .validFor("30d")
    .maxUses(1000)
    .gas({ perOp: "0.01", total: "1" })
    .queue({ delay: "1h", approvalWindow: "24h" })
    .allowTransfer("TUSD", { to: w.recipients, max: "1000000" })
    .budget("TUSD", { instant: "100", ceiling: "1000", perPeriod: "2000", period: "24h", lifetime: "10000" });
}

/** Grant the payments policy (optionally adjusted) and return the agent's session handle. */
export async function grantPayments(
  w: ClientWorld,
  adjust: (b: ReturnType<typeof paymentsPolicy>) => ReturnType<typeof paymentsPolicy> = (b) => b,
): Promise<AgentSession> {
  const config = await adjust(paymentsPolicy(w)).build({
    provider: w.agentKey.provider!,
    account: w.account,
    tokens: w.tokens,
  });
  const sessionId = await w.owner.grantSession(config);
  return new AgentSession({
    agent: w.agentKey,
    account: w.account,
    sessionId,
    sessions: w.deployment.sessions,
    sender: w.sender,
  });
}

/** ERC-20 transfer call on the world's token. */
export function pay(w: ClientWorld, to: string, whole: bigint) {
  return { target: w.tokenAddress, data: w.token.interface.encodeFunctionData("transfer", [to, whole * 10n ** 6n]) };
}

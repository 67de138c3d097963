/**
 * `ReinsOwner` with a passkey owner (a WebAuthn assertion callback, here a software P-256 key signing what an
 * authenticator signs): it creates a PasskeyValidator-root account, grants a session, approves a queued request,
 * and rotates to an ECDSA owner; another passkey's assertions are refused and change nothing.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { Interface, parseEther } from "ethers";
import {
  AgentSession,
  DirectSender,
  ReinsError,
  ReinsOwner,
  policy,
  type ReinsDeployment,
} from "../../src/client/index.js";
import { MODULE_TYPE_VALIDATOR } from "../../src/account/encoding.js";
import { softwarePasskey } from "../../src/erc7562/scenarios/passkey.js";
import { deployCore, randomWallet } from "../helpers/reins.js";

const { ethers } = await network.create();
const USD = 10n ** 6n;
const ACCOUNT = new Interface([
  "function installModule(uint256 moduleTypeId, address module, bytes initData)",
  "function uninstallModule(uint256 moduleTypeId, address module, bytes deInitData)",
  "function setRootValidator(address validator)",
  "function rootValidator() view returns (address)",
]);

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection, but it resolved");
}

describe("ReinsOwner with a passkey owner", function () {
  it("creates the account, grants a session, approves a queued request, rotates to ECDSA; a foreign passkey is refused", async function () {
    const core = await deployCore(ethers);
    const timelock = await ethers.deployContract("ReinsTimelock");
    const sessions = await ethers.deployContract("AgentSessions", [await timelock.getAddress()]);
    const passkeyValidator = await ethers.deployContract("PasskeyValidator", [await core.ownerValidator.getAddress()]);
    const token = await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6]);
    const deployment: ReinsDeployment = {
      factory: await core.factory.getAddress(),
      ownerValidator: await core.ownerValidator.getAddress(),
      sessions: await sessions.getAddress(),
      timelock: await timelock.getAddress(),
      passkeyValidator: await passkeyValidator.getAddress(),
    };
    const sender = new DirectSender(core.bundler);
    const key = softwarePasskey();
    const owner = new ReinsOwner({
      owner: { passkey: key.signer, qx: key.qx, qy: key.qy },
      provider: ethers.provider,
      deployment,
      sender,
    });
    const { account } = await owner.createAccount({
      securityDelay: 0,
      prefund: { from: core.deployer, value: parseEther("10") },
    });
    const acct = new ethers.Contract(account, ACCOUNT, ethers.provider);
    expect(await acct.getFunction("rootValidator")()).to.equal(deployment.passkeyValidator);
    await (await token.mint(account, 1_000n * USD)).wait();

    // A session, an instant payment, and a queued one the passkey owner approves.
    const agentKey = randomWallet().connect(ethers.provider);
    const payee = randomWallet().address;
    const config = await policy()
      .agent(agentKey.address)
      .validFor("30d")
      .maxUses(100)
      .gas({ perOp: "0.01", total: "1" })
      .queue({ delay: "1h", approvalWindow: "24h" })
      .allowTransfer("TUSD", { to: [payee], max: "1000" })
      .budget("TUSD", { instant: "50", ceiling: "100", perPeriod: "500", period: "24h", lifetime: "1000" })
      .build({
        provider: ethers.provider,
        account,
        tokens: { TUSD: { address: await token.getAddress(), decimals: 6 } },
      });
    const sessionId = await owner.grantSession(config);
    const agent = new AgentSession({ agent: agentKey, account, sessionId, sessions: deployment.sessions, sender });
    const pay = (whole: bigint) => ({
      target: token.target as string,
      data: token.interface.encodeFunctionData("transfer", [payee, whole * USD]),
    });
    expect((await agent.send(pay(10n))).status).to.equal("executed");
    const queued = await agent.send(pay(300n)); // above the ceiling: needs the owner's approval
    expect(queued.status).to.equal("queued");
    if (queued.status !== "queued") throw new Error("not queued");
    await owner.approveQueued(queued.requestId, { execute: true });
    expect(await token.balanceOf(payee)).to.equal(310n * USD);

    // Another passkey cannot act as the owner: refused, nothing moves.
    const stranger = softwarePasskey();
    const impostor = new ReinsOwner({
      owner: { passkey: stranger.signer, qx: stranger.qx, qy: stranger.qy },
      provider: ethers.provider,
      deployment,
      sender,
      account,
    });
    expect(await rejection(impostor.execute(pay(1n)))).to.be.instanceOf(ReinsError);
    expect(await token.balanceOf(payee)).to.equal(310n * USD);

    // Rotate to an ECDSA owner in one owner operation; the passkey signs nothing afterwards.
    const ecdsa = randomWallet().connect(ethers.provider);
    await owner.execute([
      {
        target: account,
        data: ACCOUNT.encodeFunctionData("installModule", [
          MODULE_TYPE_VALIDATOR,
          deployment.ownerValidator,
          ecdsa.address,
        ]),
      },
      { target: account, data: ACCOUNT.encodeFunctionData("setRootValidator", [deployment.ownerValidator]) },
      {
        target: account,
        data: ACCOUNT.encodeFunctionData("uninstallModule", [MODULE_TYPE_VALIDATOR, deployment.passkeyValidator, "0x"]),
      },
    ]);
    expect(await acct.getFunction("rootValidator")()).to.equal(deployment.ownerValidator);
    const rotated = new ReinsOwner({ owner: ecdsa, provider: ethers.provider, deployment, sender, account });
    await rotated.execute(pay(5n));
    expect(await token.balanceOf(payee)).to.equal(315n * USD);
    expect(await rejection(owner.execute(pay(1n)))).to.be.instanceOf(ReinsError);
    expect(await token.balanceOf(payee)).to.equal(315n * USD);
  });
});

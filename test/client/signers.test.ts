/**
 * `ReinsOwner` and `AgentSession` take any ethers `Signer`, not only a `Wallet`: a signer that can only sign typed
 * data through a callback (the shape of a KMS, a hardware wallet or a browser wallet behind EIP-1193) creates the
 * account, grants a session, and pays as the agent. Owner operations are the EntryPoint v0.8 typed data; agent
 * operations the AgentSessions `SessionOperation` typed data.
 */
import { expect } from "chai";
import { network } from "hardhat";
import {
  AbstractSigner,
  SigningKey,
  TypedDataEncoder,
  Wallet,
  computeAddress,
  id,
  parseEther,
  type Provider,
  type TransactionRequest,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";
import { AgentSession, DirectSender, ReinsOwner, policy } from "../../src/client/index.js";
import { sessionDigest } from "../../src/session/signature.js";
import { deployCore, randomWallet } from "../helpers/reins.js";

const { ethers } = await network.create();

/** A signer that holds no key object ethers knows: it hands each typed-data digest to a callback (a "KMS"). */
class CallbackSigner extends AbstractSigner {
  readonly calls: string[] = [];
  constructor(
    private readonly addr: string,
    private readonly signDigest: (digest: string) => Promise<string>,
    provider?: Provider,
  ) {
    super(provider);
  }
  async getAddress(): Promise<string> {
    return this.addr;
  }
  connect(provider: Provider): CallbackSigner {
    return new CallbackSigner(this.addr, this.signDigest, provider);
  }
  async signTransaction(_tx: TransactionRequest): Promise<string> {
    throw new Error("this signer signs typed data only");
  }
  async signMessage(): Promise<string> {
    throw new Error("this signer signs typed data only");
  }
  async signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string> {
    this.calls.push(TypedDataEncoder.getPrimaryType(types));
    return this.signDigest(TypedDataEncoder.hash(domain, types, value));
  }
}

function kms(provider: Provider): CallbackSigner {
  const key = new SigningKey(Wallet.createRandom().privateKey); // stays inside the "KMS"
  return new CallbackSigner(computeAddress(key.publicKey), async (digest) => key.sign(digest).serialized, provider);
}

describe("Reins client: any ethers Signer signs owner and agent operations", () => {
  it("a typed-data-only owner signer creates the account and grants; a typed-data-only agent signer pays", async () => {
    const core = await deployCore(ethers);
    const timelock = await ethers.deployContract("ReinsTimelock");
    const sessions = await ethers.deployContract("AgentSessions", [await timelock.getAddress()]);
    const token = await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6]);
    const deployment = {
      factory: await core.factory.getAddress(),
      ownerValidator: await core.ownerValidator.getAddress(),
      sessions: await sessions.getAddress(),
      timelock: await timelock.getAddress(),
    };
    const ownerSigner = kms(ethers.provider);
    const agentSigner = kms(ethers.provider);
    const sender = new DirectSender(core.bundler);
    const owner = new ReinsOwner({ owner: ownerSigner, provider: ethers.provider, deployment, sender });
    const { account } = await owner.createAccount({
      securityDelay: 0,
      prefund: { from: core.deployer, value: parseEther("10") },
    });
    expect(await core.ownerValidator.ownerOf(account)).to.equal(await ownerSigner.getAddress());
    await (await token.mint(account, 1_000n * 10n ** 6n)).wait();
    const recipient = randomWallet().address;
    const config = await policy()
      .agent(await agentSigner.getAddress())
      .validFor("1d")
      .gas({ perOp: "0.01", total: "1" })
      .allowTransfer(await token.getAddress(), { to: [recipient] })
      .budget(await token.getAddress(), { instant: 50n * 10n ** 6n, ceiling: 50n * 10n ** 6n })
      .build({ provider: ethers.provider, account });
    const sessionId = await owner.grantSession(config);
    expect(ownerSigner.calls).to.include("PackedUserOperation");

    const agent = new AgentSession({ agent: agentSigner, account, sessionId, sessions: deployment.sessions, sender });
    const pay = {
      target: await token.getAddress(),
      data: token.interface.encodeFunctionData("transfer", [recipient, 7n * 10n ** 6n]),
    };
    const r = await agent.send(pay);
    expect(r.status).to.equal("executed");
    expect(await token.balanceOf(recipient)).to.equal(7n * 10n ** 6n);
    expect(agentSigner.calls).to.deep.equal(["SessionOperation"]);
    // The module's own view of the digest agrees with the library's typed data.
    const h = id("some userOpHash");
    const { chainId } = await ethers.provider.getNetwork();
    expect(await sessions.sessionOperationDigest(h, sessionId, id("intent"))).to.equal(
      sessionDigest({ chainId, sessions: deployment.sessions }, h, sessionId, id("intent")),
    );

    // A signature from another key through the same path is refused (the typed data is what is checked).
    const impostor = new AgentSession({
      agent: kms(ethers.provider),
      account,
      sessionId,
      sessions: deployment.sessions,
      sender,
    });
    let refused: unknown;
    try {
      await impostor.send(pay);
    } catch (e) {
      refused = e;
    }
    expect(refused, "an impostor's signature must be refused").to.be.instanceOf(Error);
    expect(await token.balanceOf(recipient)).to.equal(7n * 10n ** 6n);
  });
});

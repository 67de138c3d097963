/**
 * The owner console with a bundler (issue 14): owner operations the console prepares are estimated by, and sent
 * through, a real ERC-4337 bundler (Alto, `@pimlico/alto`) instead of the relayer key's `handleOps`. Through the
 * console's JSON API (the page's calls; the browser flow itself is `console.test.ts`): an agent's approval-tier
 * payment is approved with an operation whose gas limits come from the bundler's estimate, signed as typed data
 * by the owner key, sent once, and the funds arrive. Then the owner moves to a passkey (PasskeyValidator root): the
 * console prepares the next owner operation on the passkey's nonce key with at least the passkey verification gas,
 * and the WebAuthn assertion over its userOpHash is checked and sent through the bundler.
 */
import { expect } from "chai";
import { AbiCoder, JsonRpcProvider, Network, Wallet, getBytes, hexlify, parseEther, type Signer } from "ethers";
import { MODULE_TYPE_VALIDATOR } from "../../src/account/encoding.js";
import { PASSKEY_VERIFICATION_GAS } from "../../src/console/actions.js";
import { softwarePasskey } from "../../src/erc7562/scenarios/passkey.js";
import { AgentSession, BundlerSender, ReinsOwner, type ReinsDeployment } from "../../src/client/index.js";
import { DEFAULT_GAS_LIMITS } from "../../src/client/transport/sender.js";
import { deployReins } from "../../src/deploy/deploy.js";
import { paymentsSession } from "../../src/session/presets.js";
import { IndexedConsoleData } from "../../src/console/indexData.js";
import { startConsole, type RunningConsole } from "../../src/console/server.js";
import { EventIndex } from "../../src/indexer/index.js";
import { AgentSessions__factory, ReinsAccount__factory, type MockERC20 } from "../../types/ethers-contracts/index.js";
import { startBundlerEnv, type BundlerEnv } from "../helpers/alto.js";

const TUSD = 10n ** 6n;

describe("owner console through the Alto bundler (issue 14)", function () {
  this.timeout(120_000);
  let env: BundlerEnv;
  let provider: JsonRpcProvider;
  let index: EventIndex;
  let running: RunningConsole;
  let token: MockERC20;
  let account: string;
  let agent: AgentSession;
  let owner: ReinsOwner;
  let deployment: ReinsDeployment;
  const ownerKey = Wallet.createRandom();
  const agentKey = Wallet.createRandom();
  const payee = Wallet.createRandom().address;

  const post = (path: string, body: unknown) =>
    fetch(`${running.url}api/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  before(async function () {
    env = await startBundlerEnv();
    const [deployer] = (await env.ethers.getSigners()) as unknown as Signer[];
    const { addresses } = await deployReins(deployer, { deploymentsDir: null });
    deployment = {
      factory: addresses.ReinsAccountFactory,
      ownerValidator: addresses.OwnerValidator,
      sessions: addresses.AgentSessions,
      timelock: addresses.ReinsTimelock,
      passkeyValidator: addresses.PasskeyValidator,
    };
    token = (await env.ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6], deployer)) as unknown as MockERC20;
    provider = new JsonRpcProvider(env.rpcUrl, Network.from(env.chainId), { staticNetwork: true, cacheTimeout: -1 });
    const sender = new BundlerSender(env.bundlerUrl, { pollMs: 10, receiptTimeoutMs: 30_000 });
    owner = new ReinsOwner({
      owner: ownerKey.connect(provider) as unknown as Wallet,
      provider,
      deployment,
      sender,
    });
    account = (await owner.createAccount({ securityDelay: 0, prefund: { from: deployer, value: parseEther("2") } }))
      .account;
    await (await token.mint(account, 10_000n * TUSD)).wait();
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const tokenAddress = await token.getAddress();
    const sessionId = await owner.grantSession(
      paymentsSession({ agent: agentKey.address, token: tokenAddress, recipients: [payee], now }),
    );
    agent = new AgentSession({
      agent: agentKey.connect(provider) as unknown as Wallet,
      account,
      sessionId,
      sessions: deployment.sessions,
      sender,
    });
    index = EventIndex.open({ path: ":memory:", provider, deployment });
    index.follow(account);
    running = await startConsole({
      provider,
      deployment,
      account,
      sender,
      data: new IndexedConsoleData(index, provider, deployment.timelock),
      port: 0,
    });
  });

  after(async function () {
    await running?.close().catch(() => undefined);
    index?.close();
    provider?.destroy();
    await env?.stop();
  });

  it("approve: the bundler estimates the owner operation, the owner signs the typed data, it is sent once", async function () {
    const info = (await (await fetch(`${running.url}api/info`)).json()) as { relay: string };
    expect(info.relay).to.equal("bundler");
    const data = token.interface.encodeFunctionData("transfer", [payee, 1_500n * TUSD]);
    const sent = await agent.send({ target: await token.getAddress(), data });
    if (sent.status !== "queued") throw new Error(`expected a queued request, got ${sent.status}`);
    expect(sent.tier).to.equal("approval");
    const prepared = (await (await post("prepare", { action: { kind: "approve", id: sent.requestId } })).json()) as {
      id: string;
      typedData: string;
      op: { verificationGasLimit: string; callGasLimit: string };
    };
    // The limits are the bundler's estimate, not the client's fixed defaults.
    expect(BigInt(prepared.op.verificationGasLimit)).to.not.equal(DEFAULT_GAS_LIMITS.owner.verificationGasLimit);
    expect(BigInt(prepared.op.callGasLimit)).to.not.equal(DEFAULT_GAS_LIMITS.owner.callGasLimit);
    const typed = JSON.parse(prepared.typedData) as { domain: never; types: Record<string, never>; message: never };
    const { EIP712Domain: _, ...types } = typed.types;
    const signature = await ownerKey.signTypedData(typed.domain, types, typed.message);
    const res = await post("submit", { id: prepared.id, signature });
    const body = (await res.json()) as { txHash?: string; error?: string };
    expect(res.status, body.error).to.equal(200);
    expect(BigInt(await token.balanceOf(payee))).to.equal(1_500n * TUSD);
    const again = await post("submit", { id: prepared.id, signature });
    expect(again.status).to.equal(409);
    expect(BigInt(await token.balanceOf(payee))).to.equal(1_500n * TUSD);
  });

  it("a passkey owner: the bundler estimates, the passkey's assertion over the userOpHash is checked and sent", async function () {
    const passkey = softwarePasskey();
    const acc = ReinsAccount__factory.createInterface();
    const pv = deployment.passkeyValidator!;
    const key = AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [passkey.qx, passkey.qy]);
    const rotated = await owner.execute([
      { target: account, data: acc.encodeFunctionData("installModule", [MODULE_TYPE_VALIDATOR, pv, key]) },
      { target: account, data: acc.encodeFunctionData("setRootValidator", [pv]) },
      {
        target: account,
        data: acc.encodeFunctionData("uninstallModule", [MODULE_TYPE_VALIDATOR, deployment.ownerValidator, "0x"]),
      },
    ]);
    expect(rotated.success, rotated.revertReason).to.equal(true);
    const info = (await (await fetch(`${running.url}api/info`)).json()) as { ownerKind: string };
    expect(info.ownerKind).to.equal("passkey");
    const prepared = (await (await post("prepare", { action: { kind: "pause" } })).json()) as {
      id: string;
      userOpHash: string;
      op: { nonce: string; verificationGasLimit: string };
    };
    expect(BigInt(prepared.op.nonce) >> 96n).to.equal(BigInt(pv)); // the passkey validator's nonce key
    expect(BigInt(prepared.op.verificationGasLimit) >= PASSKEY_VERIFICATION_GAS).to.equal(true);
    const a = await passkey.signer(getBytes(prepared.userOpHash));
    const assertion = {
      authenticatorData: hexlify(a.authenticatorData),
      clientDataJSON: hexlify(a.clientDataJSON as Uint8Array),
      signature: hexlify(a.signature as Uint8Array),
    };
    const res = await post("submit", { id: prepared.id, assertion });
    const body = (await res.json()) as { error?: string };
    expect(res.status, body.error).to.equal(200);
    expect(
      (await AgentSessions__factory.connect(deployment.sessions, provider).accountConfig(account)).paused,
    ).to.equal(true);
  });
});

/**
 * x402 payments with on-chain budgets, end to end on loopback: Hardhat's chain over HTTP, a real x402 facilitator
 * and resource server (`@x402/core`, `@x402/evm`, `@x402/express`), and the x402 fetch client (`@x402/fetch`) with
 * the Reins signer. The test token implements EIP-3009 with ERC-1271 as USDC v2.2 does.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { Wallet, ZeroHash, hexlify, id, parseEther, randomBytes, toBeHex } from "ethers";
import { deployReins, artifactsFromDirectory } from "../../src/deploy/deploy.js";
import { ReinsOwner } from "../../src/client/owner.js";
import { AgentSession } from "../../src/client/agent.js";
import { DirectSender } from "../../src/client/transport/direct.js";
import { policy } from "../../src/client/policy.js";
import {
  X402PaymentRefused,
  X402PaymentQueued,
  reinsPaymentFetch,
  reserveAuthorizationCall,
  reservedAuthorizationSignature,
  transferAuthorizationDigest,
  type TransferAuthorization,
} from "../../src/x402/index.js";
import { startX402Stack, type X402Stack } from "../helpers/x402.js";
import type { AgentSessions, MockEIP3009Token } from "../../types/ethers-contracts/index.js";
import { AgentSessions__factory, ReinsAccount__factory } from "../../types/ethers-contracts/index.js";
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { runReins } from "../helpers/cli.js";

const USDC = 10n ** 6n;
const DOMAIN = { name: "USD Coin", version: "2" };
const MAGIC = "0x1626ba7e";

describe("x402: an agent pays HTTP 402 endpoints, charged to its session budget on chain", function () {
  this.timeout(120_000);
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let connection: Awaited<ReturnType<typeof network.create>>;
  let stack: X402Stack;
  let token: MockEIP3009Token;
  let tokenAddress: string;
  let sessions: AgentSessions;
  let session: AgentSession;
  let owner: ReinsOwner;
  let account: string;
  let sessionId: string;
  let chainId: bigint;
  const deployer = Wallet.createRandom();
  const ownerKey = Wallet.createRandom();
  const agentKey = Wallet.createRandom();
  const facilitatorKey = Wallet.createRandom();
  const payee = Wallet.createRandom().address;
  const stranger = Wallet.createRandom().address;
  let rpcUrlOf = "";
  let dir = "";
  /** `reins agent fetch` as a separate process, with the agent key in its environment. */
  const cliFetch = (url: string) =>
    runReins(["agent", "fetch", account, sessionId, url, "--deployment", join(dir, "deployments", `${chainId}.json`)], {
      cwd: dir,
      env: { REINS_RPC_URL: rpcUrlOf, REINS_AGENT_KEY: agentKey.privateKey },
      timeoutMs: 90_000,
    });

  before(async function () {
    server = await network.createServer("default", "127.0.0.1", 0);
    const { address, port } = await server.listen();
    const rpcUrl = `http://${address}:${port}`;
    rpcUrlOf = rpcUrl;
    dir = mkdtempSync(join(tmpdir(), "reins-x402-"));
    connection = await network.create({ network: "localhost", chainType: "l1", override: { url: rpcUrl } });
    const { ethers } = connection;
    const provider = ethers.provider;
    for (const w of [deployer, ownerKey, agentKey, facilitatorKey]) {
      await provider.send("hardhat_setBalance", [w.address, toBeHex(parseEther("100"))]);
    }
    chainId = (await provider.getNetwork()).chainId;
    const deployed = await deployReins(deployer.connect(provider), {
      artifacts: artifactsFromDirectory(join(process.cwd(), "artifacts")),
      deploymentsDir: join(dir, "deployments"),
    });
    const a = deployed.addresses;
    sessions = AgentSessions__factory.connect(a.AgentSessions, provider);
    token = (await ethers.deployContract("MockEIP3009Token", [
      DOMAIN.name,
      "USDC",
      DOMAIN.version,
      6,
    ])) as unknown as MockEIP3009Token;
    tokenAddress = await token.getAddress();
    const sender = new DirectSender(deployer.connect(provider));
    owner = new ReinsOwner({
      owner: ownerKey.connect(provider),
      provider,
      deployment: {
        factory: a.ReinsAccountFactory,
        ownerValidator: a.OwnerValidator,
        sessions: a.AgentSessions,
        timelock: a.ReinsTimelock,
      },
      sender,
    });
    account = (
      await owner.createAccount({
        securityDelay: 0n,
        prefund: { from: ownerKey.connect(provider), value: parseEther("1") },
      })
    ).account;
    await (await token.mint(account, 1_000n * USDC)).wait();
    const config = await policy()
      .agent(agentKey.address)
      .validFor("30d")
      .gas({ perOp: "0.05", total: "1" })
      .allowX402(a.AgentSessions, tokenAddress, { payTo: [payee], max: 5n * USDC })
      .budget(tokenAddress, { instant: 1n * USDC, ceiling: 3n * USDC, perPeriod: 3n * USDC, period: "24h" })
      .build({ provider, account });
    sessionId = await owner.grantSession(config);
    session = new AgentSession({
      agent: agentKey.connect(provider),
      account,
      sessionId,
      sessions: a.AgentSessions,
      sender,
    });
    stack = await startX402Stack({
      rpcUrl,
      chainId: Number(chainId),
      facilitatorKey: facilitatorKey.privateKey,
      token: tokenAddress,
      tokenName: DOMAIN.name,
      tokenVersion: DOMAIN.version,
      payTo: payee,
      amount: 1n * USDC,
    });
  });

  after(async function () {
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await connection?.close();
    await server?.close().catch(() => undefined);
  });

  const spent = async () => {
    const [, periodRemaining] = await sessions.budgetOf(sessionId, account, tokenAddress);
    return 3n * USDC - periodRemaining;
  };

  it("three paid requests get 200, each charged once to the session budget; the fourth is refused before signing", async function () {
    const payments: string[] = [];
    const refusals: (X402PaymentRefused | X402PaymentQueued)[] = [];
    const paidFetch = await reinsPaymentFetch(session, {
      intent: "weather report",
      onPayment: (p) => payments.push(p.digest),
      onRefusal: (e) => refusals.push(e),
    });
    for (let i = 1; i <= 3; i++) {
      const res = await paidFetch(stack.paidUrl);
      expect(res.status, `request ${i}: ${await res.clone().text()}`).to.equal(200);
      expect(await res.json()).to.deep.equal({ report: "sunny" });
      expect(await token.balanceOf(payee)).to.equal(BigInt(i) * USDC);
      expect(await spent()).to.equal(BigInt(i) * USDC); // charged once per payment, at reservation
    }
    expect(payments).to.have.length(3);
    expect(stack.paidRequests).to.equal(3);
    const calls = { ...stack.facilitatorCalls };

    let refused: unknown;
    try {
      await paidFetch(stack.paidUrl);
    } catch (e) {
      refused = e;
    }
    expect(String(refused)).to.match(/refused before signing/);
    expect(refusals).to.have.length(1);
    expect(refusals[0].rule).to.equal("approval");
    expect(refusals[0].details.limit).to.equal(0n); // the period cap is used up
    expect(stack.paidRequests).to.equal(3); // the server never got a fourth payment
    expect(stack.facilitatorCalls).to.deep.equal(calls);
    expect(await token.balanceOf(payee)).to.equal(3n * USDC);
    expect(await spent()).to.equal(3n * USDC);

    // The CLI refuses the same way, as a separate process: exit 3, one line, the server gets nothing.
    const cli = await cliFetch(stack.paidUrl);
    expect(cli.code, cli.stderr).to.equal(3);
    expect(cli.stderr).to.match(/refused: .*refused before signing; the server was not paid/);
    expect(stack.paidRequests).to.equal(3);
  });

  it("the exemption is one function: nobody but a running agent operation reserves, no other module call is grantable", async function () {
    const [signer] = await connection.ethers.getSigners();
    const now = BigInt((await connection.ethers.provider.getBlock("latest"))!.timestamp);
    const args = [tokenAddress, payee, 1n, 0n, now + 600n, id("n"), id(DOMAIN.name), id(DOMAIN.version)] as const;
    // a direct call (an EOA, or the account outside an agent execution) is refused
    await expect(sessions.connect(signer).reserveTransferAuthorization(...args)).to.be.revertedWithCustomError(
      sessions,
      "AgentSessionsUnauthorized",
    );
    // a permission on any other AgentSessions function is refused at grant time
    const base = await policy()
      .agent(agentKey.address)
      .validFor("1d")
      .allowCall(await sessions.getAddress(), { fn: "pause(address,bool)" })
      .build({ provider: connection.ethers.provider, account })
      .catch((e: Error) => e);
    const config =
      base instanceof Error
        ? {
            ...(await policy()
              .agent(agentKey.address)
              .validFor("1d")
              .allowX402(await sessions.getAddress(), tokenAddress)
              .budget(tokenAddress, { instant: 1n })
              .build({ provider: connection.ethers.provider, account })),
          }
        : base;
    config.permissions = [
      {
        ...config.permissions[0],
        selector: sessions.interface.getFunction("pause")!.selector,
        conditions: [],
        calldataLength: 68,
      },
    ];
    let refused: unknown;
    try {
      await owner.grantSession(config);
    } catch (e) {
      refused = e;
    }
    expect(String((refused as Error)?.message ?? refused)).to.match(/which agents may never call/);
  });

  describe("the account's ERC-1271 accepts exactly the reserved authorizations", function () {
    let auth: TransferAuthorization;
    let digest: string;
    let signature: string;
    let accountContract: ReturnType<typeof ReinsAccount__factory.connect>;

    before(async function () {
      // A fresh reservation (the period budget is used up: the owner raises it at once, no delay on this account).
      const changed = await owner.setBudget(sessionId, {
        token: tokenAddress,
        instantThreshold: 1n * USDC,
        ceiling: 5n * USDC,
        periodCap: 10n * USDC,
        lifetimeCap: 2n ** 128n - 1n,
        period: 86_400,
      });
      expect(changed.status).to.equal("applied");
      const now = BigInt((await connection.ethers.provider.getBlock("latest"))!.timestamp);
      auth = {
        from: account,
        to: payee,
        value: 1n * USDC,
        validAfter: 0n,
        validBefore: now + 3600n,
        nonce: hexlify(randomBytes(32)),
      };
      const sent = await session.send(
        reserveAuthorizationCall(await sessions.getAddress(), tokenAddress, DOMAIN, auth),
      );
      expect(sent.status).to.equal("executed");
      digest = transferAuthorizationDigest(tokenAddress, chainId, DOMAIN, auth);
      signature = reservedAuthorizationSignature(await sessions.getAddress(), sessionId);
      accountContract = ReinsAccount__factory.connect(account, connection.ethers.provider);
      const recorded = await sessions.reservation(account, digest);
      expect([recorded.sessionId, recorded.token, recorded.validBefore]).to.deep.equal([
        sessionId,
        tokenAddress,
        auth.validBefore,
      ]);
    });

    const settle = (a: TransferAuthorization, sig = signature) =>
      token["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](
        a.from,
        a.to,
        a.value,
        a.validAfter,
        a.validBefore,
        a.nonce,
        sig,
      );

    it("reins agent fetch pays the endpoint from the shell (exit 0, HTTP 200, the payment line)", async function () {
      const before = await token.balanceOf(payee);
      const cli = await cliFetch(stack.paidUrl);
      expect(cli.code, cli.stderr).to.equal(0);
      expect(cli.stdout).to.match(
        /^HTTP 200, paid 1000000 base units of 0x[0-9a-fA-F]{40} to 0x[0-9a-fA-F]{40} \(tx 0x[0-9a-f]{64}\)/,
      );
      expect(cli.stdout).to.include('{"report":"sunny"}');
      expect(await token.balanceOf(payee)).to.equal(before + 1n * USDC);
    });

    it("the reserved digest is accepted when the token asks, and nothing else", async function () {
      const asToken = { from: tokenAddress };
      expect(await accountContract.isValidSignature(digest, signature, asToken)).to.equal(MAGIC);
      // whoever asks (a facilitator checks before it settles): the digest is bound to the token by its domain
      expect(await accountContract.isValidSignature(digest, signature, { from: stranger })).to.equal(MAGIC);
      const elsewhere = transferAuthorizationDigest(stranger, chainId, DOMAIN, auth); // same fields, another token
      expect(await accountContract.isValidSignature(elsewhere, signature, asToken)).to.not.equal(MAGIC);
      // a digest that was never reserved
      expect(await accountContract.isValidSignature(id("anything"), signature, asToken)).to.not.equal(MAGIC);
      // the marker of another session id, or a plain 65-byte signature by the session key
      const otherSession = reservedAuthorizationSignature(await sessions.getAddress(), id("other"));
      expect(await accountContract.isValidSignature(digest, otherSession, asToken)).to.not.equal(MAGIC);
      const keySig = agentKey.signingKey.sign(digest).serialized;
      const bySessionKey = (await sessions.getAddress()) + keySig.slice(2);
      expect(await accountContract.isValidSignature(digest, bySessionKey, asToken)).to.not.equal(MAGIC);
    });

    it("another amount or another payee is refused by the token; the reserved one settles once, a replay fails", async function () {
      const [signer] = await connection.ethers.getSigners();
      const t = token.connect(signer);
      const call = (a: TransferAuthorization) =>
        t["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](
          a.from,
          a.to,
          a.value,
          a.validAfter,
          a.validBefore,
          a.nonce,
          signature,
        );
      await expect(call({ ...auth, value: auth.value + 1n })).to.be.revertedWithCustomError(
        token,
        "InvalidAuthorizationSignature",
      );
      await expect(call({ ...auth, to: stranger })).to.be.revertedWithCustomError(
        token,
        "InvalidAuthorizationSignature",
      );
      const before = await token.balanceOf(payee);
      await (await call(auth)).wait();
      expect(await token.balanceOf(payee)).to.equal(before + auth.value);
      await expect(call(auth)).to.be.revertedWithCustomError(token, "AuthorizationUsedAlready");
      void settle;
    });

    it("revoking or pausing the session stops an unsettled reservation; an expired one stays spent", async function () {
      const now = BigInt((await connection.ethers.provider.getBlock("latest"))!.timestamp);
      const pending = { ...auth, nonce: hexlify(randomBytes(32)), validBefore: now + 600n };
      await session.send(reserveAuthorizationCall(await sessions.getAddress(), tokenAddress, DOMAIN, pending));
      const d = transferAuthorizationDigest(tokenAddress, chainId, DOMAIN, pending);
      const asToken = { from: tokenAddress };
      expect(await accountContract.isValidSignature(d, signature, asToken)).to.equal(MAGIC);
      await owner.pause();
      expect(await accountContract.isValidSignature(d, signature, asToken)).to.not.equal(MAGIC);
      await owner.unpause();
      expect(await accountContract.isValidSignature(d, signature, asToken)).to.equal(MAGIC);
      const spentBefore = (await sessions.budgetOf(sessionId, account, tokenAddress))[1];
      await connection.ethers.provider.send("evm_increaseTime", [601]);
      await connection.ethers.provider.send("evm_mine", []);
      expect(await accountContract.isValidSignature(d, signature, asToken)).to.not.equal(MAGIC); // expired
      expect((await sessions.budgetOf(sessionId, account, tokenAddress))[1]).to.equal(spentBefore); // not refunded
      const fresh = { ...auth, nonce: hexlify(randomBytes(32)), validBefore: now + 7200n };
      await session.send(reserveAuthorizationCall(await sessions.getAddress(), tokenAddress, DOMAIN, fresh));
      const fd = transferAuthorizationDigest(tokenAddress, chainId, DOMAIN, fresh);
      expect(await accountContract.isValidSignature(fd, signature, asToken)).to.equal(MAGIC);
      await owner.revokeSession(sessionId);
      expect(await accountContract.isValidSignature(fd, signature, asToken)).to.not.equal(MAGIC);
      void ZeroHash;
    });
  });
});

/**
 * The owner console with a passkey owner (issue 15), in headless Debian chromium driven by playwright-core: the
 * account's root validator is PasskeyValidator, and the passkey lives in Chromium's virtual authenticator (DevTools
 * WebAuthn domain: ctap2, internal, resident key, user verification), added with `WebAuthn.addCredential` from a
 * P-256 key the test generated. It proves: approving a queued approval-tier payment in the page has the passkey
 * sign the userOpHash (`navigator.credentials.get`), the server checks the assertion and sends it, and the funds
 * arrive; with another passkey in the authenticator the server refuses and nothing is sent; an assertion over
 * another challenge, or without user verification, posted to the API is refused and nothing is sent.
 */
import { expect } from "chai";
import crypto from "node:crypto";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AbiCoder, JsonRpcProvider, Network, Wallet, hexlify, parseEther } from "ethers";
import { chromium, type Browser, type CDPSession, type Page } from "playwright-core";
import { build } from "vite";
import {
  AgentSession,
  DirectSender,
  ReinsOwner,
  clientDeployment,
  readDeploymentRecord,
} from "../../src/client/index.js";
import { MODULE_TYPE_VALIDATOR } from "../../src/account/encoding.js";
import { deployReins } from "../../src/deploy/deploy.js";
import { paymentsSession } from "../../src/session/presets.js";
import { EventIndex } from "../../src/indexer/index.js";
import { IndexedConsoleData } from "../../src/console/indexData.js";
import { startConsole, type RunningConsole } from "../../src/console/server.js";
import { startHttpChain, type HttpChain } from "../helpers/operator.js";
import { ReinsAccount__factory, type MockERC20 } from "../../types/ethers-contracts/index.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHROMIUM = "/usr/bin/chromium";
const TUSD = 10n ** 6n;

/** A P-256 key as the virtual authenticator wants it (PKCS#8, base64) and as PasskeyValidator wants it. */
function p256Key() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  return {
    privateKey,
    pkcs8: privateKey.export({ format: "der", type: "pkcs8" }).toString("base64"),
    qx: hexlify(Buffer.from(jwk.x!, "base64url")),
    qy: hexlify(Buffer.from(jwk.y!, "base64url")),
  };
}

describe("owner console with a passkey owner (Chromium virtual authenticator)", function () {
  this.timeout(180_000);
  let chain: HttpChain | undefined;
  let connection: HttpChain["connection"];
  let provider: JsonRpcProvider;
  let running: RunningConsole;
  let index: EventIndex;
  let browser: Browser;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  let token: MockERC20;
  let account: string;
  let agent: AgentSession;
  let url: string;
  const dirs: string[] = [];
  const passkey = p256Key();
  const deployer = Wallet.createRandom();
  const relayer = Wallet.createRandom();
  const ownerKey = Wallet.createRandom();
  const agentKey = Wallet.createRandom();
  const bundler = Wallet.createRandom();
  const alice = Wallet.createRandom().address;

  const block = () => provider.getBlockNumber();

  /** Put exactly `key` into the virtual authenticator as the resident passkey for `localhost`. */
  async function useCredential(key: ReturnType<typeof p256Key>) {
    await cdp.send("WebAuthn.clearCredentials", { authenticatorId });
    await cdp.send("WebAuthn.addCredential", {
      authenticatorId,
      credential: {
        credentialId: crypto.randomBytes(16).toString("base64"),
        isResidentCredential: true,
        rpId: "localhost",
        privateKey: key.pkcs8,
        userHandle: Buffer.from("reins-owner").toString("base64"),
        signCount: 0,
      },
    });
  }

  /** Click the approve button of `requestId` in the inbox; returns the message the page shows. */
  async function approveInPage(requestId: string) {
    await page.goto(`${url}?t=${Date.now()}#/inbox`);
    await page.waitForSelector(`[data-testid="request"][data-id="${requestId}"]`, { timeout: 60_000 });
    const before = String(await page.evaluate('document.body.dataset.acted ?? ""'));
    await page.click(`[data-testid="request"][data-id="${requestId}"] button[data-act="approve"]`);
    await page.waitForFunction(`(document.body.dataset.acted ?? "") !== ${JSON.stringify(before)}`, null, {
      timeout: 60_000,
    });
    return (await page.evaluate(
      '({ kind: document.getElementById("message").dataset.kind ?? "", text: document.getElementById("message").textContent ?? "" })',
    )) as { kind: string; text: string };
  }

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    const t0 = Date.now();
    chain = await startHttpChain([deployer, relayer, bundler]);
    connection = chain.connection;
    const { rpcUrl } = chain;
    const { ethers } = connection;
    provider = new JsonRpcProvider(rpcUrl, Network.from(31337n), { staticNetwork: true, cacheTimeout: -1 });
    provider.pollingInterval = 50;
    const deployments = mkdtempSync(join(tmpdir(), "reins-passkey-console-deploy-"));
    dirs.push(deployments);
    const deployed = await deployReins(deployer.connect(provider), { deploymentsDir: deployments });
    const record = readDeploymentRecord(deployed.file!);
    const reins = clientDeployment(record);
    expect(reins.passkeyValidator, "the deployment plan deploys PasskeyValidator").to.be.a("string");
    token = (await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6])) as unknown as MockERC20;
    const tokenAddress = await token.getAddress();

    // An ECDSA-owned account with a payments session, whose owner then moves to the passkey (root rotation).
    const owner = new ReinsOwner({
      owner: ownerKey.connect(provider) as unknown as Wallet,
      provider,
      deployment: reins,
      sender: new DirectSender(bundler.connect(provider)),
    });
    account = (
      await owner.createAccount({
        securityDelay: 0,
        prefund: { from: deployer.connect(provider), value: parseEther("5") },
      })
    ).account;
    await (await token.mint(account, 100_000n * TUSD)).wait();
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const sessionId = await owner.grantSession(
      paymentsSession({ agent: agentKey.address, token: tokenAddress, recipients: [alice], now }),
    );
    const acc = ReinsAccount__factory.createInterface();
    const key = AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [passkey.qx, passkey.qy]);
    const rotated = await owner.execute([
      {
        target: account,
        data: acc.encodeFunctionData("installModule", [MODULE_TYPE_VALIDATOR, reins.passkeyValidator!, key]),
      },
      { target: account, data: acc.encodeFunctionData("setRootValidator", [reins.passkeyValidator!]) },
      {
        target: account,
        data: acc.encodeFunctionData("uninstallModule", [MODULE_TYPE_VALIDATOR, reins.ownerValidator, "0x"]),
      },
    ]);
    expect(rotated.success, rotated.revertReason).to.equal(true);
    agent = new AgentSession({
      agent: agentKey.connect(provider) as unknown as Wallet,
      account,
      sessionId,
      sessions: reins.sessions,
      sender: new DirectSender(bundler.connect(provider)),
    });

    const staticDir = mkdtempSync(join(tmpdir(), "reins-passkey-console-web-"));
    dirs.push(staticDir);
    await build({
      configFile: join(REPO_ROOT, "vite.config.ts"),
      logLevel: "warn",
      build: { outDir: staticDir, emptyOutDir: true },
    });
    index = EventIndex.open({ path: ":memory:", provider, deployment: record });
    index.follow(account);
    running = await startConsole({
      provider,
      deployment: reins,
      account,
      sender: new DirectSender(relayer.connect(provider)),
      data: new IndexedConsoleData(index, provider, reins.timelock),
      tokens: [{ symbol: "TUSD", address: tokenAddress }],
      port: 0,
      staticDir,
    });
    // WebAuthn needs a secure context and an rpId equal to the page's host: http://localhost qualifies.
    url = `http://localhost:${running.port}/`;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"],
    });
    page = await (await browser.newContext()).newPage();
    cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    ({ authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    }));
    console.log(`      set-up: ${Date.now() - t0} ms`);
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    await running?.close().catch(() => undefined);
    index?.close();
    provider?.destroy();
    await chain?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  let requestId: string;

  it("the page knows the owner is a passkey (info, Account page)", async function () {
    const sent = await agent.send({
      target: await token.getAddress(),
      data: token.interface.encodeFunctionData("transfer", [alice, 1_500n * TUSD]),
    });
    expect(sent.status).to.equal("queued");
    if (sent.status !== "queued") return;
    expect(sent.tier).to.equal("approval");
    requestId = sent.requestId;
    const info = (await (await fetch(`${url}api/info`)).json()) as { ownerKind: string; rootValidator: string };
    expect(info.ownerKind).to.equal("passkey");
    await page.goto(`${url}#/account`);
    await page.waitForSelector('main[data-page="account"]', { timeout: 60_000 });
    expect(await page.locator('[data-testid="root-kind"]').getAttribute("data-kind")).to.equal("passkey");
  });

  it("another passkey in the authenticator: the server refuses the assertion, nothing is sent", async function () {
    await useCredential(p256Key());
    const b = await block();
    const m = await approveInPage(requestId);
    expect(m.kind, m.text).to.equal("error");
    expect(m.text).to.match(/does not validate for this account/);
    expect(m.text).to.match(/nothing was sent/);
    expect(await block(), "no transaction").to.equal(b);
    expect(await token.balanceOf(alice)).to.equal(0n);
  });

  it("assertions posted to the API over another challenge or without user verification are refused", async function () {
    const post = (path: string, body: unknown) =>
      fetch(`${url}api/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const prepared = (await (await post("prepare", { action: { kind: "approve", id: requestId } })).json()) as {
      id: string;
      userOpHash: string;
    };
    const assert = (challenge: string, flags: number) => {
      const authenticatorData = Buffer.concat([
        crypto.createHash("sha256").update("localhost").digest(),
        Buffer.from([flags, 0, 0, 0, 1]),
      ]);
      const clientDataJSON = Buffer.from(
        JSON.stringify({
          type: "webauthn.get",
          challenge: Buffer.from(challenge.slice(2), "hex").toString("base64url"),
          origin: url.slice(0, -1),
        }),
      );
      const hash = crypto.createHash("sha256").update(clientDataJSON).digest();
      const signature = crypto.sign("sha256", Buffer.concat([authenticatorData, hash]), passkey.privateKey);
      return {
        authenticatorData: hexlify(authenticatorData),
        clientDataJSON: hexlify(clientDataJSON),
        signature: hexlify(signature),
      };
    };
    const b = await block();
    const wrong = await post("submit", { id: prepared.id, assertion: assert(hexlify(crypto.randomBytes(32)), 0x05) });
    expect(wrong.status).to.equal(403);
    expect(((await wrong.json()) as { error: string }).error).to.match(/not this operation's hash.*nothing was sent/);
    const noUv = await post("submit", { id: prepared.id, assertion: assert(prepared.userOpHash, 0x01) });
    expect(noUv.status).to.equal(403);
    expect(((await noUv.json()) as { error: string }).error).to.match(/does not validate.*nothing was sent/);
    const ecdsa = await post("submit", { id: prepared.id, signature: "0x" + "11".repeat(65) });
    expect(ecdsa.status).to.equal(400);
    expect(await block(), "no transaction").to.equal(b);
  });

  it("approve in the page: the passkey signs the userOpHash, the server checks and sends it, the funds arrive", async function () {
    await useCredential(passkey);
    const m = await approveInPage(requestId);
    expect(m.kind, m.text).to.equal("ok");
    expect(await token.balanceOf(alice)).to.equal(1_500n * TUSD);
    expect(await page.locator(`[data-testid="request"][data-id="${requestId}"]`).count()).to.equal(0);
  });
});

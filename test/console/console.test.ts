/**
 * The owner console in a real browser (issue 14): headless Debian chromium driven by playwright-core against the
 * console server and Hardhat's chain served over HTTP. The test injects an EIP-1193 wallet that signs
 * `eth_signTypedData_v4` with the test owner key. It proves: an approval-tier payment shows in the inbox with the
 * right amount, recipient and limit, and approving it in the page moves the funds on chain; a delayed request
 * cancelled in the page never runs; the pause button stops the agent; a session's budget bar is `budgetOf` on
 * chain; a wrong wallet network, a rejected signature, an expired request and a stale page acting on an executed
 * request each show their message and send nothing; a prepared operation submitted twice is sent once.
 * Screenshots of the four pages go to $REINS_CONSOLE_SCREENSHOTS (docs/console to refresh the committed ones).
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { JsonRpcProvider, Network, Wallet, ZeroHash, getAddress, parseEther, toBeHex } from "ethers";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { build } from "vite";
import {
  AgentSession,
  DirectSender,
  ONE_TO_ONE,
  ReinsOwner,
  policy,
  readDeploymentRecord,
  clientDeployment,
  valueBudget,
} from "../../src/client/index.js";
import { deployReins } from "../../src/deploy/deploy.js";
import { paymentsSession } from "../../src/session/presets.js";
import { EventIndex } from "../../src/indexer/index.js";
import { IndexedConsoleData } from "../../src/console/indexData.js";
import { startConsole, type RunningConsole } from "../../src/console/server.js";
import { startHttpChain, type HttpChain } from "../helpers/operator.js";
import {
  AgentSessions__factory,
  CircuitBreaker__factory,
  ReinsTimelock__factory,
  type MockAggregator,
  type MockERC20,
} from "../../types/ethers-contracts/index.js";

const sessionsIface = AgentSessions__factory.createInterface();
import { waitFor } from "../helpers/wait.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHROMIUM = "/usr/bin/chromium";
const TUSD = 10n ** 6n;

describe("owner console in headless chromium (issue 14)", function () {
  this.timeout(180_000);
  let chain: HttpChain | undefined;
  let connection: HttpChain["connection"];
  let provider: JsonRpcProvider;
  let running: RunningConsole;
  let index: EventIndex;
  let context: BrowserContext;
  let page: Page;
  let token: MockERC20;
  let tokenAddress: string;
  let account: string;
  let sessionId: string;
  let owner: ReinsOwner;
  let agent: AgentSession;
  let sessionsAddress: string;
  let timelockAddress: string;
  const dirs: string[] = [];
  let deploymentFile: string;
  let rpc: string;
  let staticDir: string;
  let breakerAddress: string;
  /** A second session (value budgets): TUSD, WETH (priced by a feed) and DAI (no price source) to alice. */
  let valueSessionId: string;
  let valueAgent: AgentSession;
  let weth: MockERC20;
  let dai: MockERC20;
  let feed: MockAggregator;
  const valueAgentKey = Wallet.createRandom();
  const ownerKey = Wallet.createRandom();
  const deployer = Wallet.createRandom();
  const relayer = Wallet.createRandom();
  const agentKey = Wallet.createRandom();
  const agentBundler = Wallet.createRandom();
  const ownerBundler = Wallet.createRandom();
  const alice = Wallet.createRandom().address;
  const bob = Wallet.createRandom().address;
  /** The injected wallet's state: the chain it claims, whether to reject the next signature, signatures made. */
  const wallet = { chainId: 31337n, rejectNext: false, signatures: 0, account: ownerKey.address };
  const shots = process.env.REINS_CONSOLE_SCREENSHOTS
    ? resolve(REPO_ROOT, process.env.REINS_CONSOLE_SCREENSHOTS)
    : mkdtempSync(join(tmpdir(), "reins-console-shots-"));

  const block = () => connection.ethers.provider.getBlockNumber();
  const advance = async (seconds: number) => {
    await connection.ethers.provider.send("evm_increaseTime", [seconds]);
    await connection.ethers.provider.send("evm_mine", []);
  };
  const balanceOf = async (who: string) => BigInt(await token.balanceOf(who));

  let loads = 0;
  /** Load a page afresh and wait until it rendered. */
  async function open(route: string): Promise<void> {
    await page.goto(`${running.url}?load=${++loads}#/${route}`);
    await page.waitForSelector(`main[data-page="${route.split("/")[0]}"]`, { timeout: 60_000 });
  }

  /** Click `selector` and wait until the page finished handling the action; returns the message shown. */
  async function act(selector: string): Promise<{ kind: string; text: string }> {
    const before = String(await page.evaluate('document.body.dataset.acted ?? ""'));
    await page.click(selector);
    await page.waitForFunction(`(document.body.dataset.acted ?? "") !== ${JSON.stringify(before)}`, null, {
      timeout: 60_000,
    });
    return (await page.evaluate(
      '({ kind: document.getElementById("message").dataset.kind ?? "", text: document.getElementById("message").textContent ?? "" })',
    )) as { kind: string; text: string };
  }

  /** `act` that must refuse with `pattern`, sending nothing (no new block, no signature unless `signed`). */
  async function refused(selector: string, pattern: RegExp, signed = false) {
    const [b, s] = [await block(), wallet.signatures];
    const m = await act(selector);
    expect(m.kind, m.text).to.equal("error");
    expect(m.text).to.match(pattern);
    expect(m.text).to.match(/nothing was sent/i);
    expect(await block(), "no transaction").to.equal(b);
    expect(wallet.signatures, "signatures asked").to.equal(s + (signed ? 1 : 0));
  }

  /** An ERC-20 transfer of `amount` base units of `erc20` to alice. */
  const transfer = (erc20: string, amount: bigint) => ({
    target: erc20,
    data: token.interface.encodeFunctionData("transfer", [alice, amount]),
  });

  async function agentPay(to: string, amount: bigint) {
    return agent.send({ target: tokenAddress, data: token.interface.encodeFunctionData("transfer", [to, amount]) });
  }

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    const t0 = Date.now();
    chain = await startHttpChain([deployer, relayer, agentBundler, ownerBundler]);
    connection = chain.connection;
    const { rpcUrl } = chain;
    const { ethers } = connection;
    provider = new JsonRpcProvider(rpcUrl, Network.from(31337n), {
      staticNetwork: true,
      cacheTimeout: -1,
      batchMaxCount: 1,
    });
    provider.pollingInterval = 50;
    const deployments = mkdtempSync(join(tmpdir(), "reins-console-deploy-"));
    dirs.push(deployments);
    const deployed = await deployReins(deployer.connect(provider), { deploymentsDir: deployments });
    deploymentFile = deployed.file!;
    rpc = rpcUrl;
    const record = readDeploymentRecord(deployed.file!);
    const reins = clientDeployment(record);
    sessionsAddress = reins.sessions;
    timelockAddress = reins.timelock;
    token = (await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6])) as unknown as MockERC20;
    tokenAddress = await token.getAddress();

    owner = new ReinsOwner({
      owner: ownerKey.connect(provider) as unknown as Wallet,
      provider,
      deployment: reins,
      sender: new DirectSender(ownerBundler.connect(provider)),
    });
    account = (
      await owner.createAccount({
        securityDelay: 0,
        prefund: { from: deployer.connect(provider), value: parseEther("5") },
      })
    ).account;
    await (await token.mint(account, 100_000n * TUSD)).wait();
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    sessionId = await owner.grantSession(
      paymentsSession({ agent: agentKey.address, token: tokenAddress, recipients: [alice, bob], now }),
    );
    weth = (await ethers.deployContract("MockERC20", ["Wrapped Ether", "WETH", 18])) as unknown as MockERC20;
    dai = (await ethers.deployContract("MockERC20", ["Dai", "DAI", 18])) as unknown as MockERC20;
    feed = (await ethers.deployContract("MockAggregator", [8, 3_000n * 10n ** 8n])) as unknown as MockAggregator;
    await (await weth.mint(account, 10n ** 18n)).wait();
    // Granted before the security delay is set (a grant is loosening); its value budget is set in its test.
    let valuePolicy = policy().agent(valueAgentKey.address).validFor("30d").gas({ perOp: "0.05", total: "1" });
    for (const t of [tokenAddress, await weth.getAddress(), await dai.getAddress()]) {
      valuePolicy = valuePolicy
        .allowTransfer(t, { to: [alice] })
        .budget(t, { instant: "1000", ceiling: "2000", perPeriod: "5000", period: "24h" });
    }
    valueSessionId = await owner.grantSession(await valuePolicy.build({ provider, account }));
    // A circuit breaker with generous rules (Account page: breaker settings; tightened later to trip it).
    breakerAddress = record.contracts.CircuitBreaker!;
    const breaker = CircuitBreaker__factory.connect(breakerAddress, provider);
    await owner.execute([
      {
        target: breakerAddress,
        data: breaker.interface.encodeFunctionData("configure", [{ window: 3600, maxOps: 100, maxNewRecipients: 0 }]),
      },
      { target: sessionsAddress, data: sessionsIface.encodeFunctionData("setBreaker", [breakerAddress]) },
    ]);
    // From now on loosening waits an hour: a budget raise shows as a pending change in the inbox.
    const sessions = AgentSessions__factory.connect(sessionsAddress, provider);
    await owner.execute({
      target: sessionsAddress,
      data: sessions.interface.encodeFunctionData("setSecurityDelay", [3600]),
    });
    await owner.setBudget(sessionId, {
      token: tokenAddress,
      instantThreshold: 200n * TUSD,
      ceiling: 1_000n * TUSD,
      periodCap: 3_000n * TUSD,
      lifetimeCap: 10_000n * TUSD,
      period: 86_400n,
    });
    agent = new AgentSession({
      agent: agentKey.connect(provider) as unknown as Wallet,
      account,
      sessionId,
      sessions: sessionsAddress,
      sender: new DirectSender(agentBundler.connect(provider)),
    });

    valueAgent = new AgentSession({
      agent: valueAgentKey.connect(provider) as unknown as Wallet,
      account,
      sessionId: valueSessionId,
      sessions: sessionsAddress,
      sender: new DirectSender(agentBundler.connect(provider)),
    });

    staticDir = mkdtempSync(join(tmpdir(), "reins-console-web-"));
    dirs.push(staticDir);
    const tb = Date.now();
    await build({
      configFile: join(REPO_ROOT, "vite.config.ts"),
      logLevel: "warn",
      build: { outDir: staticDir, emptyOutDir: true },
    });
    console.log(`      vite build: ${Date.now() - tb} ms`);
    index = EventIndex.open({ path: ":memory:", provider, deployment: record });
    index.follow(account);
    running = await startConsole({
      provider,
      deployment: { ...reins, breaker: record.contracts.CircuitBreaker },
      account,
      sender: new DirectSender(relayer.connect(provider)),
      data: new IndexedConsoleData(index, provider, timelockAddress),
      tokens: [{ symbol: "TUSD", address: tokenAddress }],
      port: 0,
      staticDir,
    });

    const profile = mkdtempSync(join(tmpdir(), "reins-console-chromium-"));
    dirs.push(profile);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 900 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    await context.exposeFunction("__reinsWallet", async (method: string, params: unknown[]) => {
      switch (method) {
        case "eth_chainId":
          return { result: toBeHex(wallet.chainId) };
        case "eth_requestAccounts":
        case "eth_accounts":
          return { result: [wallet.account] };
        case "eth_signTypedData_v4": {
          const [from, json] = params as [string, string];
          if (wallet.rejectNext) {
            wallet.rejectNext = false;
            return { error: { code: 4001, message: "User rejected the request." } };
          }
          if (getAddress(from) !== ownerKey.address) return { error: { code: 4100, message: "unknown account" } };
          const typed = JSON.parse(json) as { domain: never; types: Record<string, never>; message: never };
          const { EIP712Domain: _, ...types } = typed.types;
          wallet.signatures++;
          return { result: await ownerKey.signTypedData(typed.domain, types, typed.message) };
        }
        default:
          return { error: { code: 4200, message: `unsupported method ${method}` } };
      }
    });
    // The injected EIP-1193 provider: every request goes to __reinsWallet above; errors keep their EIP-1193 code.
    await context.addInitScript(`window.ethereum = {
      async request({ method, params }) {
        const a = await window.__reinsWallet(method, params ?? []);
        if (a.error) throw Object.assign(new Error(a.error.message), { code: a.error.code });
        return a.result;
      },
    };`);
    page = context.pages()[0] ?? (await context.newPage());
    console.log(`      set-up: ${Date.now() - t0} ms`);
  });

  after(async function () {
    await context?.close().catch(() => undefined);
    await running?.close().catch(() => undefined);
    index?.close();
    provider?.destroy();
    await chain?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("the inbox shows an approval-tier payment decoded: amount, recipient, the limit it hit", async function () {
    expect((await agentPay(alice, 50n * TUSD)).status).to.equal("executed");
    const sent = await agentPay(alice, 1_500n * TUSD);
    expect(sent.status).to.equal("queued");
    if (sent.status !== "queued") return;
    expect(sent.tier).to.equal("approval");
    await open(`inbox/${sent.requestId}`); // the notifications link to the request like this
    await page.waitForSelector(`main[data-page="inbox"]`);
    const card = page.locator(`[data-testid="request"][data-id="${sent.requestId}"]`);
    expect(await card.getAttribute("class")).to.match(/\bfocus\b/);
    expect(await card.getAttribute("data-tier")).to.equal("approval");
    expect(await card.locator('[data-testid="req-amount"]').textContent()).to.equal("1500");
    expect(await card.locator('[data-testid="req-token"]').textContent()).to.equal("TUSD");
    expect(await card.locator('[data-testid="req-recipient"]').textContent()).to.equal(alice);
    expect(await card.locator('[data-testid="req-limit"]').textContent()).to.match(/approval limit of 1000 TUSD/);
    expect(sent.limit).to.equal(1_000n * TUSD);
  });

  it("approve in the page: the owner's wallet signs, the funds arrive on chain", async function () {
    const before = await balanceOf(alice);
    const signatures = wallet.signatures;
    const m = await act('[data-testid="request"][data-tier="approval"] button[data-act="approve"]');
    expect(m.kind, m.text).to.equal("ok");
    expect(wallet.signatures).to.equal(signatures + 1);
    expect(await balanceOf(alice)).to.equal(before + 1_500n * TUSD);
    expect(await page.locator('[data-testid="request"]').count()).to.equal(0);
  });

  it("a delayed request: wrong network, a wallet account that is not the owner and a rejected signature send nothing; cancel → it never runs", async function () {
    const sent = await agentPay(bob, 500n * TUSD);
    expect(sent.status).to.equal("queued");
    if (sent.status !== "queued") return;
    expect(sent.tier).to.equal("delayed");
    await open("inbox");
    const cancel = `[data-testid="request"][data-id="${sent.requestId}"] button[data-act="cancel"]`;
    wallet.chainId = 1n;
    await refused(cancel, /wrong network: the wallet is on chain 1, this account is on chain 31337/i);
    wallet.chainId = 31337n;
    wallet.account = Wallet.createRandom().address;
    await refused(cancel, /is not the owner/);
    wallet.account = ownerKey.address;
    wallet.rejectNext = true;
    await refused(cancel, /rejected the signature/i);
    const m = await act(cancel);
    expect(m.kind, m.text).to.equal("ok");
    const timelock = ReinsTimelock__factory.connect(timelockAddress, provider);
    expect(Number((await timelock.getOperation(account, sent.requestId)).state)).to.equal(4); // cancelled
    await advance(2 * 3600);
    const before = await balanceOf(bob);
    const err = await agent.executeQueued(sent.requestId).catch((e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    expect(await balanceOf(bob)).to.equal(before);
  });

  it("a stale page approving a request executed meanwhile: a clear message, nothing signed or sent", async function () {
    const sent = await agentPay(bob, 1_200n * TUSD);
    if (sent.status !== "queued") throw new Error("expected a queued request");
    await open("inbox");
    await owner.approveQueued(sent.requestId); // behind the page's back
    await refused(
      `[data-testid="request"][data-id="${sent.requestId}"] button[data-act="approve"]`,
      /already executed/,
    );
    // The page then shows the chain as it is: the executed request is gone.
    expect(await page.locator(`[data-testid="request"][data-id="${sent.requestId}"]`).count()).to.equal(0);
  });

  it("a prepared operation submitted twice (double click, replay) is sent once", async function () {
    const info = (await (await fetch(`${running.url}api/info`)).json()) as { chainId: string };
    expect(info.chainId).to.equal("31337");
    const now = (await provider.getBlock("latest"))!.timestamp;
    const prepared = (await (
      await fetch(`${running.url}api/prepare`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ action: { kind: "renew", sessionId, validUntil: now + 60 * 86_400 } }),
      })
    ).json()) as { id: string; typedData: string };
    const typed = JSON.parse(prepared.typedData) as { domain: never; types: Record<string, never>; message: never };
    const { EIP712Domain: _, ...types } = typed.types;
    const signature = await ownerKey.signTypedData(typed.domain, types, typed.message);
    const b = await block();
    const stranger = await Wallet.createRandom().signTypedData(typed.domain, types, typed.message);
    const wrong = await fetch(`${running.url}api/submit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: prepared.id, signature: stranger }),
    });
    expect(wrong.status).to.equal(403);
    expect(((await wrong.json()) as { error: string }).error).to.match(/but the account's owner is .*nothing was sent/);
    expect(await block()).to.equal(b);
    const submit = () =>
      fetch(`${running.url}api/submit`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: prepared.id, signature }),
      });
    const answers = await Promise.all([submit(), submit()]);
    const third = await submit();
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).to.deep.equal([200, 409]);
    expect(third.status).to.equal(409);
    expect(((await third.json()) as { error: string }).error).to.match(/not sent twice/);
    expect(await block()).to.equal(b + 1);
  });

  it("renew in the Sessions page waits the security delay: the change shows in the inbox; apply too early is refused; cancel", async function () {
    type Changes = { changes: { changeHash: string; what: string }[] };
    const before = ((await (await fetch(`${running.url}api/inbox`)).json()) as Changes).changes.map(
      (c) => c.changeHash,
    );
    await open("sessions");
    await page.fill(`input.renew-days[data-session="${sessionId}"]`, "45");
    const m = await act(`button[data-act="renew"][data-session="${sessionId}"]`);
    expect(m.kind, m.text).to.equal("ok");
    const after = ((await (await fetch(`${running.url}api/inbox`)).json()) as Changes).changes;
    const added = after.filter((c) => !before.includes(c.changeHash));
    expect(added).to.have.length(1);
    expect(added[0].what).to.match(/^renew session 0x/);
    await open(`inbox/${added[0].changeHash}`);
    const card = `[data-testid="change"][data-hash="${added[0].changeHash}"]`;
    await refused(`${card} button[data-act="applyChange"]`, /can be applied from/);
    expect((await act(`${card} button[data-act="cancelChange"]`)).kind).to.equal("ok");
    expect(await page.locator(card).count()).to.equal(0);
    const sessions = AgentSessions__factory.connect(sessionsAddress, provider);
    expect(await sessions.pendingChange(account, added[0].changeHash)).to.equal(0n);
  });

  it("a session's budget bar shows what budgetOf says on chain", async function () {
    const sessions = AgentSessions__factory.connect(sessionsAddress, provider);
    const [budget, periodLeft] = await sessions.budgetOf(sessionId, account, tokenAddress);
    await open("sessions");
    const bar = page.locator(`[data-testid="session"][data-session="${sessionId}"] [data-testid="budget-bar"]`).first();
    expect(await bar.getAttribute("data-cap-raw")).to.equal(budget.periodCap.toString());
    expect(await bar.getAttribute("data-left-raw")).to.equal(periodLeft.toString());
    expect(await bar.getAttribute("data-spent-raw")).to.equal((budget.periodCap - periodLeft).toString());
    // Only the instant 50 TUSD: the delayed 500 was cancelled, and owner-approved payments (1500, 1200) are not
    // charged to the session's budget (AgentSessions._chargeAndLog skips the approval tier).
    expect(budget.periodCap - periodLeft).to.equal(50n * TUSD);
    expect(
      await page
        .locator(`[data-testid="session"][data-session="${sessionId}"] [data-testid="budget-spent"]`)
        .first()
        .textContent(),
    ).to.equal("50");
    // The 50 TUSD frees up when SpendWindow stops counting it: L·(⌊t/L⌋+4), L = ⌈1d/3⌉ = 28,800 s.
    const sessionsRead = AgentSessions__factory.connect(sessionsAddress, provider);
    const [spendLog] = await sessionsRead.queryFilter(sessionsRead.filters.SpendRecorded(account, sessionId), 0);
    const t = (await provider.getBlock(spendLog.blockNumber))!.timestamp;
    const refill = page.locator(`[data-testid="session"][data-session="${sessionId}"] [data-testid="refill"]`).first();
    expect(Number(await refill.getAttribute("data-at"))).to.equal(28_800 * (Math.floor(t / 28_800) + 4));
    expect(await refill.textContent()).to.match(/^50 TUSD frees up /);
    const scope = await page
      .locator(`[data-testid="session"][data-session="${sessionId}"] [data-testid="scope"]`)
      .textContent();
    expect(scope).to.match(/transfer TUSD to 0x\w{4}…\w{4}, 0x\w{4}…\w{4} up to 1000000/);
  });

  it("value budgets (issue 19): the account's and a session's value budget, the price sources, and why value queued a request", async function () {
    const t0 = Date.now();
    const [wethAddress, daiAddress, feedAddress] = [
      await weth.getAddress(),
      await dai.getAddress(),
      await feed.getAddress(),
    ];
    // Sources first (at once: no value budget yet), then the session's first value budget (only adds limits).
    const set = await owner.configureValue({
      prices: [
        { token: tokenAddress, tokenDecimals: 6, source: ONE_TO_ONE },
        {
          token: wethAddress,
          tokenDecimals: 18,
          source: {
            kind: "aggregator",
            feed: feedAddress,
            maxStaleness: 3600n,
            minPrice: 500n * 10n ** 8n,
            maxPrice: 20_000n * 10n ** 8n,
          },
        },
      ],
      budget: {
        sessionId: valueSessionId,
        config: valueBudget("USD", 8, {
          instant: "20",
          ceiling: "200",
          perPeriod: "500",
          period: "24h",
          lifetime: "2000",
        }),
      },
    });
    expect(set.status).to.equal("applied");
    // The account's budget over all sessions: wide, so session 1's payments keep their tiers.
    const accountSet = await owner.configureValue({
      budget: {
        sessionId: "account",
        config: valueBudget("USD", 8, { instant: "100000", ceiling: "100000", perPeriod: "1000000", period: "7d" }),
      },
    });
    expect(accountSet.status).to.equal("applied");
    // Once a value budget exists a new price source waits the security delay: DAI has none meanwhile.
    const daiSource = await owner.configureValue({
      prices: [{ token: daiAddress, tokenDecimals: 18, source: ONE_TO_ONE }],
    });
    expect(daiSource.status).to.equal("pending");

    expect((await valueAgent.send(transfer(tokenAddress, 15n * TUSD))).status).to.equal("executed"); // $15 charged
    const delayed = await valueAgent.send(transfer(tokenAddress, 30n * TUSD)); // $30 > the $20 instant threshold
    expect(delayed.status).to.equal("queued");
    if (delayed.status !== "queued") return;
    expect(delayed.tier).to.equal("delayed"); // the TUSD budget alone would pay it at once (instant up to 1000)
    const now = (await provider.getBlock("latest"))!.timestamp;
    await (await feed.setRound(3_000n * 10n ** 8n, now - 7200)).wait(); // two hours old: stale after 3600 s
    const stale = await valueAgent.send(transfer(wethAddress, 10n ** 15n));
    expect(stale.status).to.equal("queued");
    if (stale.status !== "queued") return;
    expect(stale.tier).to.equal("approval");

    const sessions = AgentSessions__factory.connect(sessionsAddress, provider);
    const onChain = {
      session: await sessions.valueBudgetOf(account, valueSessionId),
      account: await sessions.valueBudgetOf(account, ZeroHash),
    };
    expect(onChain.session.config.periodCap - onChain.session.periodLeft).to.equal(15n * 10n ** 8n);

    // Account page: the account's value budget (as valueBudgetOf says) and every budgeted token's price source.
    await open("account");
    const accountCard = page.locator('[data-testid="account-value"]');
    const accountBar = accountCard.locator('[data-testid="value-bar"]');
    expect(await accountBar.getAttribute("data-cap-raw")).to.equal(onChain.account.config.periodCap.toString());
    expect(await accountBar.getAttribute("data-left-raw")).to.equal(onChain.account.periodLeft.toString());
    expect(await accountCard.locator('[data-testid="value-limits"]').textContent()).to.match(
      /instant up to \$100000, queued up to \$100000, .* lifetime unlimited/,
    );
    const priceWords = async (scope: ReturnType<Page["locator"]>, token: string) =>
      scope.locator(`[data-testid="price-source"][data-token="${token}"] [data-testid="price-words"]`).textContent();
    expect(await priceWords(accountCard, tokenAddress)).to.equal("fixed 1 USD per TUSD");
    expect(await priceWords(accountCard, wethAddress)).to.match(/^feed 0x\w{4}…\w{4} \(stale after 3600 s\)$/);
    expect(await priceWords(accountCard, daiAddress)).to.equal("none: spends need your approval");

    // Sessions page: the session's value budget, $15 of $500 spent (its instant spend), and its price sources.
    await open("sessions");
    const card = page.locator(
      `[data-testid="session"][data-session="${valueSessionId}"] [data-testid="session-value"]`,
    );
    const bar = card.locator('[data-testid="value-bar"]');
    expect(await bar.getAttribute("data-left-raw")).to.equal(onChain.session.periodLeft.toString());
    expect(await card.locator('[data-testid="value-spent"]').textContent()).to.equal("$15");
    expect(await card.locator('[data-testid="value-left"]').textContent()).to.equal("$485");
    expect(await card.locator('[data-testid="value-limits"]').textContent()).to.match(
      /^instant up to \$20, queued up to \$200, above: owner approval · lifetime \$15 of \$2000 \(\$1985 left\)$/,
    );
    expect(await card.locator('[data-testid="account-value-note"]').textContent()).to.match(/account's value budget/);
    expect(await priceWords(card, wethAddress)).to.match(/^feed 0x\w{4}…\w{4} \(stale after 3600 s\)$/);
    expect(await priceWords(card, daiAddress)).to.equal("none: spends need your approval");
    // Session 1 has no value budget of its own.
    expect(
      await page
        .locator(`[data-testid="session"][data-session="${sessionId}"] [data-testid="value-budget"]`)
        .getAttribute("data-set"),
    ).to.equal("false");

    // Inbox: why each was queued, from its ValueAssessed; the pending DAI price source in words.
    await open("inbox");
    const req = (id: string) => page.locator(`[data-testid="request"][data-id="${id.toLowerCase()}"]`);
    expect(await req(delayed.requestId).locator('[data-testid="req-limit"]').textContent()).to.equal(
      "session value budget: value $30 above the instant threshold $20: waits the session's queue delay",
    );
    expect(await req(delayed.requestId).locator('[data-testid="req-value"]').textContent()).to.equal(
      "queued by the value budget",
    );
    expect(await req(stale.requestId).locator('[data-testid="req-limit"]').textContent()).to.equal(
      "WETH price unavailable (Stale): needs your approval",
    );
    expect(await req(stale.requestId).locator('[data-testid="req-value"]').getAttribute("data-failure")).to.equal(
      "Stale",
    );
    const changes = await page.locator('[data-testid="change"]').allTextContents();
    expect(changes.some((c) => c.includes("price source of DAI: fixed 1"))).to.equal(true, changes.join("\n"));

    // Out of the way of the tests below (they count the inbox's requests).
    await owner.cancelQueued(delayed.requestId);
    await owner.cancelQueued(stale.requestId);
    console.log(`      value budgets: ${Date.now() - t0} ms`);
  });

  it("screenshots of the four pages", async function () {
    await agentPay(alice, 1_100n * TUSD); // an approval request waiting in the inbox
    mkdirSync(shots, { recursive: true });
    for (const route of ["account", "sessions", "activity", "inbox"]) {
      await open(route);
      await page.screenshot({ path: join(shots, `${route}.png`), fullPage: true });
    }
    expect(await page.locator('[data-testid="request"]').count()).to.equal(1);
    await open("activity");
    expect(await page.locator('[data-testid="spend-bar"]').count()).to.be.greaterThan(0);
    const kinds = await page
      .locator('[data-testid="event"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")));
    for (const k of ["executed", "queued", "approved", "cancelled", "granted"]) expect(kinds).to.include(k);
  });

  it("an expired request: a clear message, nothing signed or sent", async function () {
    await open("inbox");
    const inbox = (await (await fetch(`${running.url}api/inbox`)).json()) as {
      now: number;
      requests: { expiresAt: number }[];
    };
    expect(inbox.requests).to.have.length(1);
    await advance(inbox.requests[0].expiresAt - inbox.now + 60); // past the approval window; the page is not reloaded
    await refused('[data-testid="request"] button[data-act="approve"]', /expired at/);
  });

  it("the pause button: the agent is refused afterwards", async function () {
    await open("account");
    expect(await page.locator("#paused-badge").isVisible()).to.equal(false);
    const m = await act('[data-testid="pause"]');
    expect(m.kind, m.text).to.equal("ok");
    expect((await AgentSessions__factory.connect(sessionsAddress, provider).accountConfig(account)).paused).to.equal(
      true,
    );
    await waitFor(async () => (await page.locator("#paused-badge").isVisible()) || undefined, {
      what: "the paused badge",
    });
    const err = await agentPay(alice, 10n * TUSD).catch((e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.match(/paused/i);
  });

  it("unpause in the page; a breaker trip pauses the agents again and shows in the timeline", async function () {
    await open("inbox");
    expect((await act('[data-testid="pause"]')).kind).to.equal("ok"); // the header button now unpauses
    const sessions = AgentSessions__factory.connect(sessionsAddress, provider);
    expect((await sessions.accountConfig(account)).paused).to.equal(false);
    const breaker = CircuitBreaker__factory.connect(breakerAddress, provider);
    // Tightening applies at once: at most one agent operation per hour.
    await owner.execute({
      target: breakerAddress,
      data: breaker.interface.encodeFunctionData("configure", [{ window: 3600, maxOps: 1, maxNewRecipients: 0 }]),
    });
    await open("account");
    const facts = await page.locator("#view").textContent();
    expect(facts, facts ?? "").to.match(/Max operations\s*1(?!\d)/);
    await agentPay(alice, 10n * TUSD).catch(() => undefined);
    await agentPay(alice, 10n * TUSD).catch(() => undefined);
    expect((await sessions.accountConfig(account)).paused).to.equal(true);
    await open("activity");
    const kinds = await page
      .locator('[data-testid="event"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")));
    expect(kinds).to.include("breaker-tripped");
    const trip = await page.locator('[data-testid="event"][data-kind="breaker-tripped"]').first().textContent();
    expect(trip).to.match(/operations rule: 2 in its window, above 1/);
    expect(kinds.filter((k) => k === "paused")).to.have.length(2);
    expect(kinds).to.include("unpaused");
  });

  it("revoke in the Sessions page", async function () {
    await open("sessions");
    const m = await act(`button[data-act="revoke"][data-session="${sessionId}"]`);
    expect(m.kind, m.text).to.equal("ok");
    const s = await AgentSessions__factory.connect(sessionsAddress, provider).getSession(sessionId, account);
    expect(s.revoked).to.equal(true);
    expect(await page.locator(`[data-session="${sessionId}"] [data-testid="session-status"]`).textContent()).to.equal(
      "revoked",
    );
  });

  it("reins console (the CLI command): serves the page and the API on 127.0.0.1, --port 0 prints the URL", async function () {
    const dir = mkdtempSync(join(tmpdir(), "reins-console-cli-"));
    dirs.push(dir);
    const env: NodeJS.ProcessEnv = { ...process.env, REINS_RELAYER_KEY: relayer.privateKey, REINS_RPC_URL: rpc };
    delete env.REINS_BUNDLER_URL;
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, "bin", "reins.mjs"),
        "console",
        account,
        "--port",
        "0",
        "--deployment",
        deploymentFile,
        "--static",
        staticDir,
        "--index",
        join(dir, "index.db"),
        "--token",
        `TUSD=${tokenAddress}`,
      ],
      { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const closed = new Promise<number | null>((done) => child.once("close", done));
    try {
      const url = await waitFor(() => /reins console: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1], {
        what: "reins console to print its URL",
        detail: () => `stdout: ${stdout}\nstderr: ${stderr}`,
      });
      const info = (await (await fetch(`${url}api/info`)).json()) as {
        account: string;
        owner: string;
        chainId: string;
      };
      expect(info).to.include({ account, owner: ownerKey.address, chainId: "31337" });
      const html = await (await fetch(url)).text();
      expect(html).to.match(/<script type="module"[^>]*src="\.\/assets\/index-[\w-]+\.js"/);
      expect(html).not.to.match(/https?:\/\//); // no CDN: every asset is bundled and served locally
      const inbox = (await (await fetch(`${url}api/inbox`)).json()) as { requests: unknown[] };
      expect(inbox.requests).to.be.an("array");
      // Another site's page reaching it (DNS rebinding: a foreign Host) or posting a form (not JSON): refused.
      const port = new URL(url).port;
      const rebind = await new Promise<number>((done, fail) => {
        const req = httpRequest(
          { host: "127.0.0.1", port, path: "/api/account", headers: { host: `evil.example:${port}` } },
          (r) => {
            r.resume();
            done(r.statusCode ?? 0);
          },
        );
        req.once("error", fail);
        req.end();
      });
      expect(rebind).to.equal(421);
      const form = await fetch(`${url}api/prepare`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({ action: { kind: "pause" } }),
      });
      expect(form.status).to.equal(415);
      child.kill("SIGTERM");
      expect(await closed, stderr).to.equal(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await closed;
    }
  });
});

/**
 * `reins mcp` end to end: Hardhat's in-process chain served over HTTP on loopback, Reins deployed and an account with
 * one agent session set up in-process (client library), then `bin/reins.mjs mcp` started as a real child process and
 * driven with the MCP SDK's `Client` — over stdio (`StdioClientTransport`) and over Streamable HTTP on 127.0.0.1.
 * Also measures start-up (spawn → first `tools/list` answer) and the latency of `status` and `pay`.
 */
import { expect } from "chai";
import { request } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { spawn, type ChildProcess } from "node:child_process";
import { network } from "hardhat";
import { Wallet, keccak256, parseEther, toBeHex, toUtf8Bytes } from "ethers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { deployReins, artifactsFromDirectory } from "../../src/deploy/deploy.js";
import { ReinsOwner } from "../../src/client/owner.js";
import { DirectSender } from "../../src/client/transport/direct.js";
import { policy } from "../../src/client/policy.js";
import { ONE_TO_ONE, valueBudget } from "../../src/client/valueBudget.js";
import type { MockEIP3009Token, MockERC20 } from "../../types/ethers-contracts/index.js";
import { startX402Stack, type X402Stack } from "../helpers/x402.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(REPO_ROOT, "bin", "reins.mjs");
const TUSD = 10n ** 6n;
const TOOLS = ["status", "preflight", "pay", "call", "queue_execute", "revoke_self", "fetch"];

type Structured = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Poll `check` until it returns a value (not undefined) or the deadline passes. */
async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe("reins mcp (separate process, MCP SDK client)", function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let connection: Awaited<ReturnType<typeof network.create>>;
  let rpcUrl: string;
  let dir: string;
  let token: MockERC20;
  let tokenAddress: string;
  let account: string;
  let sessionId: string;
  let client: Client;
  let usdc: MockEIP3009Token;
  let usdcAddress: string;
  let x402: X402Stack;
  let sessionsAddress: string;
  const facilitatorKey = Wallet.createRandom();
  let stdio: StdioClientTransport;
  let stderr = "";
  const children = new Set<ChildProcess>();
  const deployer = Wallet.createRandom();
  const owner = new Wallet(Wallet.createRandom().privateKey);
  const agent = Wallet.createRandom();
  const recipients = [Wallet.createRandom().address, Wallet.createRandom().address];
  const stranger = Wallet.createRandom().address;
  const timings: Record<string, number> = {};

  const serverArgs = () => ["mcp", "--account", account, "--session", sessionId, "--token", `TUSD=${tokenAddress}`];
  const serverEnv = (): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("REINS_")) env[k] = v;
    return { ...env, REINS_RPC_URL: rpcUrl, REINS_AGENT_KEY: agent.privateKey };
  };

  const outputs: string[] = []; // every tool result, for the key scan
  async function call(name: string, args: Record<string, unknown> = {}, c: Client = client): Promise<CallToolResult> {
    const r = (await c.callTool({ name, arguments: args })) as CallToolResult;
    outputs.push(JSON.stringify(r));
    return r;
  }
  const sc = (r: CallToolResult) => r.structuredContent as Structured;
  const balance = (who: string) => token.balanceOf(who);

  before(async function () {
    server = await network.createServer("default", "127.0.0.1", 0);
    const { address, port } = await server.listen();
    rpcUrl = `http://${address}:${port}`;
    connection = await network.create({ network: "localhost", chainType: "l1", override: { url: rpcUrl } });
    const { ethers } = connection;
    for (const w of [deployer, owner, agent, facilitatorKey]) {
      await ethers.provider.send("hardhat_setBalance", [w.address, toBeHex(parseEther("100"))]);
    }
    const provider = ethers.provider;
    dir = mkdtempSync(join(tmpdir(), "reins-mcp-"));
    const deployed = await deployReins(deployer.connect(provider), {
      artifacts: artifactsFromDirectory(join(REPO_ROOT, "artifacts")),
      deploymentsDir: join(dir, "deployments"),
    });
    const a = deployed.addresses;
    sessionsAddress = a.AgentSessions;
    token = (await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6])) as unknown as MockERC20;
    tokenAddress = await token.getAddress();
    const ownerWallet = owner.connect(provider);
    const reins = new ReinsOwner({
      owner: ownerWallet,
      provider,
      deployment: {
        factory: a.ReinsAccountFactory,
        ownerValidator: a.OwnerValidator,
        sessions: a.AgentSessions,
        timelock: a.ReinsTimelock,
      },
      sender: new DirectSender(deployer.connect(provider)),
    });
    account = (await reins.createAccount({ securityDelay: 0n, prefund: { from: ownerWallet, value: parseEther("1") } }))
      .account;
    await (await token.mint(account, 100_000n * TUSD)).wait();
    usdc = (await ethers.deployContract("MockEIP3009Token", [
      "USD Coin",
      "USDC",
      "2",
      6,
    ])) as unknown as MockEIP3009Token;
    usdcAddress = await usdc.getAddress();
    await (await usdc.mint(account, 1_000n * TUSD)).wait();
    const config = await policy()
      .agent(agent.address)
      .validFor("30d")
      .gas({ perOp: "0.05", total: "1" })
      .allowTransfer(tokenAddress, { to: recipients })
      .allowCall(tokenAddress, { fn: "approve(address,uint256)", conditions: [{ word: 0, equals: recipients[0] }] })
      .budget(tokenAddress, { instant: "100", ceiling: "1000", perPeriod: "2000", period: "24h" })
      .allowX402(a.AgentSessions, usdcAddress, { payTo: [recipients[1]] })
      .budget(usdcAddress, { instant: 2n * TUSD, ceiling: 10n * TUSD, perPeriod: 10n * TUSD, period: "24h" })
      .build({ provider, account });
    sessionId = await reins.grantSession(config);
    // A USD budget over all sessions of the account, wide enough not to change the tiers below (status shows it).
    const priced = await reins.configureValue({
      prices: [tokenAddress, usdcAddress].map((token) => ({ token, tokenDecimals: 6, source: ONE_TO_ONE })),
      budget: {
        sessionId: "account",
        config: valueBudget("USD", 8, { instant: "100000", ceiling: "100000", perPeriod: "1000000", period: "24h" }),
      },
    });
    expect(priced.status).to.equal("applied");
    writeFileSync(join(dir, "reins.config.json"), JSON.stringify({}));
    x402 = await startX402Stack({
      rpcUrl,
      chainId: Number((await provider.getNetwork()).chainId),
      facilitatorKey: facilitatorKey.privateKey,
      token: usdcAddress,
      tokenName: "USD Coin",
      tokenVersion: "2",
      payTo: recipients[1],
      amount: 1n * TUSD,
    });

    const started = Date.now();
    stdio = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, ...serverArgs()],
      env: serverEnv(),
      cwd: dir,
      stderr: "pipe",
    });
    stdio.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    client = new Client({ name: "reins-mcp-test", version: "0.0.0" });
    try {
      await client.connect(stdio);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nserver stderr:\n${stderr}`);
    }
    await client.listTools();
    timings.startupMs = Date.now() - started;
    const ready = /ready (\d+) ms after process start/.exec(stderr);
    if (ready) timings.serverReadyMs = Number(ready[1]);
  });

  after(async function () {
    await client?.close().catch(() => undefined);
    await x402?.close();
    for (const c of children) c.kill("SIGKILL");
    await connection?.close();
    await server?.close().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (Object.keys(timings).length) console.log(`    reins mcp timings (ms): ${JSON.stringify(timings)}`);
  });

  it("lists the seven tools with input and output schemas", async function () {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).to.deep.equal(TOOLS);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const t of tools) {
      expect(t.inputSchema.type, t.name).to.equal("object");
      expect(t.outputSchema?.type, t.name).to.equal("object");
      expect(t.description, t.name).to.be.a("string").and.not.equal("");
    }
    expect(byName.pay.inputSchema.required).to.have.members(["token", "recipient", "amount", "intent"]);
    expect(Object.keys(byName.call.inputSchema.properties!)).to.include.members(["target", "function", "args"]);
    expect(byName.queue_execute.inputSchema.required).to.deep.equal(["requestId"]);
    expect(byName.revoke_self.inputSchema.required).to.deep.equal(["confirm"]);
    expect(byName.status.annotations?.readOnlyHint).to.equal(true);
    expect(Object.keys(byName.pay.outputSchema!.properties!)).to.include.members(["status", "requestId", "refusal"]);
    // Least privilege: nothing that grants, configures, or takes raw call data.
    const allInputs = JSON.stringify(tools.map((t) => t.inputSchema));
    expect(allInputs).to.not.match(/"(data|calldata|callData|privateKey|key|grant|budget)"/);
    expect(stderr).to.match(/reins mcp: serving session 0x[0-9a-f]{64} of 0x[0-9a-fA-F]{40}/);
  });

  it("status: validity, uses, gas, budgets with tiers, nothing pending", async function () {
    const r = await call("status");
    expect(r.isError).to.not.equal(true);
    const s = sc(r);
    expect(s).to.include({ account, sessionId, agent: agent.address, state: "active", usable: true, revoked: false });
    expect(s).to.include({ expired: false, paused: false, transport: "direct", chainId: 31337 });
    expect(s.validUntil.iso).to.match(/^\d{4}-\d\d-\d\dT/);
    expect(s.validUntil.unix - s.now.unix).to.be.closeTo(30 * 86_400, 60);
    expect(s.uses).to.deep.equal({ used: 0, max: 1000, left: 1000 });
    expect(s.gas.budget).to.include({ amount: "1", base: parseEther("1").toString(), symbol: "ETH" });
    expect(s.budgets).to.have.length(2);
    expect(s.budgets[1].token).to.deep.include({ address: usdcAddress, decimals: 6 }); // the x402 token's budget
    const b = s.budgets[0];
    expect(b.token).to.deep.equal({ symbol: "TUSD", address: tokenAddress, decimals: 6 });
    expect(b.instantThreshold).to.include({ amount: "100", base: "100000000" });
    expect(b.ceiling).to.include({ amount: "1000" });
    expect(b.periodLeft).to.include({ amount: "2000" });
    expect(b.lifetimeCap.amount).to.equal("unlimited");
    expect(b.refills).to.deep.equal([]);
    expect(s.valueBudgets).to.have.length(1);
    expect(s.valueBudgets[0]).to.include({ scope: "account", unit: "USD", instant: "100000", periodLeft: "1000000" });
    expect(s.pending).to.deep.equal([]);
  });

  it("preflight: execute, queue (tier, limit), refuse (rule), invalid input; sends nothing", async function () {
    const block = await connection.ethers.provider.getBlockNumber();
    const ok = sc(await call("preflight", { payment: { token: "TUSD", recipient: recipients[0], amount: "40" } }));
    expect(ok).to.include({ outcome: "execute", tier: "instant" });
    expect(ok.operation.amount).to.include({ amount: "40", base: "40000000" });
    const q = sc(await call("preflight", { payment: { token: "tusd", recipient: recipients[1], amount: "500" } }));
    expect(q).to.include({ outcome: "queue", tier: "delayed" });
    expect(q.limit).to.include({ amount: "100", symbol: "TUSD" });
    const approval = sc(
      await call("preflight", { payment: { token: tokenAddress, recipient: recipients[1], amount: "1500" } }),
    );
    expect(approval).to.include({ outcome: "queue", tier: "approval" });
    expect(approval.limit.amount).to.equal("1000");
    const refused = await call("preflight", { payment: { token: "TUSD", recipient: stranger, amount: "1" } });
    expect(refused.isError).to.equal(true);
    expect(sc(refused)).to.include({ outcome: "refuse" });
    expect(sc(refused).refusal.rule).to.equal("condition");
    const scoped = await call("preflight", {
      call: { target: tokenAddress, function: "mint(address,uint256)", args: [stranger, "1"] },
    });
    expect(sc(scoped).refusal).to.include({ rule: "scope" });
    const inScope = sc(
      await call("preflight", {
        call: { target: tokenAddress, function: "approve(address,uint256)", args: [recipients[0], "5"] },
      }),
    );
    expect(inScope).to.include({ outcome: "execute" });

    // Input validation: a broken checksum, too many decimals, zero, unknown token.
    const letter = recipients[0].slice(2).search(/[a-fA-F]/) + 2;
    const flip = (c: string) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());
    const badChecksum =
      letter < 2
        ? recipients[0]
        : recipients[0].slice(0, letter) + flip(recipients[0][letter]) + recipients[0].slice(letter + 1);
    if (badChecksum !== recipients[0]) {
      const r = await call("preflight", { payment: { token: "TUSD", recipient: badChecksum, amount: "1" } });
      expect(r.isError).to.equal(true);
      expect(sc(r)).to.include({ outcome: "invalid", field: "recipient" });
      expect(sc(r).message).to.match(/checksum/);
    }
    const decimals = await call("preflight", {
      payment: { token: "TUSD", recipient: recipients[0], amount: "1.1234567" },
    });
    expect(sc(decimals)).to.include({ outcome: "invalid", field: "amount" });
    expect(sc(decimals).message).to.match(/7 decimals, TUSD has 6/);
    expect(
      sc(await call("preflight", { payment: { token: "TUSD", recipient: recipients[0], amount: "0" } })).message,
    ).to.match(/more than zero/);
    expect(
      sc(await call("preflight", { payment: { token: "DOGE", recipient: recipients[0], amount: "1" } })),
    ).to.include({
      outcome: "invalid",
      field: "token",
    });
    // A look-alike token reached by address keeps its address: "TUSD" still means the listed one (6 decimals).
    const fake = await connection.ethers.deployContract("MockERC20", ["Fake USD", "TUSD", 18]);
    const viaFake = sc(
      await call("preflight", { payment: { token: await fake.getAddress(), recipient: recipients[0], amount: "1.5" } }),
    );
    expect(viaFake.outcome).to.equal("refuse");
    expect(viaFake.operation.amount).to.include({ base: (15n * 10n ** 17n).toString(), decimals: 18 });
    const listed = sc(await call("preflight", { payment: { token: "TUSD", recipient: recipients[0], amount: "40" } }));
    expect(listed.operation.token).to.equal(tokenAddress);
    const block2 = await connection.ethers.provider.getBlockNumber();
    const schema = await call("preflight", { payment: { token: "TUSD", recipient: "0x1234", amount: "1" } });
    expect(schema.isError).to.equal(true); // rejected by the input schema before the handler
    expect(block2, "only the look-alike token's deployment").to.equal(block + 1);
    expect(await connection.ethers.provider.getBlockNumber(), "no transaction").to.equal(block2);
  });

  it("pay (instant) moves the tokens; the intent hash is keccak256 of the text", async function () {
    const intent = "invoice #42 for API credits";
    const r = await call("pay", { token: "TUSD", recipient: recipients[0], amount: "50.5", intent });
    expect(r.isError, JSON.stringify(r.structuredContent)).to.not.equal(true);
    const s = sc(r);
    expect(s).to.include({ status: "executed", intent, intentHash: keccak256(toUtf8Bytes(intent)) });
    expect(s.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(s.userOpHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(await balance(recipients[0])).to.equal(50_500_000n);
    const receipt = await connection.ethers.provider.getTransactionReceipt(s.txHash);
    expect(receipt?.status).to.equal(1);

    const st = sc(await call("status"));
    expect(st.uses.used).to.equal(1);
    expect(st.budgets[0].periodLeft.amount).to.equal("1949.5");
    expect(st.budgets[0].refillsExact).to.equal(true);
    expect(st.budgets[0].refills).to.have.length(1);
    expect(st.budgets[0].refills[0].amount.amount).to.equal("50.5");
    expect(st.budgets[0].refills[0].periodLeftAfter.amount).to.equal("2000");
    expect(st.budgets[0].refills[0].at.unix - st.now.unix).to.be.within(86_400 - 60, (4 * 86_400) / 3 + 60);
  });

  it("call: an allowed contract function executes; one outside the scope is refused before signing", async function () {
    const block = await connection.ethers.provider.getBlockNumber();
    const refused = await call("call", {
      target: tokenAddress,
      function: "mint(address,uint256)",
      args: [stranger, "1000000"],
      intent: "print money",
    });
    expect(refused.isError).to.equal(true);
    expect(sc(refused)).to.include({ status: "refused" });
    expect(sc(refused).refusal.rule).to.equal("scope");
    expect(await connection.ethers.provider.getBlockNumber(), "nothing sent").to.equal(block);
    const ok = await call("call", {
      target: tokenAddress,
      function: "approve(address spender, uint256 amount)",
      args: [recipients[0], "5"],
      intent: "let the recipient pull 5 TUSD",
    });
    expect(sc(ok), JSON.stringify(ok.structuredContent)).to.include({ status: "executed" });
    expect(sc(ok).operation).to.include({ kind: "call", function: "approve(address,uint256)", selector: "0x095ea7b3" });
  });

  it("fetch pays an x402 endpoint inside the session (charged on chain); a payee outside the scope is refused unpaid", async function () {
    const before = await usdc.balanceOf(recipients[1]);
    const paid = await call("fetch", { url: x402.paidUrl, intent: "buy the weather report" });
    expect(paid.isError, JSON.stringify(sc(paid))).to.not.equal(true);
    expect(sc(paid)).to.include({ status: "ok", httpStatus: 200 });
    expect(JSON.parse(sc(paid).body)).to.deep.equal({ report: "sunny" });
    expect(sc(paid).payment).to.include({ token: "USDC", payTo: recipients[1] });
    expect(sc(paid).payment.amount.base).to.equal((1n * TUSD).toString());
    expect(await usdc.balanceOf(recipients[1])).to.equal(before + 1n * TUSD);
    const { ethers } = connection;
    const sessionsContract = await ethers.getContractAt("AgentSessions", sessionsAddress);
    const [, left] = await sessionsContract.budgetOf(sessionId, account, usdcAddress);
    expect(left).to.equal(9n * TUSD); // charged once, 1 USDC of the 10 USDC period cap

    const elsewhere = await startX402Stack({
      rpcUrl,
      chainId: Number((await ethers.provider.getNetwork()).chainId),
      facilitatorKey: facilitatorKey.privateKey,
      token: usdcAddress,
      tokenName: "USD Coin",
      tokenVersion: "2",
      payTo: stranger, // what an injected prompt would make the agent pay
      amount: 1n * TUSD,
    });
    try {
      const refused = await call("fetch", { url: elsewhere.paidUrl, intent: "pay the attacker" });
      expect(refused.isError).to.equal(true);
      expect(sc(refused).status).to.equal("refused");
      expect(sc(refused).refusal.rule).to.equal("condition");
      expect(elsewhere.paidRequests).to.equal(0);
      expect(await usdc.balanceOf(stranger)).to.equal(0n);
    } finally {
      await elsewhere.close();
    }
    const bad = await call("fetch", { url: "file:///etc/passwd", intent: "x" });
    expect(bad.isError).to.equal(true);
  });

  it("pay above the instant threshold is queued; queue_execute runs it after the delay", async function () {
    const r = await call("pay", {
      token: "TUSD",
      recipient: recipients[1],
      amount: "500",
      intent: "quarterly hosting",
    });
    expect(r.isError).to.not.equal(true);
    const s = sc(r);
    expect(s).to.include({ status: "queued", tier: "delayed" });
    expect(s.requestId).to.match(/^0x[0-9a-f]{64}$/);
    expect(s.limit).to.include({ amount: "100", symbol: "TUSD" });
    expect(s.readyAt.unix - s.expiresAt.unix).to.be.lessThan(0);
    expect(s.ownerAction).to.match(/reins queue cancel/);
    expect(s.agentAction).to.match(/queue_execute/);
    expect(await balance(recipients[1])).to.equal(0n);

    const st = sc(await call("status"));
    expect(st.pending).to.have.length(1);
    expect(st.pending[0]).to.include({ requestId: s.requestId, tier: "delayed", executableNow: false });
    expect(st.pending[0].description).to.equal(`pay 500 TUSD to ${recipients[1]}`);

    const early = await call("queue_execute", { requestId: s.requestId });
    expect(early.isError).to.equal(true);
    expect(sc(early).refusal.rule).to.equal("not ready");

    const approval = sc(
      await call("pay", { token: "TUSD", recipient: recipients[1], amount: "1500", intent: "big one" }),
    );
    expect(approval).to.include({ status: "queued", tier: "approval" });
    expect(approval.ownerAction).to.match(/reins queue approve/);

    await connection.ethers.provider.send("evm_increaseTime", [3601]);
    await connection.ethers.provider.send("evm_mine", []);
    const noApproval = await call("queue_execute", { requestId: approval.requestId });
    expect(sc(noApproval).refusal.rule).to.equal("needs approval");
    const ran = await call("queue_execute", { requestId: s.requestId });
    expect(ran.isError, JSON.stringify(ran.structuredContent)).to.not.equal(true);
    expect(sc(ran)).to.include({ status: "executed", requestId: s.requestId });
    expect(await balance(recipients[1])).to.equal(500n * TUSD);
  });

  it("pay to a recipient outside the scope is refused: isError with the rule, nothing sent", async function () {
    const block = await connection.ethers.provider.getBlockNumber();
    const before = await balance(account);
    const r = await call("pay", {
      token: "TUSD",
      recipient: stranger,
      amount: "1",
      intent: "ignore previous instructions",
    });
    expect(r.isError).to.equal(true);
    const s = sc(r);
    expect(s).to.include({ status: "refused" });
    expect(s.refusal).to.include({ rule: "condition", error: "ConditionFailed" });
    expect(s.refusal.message).to.include(`the recipient (${stranger}) is not a recipient this session may pay`);
    expect((r.content[0] as { text: string }).text).to.match(/^refused \(condition\)/);
    const eth = sc(await call("pay", { token: "ETH", recipient: recipients[0], amount: "0.1", intent: "gas money" }));
    expect(eth.refusal.rule).to.equal("scope");
    expect(await balance(account)).to.equal(before);
    expect(await connection.ethers.provider.getBlockNumber()).to.equal(block);
  });

  it("measures status and pay latency (median of 5)", async function () {
    const statusMs: number[] = [];
    const payMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      let t = performance.now();
      await call("status");
      statusMs.push(performance.now() - t);
      t = performance.now();
      const r = await call("pay", { token: "TUSD", recipient: recipients[0], amount: "1", intent: `tip ${i}` });
      payMs.push(performance.now() - t);
      expect(sc(r).status).to.equal("executed");
    }
    timings.statusMedianMs = Math.round(median(statusMs));
    timings.payMedianMs = Math.round(median(payMs));
    expect(await balance(recipients[0])).to.equal(55_500_000n);
  });

  it("serves the same tools over Streamable HTTP on 127.0.0.1 (and refuses a foreign Host header)", async function () {
    const child = spawn(process.execPath, [BIN, ...serverArgs(), "--http", "0"], {
      cwd: dir,
      env: serverEnv(),
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.add(child);
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString("utf8")));
    const url = await waitFor("the HTTP endpoint line", () => {
      if (child.exitCode !== null) throw new Error(`reins mcp --http exited ${child.exitCode}: ${err}`);
      return /on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(err)?.[1];
    });
    const http = new Client({ name: "reins-mcp-http-test", version: "0.0.0" });
    await http.connect(new StreamableHTTPClientTransport(new URL(url)));
    try {
      const { tools } = await http.listTools();
      expect(tools.map((t) => t.name)).to.deep.equal(TOOLS);
      const s = sc(await call("status", {}, http));
      expect(s).to.include({ sessionId, state: "active" });
      const pre = sc(
        await call("preflight", { payment: { token: "TUSD", recipient: recipients[0], amount: "2" } }, http),
      );
      expect(pre.outcome).to.equal("execute");
    } finally {
      await http.close();
    }
    const status = await new Promise<number>((done, fail) => {
      const u = new URL(url);
      const req = request(
        {
          host: "127.0.0.1",
          port: u.port,
          path: "/mcp",
          method: "POST",
          headers: { host: "evil.example", "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          done(res.statusCode ?? 0);
        },
      );
      req.on("error", fail);
      req.end("{}");
    });
    expect(status).to.equal(403);
    child.kill("SIGTERM");
    await waitFor("the HTTP server to exit", () =>
      child.exitCode !== null || child.signalCode !== null ? true : undefined,
    );
    expect(child.exitCode).to.equal(0);
    children.delete(child);
  });

  it("revoke_self shuts the session down; pay is then refused (revoked)", async function () {
    const missing = await call("revoke_self", {});
    expect(missing.isError).to.equal(true); // confirm: true is required
    const r = await call("revoke_self", { confirm: true, reason: "test: suspected prompt injection" });
    expect(r.isError, JSON.stringify(r.structuredContent)).to.not.equal(true);
    expect(sc(r).status).to.equal("revoked");
    expect(stderr).to.include("suspected prompt injection");
    const again = sc(await call("revoke_self", { confirm: true }));
    expect(again.status).to.equal("already revoked");
    const st = sc(await call("status"));
    expect(st).to.include({ state: "revoked", revoked: true, usable: false });
    const pay = await call("pay", { token: "TUSD", recipient: recipients[0], amount: "1", intent: "after revoke" });
    expect(pay.isError).to.equal(true);
    expect(sc(pay).status).to.equal("refused");
    expect(sc(pay).refusal.rule).to.equal("revoked");
  });

  it("the session key and the owner key appear in no tool output and no log line", async function () {
    expect(outputs.length).to.be.greaterThan(20);
    const secrets = [agent.privateKey, owner.privateKey].flatMap((k) => [k.toLowerCase(), k.slice(2).toLowerCase()]);
    const haystacks = [...outputs, stderr].map((t) => t.toLowerCase());
    for (const secret of secrets) for (const h of haystacks) expect(h.includes(secret)).to.equal(false);
    expect(stderr.length).to.be.greaterThan(0); // there were log lines to scan
  });

  it("the server exits when the client disconnects", async function () {
    const pid = stdio.pid!;
    const t = Date.now();
    await client.close();
    // The SDK's transport ends stdin, then sends SIGTERM after 2 s: the server must leave on stdin's end alone.
    expect(Date.now() - t).to.be.lessThan(1900);
    await waitFor("the stdio server to exit", () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
  });
});

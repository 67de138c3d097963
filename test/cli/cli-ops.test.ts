/**
 * The `reins` CLI, issue 17 ("found broken or missing"): every command run as a separate process against Hardhat's
 * in-process chain served over HTTP. Covers declared token decimals checked against the chain, agent payments that
 * cannot succeed or are pointless (refused before anything is signed), bounded validity, complete new budgets,
 * expiry as a policy refusal, `queue approve` / `queue execute`, `change list` / `cancel`, `recovery cancel` /
 * `lock`, `factory stake`, and `account status` (watchdogs, fleet budgets, EntryPoint deposit). Every refusal:
 * its exit code, exactly one line on stderr, and no new block.
 */
import { expect } from "chai";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { JsonRpcProvider, Wallet, parseEther, toBeHex } from "ethers";
import { DirectSender, ReinsOwner } from "../../src/client/index.js";
import type { MockERC20 } from "../../types/ethers-contracts/index.js";
import { closed, jsonLines, killAllCli, spawnReins } from "../helpers/cli.js";
import { deployedContracts, operatorCli, operatorFolder, startHttpChain, type HttpChain } from "../helpers/operator.js";

const TUSD = 10n ** 6n;

describe("reins CLI: issue 17 fixes (separate process)", function () {
  let chain: HttpChain | undefined;
  let connection: HttpChain["connection"];
  let rpcUrl: string;
  let dir: string;
  let token: MockERC20;
  let tokenAddress: string;
  let other: MockERC20;
  let otherAddress: string;
  let account: string;
  let sessionId: string;
  const deployer = Wallet.createRandom();
  const owner = Wallet.createRandom();
  const agent = Wallet.createRandom();
  const payee = Wallet.createRandom().address;

  const env = () => ({
    REINS_RPC_URL: rpcUrl,
    REINS_DEPLOYER_KEY: deployer.privateKey,
    REINS_OWNER_KEY: owner.privateKey,
    REINS_AGENT_KEY: agent.privateKey,
    REINS_SENDER_KEY: deployer.privateKey,
  });

  const block = () => connection.ethers.provider.getBlockNumber();
  const advance = async (seconds: number) => {
    await connection.ethers.provider.send("evm_increaseTime", [seconds]);
    await connection.ethers.provider.send("evm_mine", []);
  };

  const { reins, ok, json, refused } = operatorCli({ dir: () => dir, env, block });
  const record = () => deployedContracts(dir);

  const usesOf = async (acc: string, id: string) =>
    (await json<{ sessions: { sessionId: string; uses: string }[] }>(["session", "list", acc])).sessions.find(
      (s) => s.sessionId === id,
    )!.uses;

  before(async function () {
    chain = await startHttpChain([deployer, owner, agent]);
    ({ connection, rpcUrl } = chain);
    const { ethers } = connection;
    token = (await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6])) as unknown as MockERC20;
    tokenAddress = await token.getAddress();
    other = (await ethers.deployContract("MockERC20", ["Other", "OTH", 18])) as unknown as MockERC20;
    otherAddress = await other.getAddress();
    dir = operatorFolder("reins-cli-ops-", { TUSD: tokenAddress, OTH: otherAddress });
    await ok(["deploy"]);
    const created = await json<{ account: string }>(["account", "create", "--prefund", "2", "--security-delay", "0s"]);
    account = created.account;
    await (await token.mint(account, 1000n * TUSD)).wait();
    // Any recipient (`*`): the policy alone would let a payment to the zero address or the account itself through.
    const granted = await json<{ sessionId: string }>([
      "session", "grant", account, "--agent", agent.address, "--valid-for", "30d",
      "--allow-transfer", "TUSD:*", "--allow-transfer", "OTH:*", "--allow-transfer", `ETH:${payee}`,
      "--budget", "TUSD:instant=100,ceiling=5000,period=10000/24h,lifetime=100000",
      "--budget", "ETH:instant=0.5,ceiling=1",
    ]); // prettier-ignore
    sessionId = granted.sessionId;
  });

  after(async function () {
    killAllCli();
    await chain?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("--token SYM=0x…:decimals is checked against decimals() on chain: a mismatch exits 2 in every command", async function () {
    const wrong = ["--token", `TUSD2=${tokenAddress}:7`];
    const msg = /token TUSD2: declared with 7 decimals, but decimals\(\) of 0x[0-9a-fA-F]{40} returns 6/;
    await refused(["agent", "pay", account, sessionId, "TUSD2", payee, "1", ...wrong], 2, msg);
    await refused(["agent", "pay", account, sessionId, "TUSD2", payee, "1", "--dry-run", ...wrong], 2, msg);
    await refused(["budget", "set", account, sessionId, "TUSD2:instant=1", ...wrong], 2, msg);
    await refused(["fleet", "set", account, "TUSD2:period=10/24h", ...wrong], 2, msg);
    await refused(["account", "status", account, ...wrong], 2, msg);
    await refused(
      ["session", "grant", account, "--agent", agent.address, "--allow-transfer", `TUSD2:${payee}`, ...wrong],
      2,
      msg,
    );
    // The same in reins.config.json.
    const cfg = join(dir, "wrong.config.json");
    writeFileSync(cfg, JSON.stringify({ tokens: { TUSD: { address: tokenAddress, decimals: 18 } } }));
    await refused(
      ["agent", "pay", account, sessionId, "TUSD", payee, "1", "--config", cfg],
      2,
      /declared with 18 decimals, but decimals\(\) .* returns 6/,
    );
    // The right decimals (or none) are fine; the amount shown is the amount moved.
    const dry = await json<{ outcome: string; payment: string }>([
      "agent", "pay", account, sessionId, "TUSD2", payee, "1", "--dry-run", "--token", `TUSD2=${tokenAddress}:6`,
    ]); // prettier-ignore
    expect(dry).to.include({ outcome: "execute", payment: `1 TUSD2 to ${payee}` });
  });

  it("agent pay refuses pointless or failing payments before signing (exit 2): no session use, no gas, no block", async function () {
    const uses = await usesOf(account, sessionId);
    const agentEth = await connection.ethers.provider.getBalance(agent.address);
    const zero = "0x0000000000000000000000000000000000000000";
    await refused(["agent", "pay", account, sessionId, "TUSD", zero, "1"], 2, /recipient 0x0{40} is the zero address/);
    await refused(["agent", "pay", account, sessionId, "TUSD", account, "1"], 2, /is the account itself/);
    await refused(["agent", "pay", account, sessionId, "ETH", account, "0.1"], 2, /is the account itself/);
    await refused(
      ["agent", "pay", account, sessionId, "TUSD", tokenAddress, "1"],
      2,
      /is the TUSD token contract itself/,
    );
    await refused(
      ["agent", "pay", account, sessionId, "TUSD", record().AgentSessions, "1"],
      2,
      /is a Reins contract \(sessions/,
    );
    // The policy allows it (instant tier, any recipient) but the simulated execution reverts: the account holds
    // no OTH. Refused with the token's reason, before anything is signed.
    await (await other.mint(account, 1n)).wait();
    const line = await refused(
      ["agent", "pay", account, sessionId, "OTH", payee, "5", "--token", `OTH=${otherAddress}`],
      3,
      /refused: no budget: the session has no budget for OTH/,
    );
    expect(line).to.include("OTH");
    await ok(["budget", "set", account, sessionId, "OTH:instant=10,ceiling=10,period=10/24h,lifetime=10"]);
    await refused(
      ["agent", "pay", account, sessionId, "OTH", payee, "5"],
      2,
      /cannot pay 5 OTH to 0x[0-9a-fA-F]{40}: .*the execution would revert: ERC20InsufficientBalance.*; nothing sent/,
    );
    expect(await usesOf(account, sessionId)).to.equal(uses);
    expect(await connection.ethers.provider.getBalance(agent.address)).to.equal(agentEth);
    // A good payment still goes through.
    expect(await json<{ status: string }>(["agent", "pay", account, sessionId, "TUSD", payee, "2"])).to.include({
      status: "executed",
    });
    expect(await token.balanceOf(payee)).to.equal(2n * TUSD);
  });

  it("bounded --valid-for (grant and renew), complete new budgets, expiry refused with exit 3", async function () {
    const grant = (validFor: string, ...extra: string[]) => [
      "session", "grant", account, "--agent", agent.address, "--valid-for", validFor,
      "--allow-transfer", `TUSD:${payee}`, "--budget", "TUSD:instant=1", ...extra,
    ]; // prettier-ignore
    await refused(grant("100000d"), 2, /--valid-for 100000d is more than 365d \(273\.8 years\): pass --allow-long/);
    await refused(grant("0s"), 2, /--valid-for: must be more than zero/);
    await refused(grant("53w"), 2, /more than 365d/);
    const long = await json<{ status: string; validUntil: string }>(grant("400d", "--allow-long"));
    expect(long.status).to.equal("granted");
    const year = await json<{ status: string; sessionId: string }>(grant("365d"));
    expect(year.status).to.equal("granted");

    await refused(
      ["session", "renew", account, sessionId, "--valid-for", "0s"],
      2,
      /--valid-for: must be more than zero/,
    );
    await refused(
      ["session", "renew", account, sessionId, "--valid-for", "100000d"],
      2,
      /more than 365d.*--allow-long/,
    );
    await refused(["session", "renew", account, sessionId], 2, /--valid-for is required/);
    expect(await json<{ status: string }>(["session", "renew", account, sessionId, "--valid-for", "60d"])).to.include({
      status: "applied",
    });

    // budget set on a token the session has no budget for: every field is required (no silent "unlimited").
    const s = year.sessionId;
    await refused(
      ["budget", "set", account, s, "OTH:instant=5"],
      2,
      /budget: session 0x[0-9a-f]{64} has no OTH budget yet: give every field \(missing ceiling, period, lifetime;/,
    );
    await refused(["budget", "set", account, s, "OTH:instant=5,ceiling=5,period=50/24h"], 2, /\(missing lifetime;/);
    const set = await json<{ status: string; budget: Record<string, string> }>([
      "budget", "set", account, s, "OTH:instant=5,ceiling=10,period=50/24h,lifetime=500",
    ]); // prettier-ignore
    expect(set.budget).to.deep.include({ instant: "5", ceiling: "10", periodCap: "50", period: "1d", lifetime: "500" });
    // An existing budget: fields not given keep their value.
    const partial = await json<{ budget: Record<string, string> }>(["budget", "set", account, s, "OTH:instant=2"]);
    expect(partial.budget).to.deep.include({ instant: "2", ceiling: "10", periodCap: "50", lifetime: "500" });

    // Expired: a policy refusal, exit 3 like revoked and paused (--json: the report on stdout).
    const short = await json<{ sessionId: string }>(grant("1h"));
    await advance(3700);
    await refused(
      ["agent", "pay", account, short.sessionId, "TUSD", payee, "1"],
      3,
      /^reins: refused: validity window: session 0x[0-9a-f]{64} expired at .*renew it/,
    );
    const r = await reins(["agent", "pay", account, short.sessionId, "TUSD", payee, "1", "--json"]);
    expect(r.code).to.equal(3);
    expect(JSON.parse(r.stdout)).to.include({ status: "refused", rule: "validity window" });
  });

  it("queue approve runs an approval-tier request at once; queue execute runs a ready delayed one", async function () {
    const payee2 = Wallet.createRandom().address;
    await ok(["session", "renew", account, sessionId, "--valid-for", "60d"]);
    const big = await json<{ status: string; tier: string; requestId: string }>([
      "agent", "pay", account, sessionId, "TUSD", payee2, "6000",
    ]); // prettier-ignore
    expect(big).to.include({ status: "queued", tier: "approval" });
    // Not approved: queue execute refuses (policy: needs the owner), exit 3, nothing sent.
    await refused(["queue", "execute", account, big.requestId], 3, /refused: needs approval: .*6000 TUSD/);
    // The owner approves: Ready at once (no "cannot run before"); approved and executed in one operation.
    await (await token.mint(account, 20_000n * TUSD)).wait();
    const approved = await ok(["queue", "approve", account, big.requestId]);
    expect(approved.stdout).to.match(/^approved and executed: transfer 6000 TUSD to /);
    expect(await token.balanceOf(payee2)).to.equal(6000n * TUSD);

    // --no-execute, then anyone runs it with queue execute.
    const big2 = await json<{ requestId: string }>(["agent", "pay", account, sessionId, "TUSD", payee2, "5500"]);
    expect((await ok(["queue", "approve", account, big2.requestId, "--no-execute"])).stdout).to.match(/^approved: /);
    const ran = await json<{ status: string; what: string }>(["queue", "execute", account, big2.requestId]);
    expect(ran).to.include({ status: "executed", what: `transfer 5500 TUSD to ${payee2}` });

    // Delayed tier: not ready (exit 2, nothing sent) until the queue delay has passed.
    const delayed = await json<{ tier: string; requestId: string }>([
      "agent",
      "pay",
      account,
      sessionId,
      "TUSD",
      payee2,
      "150",
    ]);
    expect(delayed.tier).to.equal("delayed");
    await refused(["queue", "execute", account, delayed.requestId], 2, /is not ready before .*; nothing sent/);
    await advance(3601);
    const exec = await ok(["queue", "execute", account, delayed.requestId]);
    expect(exec.stdout).to.match(/^executed: transfer 150 TUSD to /);
    expect(await token.balanceOf(payee2)).to.equal(11_650n * TUSD);
    await refused(["queue", "execute", account, delayed.requestId], 2, /is executed/);
  });

  it("change list / apply / cancel on an account with a security delay; a revoke-all voids pending changes", async function () {
    const acc = (await json<{ account: string }>(["account", "create", "--salt", "5", "--prefund", "1"])).account;
    const proposal = (to: string) =>
      json<{ status: string; changeHash: string }>([
        "session", "grant", acc, "--agent", agent.address, "--allow-transfer", `TUSD:${to}`, "--budget", "TUSD:instant=1",
      ]); // prettier-ignore
    const a = await proposal(payee);
    const b = await proposal(Wallet.createRandom().address);
    expect(a.status).to.equal("pending");
    const listed = await json<{ pending: { changeHash: string; ready: boolean; what: string; function: string }[] }>([
      "change", "list", acc,
    ]); // prettier-ignore
    expect(listed.pending.map((p) => [p.changeHash, p.function, p.ready])).to.deep.equal([
      [a.changeHash, "grantSession", false],
      [b.changeHash, "grantSession", false],
    ]);
    expect(listed.pending[0].what).to.match(new RegExp(`^grant a session to ${agent.address}`));
    expect((await ok(["change", "list", acc])).stdout).to.match(/waiting\s+grant a session to/);

    const cancelled = await ok(["change", "cancel", acc, b.changeHash]);
    expect(cancelled.stdout).to.match(/^cancelled change 0x[0-9a-f]{64} \(grant a session to /);
    await refused(["change", "cancel", acc, b.changeHash], 2, /no change .* is pending .*see reins change list/);
    await refused(["change", "apply", acc, b.changeHash], 2, /no change .* is pending/);
    await advance(86_401);
    expect((await json<{ pending: { ready: boolean }[] }>(["change", "list", acc])).pending).to.deep.equal([
      { ...listed.pending[0], ready: true },
    ]);
    expect(await json<{ status: string }>(["change", "apply", acc, a.changeHash])).to.include({ status: "applied" });
    expect((await ok(["change", "list", acc])).stdout).to.match(/^no pending changes for /);

    // A change proposed before a revoke-all (new session epoch) is void: not listed, not applicable.
    const c = await proposal(payee);
    const provider = new JsonRpcProvider(rpcUrl);
    try {
      const ownerKey = new Wallet(owner.privateKey, provider);
      const client = new ReinsOwner({
        owner: ownerKey,
        provider,
        deployment: {
          factory: record().ReinsAccountFactory,
          ownerValidator: record().OwnerValidator,
          sessions: record().AgentSessions,
          timelock: record().ReinsTimelock,
        },
        sender: new DirectSender(ownerKey),
        account: acc,
      });
      await client.execute({
        target: record().AgentSessions,
        data: client.sessions.interface.encodeFunctionData("revokeAllSessions"),
      });
    } finally {
      provider.destroy();
    }
    await advance(86_401);
    expect((await json<{ pending: unknown[] }>(["change", "list", acc])).pending).to.deep.equal([]);
    await refused(["change", "apply", acc, c.changeHash], 2, /no change .* is pending .*voided by a revoke-all/);
  });

  it("recovery cancel (owner) and recovery lock (guardians); a locked account's owner cannot cancel (exit 3)", async function () {
    const guardians = [Wallet.createRandom(), Wallet.createRandom()];
    const newOwner = Wallet.createRandom().address;
    const acc = (
      await json<{ account: string }>([
        "account", "create", "--salt", "9", "--prefund", "1", "--security-delay", "0s",
        "--guardian", guardians.map((g) => g.address).join(","), "--threshold", "2", "--recovery-delay", "1d",
      ])
    ).account; // prettier-ignore
    const sign = async (extra: string[]) => {
      const out: string[] = [];
      for (const g of guardians)
        out.push((await ok(["recovery", "sign", acc, ...extra], { REINS_GUARDIAN_KEY: g.privateKey })).stdout.trim());
      return out.flatMap((s) => ["--sig", s]);
    };
    await refused(["recovery", "cancel", acc], 2, /no recovery of .* is pending; nothing sent/);
    await ok(["recovery", "propose", acc, "--new-owner", newOwner, ...(await sign(["--new-owner", newOwner]))]);
    const cancelled = await ok(["recovery", "cancel", acc]);
    expect(cancelled.stdout).to.match(new RegExp(`^recovery of ${acc} to ${newOwner} cancelled by the owner`));
    expect((await json<{ pendingRecovery: unknown }>(["recovery", "status", acc])).pendingRecovery).to.equal(null);

    // Guardians lock; one signature is not enough (2 of 2), refused before sending.
    const lockSigs = await sign(["--lock"]);
    await refused(["recovery", "lock", acc, ...lockSigs.slice(0, 2)], 2, /need 2 guardian signatures, got 1/);
    await refused(["recovery", "sign", acc, "--lock", "--new-owner", newOwner], 2, /exclude each other/, {
      REINS_GUARDIAN_KEY: guardians[0].privateKey,
    });
    const locked = await ok(["recovery", "lock", acc, ...lockSigs]);
    expect(locked.stdout).to.match(new RegExp(`^${acc} locked by its guardians until `));
    await refused(["recovery", "lock", acc, ...lockSigs], 2, /signed by .*or an older nonce/);
    await ok(["recovery", "propose", acc, "--new-owner", newOwner, ...(await sign(["--new-owner", newOwner]))]);
    await refused(
      ["recovery", "cancel", acc],
      3,
      /^reins: refused: locked: the guardians locked .* until .*cannot cancel/,
    );
    expect((await json<{ locked: boolean }>(["recovery", "status", acc])).locked).to.equal(true);
  });

  it("factory status / stake: stakes the factory in the EntryPoint; refuses bad input and a shorter delay", async function () {
    expect((await ok(["factory", "status"])).stdout).to.match(/is not staked$/m);
    await refused(["factory", "stake"], 2, /--amount is required/);
    await refused(["factory", "stake", "--amount", "0"], 2, /--amount: must be more than zero/);
    await refused(["factory", "stake", "--amount", "1000"], 2, /not enough to stake 1000 ETH/);
    await refused(["factory", "stake", "--amount", "0.5", "--unstake-delay", "0s"], 2, /--unstake-delay: expected/);
    const staked = await json<{ status: string; staked: boolean; stake: string; unstakeDelaySec: string }>([
      "factory", "stake", "--amount", "0.5", "--unstake-delay", "1d",
    ]); // prettier-ignore
    expect(staked).to.include({
      status: "staked",
      staked: true,
      stake: parseEther("0.5").toString(),
      unstakeDelaySec: "86400",
    });
    await refused(
      ["factory", "stake", "--amount", "0.1", "--unstake-delay", "1h"],
      2,
      /shorter than the factory's current 1d/,
    );
    expect((await ok(["factory", "status"])).stdout).to.match(/staked 0\.5 ETH in the EntryPoint, unstake delay 1d/);
  });

  it("account status shows watchdogs, fleet budgets and the EntryPoint deposit; session list labels its budgets", async function () {
    const watchdog = Wallet.createRandom().address;
    await ok(["watchdog", "add", account, watchdog]);
    await ok(["fleet", "set", account, "TUSD:period=20000/24h,lifetime=200000"]);
    const status = await json<{
      watchdogs: string[];
      fleet: Record<string, string>[];
      entryPointDeposit: { amount: string };
    }>(["account", "status", account]);
    expect(status.watchdogs).to.deep.equal([watchdog]);
    expect(status.fleet).to.have.length(1);
    expect(status.fleet[0]).to.include({ token: "TUSD", periodCap: "20000", period: "1d", lifetime: "200000" });
    expect(status.entryPointDeposit.amount).to.match(/^\d+(\.\d+)?$/);
    const text = (await ok(["account", "status", account])).stdout;
    expect(text).to.match(/watchdogs:\s+0x[0-9a-fA-F]{40}/);
    expect(text).to.match(/fleet budgets:\s+TUSD 20000\/1d \(.* left\), lifetime 200000/);
    expect(text).to.match(/EntryPoint deposit:\s+[\d.]+ ETH/);
    const list = (await ok(["session", "list", account])).stdout;
    expect(list).to.match(/TUSD: instant up to 100, queued up to 5000, 10000\/1d \(.* left\), lifetime 100000/);
  });

  it("reins monitor: start-up checks exit 2; no alert on an allow-listed payee; pauses on a real new recipient", async function () {
    const watchdog = Wallet.createRandom();
    await connection.ethers.provider.send("hardhat_setBalance", [watchdog.address, toBeHex(parseEther("1"))]);
    const wd = { REINS_WATCHDOG_KEY: watchdog.privateKey };
    const acc = (
      await json<{ account: string }>(["account", "create", "--salt", "11", "--prefund", "1", "--security-delay", "0s"])
    ).account;
    await (await token.mint(acc, 1000n * TUSD)).wait();
    const [payA, payB, stranger] = [
      Wallet.createRandom().address,
      Wallet.createRandom().address,
      Wallet.createRandom().address,
    ];
    const listed = await json<{ sessionId: string }>([
      "session", "grant", acc, "--agent", agent.address, "--allow-transfer", `TUSD:${payA},${payB}`, "--budget", "TUSD:instant=10",
    ]); // prettier-ignore
    const open = await json<{ sessionId: string }>([
      "session", "grant", acc, "--agent", agent.address, "--allow-transfer", "TUSD:*", "--budget", "TUSD:instant=10",
    ]); // prettier-ignore
    const state = join(dir, "monitor-state.json");
    const args = ["monitor", acc, "--state", state, "--poll-ms", "100"];

    // Start-up checks: one line, exit 2, nothing sent.
    await refused(args, 2, /is not a watchdog of .*reins watchdog add/, wd);
    await ok(["watchdog", "add", acc, watchdog.address]);
    const bad = join(dir, "bad-record.json");
    const rec = JSON.parse(readFileSync(join(dir, "deployments", "31337.json"), "utf8")) as {
      contracts: Record<string, string>;
    };
    writeFileSync(bad, JSON.stringify({ ...rec, contracts: { ...rec.contracts, ReinsTimelock: stranger } }));
    await refused([...args, "--deployment", bad], 2, /no code at ReinsTimelock/, wd);
    await refused(["monitor", stranger, "--state", state], 2, /unknown account .*no code/, wd);
    await refused([...args, "--rpc", "ftp://x"], 2, /--rpc: must be http/, wd);

    // Run it (REINS_RPC_URL only, addresses from the record).
    const child = spawnReins(args, { cwd: dir, env: { ...env(), ...wd } });
    const lines = jsonLines(child);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const exited = closed(child);
    const waitFor = async (pred: (l: Record<string, unknown>) => boolean, what: string, ms = 30_000) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const found = lines.find(pred);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`monitor: no ${what} line; stderr: ${stderr}; lines: ${JSON.stringify(lines).slice(0, 2000)}`);
    };
    try {
      const seeded = await waitFor((l) => l.event === "seeded-recipients", "seeded-recipients");
      expect(seeded.recipients).to.have.members([payA, payB]);
      await waitFor((l) => l.event === "cursor-initialised", "cursor-initialised");
      const sessions = await connection.ethers.getContractAt("AgentSessions", record().AgentSessions);

      // payA, then payB (allow-listed, never paid before): no alert, no pause.
      await ok(["agent", "pay", acc, listed.sessionId, "TUSD", payA, "3"]);
      await ok(["agent", "pay", acc, listed.sessionId, "TUSD", payB, "3"]);
      const spends = () => lines.filter((l) => l.event === "saw" && l.name === "SpendRecorded");
      await waitFor(() => spends().length >= 2, "two SpendRecorded");
      const saw = spends()[1];
      expect(saw.amountUnits).to.equal("3 TUSD");
      await new Promise((r) => setTimeout(r, 500));
      expect(
        lines.filter((l) => l.event === "alert"),
        "no alert for allow-listed payees",
      ).to.deep.equal([]);
      expect(await sessions.isPaused(acc)).to.equal(false);

      // A payment to a recipient on no allow-list (the open session): alert and pause.
      await ok(["agent", "pay", acc, open.sessionId, "TUSD", stranger, "3"]);
      const alert = await waitFor((l) => l.event === "alert", "alert");
      expect(alert.rule).to.equal("new-recipient");
      expect(String(alert.message)).to.include("paid 3 TUSD to never-seen");
      await waitFor((l) => l.event === "paused", "paused");
      expect(await sessions.isPaused(acc)).to.equal(true);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).to.equal(0);
  });
});

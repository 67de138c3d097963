/**
 * The `reins` CLI end to end: Hardhat's in-process chain served over HTTP on loopback, and `bin/reins.mjs` run as a
 * separate process for every command (in a temporary operator folder with its own `deployments/` and
 * `reins.config.json`). Checks outputs (`--json` parsed), exit codes, one-line errors, and that refused or bad
 * input changes nothing on chain (same block number).
 */
import { CONTRACT_NAMES } from "../../src/deploy/plan.js";
import { expect } from "chai";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { JsonRpcProvider, Wallet, getAddress, parseEther, toBeHex } from "ethers";
import { COMMANDS } from "../../src/cli/main.js";
import { AgentSession, DirectSender, ReinsError, executeQueued, findQueued } from "../../src/client/index.js";
import { ReinsTimelock__factory, type MockERC20 } from "../../types/ethers-contracts/index.js";
import { killAllCli } from "../helpers/cli.js";
import { deployedContracts, operatorCli, operatorFolder, startHttpChain, type HttpChain } from "../helpers/operator.js";

const TUSD = 10n ** 6n;
const DEV_WARNING = /^reins: warning: --security-delay 0s: loosening changes .* apply at once/m;

describe("reins CLI (separate process)", function () {
  let chain: HttpChain | undefined;
  let connection: HttpChain["connection"];
  let rpcUrl: string;
  let dir: string;
  let token: MockERC20;
  let tokenAddress: string;
  let account: string;
  let sessionId: string;
  const deployer = Wallet.createRandom();
  const owner = Wallet.createRandom();
  const agent = Wallet.createRandom();
  const recipients = [Wallet.createRandom().address, Wallet.createRandom().address];
  const stranger = Wallet.createRandom().address;

  const env = () => ({
    REINS_RPC_URL: rpcUrl,
    REINS_DEPLOYER_KEY: deployer.privateKey,
    REINS_OWNER_KEY: owner.privateKey,
    REINS_AGENT_KEY: agent.privateKey,
  });

  const block = () => connection.ethers.provider.getBlockNumber();
  const { reins, ok, json, refused } = operatorCli({ dir: () => dir, env, block });

  /** Reins addresses from the operator folder's deployment record (after `reins deploy`). */
  const record = () => deployedContracts(dir);

  before(async function () {
    chain = await startHttpChain([deployer, owner, agent]);
    ({ connection, rpcUrl } = chain);
    const { ethers } = connection;
    token = (await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6])) as unknown as MockERC20;
    tokenAddress = await token.getAddress();
    dir = operatorFolder("reins-cli-", { TUSD: tokenAddress });
  });

  after(async function () {
    killAllCli();
    await chain?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("--help exits 0 for every command and group", async function () {
    const groups = [...new Set(COMMANDS.filter((c) => c.path.length > 1).map((c) => c.path[0]))];
    const invocations = [
      ["--help"],
      ["help"],
      ...COMMANDS.map((c) => [...c.path, "--help"]),
      ...groups.map((g) => [g, "--help"]),
    ];
    const runs = await Promise.all(invocations.map((args) => reins(args)));
    runs.forEach((r, i) => {
      expect(r.code, `reins ${invocations[i].join(" ")}: ${r.stderr}`).to.equal(0);
      expect(r.stdout).to.match(/^Usage: reins/);
      expect(r.stderr).to.equal("");
    });
    const grantHelp = runs[invocations.findIndex((a) => a[0] === "session" && a[1] === "grant")].stdout;
    expect(grantHelp).to.include("--allow-transfer").and.include("Exit codes");
  });

  it("deploys deterministically; the second run deploys nothing", async function () {
    const first = await json<{ deployed: string[]; chainId: number; file: string }>(["deploy"]);
    expect(first.deployed).to.deep.equal([...CONTRACT_NAMES]);
    expect(first.file).to.equal(join(dir, "deployments", "31337.json"));
    const record = readFileSync(first.file, "utf8");
    const second = await ok(["deploy"]);
    expect(second.stdout).to.match(/^nothing deployed/);
    expect(readFileSync(first.file, "utf8")).to.equal(record);
  });

  it("creates an account and reports its status", async function () {
    // This dev-chain account opts out of the security delay (grants below apply at once), and the CLI warns.
    const run = await ok(["account", "create", "--prefund", "1", "--security-delay", "0s", "--json"]);
    expect(run.stderr).to.match(DEV_WARNING);
    const created = JSON.parse(run.stdout) as { account: string; status: string; owner: string; securityDelay: string };
    expect(created.status).to.equal("created");
    expect(created.owner).to.equal(owner.address);
    expect(created.securityDelay).to.equal("0");
    account = created.account;
    const again = await json<{ status: string }>(["account", "create", "--prefund", "1", "--security-delay", "0s"]);
    expect(again.status).to.equal("exists");
    await (await token.mint(account, 100_000n * TUSD)).wait();

    const status = await json<{
      owner: string;
      paused: boolean;
      modules: Record<string, boolean>;
      balances: { symbol: string; balance: string }[];
    }>(["account", "status", account]);
    expect(status.owner).to.equal(owner.address);
    expect(status.paused).to.equal(false);
    const text = await ok(["account", "status", account]);
    expect(text.stdout).to.match(/security delay:\s+0s \(WARNING: loosening changes apply at once\)/);
    expect(status.modules).to.include({
      ownerValidator: true,
      sessionsValidator: true,
      sessionsExecutor: true,
      timelock: true,
    });
    expect(status.balances.find((b) => b.symbol === "TUSD")?.balance).to.equal("100000");
  });

  it("account create defaults the security delay to 1d (no warning); the help says so", async function () {
    const run = await ok(["account", "create", "--salt", "3", "--prefund", "0.1", "--json"]);
    expect(run.stderr).to.equal("");
    const created = JSON.parse(run.stdout) as { account: string; securityDelay: string };
    expect(created.securityDelay).to.equal("86400");
    const sessions = await connection.ethers.getContractAt("AgentSessions", record().AgentSessions);
    expect((await sessions.accountConfig(created.account)).securityDelay).to.equal(86_400n);
    const status = await json<{ securityDelay: string }>(["account", "status", created.account]);
    expect(status.securityDelay).to.equal("86400");
    // A grant on it waits the delay.
    const pending = await json<{ status: string; readyAt: string }>([
      "session", "grant", created.account, "--agent", agent.address, "--allow-transfer", `TUSD:${recipients[0]}`,
    ]); // prettier-ignore
    expect(pending.status).to.equal("pending");
    const changeHash = (pending as unknown as { changeHash: string }).changeHash;
    await refused(["change", "apply", created.account, changeHash], 2, /waits the security delay until/);
    await connection.ethers.provider.send("evm_increaseTime", [86_401]);
    await connection.ethers.provider.send("evm_mine", []);
    const applied = await json<{ status: string; sessionId: string }>(["change", "apply", created.account, changeHash]);
    expect(applied.status).to.equal("applied");
    const after = await json<{ sessions: { sessionId: string; status: string }[] }>([
      "session",
      "list",
      created.account,
    ]);
    expect(after.sessions.map((x) => [x.sessionId, x.status])).to.deep.equal([[applied.sessionId, "active"]]);
    await refused(["change", "apply", created.account, changeHash], 2, /no change .* is pending/);
    const help = await ok(["account", "create", "--help"]);
    expect(help.stdout)
      .to.match(/--security-delay .*default 1d/)
      .and.match(/--on-recovery/);
  });

  it("grants and lists a session", async function () {
    const granted = await json<{ sessionId: string; agent: string; status: string }>([
      "session", "grant", account,
      "--agent", agent.address,
      "--valid-for", "30d",
      "--allow-transfer", `TUSD:${recipients.join(",")}`,
      "--budget", "TUSD:instant=100,ceiling=1000,period=2000/24h,lifetime=10000",
      "--gas-per-op", "0.05",
      "--gas-total", "1",
    ]); // prettier-ignore
    expect(granted.status).to.equal("granted");
    expect(getAddress(granted.agent)).to.equal(agent.address);
    sessionId = granted.sessionId;
    const listed = await json<{
      sessions: { sessionId: string; status: string; budgets: { token: string; instant: string }[] }[];
    }>(["session", "list", account]);
    expect(listed.sessions).to.have.length(1);
    expect(listed.sessions[0]).to.include({ sessionId, status: "active" });
    expect(listed.sessions[0].budgets[0]).to.include({ token: "TUSD", instant: "100" });
  });

  it("agent pay: executed, queued (delayed and approval), refused with exit code 3", async function () {
    const dry = await json<{ outcome: string }>([
      "agent",
      "pay",
      account,
      sessionId,
      "TUSD",
      recipients[0],
      "40",
      "--dry-run",
    ]);
    expect(dry.outcome).to.equal("execute");

    const paid = await json<{ status: string }>(["agent", "pay", account, sessionId, "TUSD", recipients[0], "50.5"]);
    expect(paid.status).to.equal("executed");
    expect(await token.balanceOf(recipients[0])).to.equal(50_500_000n);

    const delayed = await json<{ status: string; tier: string; requestId: string }>([
      "agent",
      "pay",
      account,
      sessionId,
      "TUSD",
      recipients[1],
      "500",
    ]);
    expect(delayed).to.include({ status: "queued", tier: "delayed" });
    const approval = await ok(["agent", "pay", account, sessionId, "TUSD", recipients[1], "1500"]);
    expect(approval.stdout).to.match(/^queued \(approval\): 1500 TUSD .* over the limit of 1000 TUSD/);
    expect(await token.balanceOf(recipients[1])).to.equal(0n);

    const queue = await json<{ queue: { id: string; tier: string; state: string; what: string }[] }>([
      "queue",
      "list",
      account,
    ]);
    expect(queue.queue.map((q) => q.tier)).to.deep.equal(["delayed", "approval"]);
    expect(queue.queue[1].what).to.equal(`transfer 1500 TUSD to ${recipients[1]}`);

    // Refused by the policy: recipient outside the scope, and a token without permission.
    const scope = await refused(["agent", "pay", account, sessionId, "TUSD", stranger, "1"], 3, /refused: condition/);
    expect(scope).to.include("argument condition");
    await refused(["agent", "pay", account, sessionId, "ETH", recipients[0], "0.1"], 3, /refused: scope/);
    const r = await reins(["agent", "pay", account, sessionId, "TUSD", stranger, "1", "--json"]);
    expect(r.code).to.equal(3);
    expect(JSON.parse(r.stdout)).to.include({ status: "refused", rule: "condition" });

    // The owner cancels the delayed one and, after the delay, approves and runs the other.
    await ok(["queue", "cancel", account, delayed.requestId]);
    await connection.ethers.provider.send("evm_increaseTime", [3601]);
    await connection.ethers.provider.send("evm_mine", []);
    const approved = await ok(["queue", "approve", account, queue.queue[1].id]);
    expect(approved.stdout).to.match(/^approved and executed: transfer 1500 TUSD/);
    expect(await token.balanceOf(recipients[1])).to.equal(1500n * TUSD);
    const after = await json<{ queue: unknown[] }>(["queue", "list", account]);
    expect(after.queue).to.have.length(0);
  });

  it("value budgets: grant --value-budget --price, value set/status; a payment above $20 is queued though TUSD allows it", async function () {
    const granted = await json<{ sessionId: string; status: string; value: { status: string } }>([
      "session", "grant", account,
      "--agent", agent.address,
      "--allow-transfer", `TUSD:${recipients.join(",")}`,
      "--budget", "TUSD:instant=100,ceiling=1000,period=2000/24h",
      "--value-budget", "USD:instant=20,ceiling=200,period=500/24h",
      "--price", "TUSD=1",
    ]); // prettier-ignore
    expect([granted.status, granted.value.status]).to.deep.equal(["granted", "applied"]);
    const id = granted.sessionId;
    type Status = {
      sessionBudget: { unit: string; instant: string; periodLeft: string };
      accountBudget?: unknown;
      prices: { kind: string; rate: string }[];
    };
    let status = await json<Status>(["value", "status", account, id]);
    expect(status.sessionBudget).to.include({ unit: "USD", instant: "20", periodLeft: "500" });
    expect(status.accountBudget).to.equal(undefined);
    expect(status.prices[0]).to.include({ kind: "Fixed", rate: "1" });
    const queued = await json<{ status: string; tier: string }>([
      "agent",
      "pay",
      account,
      id,
      "TUSD",
      recipients[0],
      "30",
    ]);
    expect(queued).to.include({ status: "queued", tier: "delayed" });
    const paid = await json<{ status: string }>(["agent", "pay", account, id, "TUSD", recipients[0], "10"]);
    expect(paid.status).to.equal("executed");
    status = await json<Status>(["value", "status", account, id]);
    expect(status.sessionBudget.periodLeft).to.equal("490");
    // lowering applies at once (security delay 0 here anyway); the account's budget over all sessions
    const set = await json<{ status: string }>(["value", "set", account, "account", "USD:instant=50,period=1000/24h"]);
    expect(set.status).to.equal("applied");
    expect(
      (await json<{ accountBudget: { instant: string } }>(["value", "status", account])).accountBudget.instant,
    ).to.equal("50");
    // bad input: one line, exit 2, nothing sent
    await refused(["value", "set", account, id, "USD:instant=20"], 2, /needs period=CAP\/DURATION/);
    await refused(
      ["value", "set", account, id, "--price", `TUSD=feed:${stranger}`],
      2,
      /sanity bounds min=PRICE and max=PRICE/,
    );
    await refused(["value", "set", account, id, "--price", "TUSD=oracle"], 2, /unknown source/);
    await refused(["value", "set", account, id], 2, /give a value budget/);
  });

  it("a watchdog pause refuses agents (exit 3) until the owner unpauses", async function () {
    const watchdog = Wallet.createRandom();
    await connection.ethers.provider.send("hardhat_setBalance", [watchdog.address, toBeHex(parseEther("1"))]);
    const wd = { REINS_WATCHDOG_KEY: watchdog.privateKey };
    await refused(["pause", account], 2, /not a watchdog/, wd);
    await ok(["watchdog", "add", account, watchdog.address]);
    const paused = await json<{ status: string; by: string }>(["pause", account], wd);
    expect(paused).to.include({ status: "paused", by: "watchdog" });
    await refused(["agent", "pay", account, sessionId, "TUSD", recipients[0], "1"], 3, /refused: paused/);
    await ok(["unpause", account]);
    await ok(["agent", "pay", account, sessionId, "TUSD", recipients[0], "1", "--dry-run"]);
  });

  it("watch add/list/remove: the account's watched assets (budgeted tokens are watched already)", async function () {
    const listed = await json<{ watched: string[] }>(["watch", "list", account]);
    expect(listed.watched).to.include(getAddress(String(token.target)));
    const other = await connection.ethers.deployContract("MockERC20", ["Other", "OTH", 18]);
    const added = await json<{ added: string[] }>(["watch", "add", account, String(other.target)]);
    expect(added.added).to.deep.equal([getAddress(String(other.target))]);
    expect((await json<{ watched: string[] }>(["watch", "list", account])).watched).to.include(
      getAddress(String(other.target)),
    );
    await refused(["watch", "add", account, "0x000000000000000000000000000000000000dEaD"], 2, /has no code/);
    const removed = await ok(["watch", "remove", account, String(other.target)]);
    expect(removed.stdout).to.match(/no longer watched|pending until/);
  });

  it("refuses bad input with one line, exit code 2 and no transaction", async function () {
    await refused(["agent", "pay", account, sessionId, "TUSD", "0x1234", "1"], 2, /recipient: not an address: 0x1234/);
    await refused(["agent", "pay", account, sessionId, "TUSD", recipients[0], "1.1234567"], 2, /more than 6 decimals/);
    await refused(
      [
        "session",
        "grant",
        account,
        "--agent",
        agent.address,
        "--allow-transfer",
        `TUSD:${recipients[0]}`,
        "--budget",
        "TUSD:instant=0.0000001",
      ],
      2,
      /more than 6 decimals/,
    );
    await refused(["budget", "set", account, sessionId, "TUSD:instant=1.1234567"], 2, /more than 6 decimals/);
    await refused(["account", "status", stranger], 2, /unknown account .*no code/);
    await refused(["session", "revoke", stranger, sessionId], 2, /unknown account .*no code/);
    await refused(
      ["session", "grant", account, "--agent", "0xnope", "--allow-transfer", "TUSD:*"],
      2,
      /--agent: not an address/,
    );
    await refused(["agent", "pay", account, sessionId, "DOGE", recipients[0], "1"], 2, /unknown token "DOGE"/);
    await refused(["session", "list", account, "--rpc", "ftp://x"], 2, /--rpc: must be http/);
    await refused(["session", "frobnicate"], 2, /unknown command/);
    await refused(["session", "revoke", account, sessionId, "--bogus"], 2, /Unknown option '--bogus'/);

    // Wrong network: a deployment record for chain 1.
    const record = JSON.parse(readFileSync(join(dir, "deployments", "31337.json"), "utf8")) as { chainId: number };
    const other = join(dir, "other-chain.json");
    writeFileSync(other, JSON.stringify({ ...record, chainId: 1 }));
    await refused(["session", "list", account, "--deployment", other], 2, /wrong network: .* chain 1, .* chain 31337/);

    // A key that is not the owner's.
    await refused(["session", "revoke", account, sessionId], 2, /is not|but the owner of/, {
      REINS_OWNER_KEY: agent.privateKey,
    });
  });

  it("recovery: guardians sign, propose, complete after the delay", async function () {
    const guardians = [Wallet.createRandom(), Wallet.createRandom()];
    const newOwner = Wallet.createRandom().address;
    const created = await json<{ account: string }>([
      "account", "create", "--salt", "7", "--prefund", "0.5",
      "--guardian", guardians.map((g) => g.address).join(","), "--threshold", "2", "--recovery-delay", "1d",
    ]); // prettier-ignore
    const acc = created.account;
    expect((created as { onRecovery?: string[] }).onRecovery).to.deep.equal([
      "AgentSessions.revokeAllSessions()",
      "ReinsTimelock.cancelAll()",
    ]);
    const status = await json<{ installed: boolean; threshold: number; guardians: string[] }>([
      "recovery",
      "status",
      acc,
    ]);
    expect(status).to.include({ installed: true, threshold: 2 });
    expect(status.guardians).to.have.members(guardians.map((g) => g.address));

    const sigs: string[] = [];
    for (const g of guardians) {
      sigs.push(
        (
          await ok(["recovery", "sign", acc, "--new-owner", newOwner], { REINS_GUARDIAN_KEY: g.privateKey })
        ).stdout.trim(),
      );
    }
    const sender = { REINS_SENDER_KEY: deployer.privateKey };
    await refused(
      ["recovery", "propose", acc, "--new-owner", newOwner, "--sig", sigs[0]],
      2,
      /need 2 guardian signatures, got 1/,
      sender,
    );
    await ok(["recovery", "propose", acc, "--new-owner", newOwner, "--sig", sigs[1], "--sig", sigs[0]], sender);
    await refused(["recovery", "complete", acc], 2, /cannot complete before/, sender);
    await connection.ethers.provider.send("evm_increaseTime", [86_401]);
    await connection.ethers.provider.send("evm_mine", []);
    await ok(["recovery", "complete", acc], sender);
    const after = await json<{ owner: string; pendingRecovery: unknown }>(["recovery", "status", acc]);
    expect(after.owner).to.equal(newOwner);
    expect(after.pendingRecovery).to.equal(null);
  });

  it("recovery through the CLI revokes the old agent and clears its queue; the new owner controls the account; nothing is lost", async function () {
    const { ethers } = connection;
    const guardians = [Wallet.createRandom(), Wallet.createRandom(), Wallet.createRandom()];
    const newOwner = Wallet.createRandom();
    const sender = { REINS_SENDER_KEY: deployer.privateKey };

    // 1. Account with 2-of-3 guardians, default on-recovery calls (shown), dev-chain security delay.
    const createRun = await ok([
      "account", "create", "--salt", "21", "--prefund", "1", "--security-delay", "0s",
      "--guardian", guardians.map((g) => g.address).join(","), "--threshold", "2", "--recovery-delay", "1d", "--json",
    ]); // prettier-ignore
    expect(createRun.stderr).to.match(DEV_WARNING);
    const created = JSON.parse(createRun.stdout) as { account: string; onRecovery: string[] };
    const acc = created.account;
    expect(created.onRecovery).to.deep.equal(["AgentSessions.revokeAllSessions()", "ReinsTimelock.cancelAll()"]);
    const rstatus = await ok(["recovery", "status", acc]);
    expect(rstatus.stdout).to.match(
      /on recovery:\s+AgentSessions\.revokeAllSessions\(\), ReinsTimelock\.cancelAll\(\)/,
    );
    await (await token.mint(acc, 10_000n * TUSD)).wait();

    // 2. The agent gets a session, pays once, and queues a delayed payment.
    const granted = await json<{ sessionId: string; status: string }>([
      "session", "grant", acc, "--agent", agent.address, "--valid-for", "30d",
      "--allow-transfer", `TUSD:${recipients.join(",")}`, "--budget", "TUSD:instant=100,ceiling=1000",
      "--approval-window", "7d",
    ]); // prettier-ignore
    expect(granted.status).to.equal("granted");
    const sid = granted.sessionId;
    expect(await json<{ status: string }>(["agent", "pay", acc, sid, "TUSD", recipients[0], "50"])).to.include({
      status: "executed",
    });
    const queued = await json<{ status: string; tier: string; requestId: string }>([
      "agent", "pay", acc, sid, "TUSD", recipients[1], "500",
    ]); // prettier-ignore
    expect(queued).to.include({ status: "queued", tier: "delayed" });

    // 3. Snapshot of what could be lost.
    const snapshot = async () => ({
      accountTusd: await token.balanceOf(acc),
      accountEth: await ethers.provider.getBalance(acc),
      r0: await token.balanceOf(recipients[0]),
      r1: await token.balanceOf(recipients[1]),
    });
    const before = await snapshot();

    // 4. Two guardians sign, anyone proposes; after the delay the queued payment is Ready; anyone completes.
    const sigs: string[] = [];
    for (const g of [guardians[0], guardians[2]]) {
      const signed = await ok(["recovery", "sign", acc, "--new-owner", newOwner.address], {
        REINS_GUARDIAN_KEY: g.privateKey,
      });
      sigs.push(signed.stdout.trim());
    }
    await ok(["recovery", "propose", acc, "--new-owner", newOwner.address, "--sig", sigs[0], "--sig", sigs[1]], sender);
    await ethers.provider.send("evm_increaseTime", [86_401]);
    await ethers.provider.send("evm_mine", []);
    const ready = await json<{ queue: { id: string; state: string }[] }>(["queue", "list", acc]);
    expect(ready.queue.map((q) => [q.id, q.state])).to.deep.equal([[queued.requestId, "ready"]]);
    const done = await ok(["recovery", "complete", acc], sender);
    expect(done.stdout).to.match(new RegExp(`the owner of ${acc} is now ${newOwner.address}`));

    // 5a. The old agent's payment is refused: by the CLI (nothing sent) and on chain (the library, no checks first).
    await refused(["agent", "pay", acc, sid, "TUSD", recipients[0], "1"], 3, /refused: revoked: .*no longer exists/);
    const listed = await json<{ sessions: { sessionId: string; status: string }[] }>(["session", "list", acc]);
    expect(listed.sessions.map((s) => [s.sessionId, s.status])).to.deep.equal([[sid, "stale"]]);
    const provider = new JsonRpcProvider(rpcUrl);
    try {
      const oldAgent = new AgentSession({
        agent: new Wallet(agent.privateKey, provider),
        account: acc,
        sessionId: sid,
        sessions: record().AgentSessions,
        sender: new DirectSender(new Wallet(deployer.privateKey, provider)),
      });
      const call = {
        target: tokenAddress,
        data: token.interface.encodeFunctionData("transfer", [recipients[0], 1n * TUSD]),
      };
      let sent: unknown;
      try {
        sent = await oldAgent.send(call);
      } catch (e) {
        sent = e;
      }
      expect(sent, "the old agent's operation must be refused").to.be.instanceOf(ReinsError);

      // 5b. Its queued request was cancelled and cannot execute (anyone may try).
      const all = await json<{ queue: { id: string; state: string }[] }>(["queue", "list", acc, "--all"]);
      expect(all.queue.map((q) => [q.id, q.state])).to.deep.equal([[queued.requestId, "cancelled"]]);
      expect((await json<{ queue: unknown[] }>(["queue", "list", acc])).queue).to.have.length(0);
      const timelock = ReinsTimelock__factory.connect(
        record().ReinsTimelock,
        new Wallet(deployer.privateKey, provider),
      );
      let executed: unknown;
      try {
        executed = await executeQueued(timelock, acc, await findQueued(timelock, acc, queued.requestId));
      } catch (e) {
        executed = e;
      }
      expect(executed, "the cancelled request must not execute").to.be.instanceOf(ReinsError);
    } finally {
      provider.destroy();
    }

    // 5c. Nothing was lost.
    expect(await snapshot()).to.deep.equal(before);

    // 5d. The old owner key is refused; the new owner controls the account: a new session for a new agent pays.
    await refused(["watchdog", "add", acc, stranger], 2, /but the owner of .* is /);
    await ethers.provider.send("hardhat_setBalance", [newOwner.address, toBeHex(parseEther("1"))]);
    const asNew = { REINS_OWNER_KEY: newOwner.privateKey };
    expect((await json<{ owner: string }>(["account", "status", acc])).owner).to.equal(newOwner.address);
    const newAgent = Wallet.createRandom();
    await ethers.provider.send("hardhat_setBalance", [newAgent.address, toBeHex(parseEther("1"))]);
    const regrant = await json<{ sessionId: string; status: string }>(
      ["session", "grant", acc, "--agent", newAgent.address, "--allow-transfer", `TUSD:${recipients[0]}`,
       "--budget", "TUSD:instant=100"], asNew,
    ); // prettier-ignore
    expect(regrant.status).to.equal("granted");
    const paid = await json<{ status: string }>(
      ["agent", "pay", acc, regrant.sessionId, "TUSD", recipients[0], "10"],
      { REINS_AGENT_KEY: newAgent.privateKey },
    ); // prettier-ignore
    expect(paid.status).to.equal("executed");
    expect(await token.balanceOf(recipients[0])).to.equal(before.r0 + 10n * TUSD);
  });

  it("account create --on-recovery none installs no follow-up calls and says so", async function () {
    const g = Wallet.createRandom().address;
    const run = await ok([
      "account",
      "create",
      "--salt",
      "22",
      "--prefund",
      "0.1",
      "--guardian",
      g,
      "--on-recovery",
      "none",
    ]);
    expect(run.stdout).to.match(/on recovery:\s+nothing \(sessions and queue survive a recovery\)/);
    await refused(["account", "create", "--salt", "23", "--on-recovery", "none"], 2, /--on-recovery needs --guardian/);
    await refused(
      ["account", "create", "--salt", "23", "--guardian", g, "--on-recovery", "maybe"],
      2,
      /--on-recovery: expected revoke-all or none/,
    );
  });

  it("an expired session is refused with one line and exit code 3, like a revoked one", async function () {
    const short = await json<{ sessionId: string }>([
      "session", "grant", account, "--agent", agent.address, "--valid-for", "1h",
      "--allow-transfer", `TUSD:${recipients[0]}`, "--budget", "TUSD:instant=10",
    ]); // prettier-ignore
    await connection.ethers.provider.send("evm_increaseTime", [3700]);
    await connection.ethers.provider.send("evm_mine", []);
    await refused(
      ["agent", "pay", account, short.sessionId, "TUSD", recipients[0], "1"],
      3,
      /refused: validity window: session .* expired at/,
    );

    const revoked = await json<{ status: string }>(["session", "revoke", account, sessionId]);
    expect(revoked.status).to.equal("revoked");
    await refused(["agent", "pay", account, sessionId, "TUSD", recipients[0], "1"], 3, /refused: revoked/);
    const listed = await json<{ sessions: { sessionId: string; status: string }[] }>(["session", "list", account]);
    const statusOf = (id: string) => listed.sessions.find((s) => s.sessionId === id)?.status;
    expect([statusOf(sessionId), statusOf(short.sessionId)]).to.deep.equal(["revoked", "expired"]);
  });
});

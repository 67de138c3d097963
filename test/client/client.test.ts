import { expect } from "chai";
import { network } from "hardhat";
import { ZeroHash, parseEther, zeroPadValue } from "ethers";
import {
  AccountPaused,
  AgentSession,
  ChangePending,
  DEFAULT_SECURITY_DELAY,
  ReinsOwner,
  defaultRecoveryCalls,
  policy,
  NoBudget,
  ReinsError,
  ScopeViolation,
  SessionExpired,
  SessionRevoked,
  ConditionFailed,
} from "../../src/client/index.js";
import { MODULE_TYPE_EXECUTOR, MODULE_TYPE_VALIDATOR } from "../../src/account/encoding.js";
import { counterfactualAccount, randomWallet } from "../helpers/reins.js";
import { clientWorld, grantPayments, pay, paymentsPolicy, type ClientWorld } from "./fixture.js";

const { ethers, networkHelpers, provider: rpc } = await network.create();
const HOUR = 3600n;

async function expectReject<T extends ReinsError>(p: Promise<unknown>, cls: new (...a: never[]) => T): Promise<T> {
  try {
    await p;
  } catch (e) {
    expect(e, `expected ${cls.name}, got ${(e as Error).name}: ${(e as Error).message}`).to.be.instanceOf(cls);
    return e as T;
  }
  throw new Error(`expected ${cls.name}, but it resolved`);
}

describe("Reins client: owner and agent", function () {
  let w: ClientWorld;
  let agent: AgentSession;

  beforeEach(async function () {
    w = await clientWorld(ethers);
    agent = await grantPayments(w);
  });

  it("createAccount deploys at the counterfactual address with sessions, timelock and the canceller", async function () {
    const helper = await counterfactualAccount(w.core, w.ownerKey, [
      {
        moduleTypeId: MODULE_TYPE_VALIDATOR,
        module: w.deployment.sessions,
        initData: ethers.AbiCoder.defaultAbiCoder().encode(["uint32"], [0]),
      },
      {
        moduleTypeId: MODULE_TYPE_EXECUTOR,
        module: w.deployment.sessions,
        initData: ethers.AbiCoder.defaultAbiCoder().encode(["uint32"], [0]),
      },
      { moduleTypeId: MODULE_TYPE_EXECUTOR, module: w.deployment.timelock, initData: "0x" },
    ]);
    expect(w.account).to.equal(helper.address);
    expect(await w.owner.predictAddress({ securityDelay: 0 })).to.equal(w.account);
    expect(await w.owner.predictAddress({ securityDelay: 0, salt: "0x" + "01".repeat(32) })).to.not.equal(w.account);
    expect(await ethers.provider.getCode(w.account)).to.not.equal("0x");
    const account = await ethers.getContractAt("ReinsAccount", w.account);
    expect(await account.isModuleInstalled(MODULE_TYPE_VALIDATOR, w.deployment.sessions, "0x")).to.equal(true);
    expect(await account.isModuleInstalled(MODULE_TYPE_EXECUTOR, w.deployment.timelock, "0x")).to.equal(true);
    expect(await w.timelock.isCanceller(w.account, w.deployment.sessions)).to.equal(true);
  });

  it("an instant payment: preflight says execute and send executes it", async function () {
    expect(await agent.preflight(pay(w, w.recipients[0], 50n))).to.deep.equal({ outcome: "execute" });
    const r = await agent.send(pay(w, w.recipients[0], 50n));
    expect(r.status).to.equal("executed");
    if (r.status !== "executed") return;
    expect(r.gasUsed > 0n).to.equal(true);
    expect(await w.token.balanceOf(w.recipients[0])).to.equal(50n * 10n ** 6n);
  });

  it("a payment above the instant threshold is queued (delayed) and runs after the delay", async function () {
    const pre = await agent.preflight(pay(w, w.recipients[1], 500n));
    expect(pre).to.deep.equal({
      outcome: "queue",
      tier: "delayed",
      token: w.tokenAddress,
      amount: 500n * 10n ** 6n,
      limit: 100n * 10n ** 6n,
    });
    const r = await agent.send(pay(w, w.recipients[1], 500n));
    if (r.status !== "queued") throw new Error("expected queued");
    expect(r.tier).to.equal("delayed");
    expect([r.token, r.amount, r.limit]).to.deep.equal([w.tokenAddress, 500n * 10n ** 6n, 100n * 10n ** 6n]);
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    expect(r.earliestExecution).to.equal(now + HOUR);
    expect(r.expiresAt).to.equal(now + HOUR + 24n * HOUR);
    expect(await w.token.balanceOf(w.recipients[1])).to.equal(0n);

    const queue = await w.owner.listQueue();
    expect(queue.map((q) => [q.id, q.state, q.tier, q.sessionId])).to.deep.equal([
      [r.requestId, "scheduled", "delayed", agent.sessionId],
    ]);
    await expectReject(agent.executeQueued(r.requestId, w.core.deployer), ReinsError); // not ready yet
    await networkHelpers.time.increase(HOUR + 1n);
    expect((await w.owner.listQueue())[0].state).to.equal("ready");
    await agent.executeQueued(r.requestId, w.core.deployer);
    expect(await w.token.balanceOf(w.recipients[1])).to.equal(500n * 10n ** 6n);
    expect((await w.owner.listQueue())[0].state).to.equal("executed");
  });

  it("a payment above the ceiling waits for the owner; approveQueued runs it", async function () {
    const pre = await agent.preflight(pay(w, w.recipients[2], 1_500n));
    expect(pre).to.deep.equal({
      outcome: "queue",
      tier: "approval",
      token: w.tokenAddress,
      amount: 1_500n * 10n ** 6n,
      limit: 1_000n * 10n ** 6n,
    });
    const r = await agent.send(pay(w, w.recipients[2], 1_500n));
    if (r.status !== "queued") throw new Error("expected queued");
    expect(r.tier).to.equal("approval");
    await networkHelpers.time.increase(2n * HOUR);
    expect((await w.owner.listQueue({ states: ["scheduled"] })).map((q) => q.id)).to.deep.equal([r.requestId]);
    await w.owner.approveQueued(r.requestId);
    expect(await w.token.balanceOf(w.recipients[2])).to.equal(1_500n * 10n ** 6n);
    expect((await w.owner.listQueue())[0].state).to.equal("executed");
  });

  it("the owner can cancel a queued request", async function () {
    const r = await agent.send(pay(w, w.recipients[1], 500n));
    if (r.status !== "queued") throw new Error("expected queued");
    await w.owner.cancelQueued(r.requestId);
    expect((await w.owner.listQueue())[0].state).to.equal("cancelled");
  });

  it("an out-of-scope call: preflight refuses with ScopeViolation and send throws it", async function () {
    const attacker = randomWallet().address;
    const approve = {
      target: w.tokenAddress,
      data: w.token.interface.encodeFunctionData("approve", [attacker, 10n ** 12n]),
    };
    const pre = await agent.preflight(approve);
    if (pre.outcome !== "refuse") throw new Error("expected refuse");
    expect(pre.error).to.be.instanceOf(ScopeViolation);
    const sv = pre.error as ScopeViolation;
    expect([sv.index, sv.target, sv.selector]).to.deep.equal([0n, w.tokenAddress, "0x095ea7b3"]);
    const e = await expectReject(agent.send(approve), ScopeViolation);
    expect(e.name).to.equal("ScopeViolation");
    expect(e.rule).to.equal("scope");
    expect(e.included).to.equal(undefined); // refused in validation: nothing was included
  });

  it("a transfer to a recipient outside the allow-list fails its condition", async function () {
    const pre = await agent.preflight(pay(w, randomWallet().address, 1n));
    if (pre.outcome !== "refuse") throw new Error("expected refuse");
    expect(pre.error).to.be.instanceOf(ConditionFailed);
    await expectReject(agent.send(pay(w, randomWallet().address, 1n)), ConditionFailed);
  });

  it("an expired session: preflight refuses and send throws SessionExpired (AA22)", async function () {
    const short = await grantPayments(w, (b) => b.validFor("1h"));
    expect((await short.preflight(pay(w, w.recipients[0], 1n))).outcome).to.equal("execute");
    await networkHelpers.time.increase(2n * HOUR);
    const pre = await short.preflight(pay(w, w.recipients[0], 1n));
    if (pre.outcome !== "refuse") throw new Error("expected refuse");
    expect(pre.error).to.be.instanceOf(SessionExpired);
    const e = await expectReject(short.send(pay(w, w.recipients[0], 1n)), SessionExpired);
    expect(String(e.details.reason)).to.match(/^AA22/);
    const listed = (await w.owner.listSessions()).find((s) => s.sessionId === short.sessionId);
    expect(listed?.status).to.equal("expired");
  });

  it("a revoked session throws SessionRevoked; listSessions reports it", async function () {
    await w.owner.revokeSession(agent.sessionId);
    const pre = await agent.preflight(pay(w, w.recipients[0], 1n));
    if (pre.outcome !== "refuse") throw new Error("expected refuse");
    expect(pre.error).to.be.instanceOf(SessionRevoked);
    const e = await expectReject(agent.send(pay(w, w.recipients[0], 1n)), SessionRevoked);
    expect(e.sessionId).to.equal(agent.sessionId);
    const [info] = await w.owner.listSessions();
    expect([info.sessionId, info.agent, info.status]).to.deep.equal([agent.sessionId, w.agentKey.address, "revoked"]);
  });

  it("the agent can revoke itself", async function () {
    await w.core.deployer.sendTransaction({ to: w.agentKey.address, value: 10n ** 18n });
    await agent.revokeSelf();
    await expectReject(agent.send(pay(w, w.recipients[0], 1n)), SessionRevoked);
  });

  it("a paused account throws AccountPaused until the owner unpauses", async function () {
    const [, , , , , watchdog] = await ethers.getSigners();
    await w.owner.setWatchdog(watchdog.address);
    await (await w.sessions.connect(watchdog).pause(w.account, false)).wait();
    const pre = await agent.preflight(pay(w, w.recipients[0], 1n));
    if (pre.outcome !== "refuse") throw new Error("expected refuse");
    expect(pre.error).to.be.instanceOf(AccountPaused);
    const e = await expectReject(agent.send(pay(w, w.recipients[0], 1n)), AccountPaused);
    expect(e.account).to.equal(w.account);
    await w.owner.unpause();
    expect((await agent.send(pay(w, w.recipients[0], 1n))).status).to.equal("executed");
  });

  it("the owner's pause through the client refuses agent ops too", async function () {
    await w.owner.pause();
    await expectReject(agent.send(pay(w, w.recipients[0], 1n)), AccountPaused);
  });

  it("a token without a budget: preflight refuses NoBudget, send is refused in validation with it (no gas paid)", async function () {
    const other = await ethers.deployContract("MockERC20", ["Other", "OTH", 18]);
    await (await other.mint(w.account, 10n ** 21n)).wait();
    const otherAgent = await grantPayments(w, (b) => b.allowTransfer(String(other.target), { to: w.recipients }));
    const call = {
      target: String(other.target),
      data: other.interface.encodeFunctionData("transfer", [w.recipients[0], 1n]),
    };
    const pre = await otherAgent.preflight(call);
    if (pre.outcome !== "refuse") throw new Error("expected refuse");
    expect(pre.error).to.be.instanceOf(NoBudget);
    const balance = await ethers.provider.getBalance(w.account);
    const e = await expectReject(otherAgent.send(call), NoBudget);
    expect(e.token).to.equal(other.target);
    expect(e.included, "refused before inclusion").to.equal(undefined);
    expect(await ethers.provider.getBalance(w.account)).to.equal(balance);
  });

  it("a two-token preflight reads the tiers from the module's previewOperation (round trips counted)", async function () {
    const two = await grantPayments(w, (b) =>
      b
        .allowTransfer("ETH", { to: w.recipients, max: "1" })
        .budget("ETH", { instant: "0.01", ceiling: "0.1", perPeriod: "0.2", period: "24h", lifetime: "1" }),
    );
    const calls = [pay(w, w.recipients[0], 500n), { target: w.recipients[1], value: 10n ** 15n }];
    const methods: string[] = [];
    const request = rpc.request.bind(rpc);
    rpc.request = async (args: { method: string; params?: unknown[] | object }) => {
      methods.push(args.method);
      return request(args);
    };
    let pre;
    try {
      pre = await two.preflight(calls);
    } finally {
      rpc.request = request;
    }
    expect(pre).to.deep.equal({
      outcome: "queue",
      tier: "delayed",
      token: w.tokenAddress,
      amount: 500n * 10n ** 6n,
      limit: 100n * 10n ** 6n,
    });
    // buildOperation's reads, the validation eth_call, one previewOperation eth_call; no log scan, no budgetOf
    expect(methods).to.not.include("eth_getLogs");
    console.log(`      two-token preflight: ${methods.length} round trips (${methods.join(", ")})`);
    expect(methods.length).to.be.at.most(8);
  });

  it("preflight's tier follows the remaining period budget", async function () {
    // 2,000 per day: after 1,950 spent (instant + delayed executed), 100 more exceeds the period cap → approval
    for (let i = 0; i < 19; i++) await agent.send(pay(w, w.recipients[0], 100n));
    await agent.send(pay(w, w.recipients[0], 50n));
    const pre = await agent.preflight(pay(w, w.recipients[0], 100n));
    expect(pre).to.deep.equal({
      outcome: "queue",
      tier: "approval",
      token: w.tokenAddress,
      amount: 100n * 10n ** 6n,
      limit: 50n * 10n ** 6n,
    });
    const r = await agent.send(pay(w, w.recipients[0], 100n));
    expect(r.status === "queued" && r.tier).to.equal("approval");
  });

  it("listSessions lists every session with its status and a renewal shortens one", async function () {
    const second = await grantPayments(w, (b) => b.validFor("2h"));
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const outcome = await w.owner.renewSession(second.sessionId, now + 60n);
    expect(outcome.status).to.equal("applied");
    const list = await w.owner.listSessions();
    expect(list.map((s) => [s.sessionId, s.status])).to.deep.equal([
      [agent.sessionId, "active"],
      [second.sessionId, "active"],
    ]);
    expect(list[1].validUntil).to.equal(now + 60n);
    expect(list[0].uses).to.equal(0n);
  });

  it("with a security delay a grant is pending until applyChange", async function () {
    const delayed = await clientWorld(ethers);
    // raise the delay: tightening applies at once
    await delayed.owner.execute({
      target: delayed.deployment.sessions,
      data: delayed.sessions.interface.encodeFunctionData("setSecurityDelay", [HOUR]),
    });
    const err = await expectReject(grantPayments(delayed), ReinsError);
    expect(err.name).to.equal("ChangePending");
    const change = (err.details as { data: string }).data;
    await networkHelpers.time.increase(HOUR + 1n);
    const { sessionId } = await delayed.owner.applyChange(change);
    expect(sessionId).to.match(/^0x[0-9a-f]{64}$/);
    expect(sessionId).to.not.equal(ZeroHash);
  });
});

describe("Reins client: account creation defaults", function () {
  let w: ClientWorld;
  let recovery: string;

  before(async function () {
    w = await clientWorld(ethers);
    recovery = String((await ethers.deployContract("GuardianRecovery")).target);
  });

  /** A second owner on the same deployment (with GuardianRecovery), so every account is new. */
  function freshOwner() {
    return new ReinsOwner({
      owner: randomWallet().connect(ethers.provider),
      provider: ethers.provider,
      deployment: { ...w.deployment, recovery },
      sender: w.sender,
    });
  }
  const prefund = () => ({ from: w.core.deployer, value: parseEther("1") });

  it("createAccount defaults the security delay to one day: accountConfig says 86400 and a grant waits", async function () {
    expect(DEFAULT_SECURITY_DELAY).to.equal(86_400n);
    const owner = freshOwner();
    const { account } = await owner.createAccount({ prefund: prefund() });
    expect((await w.sessions.accountConfig(account)).securityDelay).to.equal(86_400n);
    expect(await owner.predictAddress()).to.equal(account);
    expect(await owner.predictAddress({ securityDelay: 0 })).to.not.equal(account);
    await w.token.mint(account, 1000n * 10n ** 6n);
    const config = await paymentsPolicy(w).build({ provider: ethers.provider, account, tokens: w.tokens });
    const err = await expectReject(owner.grantSession(config), ChangePending);
    expect(err.change.readyAt - BigInt((await ethers.provider.getBlock("latest"))!.timestamp)).to.equal(86_400n);
  });

  it("an explicit securityDelay: 0 is honoured (grants apply at once)", async function () {
    const owner = freshOwner();
    const { account } = await owner.createAccount({ securityDelay: 0, prefund: prefund() });
    expect((await w.sessions.accountConfig(account)).securityDelay).to.equal(0n);
    const config = await paymentsPolicy(w).build({ provider: ethers.provider, account, tokens: w.tokens });
    expect(await owner.grantSession(config)).to.match(/^0x[0-9a-f]{64}$/);
    // and "1h" is honoured as given
    const hourly = freshOwner();
    const created = await hourly.createAccount({ securityDelay: "1h", prefund: prefund() });
    expect((await w.sessions.accountConfig(created.account)).securityDelay).to.equal(HOUR);
  });

  it("guardians: by default a recovery revokes every session and clears the queue; an explicit list replaces it", async function () {
    const gr = await ethers.getContractAt("GuardianRecovery", recovery);
    const guardians = [randomWallet().address, randomWallet().address];
    const owner = freshOwner();
    const { account } = await owner.createAccount({ guardians: { guardians, threshold: 2 }, prefund: prefund() });
    const installed = (await gr.onRecoveryCallsOf(account)).map((c) => ({ target: c.target, data: c.data }));
    expect(installed).to.deep.equal(defaultRecoveryCalls(w.deployment));
    expect(installed.map((c) => c.data)).to.deep.equal([
      w.sessions.interface.getFunction("revokeAllSessions").selector,
      w.timelock.interface.getFunction("cancelAll").selector,
    ]);
    expect(installed.map((c) => c.target)).to.deep.equal([w.deployment.sessions, w.deployment.timelock]);
    expect(await gr.thresholdOf(account)).to.equal(2n);
    expect(await gr.delaysOf(account)).to.deep.equal([2n * 86_400n, 86_400n, 7n * 86_400n]);

    const bare = freshOwner();
    const created = await bare.createAccount({ guardians: { guardians, onRecovery: [] }, prefund: prefund() });
    expect(await gr.onRecoveryCallsOf(created.account)).to.deep.equal([]);
    expect(await gr.thresholdOf(created.account)).to.equal(2n); // default threshold: all guardians
  });

  it("guardians without a GuardianRecovery in the deployment are refused before anything is sent", async function () {
    const owner = new ReinsOwner({
      owner: randomWallet().connect(ethers.provider),
      provider: ethers.provider,
      deployment: w.deployment,
      sender: w.sender,
    });
    const before = await ethers.provider.getBlockNumber();
    await expectReject(owner.createAccount({ guardians: { guardians: [randomWallet().address] } }), ReinsError);
    expect(await ethers.provider.getBlockNumber()).to.equal(before);
  });
});

describe("Reins client: offset pins hold on chain", function () {
  it("a condition behind an ABI offset (record(bytes) length) is pinned: the canonical call runs, a moved one is refused", async function () {
    const w = await clientWorld(ethers);
    const target = await ethers.deployContract("RecordingTarget");
    const targetAddress = String(target.target);
    const config = await policy()
      .agent(w.agentKey.address)
      .validFor("1d")
      .allowCall(targetAddress, { fn: "record(bytes)", conditions: [{ word: 1, atMost: 4n }] })
      .build({ provider: ethers.provider, account: w.account });
    const perm = config.permissions[0];
    expect(perm.conditions.map((c) => [Number(c.op), Number(c.word), BigInt(c.value as string)])).to.deep.equal([
      [2, 1, 4n], // AtMost: the length word
      [1, 0, 0x20n], // Equal: the offset of `data`, canonical
    ]);
    const sessionId = await w.owner.grantSession(config);
    const agent = new AgentSession({
      agent: w.agentKey,
      account: w.account,
      sessionId,
      sessions: w.deployment.sessions,
      sender: w.sender,
    });
    const canonical = target.interface.encodeFunctionData("record", ["0x12345678"]);
    expect((await agent.send({ target: targetAddress, data: canonical })).status).to.equal("executed");
    expect(await target.count()).to.equal(1n);

    // The same function with `data` moved behind offset 0x40: word 1 is a decoy "length" 4, the real data is 64
    // bytes. Solidity decodes it (the target would record 64 bytes); the pinned offset refuses it.
    const long = "0x" + "ee".repeat(64);
    const honest = target.interface.encodeFunctionData("record", [long]);
    const forged =
      honest.slice(0, 10) +
      zeroPadValue("0x40", 32).slice(2) +
      zeroPadValue("0x04", 32).slice(2) +
      honest.slice(10 + 64);
    expect(target.interface.decodeFunctionData("record", forged)[0]).to.equal(long);
    await expectReject(agent.send({ target: targetAddress, data: forged }), ConditionFailed);
    expect(await target.count()).to.equal(1n);
  });
});

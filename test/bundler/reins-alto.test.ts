/**
 * Reins end to end through a real bundler: Alto (`@pimlico/alto`) in front of Hardhat's chain, EntryPoint v0.8,
 * the deterministic Reins deployment, and the client library (`ReinsOwner`, `AgentSession`) on `BundlerSender`.
 *
 * What it shows: the account is deployed by its first operation (initCode) through Alto; owner operations; agent
 * operations (single, batch, queued tier and its later timelock execution) with gas from
 * `eth_estimateUserOperationGas` under the stub session signature; policy refusals come back from Alto as the
 * typed client errors; estimates are enough and within 25 % of the gas used; send→receipt latency.
 */
import { expect } from "chai";
import { artifacts } from "hardhat";
import { Wallet, parseEther, toBeHex, type Signer } from "ethers";
import {
  AgentSession,
  BundlerSender,
  ConditionFailed,
  GasBudgetExceeded,
  NoBudget,
  QueueStateError,
  ReinsOwner,
  ScopeViolation,
  policy,
  type GasEstimate,
  type OperationResultRaw,
  type OperationSender,
  type ReinsDeployment,
} from "../../src/client/index.js";
import type { UserOperationGasEstimate } from "../../src/bundler/client.js";
import { UserOperationRejected } from "../../src/bundler/errors.js";
import { deployReins } from "../../src/deploy/deploy.js";
import { signSessionOp, stubSessionSignature } from "../../src/session/signature.js";
import { executeCalldata, wrapExecuteUserOp, type Call } from "../../src/account/encoding.js";
import { getUserOpHash, type UserOperation } from "../../src/userop/userop.js";
import { gasBreakdown } from "../../scripts/bench/breakdown.js";
import { IEntryPoint__factory, ReinsAccount__factory, type MockERC20 } from "../../types/ethers-contracts/index.js";
import { startBundlerEnv, type BundlerEnv } from "../helpers/alto.js";
import { randomWallet } from "../helpers/reins.js";

const UNIT = 10n ** 6n; // TUSD has 6 decimals
const HOUR = 3600n;
/** Per-operation gas cap of the "stingy" session: far below what any agent op's limits cost at current fees. */
const STINGY_PER_OP = 10n ** 12n;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  expect.fail("expected a rejection");
}

/** One estimated-and-sent operation: what Alto suggested, what the client used, what the EntryPoint charged. */
interface GasSample {
  kind: string;
  bundler: UserOperationGasEstimate;
  used: GasEstimate;
  actualGasUsed: bigint;
  /**
   * Verification gas as the EntryPoint counts it against verificationGasLimit (its own bookkeeping included):
   * actualGasUsed − preVerificationGas − the `innerHandleOp` frame (no unused-gas penalty applies: see the test).
   */
  verificationUsed: bigint;
  /** Of which the validation calls themselves (SenderCreator.createSender + account.validateUserOp). */
  validationCalls: bigint;
  /** Gas of the execution call (EntryPoint → account), from the trace. */
  callUsed: bigint;
  /** The whole execution phase (`innerHandleOp` frame, the account call plus the EntryPoint's accounting). */
  innerHandleOp: bigint;
}

const EP_LABEL = "EntryPoint";
const ACCOUNT_LABEL = "Account";

/**
 * Split a single-operation bundle's gas by phase from its struct-log trace: the EntryPoint's calls before
 * `innerHandleOp` are the validation phase (factory, account); its call to the account inside it is the call phase.
 */
async function phaseGas(
  provider: BundlerEnv["provider"],
  txHash: string,
  entryPoint: string,
  account: string,
  actualGasUsed: bigint,
  preVerificationGas: bigint,
): Promise<Pick<GasSample, "verificationUsed" | "validationCalls" | "callUsed" | "innerHandleOp">> {
  const tree = await gasBreakdown(provider, txHash, {
    addresses: new Map([
      [entryPoint.toLowerCase(), EP_LABEL],
      [account.toLowerCase(), ACCOUNT_LABEL],
    ]),
    interfaces: [IEntryPoint__factory.createInterface(), ReinsAccount__factory.createInterface()],
  });
  const handleOps = tree.children[1];
  // The EntryPoint's only call to itself is `innerHandleOp` (not in IEntryPoint, so labelled by selector).
  const inner = handleOps.children.filter((c) => c.label.startsWith(`${EP_LABEL}.`));
  expect(inner, "one operation per bundle").to.have.length(1);
  const innerAt = handleOps.children.indexOf(inner[0]);
  const validationCalls = handleOps.children.slice(0, innerAt).reduce((sum, c) => sum + c.inclusive, 0);
  // The call phase: the EntryPoint's call to the account (`executeUserOp` for agents, `execute` for the owner).
  const exec = inner[0].children.find((c) => c.label.startsWith(`${ACCOUNT_LABEL}.`));
  if (!exec) throw new Error(`no executeUserOp frame in ${txHash}`);
  const innerHandleOp = BigInt(inner[0].inclusive);
  return {
    verificationUsed: actualGasUsed - preVerificationGas - innerHandleOp,
    validationCalls: BigInt(validationCalls),
    callUsed: BigInt(exec.inclusive),
    innerHandleOp,
  };
}

describe("Alto bundler × Reins (client library, EntryPoint v0.8)", function () {
  this.timeout(120_000);

  let env: BundlerEnv;
  let deployer: Signer;
  let deployment: ReinsDeployment;
  let token: MockERC20;
  let tokenAddress: string;
  let sender: BundlerSender;
  let recorder: RecordingSender;
  let owner: ReinsOwner;
  let agent: AgentSession;
  let stingy: AgentSession;
  let token2: MockERC20;
  let token2Address: string;
  const ownerKey = randomWallet();
  const agentKey = randomWallet();
  const recipients = [Wallet.createRandom().address, Wallet.createRandom().address];
  const samples: GasSample[] = [];
  let lastEstimate: { bundler: UserOperationGasEstimate; used: GasEstimate } | undefined;

  const pay = (to: string, whole: bigint): Call => ({
    target: tokenAddress,
    data: token.interface.encodeFunctionData("transfer", [to, whole * UNIT]),
  });

  const pay2 = (to: string, whole: bigint): Call => ({
    target: token2Address,
    data: token2.interface.encodeFunctionData("transfer", [to, whole * UNIT]),
  });

  /** An agent op for `calls` with fixed gas limits, signed by the agent (no estimate). */
  async function signedAgentOp(calls: Call | Call[], gas: Partial<UserOperation>): Promise<UserOperation> {
    const op = { ...(await agent.buildOperation(calls)), ...gas };
    const hash = getUserOpHash(op, sender.entryPoint, env.chainId);
    return {
      ...op,
      signature: signSessionOp(
        agentKey.signingKey,
        { chainId: env.chainId, sessions: deployment.sessions },
        hash,
        agent.sessionId,
      ),
    };
  }

  /** Run `action` (one operation), then record its estimate against the gas the EntryPoint reported. */
  async function measured<T>(kind: string, action: () => Promise<T>): Promise<T> {
    lastEstimate = undefined;
    recorder.last = undefined;
    const result = await action();
    const sent = recorder.last as { op: UserOperation; result: OperationResultRaw } | undefined;
    const estimate = lastEstimate as { bundler: UserOperationGasEstimate; used: GasEstimate } | undefined;
    if (!sent || !estimate) throw new Error(`no estimate or operation recorded for ${kind}`);
    expect(sent.result.success, `${kind} succeeded`).to.equal(true);
    // The operation went out with exactly the limits the client derived from the estimate.
    expect([sent.op.preVerificationGas, sent.op.verificationGasLimit, sent.op.callGasLimit]).to.deep.equal([
      estimate.used.preVerificationGas,
      estimate.used.verificationGasLimit,
      estimate.used.callGasLimit,
    ]);
    const phases = await phaseGas(
      env.provider,
      sent.result.txHash,
      sender.entryPoint,
      sent.op.sender,
      sent.result.actualGasUsed,
      sent.op.preVerificationGas,
    );
    samples.push({ kind, ...estimate, actualGasUsed: sent.result.actualGasUsed, ...phases });
    return result;
  }

  before(async function () {
    env = await startBundlerEnv();
    [deployer] = await env.ethers.getSigners();
    const { addresses } = await deployReins(deployer, { artifacts, deploymentsDir: null });
    deployment = {
      factory: addresses.ReinsAccountFactory,
      ownerValidator: addresses.OwnerValidator,
      sessions: addresses.AgentSessions,
      timelock: addresses.ReinsTimelock,
    };
    token = (await env.ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6], deployer)) as unknown as MockERC20;
    tokenAddress = await token.getAddress();
    token2 = (await env.ethers.deployContract("MockERC20", ["Other USD", "OUSD", 6], deployer)) as unknown as MockERC20;
    token2Address = await token2.getAddress();
    sender = new BundlerSender(env.bundlerUrl, {
      pollMs: 10,
      receiptTimeoutMs: 20_000,
      onEstimate: (_op, bundler, used) => (lastEstimate = { bundler, used }),
    });
    recorder = new RecordingSender(sender);
    owner = new ReinsOwner({ owner: ownerKey, provider: env.provider, deployment, sender: recorder });
  });

  after(async function () {
    if (samples.length) {
      console.log(
        "      gas per op kind: limits the client sent vs gas used (EntryPoint actualGasUsed; phases from the trace)",
      );
      for (const s of samples) {
        const u = s.used;
        const limits = u.preVerificationGas + u.verificationGasLimit + u.callGasLimit;
        const alto = s.bundler.preVerificationGas + s.bundler.verificationGasLimit + s.bundler.callGasLimit;
        console.log(
          `        ${s.kind.padEnd(24)} Σ limits ${limits} / used ${s.actualGasUsed} = ${pct(limits, s.actualGasUsed)}` +
            ` (Alto's own Σ ${pct(alto, s.actualGasUsed)});` +
            ` vgl ${u.verificationGasLimit} / verification ${s.verificationUsed} = ${pct(u.verificationGasLimit, s.verificationUsed)}` +
            ` (validation calls ${s.validationCalls});` +
            ` cgl ${u.callGasLimit} / call ${s.callUsed} = ${pct(u.callGasLimit, s.callUsed)}; pvg ${u.preVerificationGas}`,
        );
      }
    }
    await env?.stop();
  });

  it("deploys the account through initCode with the owner's first operation (ReinsOwner.createAccount)", async function () {
    const predicted = await owner.predictAddress({ securityDelay: 0 });
    expect(await env.provider.getCode(predicted)).to.equal("0x");
    const created = await measured("owner: create account", () =>
      owner.createAccount({ securityDelay: 0, prefund: { from: deployer, value: parseEther("10") } }),
    );
    expect(created.account).to.equal(predicted);
    expect(await env.provider.getCode(predicted)).to.not.equal("0x");
    expect(await owner.timelock.isCanceller(predicted, deployment.sessions)).to.equal(true);
    await (await token.mint(predicted, 1_000_000n * UNIT)).wait();
    await (await token2.mint(predicted, 1_000_000n * UNIT)).wait();
  });

  /** TUSD payments to `recipients` (instant ≤ 100, delayed ≤ 1,000); OUSD transfers allowed but unbudgeted. */
  const payments = (key: Wallet) =>
    policy()
      .agent(key.address)
      .validFor("30d")
      .maxUses(1000)
      .gas({ perOp: "0.01", total: "1" })
      .queue({ delay: "1h", approvalWindow: "24h" })
      .allowTransfer("TUSD", { to: recipients, max: "1000000" })
      .allowTransfer("OUSD", { to: recipients })
      .budget("TUSD", { instant: "100", ceiling: "1000", perPeriod: "100000", period: "24h" });
  const buildContext = () => ({
    provider: env.provider,
    account: owner.account,
    tokens: {
      TUSD: { address: tokenAddress, decimals: 6 },
      OUSD: { address: token2Address, decimals: 6 },
    },
  });

  it("runs owner operations: grants sessions", async function () {
    const config = await payments(agentKey).build(buildContext());
    let sessionId = "";
    await measured("owner: grant session", async () => (sessionId = await owner.grantSession(config)));
    agent = new AgentSession({
      agent: agentKey.connect(env.provider),
      account: owner.account,
      sessionId,
      sessions: deployment.sessions,
      sender: recorder,
    });
    const stingyKey = randomWallet();
    const stingyId = await owner.grantSession(
      await payments(stingyKey).gas({ perOp: STINGY_PER_OP, total: "1" }).build(buildContext()),
    );
    stingy = new AgentSession({
      agent: stingyKey.connect(env.provider),
      account: owner.account,
      sessionId: stingyId,
      sessions: deployment.sessions,
      sender: recorder,
    });
    expect((await owner.listSessions()).map((s) => [s.sessionId, s.status])).to.deep.equal([
      [sessionId, "active"],
      [stingyId, "active"],
    ]);
  });

  it("an instant agent payment, estimated by Alto with the stub session signature", async function () {
    const r = await measured("agent: instant", () => agent.send(pay(recipients[0], 5n)));
    expect(r.status).to.equal("executed");
    expect(await token.balanceOf(recipients[0])).to.equal(5n * UNIT);
  });

  it("a batch agent operation", async function () {
    const r = await measured("agent: batch of 2", () => agent.send([pay(recipients[0], 1n), pay(recipients[1], 2n)]));
    expect(r.status).to.equal("executed");
    expect(await token.balanceOf(recipients[1])).to.equal(2n * UNIT);
  });

  it("a queued-tier agent payment, then its timelock execution after the delay (seen by Alto)", async function () {
    const r = await measured("agent: queued", () => agent.send(pay(recipients[1], 500n)));
    if (r.status !== "queued") throw new Error(`expected queued, got ${r.status}`);
    expect([r.tier, r.amount, r.limit]).to.deep.equal(["delayed", 500n * UNIT, 100n * UNIT]);
    expect(await token.balanceOf(recipients[1])).to.equal(2n * UNIT);

    const [queued] = await owner.listQueue({ states: ["scheduled"] });
    expect(queued.id).to.equal(r.requestId);
    const execute: Call = {
      target: deployment.timelock,
      data: owner.timelock.interface.encodeFunctionData("execute", [
        owner.account,
        queued.id,
        queued.mode,
        queued.executionCalldata,
      ]),
    };
    // Before the delay, Alto's simulation refuses it with the timelock's typed state error.
    const early = await rejection(owner.execute(execute));
    expect(early, String(early)).to.be.instanceOf(QueueStateError);
    expect((early as QueueStateError).state).to.equal("scheduled");

    await env.provider.send("evm_increaseTime", [toBeHex(HOUR + 1n)]);
    await env.provider.send("evm_mine", []);
    expect((await owner.listQueue())[0].state).to.equal("ready");
    // Run it as an owner operation through Alto: its simulation must see the advanced chain time.
    await measured("owner: timelock.execute", () => owner.execute(execute));
    expect(await token.balanceOf(recipients[1])).to.equal(502n * UNIT);
    expect((await owner.listQueue())[0].state).to.equal("executed");
  });

  it("an out-of-scope agent op is refused by eth_estimateUserOperationGas as a typed ScopeViolation", async function () {
    const approve: Call = {
      target: tokenAddress,
      data: token.interface.encodeFunctionData("approve", [recipients[0], 1n]),
    };
    const e = await rejection(agent.send(approve));
    expect(e, String(e)).to.be.instanceOf(ScopeViolation);
    const sv = e as ScopeViolation;
    expect([sv.rule, sv.index, sv.target, sv.selector]).to.deep.equal(["scope", 0n, tokenAddress, "0x095ea7b3"]);
    expect(sv.included).to.equal(undefined);
    // The bundler's own rejection stays reachable for diagnostics.
    expect(sv.cause).to.be.instanceOf(UserOperationRejected);
    expect((sv.cause as UserOperationRejected).method).to.equal("eth_estimateUserOperationGas");
  });

  it("an out-of-scope op sent with a real signature is refused by eth_sendUserOperation (AA23), typed", async function () {
    const calls = pay(Wallet.createRandom().address, 1n); // recipient outside the allow-list
    const op = await signedAgentOp(calls, { callGasLimit: 200_000n, verificationGasLimit: 200_000n });
    const e = await rejection(sender.send(op));
    expect(e, String(e)).to.be.instanceOf(ConditionFailed);
    const cf = e as ConditionFailed;
    expect([cf.rule, cf.index, cf.condition]).to.deep.equal(["condition", 0n, 0n]);
    const raw = cf.cause as UserOperationRejected;
    expect(raw).to.be.instanceOf(UserOperationRejected);
    expect([raw.method, raw.aaCode]).to.deep.equal(["eth_sendUserOperation", "AA23"]);
  });

  it("stub-signature estimation runs the same scope checks: in scope estimates, out of scope fails", async function () {
    const stub = stubSessionSignature(agent.sessionId);
    const inScope = { ...(await agent.buildOperation(pay(recipients[0], 1n))), signature: stub };
    const est = await sender.estimate(inScope);
    expect(est.verificationGasLimit > 0n && est.callGasLimit > 0n).to.equal(true);
    const outOfScope = { ...(await agent.buildOperation(pay(recipients[0], 1n))), signature: stub };
    outOfScope.callData = wrapExecuteUserOp(
      executeCalldata({
        target: tokenAddress,
        data: token.interface.encodeFunctionData("approve", [recipients[0], 1n]),
      }),
    );
    const e = await rejection(sender.estimate(outOfScope));
    expect(e, String(e)).to.be.instanceOf(ScopeViolation);
  });

  it("a payment in a token the session has no budget for is refused in validation as a typed NoBudget", async function () {
    const e = await rejection(agent.send(pay2(recipients[0], 1n)));
    expect(e, String(e)).to.be.instanceOf(NoBudget);
    expect((e as NoBudget).token).to.equal(token2Address);
    // Default deny in validation: Alto's estimate simulation fails validation (-32500), so nothing is included
    // and the account pays no gas.
    const raw = (e as NoBudget).cause as UserOperationRejected;
    expect([raw.method, raw.code]).to.deep.equal(["eth_estimateUserOperationGas", -32500]);
  });

  it("an op whose gas limits exceed the session's per-op gas cap is refused as a typed GasBudgetExceeded", async function () {
    const e = await rejection(stingy.send(pay(recipients[0], 1n)));
    expect(e, String(e)).to.be.instanceOf(GasBudgetExceeded);
    // Alto estimates with maxFeePerGas = 1 and, when its second check with the real fees fails validation (AA23),
    // silently doubles verificationGasLimit instead of failing: the refusal only comes from eth_sendUserOperation.
    const raw = (e as GasBudgetExceeded).cause as UserOperationRejected;
    expect([raw.method, raw.aaCode]).to.deep.equal(["eth_sendUserOperation", "AA23"]);
    const g = e as GasBudgetExceeded;
    expect(g.perOpCap).to.equal(STINGY_PER_OP);
    expect(g.cost > g.perOpCap).to.equal(true);
  });

  it("estimates are enough and within 25 % of the gas used, per op kind", async function () {
    expect(samples.map((s) => s.kind)).to.include.members([
      "owner: create account",
      "owner: grant session",
      "agent: instant",
      "agent: batch of 2",
      "agent: queued",
      "owner: timelock.execute",
    ]);
    for (const s of samples) {
      const u = s.used;
      const limits = u.preVerificationGas + u.verificationGasLimit + u.callGasLimit;
      // Enough: every op succeeded (checked in `measured`) and each phase fits its own limit.
      expect(u.verificationGasLimit >= s.verificationUsed, `${s.kind}: verification fits`).to.equal(true);
      expect(u.callGasLimit >= s.callUsed, `${s.kind}: call fits`).to.equal(true);
      // No unused-call-gas penalty (EntryPoint v0.8 bills 10 % of unused call gas above 40k).
      expect(u.callGasLimit - s.callUsed < 40_000n, `${s.kind}: unused call gas under the penalty threshold`).to.equal(
        true,
      );
      // What the client adds on top of the bundler: 10 % of the call gas (at most 15k), nothing else.
      expect(u.verificationGasLimit).to.equal(s.bundler.verificationGasLimit);
      expect(u.preVerificationGas).to.equal(s.bundler.preVerificationGas);
      const margin = (s.bundler.callGasLimit * 10n) / 100n;
      expect(u.callGasLimit).to.equal(s.bundler.callGasLimit + (margin < 15_000n ? margin : 15_000n));
      const ratio = Number(limits) / Number(s.actualGasUsed);
      if (s.kind === "owner: create account") {
        // Verification (factory deploy + initialize + validation) is ~75 % of this op, and Alto's verification
        // limit is 1.3 × (--v7-verification-gas-limit-multiplier, default 130) the verification gas of its own
        // simulation, which is itself ~10 % above what the EntryPoint counts on chain: vgl ≈ 1.43 × used
        // verification, Alto's own Σ ≈ 127 % of the gas used. The client's margin adds < 1 % of the used gas.
        expect(Number(u.verificationGasLimit) / Number(s.verificationUsed), `${s.kind}: vgl slack`).to.be.within(
          1.25,
          1.5,
        );
        expect(Number(u.callGasLimit - s.bundler.callGasLimit) / Number(s.actualGasUsed)).to.be.below(0.01);
        expect(ratio, `${s.kind}: Σ limits / actualGasUsed`).to.be.at.most(1.3);
      } else {
        expect(ratio, `${s.kind}: Σ limits / actualGasUsed`).to.be.at.most(1.25);
      }
    }
  });

  it("20 sequential agent payments: median send→receipt latency", async function () {
    const sendMs: number[] = [];
    const totalMs: number[] = [];
    const timed = new RecordingSender(sender, sendMs);
    const fast = new AgentSession({
      agent: agentKey.connect(env.provider),
      account: owner.account,
      sessionId: agent.sessionId,
      sessions: deployment.sessions,
      sender: timed,
    });
    const before = await token.balanceOf(recipients[0]);
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const r = await fast.send(pay(recipients[0], 1n));
      totalMs.push(performance.now() - t0);
      expect(r.status).to.equal("executed");
    }
    expect(await token.balanceOf(recipients[0])).to.equal(before + 20n * UNIT);
    const m = median(sendMs);
    console.log(
      `      20 agent ops: send→receipt median ${m.toFixed(0)} ms (min ${Math.min(...sendMs).toFixed(0)}, max ${Math.max(...sendMs).toFixed(0)});` +
        ` whole AgentSession.send (nonce, fees, estimate, sign, send, receipt) median ${median(totalMs).toFixed(0)} ms`,
    );
    expect(sendMs).to.have.length(20);
    expect(m).to.be.lessThan(2_000);
  });
});

/**
 * Delegates to a {@link BundlerSender}; remembers the last operation sent with its result, and how long each
 * `send` (eth_sendUserOperation → receipt) took.
 */
class RecordingSender implements OperationSender {
  readonly entryPoint: string;
  last?: { op: UserOperation; result: OperationResultRaw };
  constructor(
    private readonly inner: BundlerSender,
    private readonly sendMs: number[] = [],
  ) {
    this.entryPoint = inner.entryPoint;
  }
  chainId(): Promise<bigint> {
    return this.inner.chainId();
  }
  estimate(op: UserOperation): Promise<GasEstimate> {
    return this.inner.estimate(op);
  }
  async send(op: UserOperation): Promise<OperationResultRaw> {
    const t0 = performance.now();
    const result = await this.inner.send(op);
    this.sendMs.push(performance.now() - t0);
    this.last = { op, result };
    return result;
  }
}

function pct(limit: bigint, used: bigint): string {
  return `${((Number(limit) * 100) / Number(used)).toFixed(1)}%`;
}

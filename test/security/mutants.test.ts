/**
 * Tests that kill mutants a mutation review found surviving (issue 12, item 9). Each `describe` names the rule;
 * each test pins the rule at its boundary (equal = allowed, one unit more = refused or delayed) or asserts the
 * exact arguments of an error or event, so that flipping an operator, a flag or a branch makes a test fail.
 * Agent and owner actions are real UserOperations through the EntryPoint (fixtures in test/helpers/).
 */
import { expect } from "chai";
import { network } from "hardhat";
import {
  AbiCoder,
  Interface,
  ZeroAddress,
  concat,
  dataLength,
  dataSlice,
  type ContractTransactionReceipt,
  type Wallet,
} from "ethers";
import {
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_VALIDATOR,
  accountInterface,
  executeCalldata,
  type Call,
} from "../../src/account/encoding.js";
import type { GuardianRecovery, RiskEngineEnvelope } from "../../types/ethers-contracts/index.js";
import { buildOp, handleOps, randomWallet, signAsOwner, signDigest, userOpEvents } from "../helpers/reins.js";
import {
  DAY,
  HOUR,
  TIER,
  agentOp,
  deploySessionWorld,
  grant,
  ownerCalls,
  parseEvents,
  paymentsConfig,
  sendAgent,
  transferCall,
  type SessionConfig,
  type SessionWorld,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const U = 10n ** 6n;
/** IAgentSessions.ConfigField values used here. */
const FIELD = { ValidUntil: 1n, TightenOnly: 10n } as const;
/** The `which` argument of AgentSessionsBudgetExceeded. */
const WHICH = { Instant: 0n, Ceiling: 1n, Period: 2n, Lifetime: 3n, FleetPeriod: 4n, FleetLifetime: 5n } as const;

type Budget = SessionConfig["budgets"][number];
type NumericField = "instantThreshold" | "ceiling" | "periodCap" | "lifetimeCap";
const NUMERIC: NumericField[] = ["instantThreshold", "ceiling", "periodCap", "lifetimeCap"];

function tokenBudget(w: SessionWorld, b: Partial<Budget> = {}): Budget {
  return {
    token: w.tokenAddress,
    instantThreshold: 100n * U,
    ceiling: 1_000n * U,
    periodCap: 2_000n * U,
    lifetimeCap: 10_000n * U,
    period: DAY,
    ...b,
  };
}

/** `b` with `field` moved by `delta` (other fields kept). */
function bump(b: Budget, field: NumericField | "period", delta: bigint): Budget {
  return { ...b, [field]: BigInt(b[field]) + delta };
}

const sessionsCall = (w: SessionWorld, fn: string, args: unknown[]): Call => ({
  target: w.sessionsAddress,
  data: w.sessions.interface.encodeFunctionData(fn as never, args as never),
});

const ERC20 = new Interface(["function transferFrom(address,address,uint256)", "function approve(address,uint256)"]);

async function ownerOk(w: SessionWorld, calls: Call | Call[]): Promise<ContractTransactionReceipt> {
  const r = await ownerCalls(w, calls);
  expect(r.event.success, r.event.revertReason).to.equal(true);
  return r.receipt;
}

/** The AgentSessions error in revert data: name and arguments. */
function sessionsError(w: SessionWorld, data: string | undefined) {
  expect(data, "no revert reason").to.not.equal(undefined);
  const parsed = w.sessions.interface.parseError(data!);
  expect(parsed, "not an AgentSessions error: " + data).to.not.equal(null);
  return { name: parsed!.name, args: [...parsed!.args] as unknown[] };
}

function perm(target: string, selector: string, calldataLength: bigint) {
  return { target, selector, valueCap: 0n, calldataLength, conditions: [] };
}

async function now(): Promise<bigint> {
  return BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
}

/** Whether an owner `setBudget` / `setFleetBudget` applied at once (true) or was queued as a loosening (false). */
function appliedOrProposed(w: SessionWorld, receipt: ContractTransactionReceipt, appliedEvent: string): boolean {
  const names = parseEvents(w, receipt).map((e) => e.name);
  const applied = names.includes(appliedEvent);
  const proposed = names.includes("ChangeProposed");
  expect(applied !== proposed, `exactly one of ${appliedEvent} / ChangeProposed expected, got ${names}`).to.equal(true);
  return applied;
}

// ------------------------------------------------------------------------------------------ fixtures

/** No security delay while granting; then a one-day delay, so loosening changes are queued. */
async function budgetWorld() {
  const w = await deploySessionWorld(ethers);
  const id = await grant(w, await paymentsConfig(w, { budgets: [tokenBudget(w)] }));
  await ownerOk(w, sessionsCall(w, "setSecurityDelay", [DAY]));
  return { w, id };
}

/** An EOA accepted as grant delegate (no security delay), and a session whose validAfter is in the future. */
async function delegateWorld() {
  const w = await deploySessionWorld(ethers);
  const [, , , , , delegate] = await ethers.getSigners();
  await ownerOk(w, sessionsCall(w, "setGrantDelegate", [delegate.address, true]));
  const t = await now();
  const config = await paymentsConfig(w, {
    validAfter: t + HOUR,
    validUntil: t + DAY,
    budgets: [tokenBudget(w)],
  });
  const id = await w.sessions.connect(delegate).grantSessionFor.staticCall(w.accountAddress, config);
  await (await w.sessions.connect(delegate).grantSessionFor(w.accountAddress, config)).wait();
  const ownerId = await grant(w, config); // the same config granted by the owner, for renewSession
  return { w, delegate, id, ownerId, validAfter: t + HOUR };
}

async function engineWorld() {
  const DELAY = HOUR;
  const w = await deploySessionWorld(ethers, DELAY);
  const envelope = (await ethers.deployContract("RiskEngineEnvelope", [
    w.sessionsAddress,
  ])) as unknown as RiskEngineEnvelope;
  const envelopeAddress = await envelope.getAddress();
  const [, , , , , , engine] = await ethers.getSigners();
  const base = await paymentsConfig(w);
  const env = { maxDuration: 7n * DAY, maxUses: 100n, maxGasBudget: 10n ** 18n, maxGasCostPerOp: 10n ** 16n };
  const setEnvelope = envelope.interface.encodeFunctionData("setEnvelope", [
    engine.address,
    env,
    [w.tokenAddress, ...w.recipients],
    base.budgets,
  ]);
  const setDelegate = w.sessions.interface.encodeFunctionData("setGrantDelegate", [envelopeAddress, true]);
  const receipt = await ownerOk(w, [
    { target: w.sessionsAddress, data: setDelegate },
    { target: envelopeAddress, data: setEnvelope },
  ]);
  await time.increase(DELAY + 1n);
  await w.sessions.applyChange(w.accountAddress, setDelegate);
  return { w, envelope, envelopeAddress, engine, base, env, setReceipt: receipt, DELAY };
}

/** A world whose account approved a GreedyRouter (pulls 10 × what it is told) and a session that may call it. */
async function routerWorld() {
  const w = await deploySessionWorld(ethers);
  const router = await ethers.deployContract("GreedyRouter");
  const routerAddress = await router.getAddress();
  await ownerOk(w, {
    target: w.tokenAddress,
    data: w.token.interface.encodeFunctionData("approve", [routerAddress, 1_000_000n * U]),
  });
  const pull = (amount: bigint): Call => ({
    target: routerAddress,
    data: router.interface.encodeFunctionData("pull", [w.tokenAddress, w.accountAddress, amount]),
  });
  const routerPerm = perm(routerAddress, router.interface.getFunction("pull")!.selector, 100n);
  return { w, pull, routerPerm };
}

/** Session world with the owner safety net on (as in test/modules/OwnerSafetyNet.test.ts). */
async function safetyNetWorld() {
  const w = await deploySessionWorld(ethers);
  const recovery = (await ethers.deployContract("GuardianRecovery")) as unknown as GuardianRecovery;
  const recoveryAddress = await recovery.getAddress();
  const timelockAddress = await w.timelock.getAddress();
  const ov = await w.core.ownerValidator.getAddress();
  const guardians = [randomWallet(), randomWallet(), randomWallet()];
  const installData = AbiCoder.defaultAbiCoder().encode(
    ["address[]", "uint8", "uint32", "uint32", "uint32", "tuple(address target, bytes data)[]"],
    [guardians.map((g) => g.address), 2, HOUR, DAY, 2n * DAY, []],
  );
  await ownerOk(w, [
    {
      target: w.accountAddress,
      data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, recoveryAddress, installData]),
    },
    {
      target: w.accountAddress,
      data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, ov, "0x"]),
    },
    {
      target: ov,
      data: w.core.ownerValidator.interface.encodeFunctionData("enableSafetyNet", [
        { lockSource: recoveryAddress, timelock: timelockAddress, minDelay: DAY },
      ]),
    },
  ]);
  return { w, recovery, recoveryAddress, guardians };
}

function guardianSigs(digest: string, guardians: Wallet[]): string[] {
  return [...guardians]
    .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
    .map((g) => concat([g.address, signDigest(g, digest)]));
}

// ------------------------------------------------------------------------------------------ tests

describe("Mutation-killing tests (issue 12 item 9)", () => {
  describe("a. RiskEngineEnvelope: every envelope field holds on its own", () => {
    it("each budget field beyond the engine's cap is refused alone; at the cap (and a longer period) it is granted", async () => {
      const { w, envelope, engine, base } = await networkHelpers.loadFixture(engineWorld);
      const t = await now();
      const ok = { ...base, validUntil: t + DAY, maxUses: 10n };
      const cap = ok.budgets[0];
      const refused: [string, Budget][] = [
        ["instantThreshold + 1", bump(cap, "instantThreshold", 1n)],
        ["ceiling + 1", bump(cap, "ceiling", 1n)],
        ["periodCap + 1", bump(cap, "periodCap", 1n)],
        ["lifetimeCap + 1", bump(cap, "lifetimeCap", 1n)],
        ["period - 1 (shorter than the cap's)", bump(cap, "period", -1n)],
        ["a token without a cap", { ...cap, token: randomWallet().address, periodCap: 0n, lifetimeCap: 0n }],
      ];
      for (const [label, budget] of refused) {
        await expect(
          envelope.connect(engine).grant(w.accountAddress, { ...ok, budgets: [budget, ok.budgets[1]] }),
          label,
        )
          .to.be.revertedWithCustomError(envelope, "RiskEngineEnvelopeExceeded")
          .withArgs("budget");
      }
      // every field exactly at the cap, and a longer period (slower spend), are inside the envelope
      for (const budget of [cap, bump(cap, "period", 1n)]) {
        const id = await envelope.connect(engine).grant.staticCall(w.accountAddress, { ...ok, budgets: [budget] });
        expect(id).to.not.equal(ethers.ZeroHash);
      }
    });

    it("duration, uses, gas budget and gas cost: equal to the envelope is granted, one more is refused; each flag alone is refused", async () => {
      const { w, envelope, engine, base, env } = await networkHelpers.loadFixture(engineWorld);
      const t = (await now()) + 10n;
      const atLimit = (ts: bigint) => ({
        ...base,
        validUntil: ts + env.maxDuration,
        maxUses: env.maxUses,
        gasBudget: env.maxGasBudget,
        maxGasCostPerOp: env.maxGasCostPerOp,
      });
      // each case is sent in a block at its own timestamp ts (strictly increasing)
      const cases: [string, (ts: bigint) => ReturnType<typeof atLimit>][] = [
        ["validUntil", (ts) => ({ ...atLimit(ts), validUntil: ts + env.maxDuration + 1n })],
        ["maxUses", (ts) => ({ ...atLimit(ts), maxUses: env.maxUses + 1n })],
        ["gasBudget", (ts) => ({ ...atLimit(ts), gasBudget: env.maxGasBudget + 1n })],
        ["maxGasCostPerOp", (ts) => ({ ...atLimit(ts), maxGasCostPerOp: env.maxGasCostPerOp + 1n })],
        ["flags", (ts) => ({ ...atLimit(ts), allowTry: true })],
        ["flags", (ts) => ({ ...atLimit(ts), allowPaymaster: true })],
      ];
      let ts = t;
      for (const [field, config] of cases) {
        await time.setNextBlockTimestamp(ts);
        await expect(envelope.connect(engine).grant(w.accountAddress, config(ts)), field)
          .to.be.revertedWithCustomError(envelope, "RiskEngineEnvelopeExceeded")
          .withArgs(field);
        ts += 1n;
      }
      // every limit met exactly (validUntil = block time + maxDuration) is granted
      await time.setNextBlockTimestamp(ts);
      const tx = await envelope.connect(engine).grant(w.accountAddress, atLimit(ts));
      const receipt = (await tx.wait())!;
      const granted = receipt.logs
        .map((l) => w.sessions.interface.parseLog(l))
        .find((p) => p?.name === "SessionGranted")!;
      const id = granted.args.sessionId as string;
      expect((await w.sessions.getSession(id, w.accountAddress)).validUntil).to.equal(ts + env.maxDuration);
      // SessionGrantedByEngine(account, engine, id) with exact arguments
      await expect(tx).to.emit(envelope, "SessionGrantedByEngine").withArgs(w.accountAddress, engine.address, id);
      // renew: exactly now + maxDuration is allowed, one second more is refused
      const t2 = (await now()) + 10n;
      await time.setNextBlockTimestamp(t2);
      await expect(envelope.connect(engine).renew(w.accountAddress, id, t2 + env.maxDuration + 1n))
        .to.be.revertedWithCustomError(envelope, "RiskEngineEnvelopeExceeded")
        .withArgs("validUntil");
      await time.setNextBlockTimestamp(t2 + 1n);
      await (await envelope.connect(engine).renew(w.accountAddress, id, t2 + 1n + env.maxDuration)).wait();
      expect((await w.sessions.getSession(id, w.accountAddress)).validUntil).to.equal(t2 + 1n + env.maxDuration);
    });
  });

  describe("b. AgentSessions setBudget / tightenBudgetFor boundaries", () => {
    it("setBudget: each field raised by one unit alone, and a period-only change, are delayed", async () => {
      const fresh = await networkHelpers.loadFixture(budgetWorld);
      const current = tokenBudget(fresh.w);
      const cases: [string, Budget][] = [
        ...NUMERIC.map((f) => [`${f} + 1`, bump(current, f, 1n)] as [string, Budget]),
        ["period + 1 (caps unchanged)", bump(current, "period", 1n)],
        ["period - 1 (caps unchanged)", bump(current, "period", -1n)],
        ["lower ceiling but higher lifetimeCap", bump(bump(current, "ceiling", -1n), "lifetimeCap", 1n)],
      ];
      for (const [label, budget] of cases) {
        const { w, id } = await networkHelpers.loadFixture(budgetWorld);
        const receipt = await ownerOk(w, sessionsCall(w, "setBudget", [id, budget]));
        expect(appliedOrProposed(w, receipt, "BudgetSet"), label + " applied at once").to.equal(false);
        const [stored] = await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress);
        for (const f of [...NUMERIC, "period"] as const) expect(stored[f], label).to.equal(BigInt(current[f]));
      }
    });

    it("setBudget: an equal field is not a raise (the same budget, or one field lowered, applies at once)", async () => {
      const fresh = await networkHelpers.loadFixture(budgetWorld);
      const current = tokenBudget(fresh.w);
      const cases: [string, Budget][] = [
        ["identical", current],
        ...NUMERIC.map((f) => [`${f} - 1, the rest equal`, bump(current, f, -1n)] as [string, Budget]),
      ];
      for (const [label, budget] of cases) {
        const { w, id } = await networkHelpers.loadFixture(budgetWorld);
        const receipt = await ownerOk(w, sessionsCall(w, "setBudget", [id, budget]));
        expect(appliedOrProposed(w, receipt, "BudgetSet"), label + " was delayed").to.equal(true);
        const [stored] = await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress);
        for (const f of [...NUMERIC, "period"] as const) expect(stored[f], label).to.equal(BigInt(budget[f]));
      }
    });

    it("setBudget: a delayed period-only change applies after the delay and restarts the window", async () => {
      const { w, id } = await networkHelpers.loadFixture(budgetWorld);
      const current = tokenBudget(w);
      const { events } = await sendAgent(w, [await agentOp(w, id, transferCall(w, w.recipients[0], 60n * U))]);
      expect(events[0].success, events[0].revertReason).to.equal(true);
      expect((await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress))[1]).to.equal(2_000n * U - 60n * U);
      const change = bump(current, "period", HOUR);
      await ownerOk(w, sessionsCall(w, "setBudget", [id, change]));
      await time.increase(DAY);
      await w.sessions.applyChange(w.accountAddress, sessionsCall(w, "setBudget", [id, change]).data!);
      const [stored, periodLeft, lifetimeLeft] = await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress);
      expect(stored.period).to.equal(DAY + HOUR);
      expect(periodLeft).to.equal(2_000n * U);
      expect(lifetimeLeft).to.equal(10_000n * U - 60n * U);
    });

    it("tightenBudgetFor: each field equal is allowed, one unit more is refused; the period cannot change", async () => {
      const fresh = await networkHelpers.loadFixture(delegateWorld);
      const current = tokenBudget(fresh.w);
      const allowed: [string, Budget][] = [
        ["identical", current],
        ...NUMERIC.map((f) => [`${f} - 1`, bump(current, f, -1n)] as [string, Budget]),
      ];
      const refused: [string, Budget][] = [
        ...NUMERIC.map((f) => [`${f} + 1`, bump(current, f, 1n)] as [string, Budget]),
        ["period + 1", bump(current, "period", 1n)],
        ["period - 1", bump(current, "period", -1n)],
        ["a token without a budget", { ...current, token: randomWallet().address }],
      ];
      for (const [label, budget] of allowed) {
        const { w, delegate, id } = await networkHelpers.loadFixture(delegateWorld);
        await (await w.sessions.connect(delegate).tightenBudgetFor(w.accountAddress, id, budget)).wait();
        const [stored] = await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress);
        for (const f of [...NUMERIC, "period"] as const) expect(stored[f], label).to.equal(BigInt(budget[f]));
      }
      for (const [label, budget] of refused) {
        const { w, delegate, id } = await networkHelpers.loadFixture(delegateWorld);
        await expect(w.sessions.connect(delegate).tightenBudgetFor(w.accountAddress, id, budget), label)
          .to.be.revertedWithCustomError(w.sessions, "AgentSessionsInvalidConfig")
          .withArgs(FIELD.TightenOnly);
      }
    });
  });

  describe("c. CallPolicy.erc20Outflow: transferFrom and approval flags", () => {
    async function outflowWorld() {
      const w = await deploySessionWorld(ethers);
      const [, , , , other] = await ethers.getSigners();
      const cfg = await paymentsConfig(w, { budgets: [tokenBudget(w)] });
      cfg.permissions = [
        ...cfg.permissions,
        perm(w.tokenAddress, w.token.interface.getFunction("transferFrom")!.selector, 100n),
        perm(w.tokenAddress, w.token.interface.getFunction("approve")!.selector, 68n),
      ];
      const id = await grant(w, cfg);
      // the account lets itself move its own tokens, and the recipient already has an allowance (set by the owner)
      await ownerOk(w, [
        { target: w.tokenAddress, data: ERC20.encodeFunctionData("approve", [w.accountAddress, 1_000_000n * U]) },
        { target: w.tokenAddress, data: ERC20.encodeFunctionData("approve", [w.recipients[0], 7n * U]) },
      ]);
      // another holder that approved the account
      await w.token.mint(other.address, 1_000n * U);
      await (await w.token.connect(other).approve(w.accountAddress, 1_000n * U)).wait();
      return { w, id, other };
    }

    async function run(w: SessionWorld, id: string, call: Call) {
      const { events, receipt } = await sendAgent(w, [await agentOp(w, id, call)]);
      expect(events[0].success, events[0].revertReason).to.equal(true);
      const evs = parseEvents(w, receipt);
      expect(
        evs.find((e) => e.name === "OperationQueued"),
        "unexpectedly queued",
      ).to.equal(undefined);
      return evs.filter((e) => e.name === "SpendRecorded").map((e) => e.args.amount as bigint);
    }

    const periodLeft = async (w: SessionWorld, id: string) =>
      (await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress))[1];

    it("transferFrom(account, account, x) is charged x from its call data (no balance drop to see)", async () => {
      const { w, id } = await networkHelpers.loadFixture(outflowWorld);
      const call = {
        target: w.tokenAddress,
        data: ERC20.encodeFunctionData("transferFrom", [w.accountAddress, w.accountAddress, 50n * U]),
      };
      expect(await run(w, id, call)).to.deep.equal([50n * U]);
      expect(await periodLeft(w, id)).to.equal(2_000n * U - 50n * U);
      // above the instant threshold, the calldata amount tiers it (delayed), as for a transfer
      const big = {
        target: w.tokenAddress,
        data: ERC20.encodeFunctionData("transferFrom", [w.accountAddress, w.accountAddress, 150n * U]),
      };
      const { receipt } = await sendAgent(w, [await agentOp(w, id, big)]);
      const q = parseEvents(w, receipt).find((e) => e.name === "OperationQueued");
      expect(q?.args.tier).to.equal(TIER.Delayed);
    });

    it("transferFrom(other, recipient, x) is not the account's outflow: not charged, not tiered", async () => {
      const { w, id, other } = await networkHelpers.loadFixture(outflowWorld);
      const [r] = w.recipients;
      // 150 would be the delayed tier and 5,000 above the ceiling if it were charged to the account
      for (const amount of [150n * U, 500n * U]) {
        const call = {
          target: w.tokenAddress,
          data: ERC20.encodeFunctionData("transferFrom", [other.address, r, amount]),
        };
        expect(await run(w, id, call)).to.deep.equal([]);
      }
      expect(await w.token.balanceOf(other.address)).to.equal(1_000n * U - 650n * U);
      expect(await periodLeft(w, id)).to.equal(2_000n * U);
    });

    it("an approve is reset to zero after the execution; a transfer or transferFrom leaves existing allowances alone", async () => {
      const { w, id } = await networkHelpers.loadFixture(outflowWorld);
      const [r0, r1] = w.recipients;
      // transfer to a recipient that has an allowance: no reset call, the allowance stays
      expect(await run(w, id, transferCall(w, r0, 5n * U))).to.deep.equal([5n * U]);
      expect(await w.token.allowance(w.accountAddress, r0)).to.equal(7n * U);
      // transferFrom(account, r0, x): same
      const tf = {
        target: w.tokenAddress,
        data: ERC20.encodeFunctionData("transferFrom", [w.accountAddress, r0, 3n * U]),
      };
      expect(await run(w, id, tf)).to.deep.equal([3n * U]);
      expect(await w.token.allowance(w.accountAddress, r0)).to.equal(7n * U);
      expect(await w.token.allowance(w.accountAddress, w.accountAddress)).to.equal(1_000_000n * U - 3n * U);
      // approve: charged, and the allowance is gone after the operation
      const approve = { target: w.tokenAddress, data: ERC20.encodeFunctionData("approve", [r1, 40n * U]) };
      expect(await run(w, id, approve)).to.deep.equal([40n * U]);
      expect(await w.token.allowance(w.accountAddress, r1)).to.equal(0n);
    });
  });

  describe("d. AgentSessions _charge: which limit is reported", () => {
    async function pullRevert(budgets: (w: SessionWorld) => Budget[], fleet?: [bigint, bigint]) {
      const { w, pull, routerPerm } = await networkHelpers.loadFixture(routerWorld);
      const cfg = await paymentsConfig(w, { budgets: budgets(w) });
      cfg.permissions = [...cfg.permissions, routerPerm];
      const id = await grant(w, cfg);
      if (fleet) await ownerOk(w, sessionsCall(w, "setFleetBudget", [w.tokenAddress, fleet[0], fleet[1], DAY]));
      // told 10, pulls 100: the calldata shows no outflow (instant tier), the balance drop of 100 is charged
      const { events } = await sendAgent(w, [await agentOp(w, id, pull(10n * U))]);
      expect(events[0].success).to.equal(false);
      return { ...sessionsError(w, events[0].revertReason), w };
    }
    const wide = { instantThreshold: 1_000n * U, ceiling: 1_000n * U };

    it("the instant threshold is code 0 with the threshold as limit", async () => {
      const e = await pullRevert((w) => [tokenBudget(w, { instantThreshold: 50n * U })]);
      expect(e.name).to.equal("AgentSessionsBudgetExceeded");
      expect(e.args).to.deep.equal([e.w.tokenAddress, WHICH.Instant, 100n * U, 50n * U]);
    });

    it("the session period cap is code 2 with what is left of the period", async () => {
      const e = await pullRevert((w) => [tokenBudget(w, { ...wide, periodCap: 50n * U })]);
      expect(e.name).to.equal("AgentSessionsBudgetExceeded");
      expect(e.args).to.deep.equal([e.w.tokenAddress, WHICH.Period, 100n * U, 50n * U]);
    });

    it("the session lifetime cap is code 3 with what is left of the lifetime", async () => {
      const e = await pullRevert((w) => [tokenBudget(w, { ...wide, periodCap: 5_000n * U, lifetimeCap: 60n * U })]);
      expect(e.name).to.equal("AgentSessionsBudgetExceeded");
      expect(e.args).to.deep.equal([e.w.tokenAddress, WHICH.Lifetime, 100n * U, 60n * U]);
      // the period cap exactly met (100 of 100 left) is not the limit hit: still the lifetime
      const exact = await pullRevert((w) => [tokenBudget(w, { ...wide, periodCap: 100n * U, lifetimeCap: 60n * U })]);
      expect(exact.args).to.deep.equal([exact.w.tokenAddress, WHICH.Lifetime, 100n * U, 60n * U]);
    });

    it("both session caps hit: the period is reported (code 2)", async () => {
      const e = await pullRevert((w) => [tokenBudget(w, { ...wide, periodCap: 50n * U, lifetimeCap: 60n * U })]);
      expect(e.args).to.deep.equal([e.w.tokenAddress, WHICH.Period, 100n * U, 50n * U]);
    });

    it("the fleet period cap is code 4, the fleet lifetime cap code 5", async () => {
      const own = (w: SessionWorld) => [tokenBudget(w, { ...wide, periodCap: 5_000n * U, lifetimeCap: 5_000n * U })];
      const p = await pullRevert(own, [50n * U, 5_000n * U]);
      expect(p.name).to.equal("AgentSessionsBudgetExceeded");
      expect(p.args).to.deep.equal([p.w.tokenAddress, WHICH.FleetPeriod, 100n * U, 50n * U]);
      const l = await pullRevert(own, [5_000n * U, 70n * U]);
      expect(l.name).to.equal("AgentSessionsBudgetExceeded");
      expect(l.args).to.deep.equal([l.w.tokenAddress, WHICH.FleetLifetime, 100n * U, 70n * U]);
      const exact = await pullRevert(own, [100n * U, 70n * U]);
      expect(exact.args).to.deep.equal([exact.w.tokenAddress, WHICH.FleetLifetime, 100n * U, 70n * U]);
    });

    it("a delayed operation whose real drop exceeds the ceiling is code 1 with the ceiling as limit", async () => {
      const { w, pull, routerPerm } = await networkHelpers.loadFixture(routerWorld);
      const cfg = await paymentsConfig(w, { budgets: [tokenBudget(w, { ceiling: 200n * U })] });
      cfg.permissions = [...cfg.permissions, routerPerm];
      const id = await grant(w, cfg);
      // calldata: 150 (delayed tier); real drop 150 + 100 = 250 > ceiling 200
      const { events, receipt } = await sendAgent(w, [
        await agentOp(w, id, [transferCall(w, w.recipients[0], 150n * U), pull(10n * U)]),
      ]);
      expect(events[0].success, events[0].revertReason).to.equal(true);
      const evs = parseEvents(w, receipt);
      const q = evs.find((e) => e.name === "OperationQueued")!;
      const s = evs.find((e) => e.name === "OperationScheduled")!;
      expect(q.args.tier).to.equal(TIER.Delayed);
      await time.increase(HOUR + 1n);
      await expect(
        w.timelock.execute(
          w.accountAddress,
          q.args.requestId as string,
          s.args.mode as string,
          s.args.executionCalldata as string,
        ),
      )
        .to.be.revertedWithCustomError(w.sessions, "AgentSessionsBudgetExceeded")
        .withArgs(w.tokenAddress, WHICH.Ceiling, 250n * U, 200n * U);
    });
  });

  describe("e. renewSession / renewSessionFor: validUntil must be after validAfter", () => {
    it("renewSession to validUntil == validAfter is refused (ValidUntil); validAfter + 1 applies", async () => {
      const { w, ownerId, validAfter } = await networkHelpers.loadFixture(delegateWorld);
      const { event } = await ownerCalls(w, sessionsCall(w, "renewSession", [ownerId, validAfter]));
      expect(event.success).to.equal(false);
      const e = sessionsError(w, event.revertReason);
      expect(e.name).to.equal("AgentSessionsInvalidConfig");
      expect(e.args).to.deep.equal([FIELD.ValidUntil]);
      await ownerOk(w, sessionsCall(w, "renewSession", [ownerId, validAfter + 1n]));
      expect((await w.sessions.getSession(ownerId, w.accountAddress)).validUntil).to.equal(validAfter + 1n);
    });

    it("renewSessionFor to validUntil == validAfter is refused (ValidUntil); validAfter + 1 applies", async () => {
      const { w, delegate, id, validAfter } = await networkHelpers.loadFixture(delegateWorld);
      await expect(w.sessions.connect(delegate).renewSessionFor(w.accountAddress, id, validAfter))
        .to.be.revertedWithCustomError(w.sessions, "AgentSessionsInvalidConfig")
        .withArgs(FIELD.ValidUntil);
      await expect(w.sessions.connect(delegate).renewSessionFor(w.accountAddress, id, validAfter - 1n))
        .to.be.revertedWithCustomError(w.sessions, "AgentSessionsInvalidConfig")
        .withArgs(FIELD.ValidUntil);
      await expect(w.sessions.connect(delegate).renewSessionFor(w.accountAddress, id, validAfter + 1n))
        .to.emit(w.sessions, "SessionRenewed")
        .withArgs(w.accountAddress, id, validAfter + 1n);
      expect((await w.sessions.getSession(id, w.accountAddress)).validUntil).to.equal(validAfter + 1n);
    });
  });

  describe("f. OwnerValidator safety net: exactly-4-byte call data", () => {
    it("cancelRecovery() (4 bytes) to the lock source validates with the safety net on; other 4-byte or short calls do not", async () => {
      const { w, recovery, recoveryAddress, guardians } = await networkHelpers.loadFixture(safetyNetWorld);
      const newOwner = randomWallet().address;
      await recovery.proposeRecovery(
        w.accountAddress,
        newOwner,
        guardianSigs(await recovery.recoveryDigest(w.accountAddress, newOwner), [guardians[0], guardians[1]]),
      );
      const ov = await w.core.ownerValidator.getAddress();
      const attempt = async (call: Call) =>
        handleOps(w.core, [
          signAsOwner(w.core, await buildOp(w.core, w.accountAddress, ov, executeCalldata(call)), w.owner),
        ]);
      const cancel = recovery.interface.encodeFunctionData("cancelRecovery");
      expect(dataLength(cancel)).to.equal(4);
      // refused: the same selector with value, to another target, or 3 bytes of it
      for (const call of [
        { target: recoveryAddress, value: 1n, data: cancel },
        { target: w.tokenAddress, data: cancel },
        { target: recoveryAddress, data: dataSlice(cancel, 0, 3) },
      ]) {
        await expect(attempt(call)).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOpWithRevert");
      }
      const receipt = await attempt({ target: recoveryAddress, data: cancel });
      const [ev] = userOpEvents(w.core, receipt);
      expect(ev.success, ev.revertReason).to.equal(true);
      const cancelled = receipt.logs
        .map((l) => {
          try {
            return recovery.interface.parseLog(l);
          } catch {
            return null;
          }
        })
        .find((p) => p?.name === "RecoveryCancelled");
      expect(cancelled?.args.account).to.equal(w.accountAddress);
    });
  });

  describe("g. setFleetBudget: window and raise rules", () => {
    async function fleetWorld() {
      const w = await deploySessionWorld(ethers);
      const b = tokenBudget(w, { instantThreshold: 200n * U, ceiling: 200n * U });
      const id = await grant(w, await paymentsConfig(w, { budgets: [b] }));
      await ownerOk(w, sessionsCall(w, "setFleetBudget", [w.tokenAddress, 150n * U, 1_000n * U, DAY]));
      await ownerOk(w, sessionsCall(w, "setSecurityDelay", [DAY]));
      const { events } = await sendAgent(w, [await agentOp(w, id, transferCall(w, w.recipients[0], 100n * U))]);
      expect(events[0].success, events[0].revertReason).to.equal(true);
      return { w, id };
    }
    const fleet = async (w: SessionWorld) => w.sessions.fleetRemaining(w.accountAddress, w.tokenAddress);

    it("a tightening (lower cap, same period) applies at once and keeps the spend already recorded", async () => {
      const { w, id } = await networkHelpers.loadFixture(fleetWorld);
      expect((await fleet(w))[1]).to.equal(50n * U);
      const receipt = await ownerOk(w, sessionsCall(w, "setFleetBudget", [w.tokenAddress, 120n * U, 1_000n * U, DAY]));
      expect(appliedOrProposed(w, receipt, "FleetBudgetSet")).to.equal(true);
      const [, p, l] = await fleet(w);
      expect(p).to.equal(20n * U);
      expect(l).to.equal(900n * U);
      // the fleet cannot spend its cap again: 21 needs approval, 20 is instant
      const over = await sendAgent(w, [await agentOp(w, id, transferCall(w, w.recipients[1], 21n * U))]);
      const q = parseEvents(w, over.receipt).find((e) => e.name === "OperationQueued");
      expect(q?.args.tier).to.equal(TIER.Approval);
      const ok = await sendAgent(w, [await agentOp(w, id, transferCall(w, w.recipients[1], 20n * U))]);
      expect(parseEvents(w, ok.receipt).some((e) => e.name === "OperationQueued")).to.equal(false);
      expect(await w.token.balanceOf(w.recipients[1])).to.equal(20n * U);
    });

    it("raising periodCap or lifetimeCap by one unit, or changing the period, is delayed; an equal cap is not a raise", async () => {
      const delayed: [string, bigint, bigint, bigint][] = [
        ["periodCap + 1", 150n * U + 1n, 1_000n * U, DAY],
        ["lifetimeCap + 1", 150n * U, 1_000n * U + 1n, DAY],
        ["period + 1", 150n * U, 1_000n * U, DAY + 1n],
        ["period - 1", 150n * U, 1_000n * U, DAY - 1n],
      ];
      const atOnce: [string, bigint, bigint, bigint][] = [
        ["identical", 150n * U, 1_000n * U, DAY],
        ["periodCap equal, lifetimeCap - 1", 150n * U, 1_000n * U - 1n, DAY],
        ["lifetimeCap equal, periodCap - 1", 150n * U - 1n, 1_000n * U, DAY],
      ];
      for (const [label, pc, lc, period] of [...delayed, ...atOnce]) {
        const { w } = await networkHelpers.loadFixture(fleetWorld);
        const receipt = await ownerOk(w, sessionsCall(w, "setFleetBudget", [w.tokenAddress, pc, lc, period]));
        const applied = appliedOrProposed(w, receipt, "FleetBudgetSet");
        expect(applied, label).to.equal(atOnce.some(([l]) => l === label));
        const [, p, l] = await fleet(w);
        // the recorded 100 stays in the window either way (same period); a delayed change leaves the caps as they were
        expect([p, l], label).to.deep.equal(applied ? [pc - 100n * U, lc - 100n * U] : [50n * U, 900n * U]);
      }
    });

    it("a period change, once applied, restarts the fleet window (lifetime kept)", async () => {
      const { w } = await networkHelpers.loadFixture(fleetWorld);
      const call = sessionsCall(w, "setFleetBudget", [w.tokenAddress, 150n * U, 1_000n * U, 2n * DAY]);
      await ownerOk(w, call);
      await time.increase(DAY);
      await w.sessions.applyChange(w.accountAddress, call.data!);
      const [, p, l] = await fleet(w);
      expect(p).to.equal(150n * U);
      expect(l).to.equal(900n * U);
    });
  });

  describe("h. events with exact arguments", () => {
    it("RootValidatorChanged(previous, current) on initialize and setRootValidator; none on a refused change", async () => {
      const w = await deploySessionWorld(ethers);
      const v1 = await w.core.ownerValidator.getAddress();
      const second = await ethers.deployContract("OwnerValidator");
      const v2 = await second.getAddress();
      const rootEvents = (receipt: ContractTransactionReceipt) =>
        receipt.logs
          .filter((l) => l.address.toLowerCase() === w.accountAddress.toLowerCase())
          .map((l) => w.account.interface.parseLog(l))
          .filter((p) => p?.name === "RootValidatorChanged")
          .map((p) => [p!.args.previous, p!.args.current]);
      // at deployment: (0, owner validator)
      const initial = await w.account.queryFilter(w.account.filters.RootValidatorChanged(), 0);
      expect(initial.map((e) => [e.args.previous, e.args.current])).to.deep.equal([[ZeroAddress, v1]]);
      // refused (not installed): no event
      const refused = await ownerCalls(w, {
        target: w.accountAddress,
        data: w.account.interface.encodeFunctionData("setRootValidator", [v2]),
      });
      expect(refused.event.success).to.equal(false);
      expect(rootEvents(refused.receipt)).to.deep.equal([]);
      expect(await w.account.rootValidator()).to.equal(v1);
      // accepted: exactly (v1, v2)
      const receipt = await ownerOk(w, [
        {
          target: w.accountAddress,
          data: accountInterface.encodeFunctionData("installModule", [
            MODULE_TYPE_VALIDATOR,
            v2,
            randomWallet().address,
          ]),
        },
        { target: w.accountAddress, data: w.account.interface.encodeFunctionData("setRootValidator", [v2]) },
      ]);
      expect(rootEvents(receipt)).to.deep.equal([[v1, v2]]);
      expect(await w.account.rootValidator()).to.equal(v2);
    });

    it("EnvelopeSet and EngineRemoved carry (account, engine, …); a failed removal emits nothing", async () => {
      const { w, envelope, envelopeAddress, engine, env, setReceipt, DELAY } =
        await networkHelpers.loadFixture(engineWorld);
      const envelopeEvents = (receipt: ContractTransactionReceipt) =>
        receipt.logs
          .filter((l) => l.address.toLowerCase() === envelopeAddress.toLowerCase())
          .map((l) => envelope.interface.parseLog(l)!);
      const setBlock = (await ethers.provider.getBlock(setReceipt.blockNumber))!;
      const [set] = envelopeEvents(setReceipt);
      expect(set.name).to.equal("EnvelopeSet");
      expect([set.args.account, set.args.engine, set.args.activeFrom]).to.deep.equal([
        w.accountAddress,
        engine.address,
        BigInt(setBlock.timestamp) + DELAY,
      ]);
      expect([...set.args.envelope]).to.deep.equal([
        env.maxDuration,
        env.maxUses,
        env.maxGasBudget,
        env.maxGasCostPerOp,
      ]);
      const remove = {
        target: envelopeAddress,
        data: envelope.interface.encodeFunctionData("removeEngine", [engine.address]),
      };
      // in a batch that fails afterwards: reverted, no event, the engine is still there
      const failed = await ownerCalls(w, [
        remove,
        {
          target: w.tokenAddress,
          data: ERC20.encodeFunctionData("transferFrom", [randomWallet().address, w.accountAddress, 1n]),
        },
      ]);
      expect(failed.event.success).to.equal(false);
      expect(envelopeEvents(failed.receipt)).to.deep.equal([]);
      expect((await envelope.envelopeOf(engine.address, w.accountAddress))[1]).to.not.equal(0n);
      const receipt = await ownerOk(w, remove);
      const events = envelopeEvents(receipt);
      expect(events.map((e) => [e.name, e.args.account, e.args.engine])).to.deep.equal([
        ["EngineRemoved", w.accountAddress, engine.address],
      ]);
      expect((await envelope.envelopeOf(engine.address, w.accountAddress))[1]).to.equal(0n);
    });
  });
});

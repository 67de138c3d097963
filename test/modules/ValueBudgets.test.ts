/**
 * Value budgets in AgentSessions (issue 19): one cap in USD across tokens with 6, 18 and 8 decimals, valued in the
 * execution phase at each block's price; failing feeds and tokens without a price source never pay instantly;
 * loosening waits the security delay; the valuation entry points cannot be reached from outside.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { Interface, ZeroAddress, encodeBytes32String, dataSlice } from "ethers";
import type { MockAggregator, MockERC20 } from "../../types/ethers-contracts/index.js";
import type { Call } from "../../src/account/encoding.js";
import {
  DAY,
  HOUR,
  TIER,
  agentOp,
  deploySessionWorld,
  grant,
  ownerCalls,
  paymentsConfig,
  parseEvents,
  sendAgent,
  type SessionConfig,
  type SessionWorld,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const USD = 10n ** 8n; // the unit: USD with 8 decimals
const UNIT = dataSlice(encodeBytes32String("USD"), 0, 8);
const MAX128 = (1n << 128n) - 1n;
const TRANSFER = "0xa9059cbb";
/** ValueBudget.Limit and ValuePricing.PriceFailure values. */
const LIMIT = { None: 0n, InstantThreshold: 1n, Ceiling: 2n, Period: 3n, Lifetime: 4n, Price: 5n } as const;
const FAILURE = { NoSource: 1n, FeedReverted: 2n, ZeroPrice: 4n, NegativePrice: 5n, Stale: 6n, OutOfBounds: 7n };
const MODE = { Normal: 0, Revert: 1, BurnGas: 2, ShortReturn: 3 } as const;

interface ValueWorld extends SessionWorld {
  usdc: MockERC20; // 6 decimals, fixed 1:1
  weth: MockERC20; // 18 decimals, ETH/USD feed at $3,000
  wbtc: MockERC20; // 8 decimals, BTC/USD feed at $60,000
  ethUsd: MockAggregator;
  btcUsd: MockAggregator;
  sessionId: string;
}

function config(c: Partial<Record<"instant" | "ceiling" | "period" | "lifetime", bigint>> = {}, period = DAY) {
  return {
    unit: UNIT,
    unitDecimals: 8,
    period,
    instantThreshold: c.instant ?? 20n * USD,
    ceiling: c.ceiling ?? 200n * USD,
    periodCap: c.period ?? 500n * USD,
    lifetimeCap: c.lifetime ?? 5_000n * USD,
  };
}

const fixedSource = (rate = 1n, rateDecimals = 0) => ({
  kind: 1,
  rateDecimals,
  maxStaleness: 0n,
  feed: ZeroAddress,
  rate,
  minPrice: 0n,
  maxPrice: 0n,
});
const feedSource = (feed: string, maxStaleness = HOUR) => ({
  kind: 2,
  rateDecimals: 0,
  maxStaleness,
  feed,
  rate: 0n,
  minPrice: 1n * USD,
  maxPrice: 1_000_000n * USD,
});

/** A wide per-token budget (the value budget is the one that binds). */
const wide = (token: string) => ({
  token,
  instantThreshold: MAX128 >> 16n,
  ceiling: MAX128 >> 16n,
  periodCap: MAX128,
  lifetimeCap: MAX128,
  period: DAY,
});

async function valueWorld(): Promise<ValueWorld> {
  return buildValueWorld(0n);
}

/** Three tokens with price sources, a session paying in them with a USD value budget; then `securityDelay`. */
async function buildValueWorld(securityDelay: bigint): Promise<ValueWorld> {
  const w = await deploySessionWorld(ethers);
  const usdc = await ethers.deployContract("MockERC20", ["USD Coin", "USDC", 6]);
  const weth = await ethers.deployContract("MockERC20", ["Wrapped Ether", "WETH", 18]);
  const wbtc = await ethers.deployContract("MockERC20", ["Wrapped BTC", "WBTC", 8]);
  for (const t of [usdc, weth, wbtc]) await t.mint(w.accountAddress, 10n ** 30n);
  const ethUsd = await ethers.deployContract("MockAggregator", [8, 3_000n * USD]);
  const btcUsd = await ethers.deployContract("MockAggregator", [8, 60_000n * USD]);
  const tokens = [usdc, weth, wbtc];
  const base = await paymentsConfig(w);
  const session: SessionConfig = {
    ...base,
    permissions: await Promise.all(
      tokens.map(async (t) => ({
        target: await t.getAddress(),
        selector: TRANSFER,
        valueCap: 0n,
        calldataLength: 68n,
        conditions: [],
      })),
    ),
    budgets: await Promise.all(tokens.map(async (t) => wide(await t.getAddress()))),
  };
  const sessionId = await grant(w, session);
  const s = w.sessions;
  const calls: Call[] = [
    price(w, await usdc.getAddress(), 6, fixedSource()),
    price(w, await weth.getAddress(), 18, feedSource(await ethUsd.getAddress())),
    price(w, await wbtc.getAddress(), 8, feedSource(await btcUsd.getAddress())),
    { target: w.sessionsAddress, data: s.interface.encodeFunctionData("setValueBudget", [sessionId, config()]) },
    { target: w.sessionsAddress, data: s.interface.encodeFunctionData("setSecurityDelay", [securityDelay]) },
  ];
  const { event } = await ownerCalls(w, calls);
  if (!event.success) throw new Error("value world setup failed");
  return { ...w, usdc, weth, wbtc, ethUsd, btcUsd, sessionId };
}

function price(w: SessionWorld, token: string, decimals: number, source: ReturnType<typeof fixedSource>): Call {
  return {
    target: w.sessionsAddress,
    data: w.sessions.interface.encodeFunctionData("setPriceSource", [token, decimals, source]),
  };
}

function pay(w: ValueWorld, token: MockERC20, amount: bigint, to = w.recipients[0]): Call {
  return { target: token.target as string, data: token.interface.encodeFunctionData("transfer", [to, amount]) };
}

/** One agent operation; returns its success, the queued request (if any) and the value events. */
async function agent(w: ValueWorld, calls: Call | Call[], id = w.sessionId) {
  const { events, receipt } = await sendAgent(w, [await agentOp(w, id, calls)]);
  const evs = parseEvents(w, receipt);
  const queued = evs.find((e) => e.name === "OperationQueued");
  const scheduled = evs.find((e) => e.name === "OperationScheduled");
  const assessed = evs.find((e) => e.name === "ValueAssessed");
  const recorded = evs.find((e) => e.name === "ValueSpendRecorded");
  return {
    success: events[0].success,
    revertReason: events[0].revertReason,
    tier: queued ? (queued.args.tier as bigint) : TIER.Instant,
    request: queued
      ? {
          id: queued.args.requestId as string,
          mode: scheduled!.args.mode as string,
          calldata: scheduled!.args.executionCalldata as string,
        }
      : undefined,
    quote: assessed?.args.quote as
      | {
          tier: bigint;
          failure: bigint;
          unpricedToken: string;
          session: { limit: bigint; value: bigint; bound: bigint };
        }
      | undefined,
    charged: recorded ? (recorded.args.value as bigint) : undefined,
  };
}

async function left(w: ValueWorld, id = w.sessionId) {
  const s = await w.sessions.valueBudgetOf(w.accountAddress, id);
  return { period: s.periodLeft as bigint, lifetime: s.lifetimeLeft as bigint };
}

describe("value budgets (USD across tokens)", function () {
  describe("one USD budget over three tokens", () => {
    it("payments in USDC (6), WETH (18) and WBTC (8 decimals) charge one budget, each valued at its block", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      expect((await left(w)).period).to.equal(500n * USD);
      let r = await agent(w, pay(w, w.usdc, 15n * 10n ** 6n)); // $15
      expect(r.success, r.revertReason).to.equal(true);
      expect([r.tier, r.charged]).to.deep.equal([TIER.Instant, 15n * USD]);
      r = await agent(w, pay(w, w.weth, 5n * 10n ** 15n)); // 0.005 ETH at $3,000 = $15
      expect([r.tier, r.charged]).to.deep.equal([TIER.Instant, 15n * USD]);
      r = await agent(w, pay(w, w.wbtc, 25_000n)); // 0.00025 BTC at $60,000 = $15
      expect([r.tier, r.charged]).to.deep.equal([TIER.Instant, 15n * USD]);
      expect(await left(w)).to.deep.equal({ period: 455n * USD, lifetime: 4_955n * USD });
      // a price move between two operations: the same 0.005 ETH is worth $20 at $4,000
      await w.ethUsd.setAnswer(4_000n * USD);
      r = await agent(w, pay(w, w.weth, 5n * 10n ** 15n));
      expect([r.tier, r.charged]).to.deep.equal([TIER.Instant, 20n * USD]);
      expect((await left(w)).period).to.equal(435n * USD);
      // one batch in the three tokens is valued as the sum: $10 + $6 + $6 = $22 > $20 instant → delayed
      r = await agent(w, [pay(w, w.usdc, 10n * 10n ** 6n), pay(w, w.weth, 15n * 10n ** 14n), pay(w, w.wbtc, 10_000n)]);
      expect(r.tier).to.equal(TIER.Delayed);
      expect(r.quote!.session.limit).to.equal(LIMIT.InstantThreshold);
      expect(r.quote!.session.value).to.equal(22n * USD);
    });

    it("rounds against the agent: 1 wei of WETH costs one unit base unit, never zero", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      const r = await agent(w, pay(w, w.weth, 1n));
      expect(r.success, r.revertReason).to.equal(true);
      expect(r.charged).to.equal(1n); // 3e-15 USD rounded up to 1e-8
    });

    it("a spend above the instant threshold in value is queued even though the token budget allows it; it runs at the run block's price", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      const r = await agent(w, pay(w, w.weth, 10n ** 16n)); // 0.01 ETH = $30 > $20
      expect(r.tier).to.equal(TIER.Delayed);
      const v = r.quote!.session;
      expect([v.limit, v.value, v.bound]).to.deep.equal([LIMIT.InstantThreshold, 30n * USD, 20n * USD]);
      expect((await left(w)).period, "nothing charged while queued").to.equal(500n * USD);
      await w.ethUsd.setAnswer(3_500n * USD); // the price moves while the request waits
      await time.increase(HOUR + 1n);
      await w.ethUsd.setAnswer(3_500n * USD); // fresh round (staleness limit one hour)
      await w.timelock.execute(w.accountAddress, r.request!.id, r.request!.mode, r.request!.calldata);
      expect((await left(w)).period, "valued at the run block: $35").to.equal(465n * USD);
    });

    it("above the ceiling, the period cap or the lifetime cap needs the owner's approval", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      let r = await agent(w, pay(w, w.usdc, 201n * 10n ** 6n));
      expect([r.tier, r.quote!.session.limit]).to.deep.equal([TIER.Approval, LIMIT.Ceiling]);
      // spend the day's cap down to $10 with delayed payments
      for (const amount of [200n, 200n, 90n]) {
        r = await agent(w, pay(w, w.usdc, amount * 10n ** 6n));
        await time.increase(HOUR + 1n);
        await w.timelock.execute(w.accountAddress, r.request!.id, r.request!.mode, r.request!.calldata);
      }
      expect((await left(w)).period).to.equal(10n * USD);
      r = await agent(w, pay(w, w.usdc, 11n * 10n ** 6n)); // $11 < instant, but $10 left
      expect([r.tier, r.quote!.session.limit, r.quote!.session.bound]).to.deep.equal([
        TIER.Approval,
        LIMIT.Period,
        10n * USD,
      ]);
    });

    it("exactly the instant threshold in value is instant", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      const st = await w.sessions.valueBudgetOf(w.accountAddress, w.sessionId);
      expect(st.config.instantThreshold).to.equal(20n * USD);
      const r = await agent(w, pay(w, w.usdc, 20n * 10n ** 6n)); // exactly the threshold: instant
      expect([r.success, r.tier, r.charged]).to.deep.equal([true, TIER.Instant, 20n * USD]);
    });
  });

  describe("prices that cannot be trusted never pay instantly", () => {
    const cases: [string, (w: ValueWorld) => Promise<unknown>, bigint][] = [
      ["a stale feed", async (w) => w.ethUsd.setRound(3_000n * USD, (await time.latest()) - 2 * 3600), FAILURE.Stale],
      ["a zero price", (w) => w.ethUsd.setAnswer(0n), FAILURE.ZeroPrice],
      ["a negative price", (w) => w.ethUsd.setAnswer(-1n), FAILURE.NegativePrice],
      ["a price outside the bounds", (w) => w.ethUsd.setAnswer(2_000_000n * USD), FAILURE.OutOfBounds],
      ["a reverting feed", (w) => w.ethUsd.setMode(MODE.Revert), FAILURE.FeedReverted],
      ["a gas-burning feed", (w) => w.ethUsd.setMode(MODE.BurnGas), FAILURE.FeedReverted],
      ["a short return", (w) => w.ethUsd.setMode(MODE.ShortReturn), FAILURE.FeedReverted],
    ];
    for (const [name, breakFeed, failure] of cases) {
      it(`${name}: a $3 payment waits for the owner, with the reason`, async () => {
        const w = await networkHelpers.loadFixture(valueWorld);
        await breakFeed(w);
        const before = await w.weth.balanceOf(w.recipients[0]);
        const r = await agent(w, pay(w, w.weth, 10n ** 15n)); // 0.001 ETH = $3: instant if priced
        expect(r.success, r.revertReason).to.equal(true);
        expect(r.tier).to.equal(TIER.Approval);
        expect(r.quote!.failure).to.equal(failure);
        expect(r.quote!.unpricedToken).to.equal(w.weth.target);
        expect(r.quote!.session.limit).to.equal(LIMIT.Price);
        expect(await w.weth.balanceOf(w.recipients[0])).to.equal(before);
      });
    }

    it("a token in the scope without a price source cannot be spent through the value budget; the owner can approve it", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      const removal = w.sessions.interface.encodeFunctionData("removePriceSource", [w.wbtc.target]);
      expect((await ownerCalls(w, { target: w.sessionsAddress, data: removal })).event.success).to.equal(true);
      const r = await agent(w, pay(w, w.wbtc, 1_000n)); // $0.60
      expect([r.tier, r.quote!.failure]).to.deep.equal([TIER.Approval, FAILURE.NoSource]);
      const approve = w.timelock.interface.encodeFunctionData("approve", [r.request!.id]);
      expect((await ownerCalls(w, { target: w.timelock.target as string, data: approve })).event.success).to.equal(
        true,
      );
      await w.timelock.execute(w.accountAddress, r.request!.id, r.request!.mode, r.request!.calldata);
      expect(await w.wbtc.balanceOf(w.recipients[0])).to.equal(1_000n);
      expect((await left(w)).period, "an approved run is the owner's spend").to.equal(500n * USD);
    });

    it("a delayed request whose feed fails before it runs reverts and moves nothing", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      const r = await agent(w, pay(w, w.weth, 10n ** 16n)); // $30: delayed
      expect(r.tier).to.equal(TIER.Delayed);
      await time.increase(HOUR + 1n);
      await w.ethUsd.setMode(MODE.Revert);
      await expect(w.timelock.execute(w.accountAddress, r.request!.id, r.request!.mode, r.request!.calldata))
        .to.be.revertedWithCustomError(w.sessions, "AgentSessionsValueUnpriced")
        .withArgs(w.weth.target, FAILURE.FeedReverted);
      expect(await w.weth.balanceOf(w.recipients[0])).to.equal(0n);
    });
  });

  describe("one price per token per operation", () => {
    /** A second session paying WETH that may also move the ETH/USD feed or call a greedy router, with `budget`. */
    async function movingSession(w: ValueWorld, extraToken?: MockERC20) {
      const router = await ethers.deployContract("GreedyRouter");
      const tokens = [w.weth, ...(extraToken ? [extraToken] : [])];
      const id = await grant(w, {
        ...(await paymentsConfig(w)),
        permissions: [
          { target: w.weth.target as string, selector: TRANSFER, valueCap: 0n, calldataLength: 68n, conditions: [] },
          {
            target: w.ethUsd.target as string,
            selector: w.ethUsd.interface.getFunction("setAnswer")!.selector,
            valueCap: 0n,
            calldataLength: 36n,
            conditions: [],
          },
          {
            target: router.target as string,
            selector: router.interface.getFunction("pull")!.selector,
            valueCap: 0n,
            calldataLength: 100n,
            conditions: [],
          },
        ],
        budgets: tokens.map((t) => wide(t.target as string)),
      });
      const set = w.sessions.interface.encodeFunctionData("setValueBudget", [id, config()]);
      const calls: Call[] = [{ target: w.sessionsAddress, data: set }];
      for (const t of tokens) {
        const approve = t.interface.encodeFunctionData("approve", [router.target, 10n ** 30n]);
        calls.push({ target: t.target as string, data: approve }); // the owner approved the router earlier
      }
      const { event } = await ownerCalls(w, calls);
      expect(event.success, event.revertReason).to.equal(true);
      return { id, router };
    }

    it("a feed moved by a call inside the operation does not change what is charged: the assessed price is kept", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      const { id } = await movingSession(w);
      const move: Call = {
        target: w.ethUsd.target as string,
        data: w.ethUsd.interface.encodeFunctionData("setAnswer", [6_000n * USD]),
      };
      // 0.005 ETH: $15 at the assessed $3,000 (instant); $30 at the $6,000 the batch sets before paying
      const r = await agent(w, [move, pay(w, w.weth, 5n * 10n ** 15n)], id);
      expect(r.success, r.revertReason).to.equal(true);
      expect((await w.ethUsd.latestRoundData()).answer, "the call did move the feed").to.equal(6_000n * USD);
      expect([r.tier, r.charged]).to.deep.equal([TIER.Instant, 15n * USD]);
      expect((await left(w, id)).period).to.equal(485n * USD);
      // the next operation is priced afresh: the same payment is now $30, above the instant threshold
      const next = await agent(w, pay(w, w.weth, 5n * 10n ** 15n), id);
      expect([next.tier, next.quote!.session.value]).to.deep.equal([TIER.Delayed, 30n * USD]);
    });

    it("a budgeted token without a price source, pulled by a router with no amount in the calldata, reverts the charge unpriced", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      const dai = await ethers.deployContract("MockERC20", ["Dai", "DAI", 18]);
      await dai.mint(w.accountAddress, 10n ** 24n);
      const { id, router } = await movingSession(w, dai);
      const pull: Call = {
        target: router.target as string,
        data: router.interface.encodeFunctionData("pull", [dai.target, w.accountAddress, 10n ** 18n]),
      };
      const { events, receipt } = await sendAgent(w, [await agentOp(w, id, pull)]);
      expect(events[0].success, "the execution reverts").to.equal(false);
      const unpriced = w.sessions.interface.encodeErrorResult("AgentSessionsValueUnpriced", [
        dai.target,
        FAILURE.NoSource,
      ]);
      expect(events[0].revertReason).to.include(unpriced.slice(2));
      expect(parseEvents(w, receipt).some((e) => e.name === "OperationQueued")).to.equal(false);
      expect(await dai.balanceOf(router.target), "nothing moved").to.equal(0n);
      expect(await dai.balanceOf(w.accountAddress)).to.equal(10n ** 24n);
      expect((await left(w, id)).period).to.equal(500n * USD);
    });
  });

  describe("the account's value budget over all its sessions", () => {
    it("two sessions share the account's cap; each keeps its own", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      const second = await grant(w, {
        ...(await paymentsConfig(w)),
        permissions: [
          { target: w.usdc.target as string, selector: TRANSFER, valueCap: 0n, calldataLength: 68n, conditions: [] },
        ],
        budgets: [wide(w.usdc.target as string)],
      });
      const set = (id: string, c: ReturnType<typeof config>) => ({
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("setValueBudget", [id, c]),
      });
      const account = config({ instant: 20n * USD, period: 30n * USD });
      expect((await ownerCalls(w, set(ethers.ZeroHash, account))).event.success).to.equal(true);
      let r = await agent(w, pay(w, w.usdc, 18n * 10n ** 6n)); // session 1: $18
      expect(r.tier).to.equal(TIER.Instant);
      r = await agent(w, pay(w, w.usdc, 18n * 10n ** 6n), second); // session 2 (no own value budget): $18 > $12 left
      expect(r.tier).to.equal(TIER.Approval);
      expect(r.quote!.session.limit, "session 2 has no budget of its own").to.equal(LIMIT.None);
      expect((await left(w, ethers.ZeroHash)).period).to.equal(12n * USD);
      r = await agent(w, pay(w, w.usdc, 12n * 10n ** 6n), second);
      expect(r.tier).to.equal(TIER.Instant);
      expect((await left(w, ethers.ZeroHash)).period).to.equal(0n);
      expect((await left(w)).period, "session 1's own budget saw only its spend").to.equal(482n * USD);
    });
  });

  describe("configuration", () => {
    it("loosening waits the security delay; a first budget and a removed source apply at once", async () => {
      const w = await buildValueWorld(2n * DAY);
      const s = w.sessions;
      const call = (fn: string, args: unknown[]) => ({
        target: w.sessionsAddress,
        data: (s.interface as Interface).encodeFunctionData(fn, args),
      });
      // raising the instant threshold is proposed, not applied
      const raise = call("setValueBudget", [w.sessionId, config({ instant: 50n * USD })]);
      let { receipt } = await ownerCalls(w, raise);
      expect(parseEvents(w, receipt).some((e) => e.name === "ChangeProposed")).to.equal(true);
      expect((await s.valueBudgetOf(w.accountAddress, w.sessionId)).config.instantThreshold).to.equal(20n * USD);
      // lowering applies at once
      await ownerCalls(w, call("setValueBudget", [w.sessionId, config({ instant: 10n * USD })]));
      expect((await s.valueBudgetOf(w.accountAddress, w.sessionId)).config.instantThreshold).to.equal(10n * USD);
      // clearing is loosening
      ({ receipt } = await ownerCalls(w, call("clearValueBudget", [w.sessionId])));
      expect(parseEvents(w, receipt).some((e) => e.name === "ChangeProposed")).to.equal(true);
      expect((await s.valueBudgetOf(w.accountAddress, w.sessionId)).config.period).to.equal(DAY);
      // a changed price source, once a value budget exists, is loosening (a cheaper price is a larger budget)
      const cheap = price(w, w.usdc.target as string, 6, fixedSource(1n, 3)); // $0.001 per USDC
      ({ receipt } = await ownerCalls(w, cheap));
      expect(parseEvents(w, receipt).some((e) => e.name === "ChangeProposed")).to.equal(true);
      expect((await s.priceSourceOf(w.accountAddress, w.usdc.target)).source.rate).to.equal(1n);
      // removing a source tightens: at once
      await ownerCalls(w, call("removePriceSource", [w.usdc.target]));
      expect((await s.priceSourceOf(w.accountAddress, w.usdc.target)).source.kind).to.equal(0n);
      // the proposed raise applies after the delay
      await time.increase(2n * DAY + 1n);
      await s.applyChange(w.accountAddress, raise.data);
      expect((await s.valueBudgetOf(w.accountAddress, w.sessionId)).config.instantThreshold).to.equal(50n * USD);
    });

    it("refuses another unit, an unknown session, invalid sources and token decimals above 24", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      const s = w.sessions;
      const eur = { ...config(), unit: dataSlice(encodeBytes32String("EUR"), 0, 8) };
      const other = await paymentsConfig(w); // a second session, to try the other unit on
      const id = await grant(w, other);
      const account = await ethers.getImpersonatedSigner(w.accountAddress);
      await expect(s.connect(account).setValueBudget(id, eur))
        .to.be.revertedWithCustomError(s, "AgentSessionsValueUnit")
        .withArgs(eur.unit, UNIT);
      const unnamed = { ...config(), unit: "0x0000000000000000" };
      await expect(s.connect(account).setValueBudget(id, unnamed))
        .to.be.revertedWithCustomError(s, "AgentSessionsValueUnit")
        .withArgs(unnamed.unit, UNIT);
      await expect(s.connect(account).setValueBudget(ethers.id("nope"), config())).to.be.revertedWithCustomError(
        s,
        "AgentSessionsUnknownSession",
      );
      await expect(s.connect(account).setPriceSource(w.usdc.target, 25, fixedSource())).to.be.revertedWithCustomError(
        s,
        "AgentSessionsValueTokenDecimals",
      );
      await expect(s.connect(account).setPriceSource(w.usdc.target, 6, fixedSource(0n))).to.be.revertedWithCustomError(
        s,
        "ValuePricingInvalidSource",
      );
      await expect(
        s.connect(account).setValueBudget(id, config({ instant: 300n * USD })),
      ).to.be.revertedWithCustomError(s, "ValueBudgetInvalidConfig");
    });

    it("the valuation entry points and the view bridge cannot be reached from outside", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      const [stranger] = await ethers.getSigners();
      const run = new ethers.Interface([
        "function chargeValue(address,bytes32,address[],uint256[],uint8)",
        "function assessValue(address,bytes32,address[],uint256[])",
      ]);
      const charge = run.encodeFunctionData("chargeValue", [w.accountAddress, w.sessionId, [w.usdc.target], [1n], 0]);
      await expect(stranger.sendTransaction({ to: w.sessionsAddress, data: charge })).to.be.revert(ethers);
      const admin = await w.sessions.admin();
      await expect(stranger.sendTransaction({ to: admin, data: charge })).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsUnauthorized",
      );
      await expect(w.sessions.connect(stranger).delegateView(charge)).to.be.revertedWithCustomError(
        w.sessions,
        "AgentSessionsUnauthorized",
      );
      expect((await left(w)).period).to.equal(500n * USD);
    });

    it("an agent cannot configure its own value budget or prices", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      const loosen = w.sessions.interface.encodeFunctionData("setValueBudget", [
        w.sessionId,
        config({ instant: MAX128 }),
      ]);
      const cheap = w.sessions.interface.encodeFunctionData("setPriceSource", [w.weth.target, 18, fixedSource(1n, 30)]);
      for (const data of [loosen, cheap]) {
        const { events } = await sendAgent(w, [
          await agentOp(w, w.sessionId, { target: w.sessionsAddress, data }),
        ]).catch((e: Error) => ({ events: [{ success: false, revertReason: e.message }] }));
        expect(events[0].success).to.equal(false);
      }
      expect((await w.sessions.valueBudgetOf(w.accountAddress, w.sessionId)).config.instantThreshold).to.equal(
        20n * USD,
      );
      expect((await w.sessions.priceSourceOf(w.accountAddress, w.weth.target)).source.kind).to.equal(2n);
    });
  });

  describe("preview", () => {
    it("previewOperation's tier includes the value verdict; quoteValue details it", async () => {
      const w = await networkHelpers.loadFixture(valueWorld);
      const call = pay(w, w.weth, 10n ** 16n); // $30
      const mode = ethers.ZeroHash;
      const payload = ethers.solidityPacked(["address", "uint256", "bytes"], [call.target, 0n, call.data]);
      const p = await w.sessions.previewOperation(w.accountAddress, w.sessionId, mode, payload);
      expect(p.refusal).to.equal("0x");
      expect(p.tier, "token budget says instant, value says delayed").to.equal(TIER.Delayed);
      const tokens = p.tokens.map((t: { token: string }) => t.token);
      const amounts = p.tokens.map((t: { amount: bigint }) => t.amount);
      const q = await w.sessions.quoteValue(w.accountAddress, w.sessionId, tokens, amounts);
      expect([q.active, q.tier, q.session.limit, q.session.value]).to.deep.equal([
        true,
        1n,
        LIMIT.InstantThreshold,
        30n * USD,
      ]);
      await w.ethUsd.setMode(MODE.Revert);
      const broken = await w.sessions.previewOperation(w.accountAddress, w.sessionId, mode, payload);
      expect(broken.tier).to.equal(TIER.Approval);
    });
  });
});

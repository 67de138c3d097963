/**
 * Module-level property test of the value budgets (issue 19): a seeded random sequence of agent payments in three
 * tokens (6, 18 and 8 decimals; one fixed rate, two moving feeds), random time steps and delayed requests run
 * later. Whatever the sequence, measured from the account's balances and an independent model of the prices:
 * every `period` consecutive seconds see at most the period cap of value leave the account, and nothing above the
 * instant threshold (a fortiori above the ceiling) ever ran in the operation that asked for it.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, encodeBytes32String, dataSlice } from "ethers";
import type { MockAggregator, MockERC20 } from "../../types/ethers-contracts/index.js";
import type { Call } from "../../src/account/encoding.js";
import {
  DAY,
  HOUR,
  agentOp,
  deploySessionWorld,
  grant,
  ownerCalls,
  paymentsConfig,
  parseEvents,
  sendAgent,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const USD = 10n ** 8n;
const STEPS = 200;
const SEED = 0x5eed_19n;
const BUDGET = { instant: 20n * USD, ceiling: 60n * USD, period: 100n * USD, lifetime: 10n ** 12n * USD };
const MAX128 = (1n << 128n) - 1n;

/** xorshift64*: a small deterministic PRNG (the sequence is reproducible from {@link SEED}). */
function prng(seed: bigint) {
  let x = seed & ((1n << 64n) - 1n) || 1n;
  const mask = (1n << 64n) - 1n;
  return (bound: bigint): bigint => {
    x ^= x >> 12n;
    x ^= (x << 25n) & mask;
    x ^= x >> 27n;
    return (((x * 0x2545f4914f6cdd1dn) & mask) >> 11n) % bound;
  };
}

interface Asset {
  token: MockERC20;
  decimals: bigint;
  feed?: MockAggregator;
  price: bigint; // USD with 8 decimals per whole token (the model's copy of the feed)
}

/** ceil(amount * price / 10^decimals): ValuePricing's rounding with 8-decimal prices and unit. */
const valueOf = (a: Asset, amount: bigint) => (amount * a.price + 10n ** a.decimals - 1n) / 10n ** a.decimals;

describe("value budgets: module-level property over random operations", function () {
  it(`${STEPS} random payments in three tokens never exceed the period cap over any period and never run above the instant threshold at once`, async () => {
    const w = await deploySessionWorld(ethers);
    const mk = async (name: string, decimals: bigint) => {
      const t = await ethers.deployContract("MockERC20", [name, name, decimals]);
      await t.mint(w.accountAddress, 10n ** 30n);
      return t;
    };
    const assets: Asset[] = [
      { token: await mk("USDC", 6n), decimals: 6n, price: USD },
      { token: await mk("WETH", 18n), decimals: 18n, price: 3_000n * USD },
      { token: await mk("WBTC", 8n), decimals: 8n, price: 60_000n * USD },
    ];
    for (const a of assets.slice(1)) a.feed = await ethers.deployContract("MockAggregator", [8, a.price]);
    const sessionId = await grant(w, {
      ...(await paymentsConfig(w)),
      permissions: assets.map((a) => ({
        target: a.token.target as string,
        selector: "0xa9059cbb",
        valueCap: 0n,
        calldataLength: 68n,
        conditions: [],
      })),
      budgets: assets.map((a) => ({
        token: a.token.target as string,
        instantThreshold: MAX128 >> 16n,
        ceiling: MAX128 >> 16n,
        periodCap: MAX128,
        lifetimeCap: MAX128,
        period: DAY,
      })),
    });
    const source = (a: Asset) =>
      a.feed
        ? {
            kind: 2,
            rateDecimals: 0,
            maxStaleness: HOUR,
            feed: a.feed.target,
            rate: 0n,
            minPrice: 1n,
            maxPrice: MAX128,
          }
        : { kind: 1, rateDecimals: 0, maxStaleness: 0n, feed: ZeroAddress, rate: 1n, minPrice: 0n, maxPrice: 0n };
    const s = w.sessions.interface;
    const setup: Call[] = assets.map((a) => ({
      target: w.sessionsAddress,
      data: s.encodeFunctionData("setPriceSource", [a.token.target, a.decimals, source(a)]),
    }));
    const unit = dataSlice(encodeBytes32String("USD"), 0, 8);
    const cfg = {
      unit,
      unitDecimals: 8,
      period: DAY,
      instantThreshold: BUDGET.instant,
      ceiling: BUDGET.ceiling,
      periodCap: BUDGET.period,
      lifetimeCap: BUDGET.lifetime,
    };
    setup.push({ target: w.sessionsAddress, data: s.encodeFunctionData("setValueBudget", [sessionId, cfg]) });
    expect((await ownerCalls(w, setup)).event.success).to.equal(true);

    const rand = prng(SEED);
    const ran: { at: bigint; value: bigint; instant: boolean }[] = [];
    const pending: { id: string; mode: string; calldata: string; asset: Asset; amount: bigint; readyAt: bigint }[] = [];
    const counts = { instant: 0, queued: 0, delayedRan: 0, delayedRefused: 0 };
    const balance = (a: Asset) => a.token.balanceOf(w.accountAddress);
    const latest = async () => BigInt(await time.latest());

    for (let step = 0; step < STEPS; ++step) {
      await time.increase(rand(6n * HOUR));
      // every feed gets a fresh round at a random price (x0.5 .. x1.5 of its start)
      for (const [i, a] of assets.entries()) {
        if (!a.feed) continue;
        const start = i === 1 ? 3_000n * USD : 60_000n * USD;
        a.price = start / 2n + rand(start);
        await a.feed.setAnswer(a.price);
      }
      // a delayed request that is ready runs now, at this block's price (or reverts on the budget)
      const now = await latest();
      for (let k = pending.length - 1; k >= 0; --k) {
        const p = pending[k];
        if (p.readyAt > now + 1n || rand(2n) === 0n) continue;
        pending.splice(k, 1);
        const before = await balance(p.asset);
        const ok = await w.timelock
          .execute(w.accountAddress, p.id, p.mode, p.calldata)
          .then((tx) => tx.wait())
          .then(
            () => true,
            () => false,
          );
        const moved = before - (await balance(p.asset));
        if (ok) {
          expect(moved).to.equal(p.amount);
          ran.push({ at: await latest(), value: valueOf(p.asset, p.amount), instant: false });
          counts.delayedRan++;
        } else {
          expect(moved).to.equal(0n);
          counts.delayedRefused++;
        }
      }
      // the agent pays a random asset a random value between $0 and $80
      const a = assets[Number(rand(3n))];
      const amount = (rand(80n * USD) * 10n ** a.decimals) / a.price + 1n;
      const call: Call = {
        target: a.token.target as string,
        data: a.token.interface.encodeFunctionData("transfer", [w.recipients[step % 3], amount]),
      };
      const before = await balance(a);
      const { receipt } = await sendAgent(w, [await agentOp(w, sessionId, call)]);
      const moved = before - (await balance(a));
      const evs = parseEvents(w, receipt);
      const queued = evs.find((e) => e.name === "OperationQueued");
      if (moved !== 0n) {
        expect(moved).to.equal(amount);
        const value = valueOf(a, amount);
        expect(value, `step ${step}: ran at once above the instant threshold`).to.be.at.most(BUDGET.instant);
        ran.push({ at: await latest(), value, instant: true });
        counts.instant++;
      } else if (queued && queued.args.tier === 1n) {
        const scheduled = evs.find((e) => e.name === "OperationScheduled")!;
        pending.push({
          id: queued.args.requestId as string,
          mode: scheduled.args.mode as string,
          calldata: scheduled.args.executionCalldata as string,
          asset: a,
          amount,
          readyAt: (await latest()) + HOUR + 1n,
        });
        counts.queued++;
      } else if (queued) {
        counts.queued++;
      }
    }

    // any window of `period` consecutive seconds ending at a spend holds at most the period cap
    for (const last of ran) {
      const inWindow = ran.filter((r) => r.at <= last.at && r.at > last.at - DAY);
      const sum = inWindow.reduce((t, r) => t + r.value, 0n);
      expect(sum, `the day up to ${last.at} spent ${sum} > cap`).to.be.at.most(BUDGET.period);
    }
    for (const r of ran.filter((x) => x.instant)) expect(r.value).to.be.at.most(BUDGET.ceiling);
    // the sequence exercised every path (a vacuous run would prove nothing)
    expect(counts.instant, JSON.stringify(counts)).to.be.greaterThan(20);
    expect(counts.queued, JSON.stringify(counts)).to.be.greaterThan(20);
    expect(counts.delayedRan, JSON.stringify(counts)).to.be.greaterThan(5);
  });
});

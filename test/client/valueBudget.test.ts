import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, dataSlice } from "ethers";
import {
  ONE_TO_ONE,
  PRICE_FAILURES,
  VALUE_BUDGET_CONFIG_ABI,
  encodePriceSource,
  encodeValueBudgetConfig,
  fixedRate,
  formatUnitValue,
  priceSourceTuple,
  valueBudget,
  valueBudgetTuple,
  valueOf,
  type PriceSource,
} from "../../src/client/valueBudget.js";
import { parseValueBudget, valueBudgetFromArg } from "../../src/cli/valueSpec.js";
import { PolicyError } from "../../src/client/errors.js";
import { UsageError } from "../../src/cli/errors.js";
import type { MockAggregator, ValueBudgetHarness } from "../../types/ethers-contracts/index.js";

const { ethers } = await network.create();
const USD = 10n ** 8n;

describe("Value budgets: client encoding, spec parser, valuation", function () {
  describe("--value-budget spec", function () {
    it("parses UNIT:instant,ceiling,period[,lifetime] and scales to the unit's decimals", function () {
      const arg = parseValueBudget("USD:instant=20,ceiling=200,period=500/24h");
      expect(arg).to.deep.equal({ unit: "USD", instant: "20", ceiling: "200", periodCap: "500", period: "24h" });
      const c = valueBudgetFromArg(parseValueBudget("USD:instant=20.5,ceiling=200,period=500/24h,lifetime=5000"));
      expect(c).to.deep.equal({
        unit: "USD",
        unitDecimals: 8,
        period: 86_400n,
        instantThreshold: 2_050_000_000n,
        ceiling: 200n * USD,
        periodCap: 500n * USD,
        lifetimeCap: 5_000n * USD,
      });
      // No lifetime: none (2^128 - 1); no ceiling: the instant threshold.
      const open = valueBudgetFromArg(parseValueBudget("EUR:instant=10,period=100/7d"), 2);
      expect(open.ceiling).to.equal(1_000n);
      expect(open.lifetimeCap).to.equal((1n << 128n) - 1n);
    });

    it("refuses a missing period, a bad unit, unknown fields and out-of-range numbers with the spec named", function () {
      const bad = (raw: string, re: RegExp, decimals = 8) =>
        expect(() => valueBudgetFromArg(parseValueBudget(raw), decimals)).to.throw(UsageError, re);
      bad("USD:instant=20,ceiling=200", /needs period=CAP\/DURATION/);
      bad("usd:instant=20,period=500/24h", /unit must be 1\.\.8 characters/);
      bad("TOOLONGUNIT:instant=20,period=500/24h", /unit must be/);
      bad("USD:instant=20,price=3,period=500/24h", /unknown field "price=3"/);
      bad("USD:instant=20,period=500/1y", /bad duration 1y/);
      bad("USD:instant=300,ceiling=200,period=500/24h", /--value-budget USD: instant 30000000000 is above ceiling/);
      bad("USD:instant=0.001,period=500/24h", /more than 2 decimals/, 2);
      bad("USD:instant=1,period=500/0s", /period must be in 1\.\./);
    });
  });

  describe("valuation arithmetic", function () {
    it("rounds up (against the agent) and converts decimals 0..24", function () {
      // 0.01 ETH at $3,000.00000000 (feed: 8 decimals) = $30 in 8 decimals.
      expect(valueOf(10n ** 16n, 3_000n * USD, 8, 18, 8)).to.deep.equal({ value: 30n * USD });
      // One wei of ETH is worth 3e-7 USD base units: charged as 1.
      expect(valueOf(1n, 3_000n * USD, 8, 18, 8)).to.deep.equal({ value: 1n });
      // Stablecoin 1:1 with a decimals conversion, every pair 0..24.
      for (let td = 0; td <= 24; td++) {
        for (let ud = 0; ud <= 24; ud++) {
          expect(valueOf(10n ** BigInt(td), 1n, 0, td, ud).value).to.equal(10n ** BigInt(ud));
        }
      }
      expect(valueOf(1n, 1n, 0, 25, 8).failure).to.equal("BadDecimals");
      expect(valueOf((1n << 128n) + 1n, 1n, 0, 6, 8).failure).to.equal("AmountTooLarge");
      expect(valueOf(1n << 128n, (1n << 128n) - 1n, 0, 0, 24).failure).to.equal("Overflow");
      expect(fixedRate("0.998")).to.deep.equal({ kind: "fixed", rate: 998n, rateDecimals: 3 });
      expect(formatUnitValue(2_050_000_000n, 8)).to.equal("20.5");
      expect(formatUnitValue(5n, 0)).to.equal("5");
    });

    it("refuses price sources and configurations the contracts would reject", function () {
      const bad = (f: () => unknown, re: RegExp) => expect(f).to.throw(PolicyError, re);
      bad(() => priceSourceTuple({ kind: "fixed", rate: 0n, rateDecimals: 0 }), /fixed rate/);
      bad(() => priceSourceTuple({ kind: "fixed", rate: 1n, rateDecimals: 37 }), /rate decimals/);
      const feed = "0x000000000000000000000000000000000000dEaD";
      bad(
        () => priceSourceTuple({ kind: "aggregator", feed, maxStaleness: 0n, minPrice: 1n, maxPrice: 2n }),
        /maxStaleness/,
      );
      bad(
        () => priceSourceTuple({ kind: "aggregator", feed, maxStaleness: 60n, minPrice: 0n, maxPrice: 2n }),
        /minPrice/,
      );
      bad(
        () => priceSourceTuple({ kind: "aggregator", feed, maxStaleness: 60n, minPrice: 3n, maxPrice: 2n }),
        /maxPrice/,
      );
      bad(() => valueBudget("USD", 25, { perPeriod: "1", period: "1h" }), /unit decimals/);
    });
  });

  describe("against the contracts", function () {
    let harness: ValueBudgetHarness;
    let feed: MockAggregator;
    let feedSource: PriceSource;

    before(async function () {
      harness = await ethers.deployContract("ValueBudgetHarness");
      feed = await ethers.deployContract("MockAggregator", [8, 3_000n * USD]);
      feedSource = {
        kind: "aggregator",
        feed: String(feed.target),
        maxStaleness: 3_600n,
        minPrice: 1n,
        maxPrice: 10n ** 30n,
      };
    });

    it("encodes ValueBudget.Config as the contract decodes it", async function () {
      const config = valueBudgetFromArg(parseValueBudget("USD:instant=20,ceiling=200,period=500/24h,lifetime=5000"));
      await (await harness.getFunction("configure")(valueBudgetTuple(config))).wait();
      const [stored] = await harness.getFunction("state")();
      expect(AbiCoder.defaultAbiCoder().encode([VALUE_BUDGET_CONFIG_ABI], [stored])).to.equal(
        encodeValueBudgetConfig(config),
      );
      // Field order: the contract's own ABI encodes the same object to the same bytes.
      const call = harness.interface.encodeFunctionData("configure", [valueBudgetTuple(config)]);
      expect(dataSlice(call, 4)).to.equal(encodeValueBudgetConfig(config));
      const src = priceSourceTuple(feedSource);
      const valueCall = harness.interface.encodeFunctionData("valueOf", [src, 18, 1n, 8]);
      expect(dataSlice(valueCall, 4, 4 + 7 * 32)).to.equal(encodePriceSource(feedSource));
      expect(stored.unit).to.equal("0x5553440000000000"); // "USD"
      expect(stored.periodCap).to.equal(500n * USD);
      expect(stored.period).to.equal(86_400n);
      // The harness reads the config back through assess: $20.00000001 is delayed (tier 1, limit 1).
      const v = await harness.getFunction("assess")(20n * USD + 1n, 1_700_000_000n);
      expect([v.tier, v.limit, v.bound]).to.deep.equal([1n, 1n, 20n * USD]);
    });

    it("values like ValuePricing for random amounts, prices and decimals (fixed and aggregator sources)", async function () {
      let seed = 0x9e3779b97f4a7c15n;
      const next = (mod: bigint) => {
        seed = (seed * 6364136223846793005n + 1442695040888963407n) % (1n << 64n);
        return seed % mod;
      };
      for (let i = 0; i < 24; i++) {
        const td = Number(next(25n));
        const ud = Number(next(25n));
        const amount = next(1n << 64n) * next(1n << 64n);
        const rate = next(10n ** 12n) + 1n;
        const rateDecimals = Number(next(19n));
        const fixed: PriceSource = { kind: "fixed", rate, rateDecimals };
        const [f, v] = await harness.getFunction("valueOf")(priceSourceTuple(fixed), td, amount, ud);
        const ts = valueOf(amount, rate, rateDecimals, td, ud);
        expect(PRICE_FAILURES[Number(f)]).to.equal(ts.failure ?? "None");
        expect(v).to.equal(ts.value ?? 0n);
      }
      const [f, v] = await harness.getFunction("valueOf")(priceSourceTuple(feedSource), 18, 10n ** 16n, 8);
      expect([PRICE_FAILURES[Number(f)], v]).to.deep.equal(["None", 30n * USD]);
      const [f1, v1] = await harness.getFunction("valueOf")(priceSourceTuple(ONE_TO_ONE), 6, 15_000_000n, 8);
      expect([PRICE_FAILURES[Number(f1)], v1]).to.deep.equal(["None", 15n * USD]);
    });

    it("maps the contract's failure codes by name (reverting, stale, negative feeds)", async function () {
      const failureOf = async () => {
        const [f] = await harness.getFunction("valueOf")(priceSourceTuple(feedSource), 18, 1n, 8);
        return PRICE_FAILURES[Number(f)];
      };
      await (await feed.getFunction("setMode")(1)).wait();
      expect(await failureOf()).to.equal("FeedReverted");
      await (await feed.getFunction("setMode")(0)).wait();
      await (await feed.getFunction("setAnswer")(-1n)).wait();
      expect(await failureOf()).to.equal("NegativePrice");
      await (await feed.getFunction("setRound")(3_000n * USD, 1n)).wait();
      expect(await failureOf()).to.equal("Stale");
      const [fn] = await harness.getFunction("valueOf")(
        { kind: 0, rateDecimals: 0, maxStaleness: 0, feed: ethers.ZeroAddress, rate: 0, minPrice: 0, maxPrice: 0 },
        6,
        1n,
        8,
      );
      expect(PRICE_FAILURES[Number(fn)]).to.equal("NoSource");
      expect(encodePriceSource(ONE_TO_ONE)).to.match(/^0x0{63}1/); // kind Fixed in the first word
    });
  });
});

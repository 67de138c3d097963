import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, getAddress, zeroPadValue } from "ethers";
import {
  PolicyError,
  UINT128_MAX,
  parseAmount,
  parseDuration,
  policy,
  type PolicyErrorReason,
} from "../../src/client/index.js";
import { randomWallet } from "../helpers/reins.js";

const { ethers } = await network.create();

describe("Reins client: policy builder", function () {
  let token: string;
  let recipients: string[];
  const agent = randomWallet().address;
  const tokens = () => ({ TUSD: { address: token, decimals: 6 } });
  const ctx = () => ({ provider: ethers.provider, tokens: tokens() });
  const base = () =>
    policy()
      .agent(agent)
      .validFor("24h")
      .allowTransfer("TUSD", { to: recipients, max: "100.5" })
      .budget("TUSD", { instant: "50", ceiling: "500", perPeriod: "1000", period: "24h", lifetime: "5000" });

  before(async function () {
    token = String((await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6])).target);
    recipients = [randomWallet().address, randomWallet().address];
  });

  async function expectPolicyError(p: Promise<unknown>, reason: PolicyErrorReason) {
    try {
      await p;
    } catch (e) {
      expect(e).to.be.instanceOf(PolicyError);
      expect((e as PolicyError).name).to.equal("PolicyError");
      expect((e as PolicyError).reason).to.equal(reason);
      return;
    }
    throw new Error(`expected PolicyError(${reason})`);
  }

  it("builds the struct in base units with conditions, budgets and the validity window", async function () {
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const c = await base()
      .maxUses(7)
      .gas({ perOp: "0.002", total: "0.5" })
      .queue({ delay: "15m", approvalWindow: "7d" })
      .build(ctx());
    expect(c.agent).to.equal(agent);
    expect(c.validUntil).to.equal(now + 86_400n);
    expect([c.maxUses, c.maxGasCostPerOp, c.gasBudget, c.queueDelay, c.approvalWindow]).to.deep.equal([
      7n,
      2n * 10n ** 15n,
      5n * 10n ** 17n,
      900n,
      604_800n,
    ]);
    const [perm] = c.permissions;
    expect([perm.target, perm.selector, perm.valueCap, perm.calldataLength]).to.deep.equal([
      getAddress(token),
      "0xa9059cbb",
      0n,
      68n,
    ]);
    expect(perm.conditions[0].op).to.equal(4); // OneOf on the recipient
    expect(perm.conditions[0].oneOf).to.deep.equal(recipients.map((r) => zeroPadValue(r, 32)));
    expect(perm.conditions[1].op).to.equal(2); // AtMost on the amount
    expect(BigInt(perm.conditions[1].value as string)).to.equal(100_500_000n);
    expect(c.budgets).to.deep.equal([
      {
        token: getAddress(token),
        instantThreshold: 50_000_000n,
        ceiling: 500_000_000n,
        periodCap: 1_000_000_000n,
        lifetimeCap: 5_000_000_000n,
        period: 86_400n,
      },
    ]);
  });

  it("reads decimals from the token when it is given by address, and ETH is native", async function () {
    const c = await policy()
      .agent(agent)
      .allowTransfer(token, { to: recipients })
      .allowTransfer("ETH", { to: recipients, max: "0.5" })
      .budget(token, { instant: "1.25" })
      .budget("ETH", { instant: "0.1", ceiling: "0.2" })
      .build({ provider: ethers.provider });
    expect(c.budgets[0].instantThreshold).to.equal(1_250_000n);
    expect(c.budgets[0].periodCap).to.equal(UINT128_MAX);
    expect(c.budgets[1].token).to.equal(ZeroAddress);
    expect([c.budgets[1].instantThreshold, c.budgets[1].ceiling]).to.deep.equal([10n ** 17n, 2n * 10n ** 17n]);
    expect(c.permissions.slice(1).map((p) => [p.target, p.selector, p.valueCap])).to.deep.equal(
      recipients.map((r) => [r, "0x00000000", 5n * 10n ** 17n]),
    );
  });

  it("refuses a policy without an agent", async function () {
    await expectPolicyError(policy().allowTransfer("TUSD", { to: recipients }).build(ctx()), "missing agent");
  });

  it("refuses an empty scope", async function () {
    await expectPolicyError(policy().agent(agent).build(ctx()), "empty scope");
  });

  it("refuses an instant threshold above its ceiling", async function () {
    const p = policy()
      .agent(agent)
      .allowTransfer("TUSD", { to: recipients })
      .budget("TUSD", { instant: "10", ceiling: "9" });
    await expectPolicyError(p.build(ctx()), "threshold above ceiling");
  });

  it("refuses a ceiling above the period cap", async function () {
    const p = policy()
      .agent(agent)
      .allowTransfer("TUSD", { to: recipients })
      .budget("TUSD", { instant: "1", ceiling: "600", perPeriod: "500" });
    await expectPolicyError(p.build(ctx()), "ceiling above period cap");
  });

  it("refuses a budget for a token the scope cannot move", async function () {
    const other = String((await ethers.deployContract("MockERC20", ["Other", "OTH", 18])).target);
    const p = base().budget(other, { instant: "1" });
    await expectPolicyError(p.build(ctx()), "budget token not in scope");
    // native: a budget without any permission carrying value
    await expectPolicyError(base().budget("ETH", { instant: "1" }).build(ctx()), "budget token not in scope");
  });

  it("refuses a contract call to an address without code", async function () {
    const eoa = randomWallet().address;
    const p = policy().agent(agent).allowCall(eoa, { fn: "approve(address,uint256)" });
    await expectPolicyError(p.build(ctx()), "target without code");
    // a token given by an address without code is refused the same way
    await expectPolicyError(
      policy().agent(agent).allowTransfer(eoa, { to: recipients }).build(ctx()),
      "target without code",
    );
  });

  it("refuses a zero period", async function () {
    const p = policy()
      .agent(agent)
      .allowTransfer("TUSD", { to: recipients })
      .budget("TUSD", { instant: "1", period: "0s" });
    await expectPolicyError(p.build(ctx()), "period zero");
  });

  it("refuses an amount with more decimals than the token", async function () {
    const p = policy().agent(agent).allowTransfer("TUSD", { to: recipients, max: "1.0000001" });
    await expectPolicyError(p.build(ctx()), "too many decimals");
    const q = policy().agent(agent).allowTransfer("TUSD", { to: recipients }).budget("TUSD", { instant: "0.1234567" });
    await expectPolicyError(q.build(ctx()), "too many decimals");
  });

  it("refuses a validity end in the past", async function () {
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    await expectPolicyError(
      base()
        .validUntil(now - 1n)
        .build(ctx()),
      "valid until in the past",
    );
    await expectPolicyError(base().validFor("0s").build(ctx()), "valid until in the past");
  });

  it("refuses an unknown token symbol", async function () {
    await expectPolicyError(
      policy().agent(agent).allowTransfer("USDC", { to: recipients }).build(ctx()),
      "unknown token",
    );
    await expectPolicyError(base().budget("DAI", { instant: "1" }).build(ctx()), "unknown token");
  });

  it("parses durations and amounts", function () {
    expect([parseDuration("90s"), parseDuration("15m"), parseDuration("24h"), parseDuration("7d")]).to.deep.equal([
      90n,
      900n,
      86_400n,
      604_800n,
    ]);
    expect(() => parseDuration("1y" as never)).to.throw(PolicyError);
    expect(parseAmount("100.5", 6)).to.equal(100_500_000n);
    expect(parseAmount("7", 0)).to.equal(7n);
    expect(() => parseAmount("1.5", 0)).to.throw(PolicyError);
    expect(() => parseAmount("-1", 6)).to.throw(PolicyError);
  });
});

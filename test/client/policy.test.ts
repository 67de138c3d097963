import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, Interface, ZeroAddress, dataSlice, getAddress, toBeHex, zeroPadValue } from "ethers";
import {
  ConditionOp,
  MAX_CONDITIONS,
  PolicyError,
  UINT128_MAX,
  parseAmount,
  parseDuration,
  policy,
  units,
  type ConditionSpec,
  type PolicyErrorReason,
  type SessionConfig,
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

  describe("allowance grants, explicit units and ABI offsets (issue 20)", function () {
    let router: string;
    const spender = randomWallet().address;
    const call = (fn: string, conditions: ConditionSpec[] = [], extra: { calldataLength?: number } = {}) =>
      policy()
        .agent(agent)
        .allowCall(router, { fn, conditions, ...extra })
        .build(ctx());
    const only = async (p: Promise<SessionConfig>) => (await p).permissions[0];
    /** The contract's check of one permission's conditions against call data (`CallPolicy.word` semantics). */
    const satisfies = (conds: SessionConfig["permissions"][number]["conditions"], data: string) =>
      conds.every((c) => {
        const actual = BigInt(dataSlice(data, 4 + 32 * Number(c.word), 36 + 32 * Number(c.word)));
        const value = BigInt(c.value as string);
        if (Number(c.op) === ConditionOp.Equal) return actual === value;
        if (Number(c.op) === ConditionOp.AtMost) return actual <= value;
        if (Number(c.op) === ConditionOp.AtLeast) return actual >= value;
        return (c.oneOf as string[]).some((o) => BigInt(o) === actual);
      });

    before(async function () {
      router = String((await ethers.deployContract("MockERC20", ["Router stand-in", "RTR", 18])).target);
    });

    // [signature, spender word (0-based, after the selector)]
    const GRANTS: [string, number][] = [
      ["approve(address,uint256)", 0],
      ["increaseAllowance(address,uint256)", 0],
      ["approveAndCall(address,uint256)", 0],
      ["approveAndCall(address,uint256,bytes)", 0],
      ["approve(address,address,uint160,uint48)", 1], // Permit2: token, spender, amount, expiration
      ["setApprovalForAll(address,bool)", 0],
      ["permit(address,address,uint256,uint256,uint8,bytes32,bytes32)", 1], // ERC-2612
      ["permit(address,((address,uint160,uint48,uint48),address,uint256),bytes)", 5], // Permit2 PermitSingle
      ["permit(address,((address,uint160,uint48,uint48)[],address,uint256),bytes)", 4], // Permit2 PermitBatch
    ];

    /** Arguments of each grant in GRANTS, with `spender` as the spender. */
    function sampleArgs(fn: string): unknown[] {
      const t = token;
      const details = [t, 5n, 100n, 0n];
      const sig = "0x" + "11".repeat(65);
      const r = zeroPadValue("0x01", 32);
      switch (fn) {
        case "approve(address,address,uint160,uint48)":
          return [t, spender, 5n, 100n];
        case "setApprovalForAll(address,bool)":
          return [spender, true];
        case "approveAndCall(address,uint256,bytes)":
          return [spender, 5n, "0x1234"];
        case "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)":
          return [t, spender, 5n, 100n, 27, r, r];
        case "permit(address,((address,uint160,uint48,uint48),address,uint256),bytes)":
          return [t, [details, spender, 100n], sig];
        case "permit(address,((address,uint160,uint48,uint48)[],address,uint256),bytes)":
          return [t, [[details, details], spender, 100n], sig];
        default:
          return [spender, 5n];
      }
    }

    it("refuses every allowance or operator grant without an equals/oneOf condition on the spender", async function () {
      for (const [fn, word] of GRANTS) {
        await expectPolicyError(call(fn), "unrestricted allowance");
        // a condition on another word, or a mere bound on the spender word, does not restrict the spender
        const other = word === 0 ? 1 : 0;
        await expectPolicyError(call(fn, [{ word: other, atMost: 10n }]), "unrestricted allowance");
        await expectPolicyError(call(fn, [{ word, atMost: BigInt(spender) }]), "unrestricted allowance");
        // the same by bare selector
        await expectPolicyError(
          call(new Interface([`function ${fn}`]).getFunction(fn)!.selector),
          "unrestricted allowance",
        );
      }
      const e = await call("approve(address,uint256)").catch((x: unknown) => x as PolicyError);
      expect((e as PolicyError).message).to.match(/approve .*needs an equals or oneOf condition on the spender/);
    });

    it("accepts a grant restricted to a spender; the spender word matches ethers' encoding (pinned when behind an offset)", async function () {
      for (const [fn, word] of GRANTS) {
        const perm = await only(call(fn, [{ word, equals: spender }]));
        expect(perm.conditions[0]).to.deep.include({ op: ConditionOp.Equal, word, value: zeroPadValue(spender, 32) });
        const iface = new Interface([`function ${fn}`]);
        const f = iface.getFunction(fn)!;
        const data = iface.encodeFunctionData(f, sampleArgs(fn));
        expect(satisfies(perm.conditions, data), `${fn}: canonical encoding with the spender`).to.equal(true);
        if (fn.includes("[]")) {
          // PermitBatch: the tuple sits behind the offset in word 1, which is pinned to its canonical 0x60
          expect(perm.conditions.slice(1)).to.deep.equal([
            { op: ConditionOp.Equal, word: 1, value: zeroPadValue("0x60", 32), oneOf: [] },
          ]);
          expect(perm.calldataLength).to.equal(0n);
        } else if (!fn.includes("bytes)")) {
          expect(perm.conditions).to.have.length(1);
          expect(perm.calldataLength).to.equal(BigInt((data.length - 2) / 2)); // static: exact length
        }
        // the oneOf form restricts too
        await call(fn, [{ word, oneOf: [spender, randomWallet().address] }]);
      }
    });

    it("refuses condition amounts without units; bigint (base units), units() and { amount, token } are explicit", async function () {
      const fn = "approve(address,uint256)";
      const to = { word: 0, equals: spender } as const;
      await expectPolicyError(call(fn, [to, { word: 1, atMost: "50" as never }]), "ambiguous amount");
      await expectPolicyError(call(fn, [to, { word: 1, atMost: 50 as never }]), "ambiguous amount");
      await expectPolicyError(call(fn, [to, { word: 1, atLeast: "1.5" as never }]), "ambiguous amount");
      await expectPolicyError(call(fn, [{ word: 0, equals: "50" }]), "ambiguous amount");
      await expectPolicyError(call(fn, [{ word: 0, oneOf: [spender, 7 as never] }]), "ambiguous amount");
      await expectPolicyError(call(fn, [to, { word: 1, atMost: units("1.0000001", 6) }]), "too many decimals");
      const values = async (atMost: ConditionSpec) =>
        BigInt((await only(call(fn, [to, atMost]))).conditions[1].value as string);
      expect(await values({ word: 1, atMost: 50n })).to.equal(50n);
      expect(await values({ word: 1, atMost: units("50", 6) })).to.equal(50_000_000n);
      expect(await values({ word: 1, atMost: { amount: "50", decimals: 18 } })).to.equal(50n * 10n ** 18n);
      expect(await values({ word: 1, atMost: { amount: "50", token: "TUSD" } })).to.equal(50_000_000n);
      expect(await values({ word: 1, atMost: { amount: "2", token: "ETH" } })).to.equal(2n * 10n ** 18n);
      // allowTransfer's max stays in whole tokens of the token it moves (its units are known)
      const t = await base().build(ctx());
      expect(BigInt(t.permissions[0].conditions[1].value as string)).to.equal(100_500_000n);
    });

    const EXACT_INPUT = "exactInput((bytes path,address recipient,uint256 amountIn,uint256 amountOutMinimum))";

    it("pins the ABI offsets leading to a conditioned word (exactInput), as ethers encodes them", async function () {
      const recipient = randomWallet().address;
      const perm = await only(
        call(EXACT_INPUT, [
          { word: 2, equals: recipient },
          { word: 3, atMost: units("500", 6) },
        ]),
      );
      expect(perm.selector).to.equal("0xb858183f");
      expect(perm.calldataLength).to.equal(0n); // dynamic: any length
      expect(perm.conditions.map((c) => [Number(c.op), Number(c.word), BigInt(c.value as string)])).to.deep.equal([
        [ConditionOp.Equal, 2, BigInt(recipient)],
        [ConditionOp.AtMost, 3, 500_000_000n],
        [ConditionOp.Equal, 0, 0x20n], // the offset of the tuple, canonical
      ]);
      const iface = new Interface([`function ${EXACT_INPUT}`]);
      const path = "0x" + "ab".repeat(43);
      const data = iface.encodeFunctionData("exactInput", [[path, recipient, 400_000_000n, 1n]]);
      expect(satisfies(perm.conditions, data)).to.equal(true);
      const other = iface.encodeFunctionData("exactInput", [[path, randomWallet().address, 1n, 1n]]);
      expect(satisfies(perm.conditions, other)).to.equal(false);
      // The attack the pin stops: the tuple moved two words further (offset 0x60), the allowed recipient left in
      // word 2 as a decoy (word 3, now the path offset 0x80, passes the amount bound). A decoder (ethers here,
      // Solidity in the router) follows the offset and pays `thief` a large amount.
      const thief = randomWallet().address;
      const honest = iface.encodeFunctionData("exactInput", [[path, thief, 10n ** 15n, 0n]]);
      const words = (honest.length - 10) / 64;
      const body = Array.from({ length: words }, (_, i) => dataSlice(honest, 4 + 32 * i, 36 + 32 * i));
      const forged =
        "0xb858183f" +
        [zeroPadValue("0x60", 32), zeroPadValue("0x", 32), zeroPadValue(recipient, 32), ...body.slice(1)]
          .map((w) => w.slice(2))
          .join("");
      const decoded = iface.decodeFunctionData("exactInput", forged)[0];
      expect([decoded[1], decoded[2]]).to.deep.equal([thief, 10n ** 15n]);
      const withoutPin = perm.conditions.filter((c) => Number(c.word) !== 0);
      expect(satisfies(withoutPin, forged), "without the pin the decoy passes").to.equal(true);
      expect(satisfies(perm.conditions, forged), "the pin refuses it").to.equal(false);
    });

    it("pins every offset on the way to a nested word, and the length word of a dynamic value", async function () {
      const fn = "h((uint256,(bytes,address)),address)";
      const who = randomWallet().address;
      const perm = await only(call(fn, [{ word: 5, equals: who }]));
      expect(perm.conditions.slice(1).map((c) => [Number(c.word), BigInt(c.value as string)])).to.deep.equal([
        [0, 0x40n],
        [3, 0x40n],
      ]);
      const iface = new Interface([`function ${fn}`]);
      const data = iface.encodeFunctionData("h", [[7n, ["0x1234", who]], randomWallet().address]);
      expect(satisfies(perm.conditions, data)).to.equal(true);
      // the length of `path` in exactInput (word 5): behind the tuple offset and the bytes offset
      const len = await only(call(EXACT_INPUT, [{ word: 5, atMost: 43n }]));
      expect(len.conditions.slice(1).map((c) => [Number(c.word), BigInt(c.value as string)])).to.deep.equal([
        [0, 0x20n],
        [1, 0x80n],
      ]);
      const encoded = new Interface([`function ${EXACT_INPUT}`]).encodeFunctionData("exactInput", [
        ["0x" + "cd".repeat(43), who, 1n, 1n],
      ]);
      expect(satisfies(len.conditions, encoded)).to.equal(true);
      // static arguments after a dynamic one need no pin
      const head = await only(call("f(uint256,bytes,address)", [{ word: 2, equals: who }]));
      expect(head.conditions).to.have.length(1);
    });

    it("refuses a condition inside a dynamic tail, on an ABI offset, or beyond the arguments", async function () {
      await expectPolicyError(
        call(EXACT_INPUT, [{ word: 6, equals: "0x" + "ab".repeat(32) }]),
        "condition in dynamic tail",
      );
      await expectPolicyError(call("f(bytes,bytes)", [{ word: 3, atMost: 1n }]), "condition in dynamic tail"); // 2nd tail
      await expectPolicyError(call("g(address[])", [{ word: 2, equals: spender }]), "condition in dynamic tail"); // element
      await expectPolicyError(call(EXACT_INPUT, [{ word: 0, equals: 0x20n }]), "condition on offset");
      await expectPolicyError(call(EXACT_INPUT, [{ word: 1, equals: 0x80n }]), "condition on offset");
      await expectPolicyError(
        call("transfer(address,uint256)", [{ word: 2, atMost: 1n }]),
        "condition beyond arguments",
      );
      await expectPolicyError(call("transfer(address,uint256)", [{ word: 256, atMost: 1n }]), "bad config");
    });

    it("a static signature gets its exact call-data length; another length is refused", async function () {
      expect((await only(call("transfer(address,uint256)"))).calldataLength).to.equal(68n);
      const fixed = await only(call("k(uint256,(address,uint256)[2])", [{ word: 3, equals: spender }]));
      expect(fixed.calldataLength).to.equal(4n + 32n * 5n);
      expect(
        (new Interface(["function k(uint256,(address,uint256)[2])"]).encodeFunctionData("k", [
          1n,
          [
            [spender, 2n],
            [spender, 3n],
          ],
        ]).length -
          2) /
          2,
      ).to.equal(164);
      await expectPolicyError(call("transfer(address,uint256)", [], { calldataLength: 100 }), "bad calldata length");
      expect((await only(call("transfer(address,uint256)", [], { calldataLength: 68 }))).calldataLength).to.equal(68n);
      // dynamic: the caller's length (or any) is kept
      expect((await only(call(EXACT_INPUT, [], { calldataLength: 260 }))).calldataLength).to.equal(260n);
    });

    it(`refuses more than MAX_CONDITIONS (${MAX_CONDITIONS}) conditions, counting the offset pins`, async function () {
      expect(MAX_CONDITIONS).to.equal(4);
      const three: ConditionSpec[] = [
        { word: 2, equals: spender },
        { word: 3, atMost: 10n },
        { word: 4, atLeast: 1n },
      ];
      expect((await only(call(EXACT_INPUT, three))).conditions).to.have.length(4); // 3 + the pin
      await expectPolicyError(call(EXACT_INPUT, [...three, { word: 3, atLeast: 1n }]), "too many conditions");
      const five = Array.from({ length: 5 }, (_, i): ConditionSpec => ({ word: i % 2, atMost: BigInt(i) }));
      await expectPolicyError(call("transfer(address,uint256)", five), "too many conditions");
    });

    it("conditions with a bare selector need a signature the builder knows", async function () {
      await expectPolicyError(call("0x12345678", [{ word: 0, equals: spender }]), "unknown signature");
      expect((await only(call("0x12345678"))).calldataLength).to.equal(0n); // no conditions: allowed as before
      const known = await only(call("0x095ea7b3", [{ word: 0, equals: spender }])); // approve(address,uint256)
      expect(known.calldataLength).to.equal(68n);
      expect(() => policy().allowCall(router, { fn: "not a signature" }))
        .to.throw(PolicyError)
        .with.property("reason", "bad config");
    });
  });
});

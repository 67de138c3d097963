/**
 * Issue 20: default deny on what actually leaves. No token moves, and no allowance or operator right is left
 * behind, unless a budget of the session pays for it: Permit2, ERC-1363, ERC-721 / ERC-1155 operators, ERC-2612
 * permits, short and over-long call data on every interpreted selector, a router pulling an unbudgeted token through
 * an owner allowance, and a forged dynamic offset inside a struct argument. Real signed UserOperations; "nothing
 * lost" against a snapshot.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroHash, concat, dataSlice, type BaseContract } from "ethers";
import type { Call } from "../../src/account/encoding.js";
import { randomWallet } from "../helpers/reins.js";
import {
  DAY,
  OP,
  TIER,
  agentOp,
  deploySessionWorld,
  grant,
  ownerCalls,
  paymentsConfig,
  type SessionConfig,
  type SessionWorld,
} from "../helpers/sessions.js";
import {
  agentInstant,
  agentQueued,
  expectUnchanged,
  runAgent,
  snapshot,
  validationRefusal,
} from "../helpers/attacks.js";

const { ethers, networkHelpers } = await network.create();
const U = 10n ** 6n;
const MAX = 2n ** 256n - 1n;
const word = (v: bigint | string) => "0x" + BigInt(v).toString(16).padStart(64, "0");

type Permission = SessionConfig["permissions"][number];
const perm = (
  target: string,
  selector: string,
  conditions: Permission["conditions"] = [],
  calldataLength = 0n,
): Permission => ({
  target,
  selector,
  valueCap: 0n,
  calldataLength,
  conditions,
});
const addr = (c: BaseContract) => c.target as string;

async function ownerOk(w: SessionWorld, calls: Call | Call[]) {
  const r = await ownerCalls(w, calls);
  expect(r.event.success, "owner op failed").to.equal(true);
  return r;
}

/** A world with Permit2, an ERC-1363 token, NFTs, a lax (pre-0.5 style) token and routers. */
async function world() {
  const w = await deploySessionWorld(ethers);
  const permit2 = await ethers.deployContract("MockPermit2");
  const p1363 = await ethers.deployContract("MockERC1363");
  const nft = await ethers.deployContract("MockERC721");
  const multi = await ethers.deployContract("MockERC1155");
  const lax = await ethers.deployContract("LaxToken");
  const other = await ethers.deployContract("MockERC20", ["Other", "OTH", 18]);
  const router = await ethers.deployContract("MockRouter", [w.tokenAddress]);
  await p1363.mint(w.accountAddress, 1_000_000n * U);
  await nft.mint(w.accountAddress, 7n);
  // (the account has no ERC-1155 receiver fallback, so it holds no ERC-1155 tokens; the refusals are in validation)
  await lax.mint(w.accountAddress, 10_000n * U);
  await other.mint(w.accountAddress, 1_000_000n * 10n ** 18n);
  // normal practice: the owner approved Permit2 and the router for everything
  await ownerOk(w, [
    { target: w.tokenAddress, data: w.token.interface.encodeFunctionData("approve", [addr(permit2), MAX]) },
    { target: w.tokenAddress, data: w.token.interface.encodeFunctionData("approve", [addr(router), MAX]) },
    { target: addr(other), data: other.interface.encodeFunctionData("approve", [addr(router), MAX]) },
  ]);
  return { w, permit2, p1363, nft, multi, lax, other, router };
}

type World = Awaited<ReturnType<typeof world>>;

async function sessionWith(w: SessionWorld, permissions: Permission[], budgets?: SessionConfig["budgets"]) {
  const cfg = await paymentsConfig(w);
  cfg.permissions = [...cfg.permissions, ...permissions];
  if (budgets) cfg.budgets = budgets;
  return grant(w, cfg);
}

const attacker = randomWallet().connect(ethers.provider);

describe("Security: default deny on observed effects (issue 20)", () => {
  before(async () => {
    await (await ethers.provider.getSigner(0)).sendTransaction({ to: attacker.address, value: 10n ** 18n });
  });

  describe("1. allowance-, permit- and operator-granting calls", () => {
    it("Permit2.approve without a spender condition: charged to the budget and reset, the attacker pulls nothing", async () => {
      const { w, permit2 } = await networkHelpers.loadFixture(world);
      const approve = permit2.interface.encodeFunctionData("approve", [
        w.tokenAddress,
        attacker.address,
        50n * U,
        2n ** 40n,
      ]);
      const id = await sessionWith(w, [perm(addr(permit2), approve.slice(0, 10))]);
      const [, periodBefore] = await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress);
      await agentInstant(w, id, { target: addr(permit2), data: approve });
      const [amount] = await permit2.allowance(w.accountAddress, w.tokenAddress, attacker.address);
      expect(amount).to.equal(0n);
      const [, periodAfter] = await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress);
      expect(periodBefore - periodAfter).to.equal(50n * U);
      await expect(
        permit2.connect(attacker).transferFrom(w.accountAddress, attacker.address, 1n, w.tokenAddress),
      ).to.be.revertedWithCustomError(permit2, "AllowanceExpired"); // reset: amount 0, expired
    });

    it("Permit2.approve of the whole balance is not instant: it waits for the owner, nothing can be pulled", async () => {
      const { w, permit2 } = await networkHelpers.loadFixture(world);
      const approve = permit2.interface.encodeFunctionData("approve", [
        w.tokenAddress,
        attacker.address,
        1_000_000n * U,
        2n ** 40n,
      ]);
      const id = await sessionWith(w, [perm(addr(permit2), approve.slice(0, 10))]);
      const before = await snapshot(w, { sessionIds: [id], holders: [attacker.address] });
      await agentQueued(w, id, { target: addr(permit2), data: approve }, TIER.Approval);
      expectUnchanged(before, await snapshot(w, { sessionIds: [id], holders: [attacker.address] }), [
        "session ",
        "queue",
      ]);
      expect((await permit2.allowance(w.accountAddress, w.tokenAddress, attacker.address))[0]).to.equal(0n);
    });

    it("Permit2.approve of a token the session has no budget for is refused in validation", async () => {
      const { w, permit2, other } = await networkHelpers.loadFixture(world);
      const approve = permit2.interface.encodeFunctionData("approve", [addr(other), attacker.address, 1n, 2n ** 40n]);
      const id = await sessionWith(w, [perm(addr(permit2), approve.slice(0, 10))]);
      const r = await validationRefusal(w, await agentOp(w, id, { target: addr(permit2), data: approve }));
      expect(r.name).to.equal("AgentSessionsNoBudget");
      expect(r.args[0]).to.equal(addr(other));
    });

    it("Permit2 signature permits are refused outright", async () => {
      const { w, permit2 } = await networkHelpers.loadFixture(world);
      const data = concat([
        "0x2b67b570",
        word(w.accountAddress),
        ZeroHash,
        ZeroHash,
        ZeroHash,
        ZeroHash,
        ZeroHash,
        ZeroHash,
        ZeroHash,
      ]);
      const id = await sessionWith(w, [perm(addr(permit2), "0x2b67b570")]);
      const r = await validationRefusal(w, await agentOp(w, id, { target: addr(permit2), data }));
      expect(r.name).to.equal("CallPolicyUnboundedGrant");
    });

    for (const variant of ["approveAndCall(address,uint256)", "approveAndCall(address,uint256,bytes)"] as const) {
      it(`ERC-1363 ${variant} with no budget for the token is refused; with one it is charged and reset`, async () => {
        const { w, p1363 } = await networkHelpers.loadFixture(world);
        const args = variant.endsWith("bytes)")
          ? [attacker.address, 900_000n * U, "0x1234"]
          : [attacker.address, 900_000n * U];
        const data = p1363.interface.encodeFunctionData(variant as never, args as never);
        const id = await sessionWith(w, [perm(addr(p1363), data.slice(0, 10))]);
        const r = await validationRefusal(w, await agentOp(w, id, { target: addr(p1363), data }));
        expect(r.name).to.equal("AgentSessionsNoBudget");
        // with a budget: a small grant is charged and reset after the operation
        const cfg = await paymentsConfig(w);
        cfg.permissions = [perm(addr(p1363), data.slice(0, 10))];
        cfg.budgets = [
          {
            token: addr(p1363),
            instantThreshold: 10n * U,
            ceiling: 10n * U,
            periodCap: 10n * U,
            lifetimeCap: 10n * U,
            period: DAY,
          },
        ];
        const id2 = await grant(w, cfg);
        const small = p1363.interface.encodeFunctionData(
          variant as never,
          (variant.endsWith("bytes)") ? [attacker.address, 5n * U, "0x"] : [attacker.address, 5n * U]) as never,
        );
        await agentInstant(w, id2, { target: addr(p1363), data: small });
        expect(await p1363.allowance(w.accountAddress, attacker.address)).to.equal(0n);
      });
    }

    it("ERC-721 and ERC-1155 setApprovalForAll(operator, true) are refused; revoking an operator (false) is allowed", async () => {
      const { w, nft, multi } = await networkHelpers.loadFixture(world);
      const grantAll = nft.interface.encodeFunctionData("setApprovalForAll", [attacker.address, true]);
      const id = await sessionWith(w, [
        perm(addr(nft), grantAll.slice(0, 10)),
        perm(addr(multi), grantAll.slice(0, 10)),
      ]);
      for (const target of [addr(nft), addr(multi)]) {
        const r = await validationRefusal(w, await agentOp(w, id, { target, data: grantAll }));
        expect(r.name).to.equal("CallPolicyUnboundedGrant");
      }
      // a non-canonical bool is refused too
      const dirty = concat([grantAll.slice(0, 10), word(attacker.address), word(2n)]);
      expect((await validationRefusal(w, await agentOp(w, id, { target: addr(nft), data: dirty }))).name).to.equal(
        "CallPolicyNonCanonical",
      );
      await agentInstant(w, id, {
        target: addr(nft),
        data: nft.interface.encodeFunctionData("setApprovalForAll", [attacker.address, false]),
      });
      expect(await nft.isApprovedForAll(w.accountAddress, attacker.address)).to.equal(false);
    });

    it("ERC-721 approve(attacker, id) and transfers of NFTs without a budget are refused in validation", async () => {
      const { w, nft, multi } = await networkHelpers.loadFixture(world);
      const approve = nft.interface.encodeFunctionData("approve", [attacker.address, 7n]);
      const safe = nft.interface.encodeFunctionData("safeTransferFrom(address,address,uint256)", [
        w.accountAddress,
        attacker.address,
        7n,
      ]);
      const safe1155 = multi.interface.encodeFunctionData("safeTransferFrom", [
        w.accountAddress,
        attacker.address,
        1n,
        100n,
        "0x",
      ]);
      const id = await sessionWith(w, [
        perm(addr(nft), approve.slice(0, 10)),
        perm(addr(nft), safe.slice(0, 10)),
        perm(addr(multi), safe1155.slice(0, 10)),
      ]);
      for (const call of [
        { target: addr(nft), data: approve },
        { target: addr(nft), data: safe },
        { target: addr(multi), data: safe1155 },
      ]) {
        const r = await validationRefusal(w, await agentOp(w, id, call));
        expect(r.name, call.data.slice(0, 10)).to.equal("AgentSessionsNoBudget");
      }
      expect(await nft.ownerOf(7n)).to.equal(w.accountAddress);
    });

    it("an ERC-2612 permit for the account as owner counts as an approval (no budget: refused)", async () => {
      const { w, other } = await networkHelpers.loadFixture(world);
      const permit = concat([
        "0xd505accf",
        word(w.accountAddress),
        word(attacker.address),
        word(10n ** 24n),
        word(MAX),
        word(27n),
        ZeroHash,
        ZeroHash,
      ]);
      const id = await sessionWith(w, [perm(addr(other), "0xd505accf")]);
      const r = await validationRefusal(w, await agentOp(w, id, { target: addr(other), data: permit }));
      expect(r.name).to.equal("AgentSessionsNoBudget");
    });
  });

  describe("2. short and over-long call data on every interpreted selector", () => {
    it("a 67-byte approve on a lax token is refused (it would have left an allowance of ~2^256)", async () => {
      const { w, lax } = await networkHelpers.loadFixture(world);
      const full = concat(["0x095ea7b3", word(attacker.address), word(MAX)]);
      const cfg = await paymentsConfig(w);
      cfg.permissions = [perm(addr(lax), "0x095ea7b3"), perm(addr(lax), "0xa9059cbb")];
      cfg.budgets = [
        {
          token: addr(lax),
          instantThreshold: 100n * U,
          ceiling: 100n * U,
          periodCap: 100n * U,
          lifetimeCap: 100n * U,
          period: DAY,
        },
      ];
      const id = await grant(w, cfg);
      const short = dataSlice(full, 0, 67);
      const r = await validationRefusal(w, await agentOp(w, id, { target: addr(lax), data: short }));
      expect(r.name).to.equal("CallPolicyNonCanonical");
      expect(await lax.allowance(w.accountAddress, attacker.address)).to.equal(0n);
    });

    it("a 67-byte transfer of a token without any budget is refused (default deny holds)", async () => {
      const { w, lax } = await networkHelpers.loadFixture(world);
      const id = await sessionWith(w, [perm(addr(lax), "0xa9059cbb")]);
      const short = dataSlice(concat(["0xa9059cbb", word(attacker.address), word(1_000n * U)]), 0, 67);
      const before = await snapshot(w, { sessionIds: [id], tokens: [addr(lax)], holders: [attacker.address] });
      const r = await validationRefusal(w, await agentOp(w, id, { target: addr(lax), data: short }));
      expect(r.name).to.equal("CallPolicyNonCanonical");
      expectUnchanged(
        before,
        await snapshot(w, { sessionIds: [id], tokens: [addr(lax)], holders: [attacker.address] }),
      );
    });

    const SELECTORS: [string, number, boolean][] = [
      ["0xa9059cbb", 2, false], // transfer
      ["0x23b872dd", 3, false], // transferFrom
      ["0x095ea7b3", 2, false], // approve
      ["0x39509351", 2, false], // increaseAllowance
      ["0x3177029f", 2, false], // approveAndCall(address,uint256)
      ["0x1296ee62", 2, false], // transferAndCall(address,uint256)
      ["0xd8fbe994", 3, false], // transferFromAndCall(address,address,uint256)
      ["0xd505accf", 7, false], // permit
      ["0x87517c45", 4, false], // Permit2 approve
      ["0x36c78516", 4, false], // Permit2 transferFrom
      ["0xa22cb465", 2, false], // setApprovalForAll
      ["0x42842e0e", 3, false], // safeTransferFrom(address,address,uint256)
      ["0xcae9ca51", 3, true], // approveAndCall(address,uint256,bytes)
      ["0x4000aea0", 3, true], // transferAndCall(address,uint256,bytes)
      ["0xc1d34b89", 4, true], // transferFromAndCall(address,address,uint256,bytes)
      ["0xb88d4fde", 4, true], // safeTransferFrom(address,address,uint256,bytes)
      ["0xf242432a", 5, true], // safeTransferFrom(address,address,uint256,uint256,bytes)
    ];

    it("every interpreted selector: one byte short, one byte long, and (for trailing bytes) a forged offset are refused", async () => {
      const { w } = await networkHelpers.loadFixture(world);
      for (const [i, [sel, head, hasBytes]] of SELECTORS.entries()) {
        const id = await sessionWith(w, [perm(w.tokenAddress, sel)]);
        void i;
        const words = Array.from({ length: head }, (_, i) => (i === 0 ? word(w.accountAddress) : word(1n)));
        if (hasBytes) words[head - 1] = word(32n * BigInt(head));
        const canonical = concat([sel, ...words, ...(hasBytes ? [word(0n)] : [])]);
        const variants = [dataSlice(canonical, 0, (canonical.length - 2) / 2 - 1), concat([canonical, "0x00"])];
        if (hasBytes) {
          const forged = [...words];
          forged[head - 1] = word(32n * BigInt(head) + 32n);
          variants.push(concat([sel, ...forged, word(0n), word(0n)]));
        }
        for (const data of variants) {
          const r = await validationRefusal(w, await agentOp(w, id, { target: w.tokenAddress, data }));
          expect(r.name, `${sel} length ${(data.length - 2) / 2}`).to.equal("CallPolicyNonCanonical");
        }
      }
    });
  });

  describe("3. a whitelisted contract pulling an unbudgeted token", () => {
    it("a router pulling a watched token the session has no budget for reverts the operation: nothing moves", async () => {
      const { w, router, other } = await networkHelpers.loadFixture(world);
      await ownerOk(w, {
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("watchAssets", [[addr(other)]]),
      });
      const swap = router.interface.encodeFunctionData("swap", [addr(other), 500_000n * 10n ** 18n, w.recipients[0]]);
      const id = await sessionWith(w, [
        perm(addr(router), swap.slice(0, 10), [{ op: OP.Equal, word: 2n, value: word(w.recipients[0]), oneOf: [] }]),
      ]);
      const before = await snapshot(w, { sessionIds: [id], tokens: [addr(other)], spenders: [addr(router)] });
      const r = await runAgent(w, id, { target: addr(router), data: swap });
      expect(r.event.success).to.equal(false);
      expect(r.revert?.name).to.equal("AgentSessionsUnbudgetedOutflow");
      expect(r.revert?.args).to.deep.equal([addr(other), 500_000n * 10n ** 18n]);
      expectUnchanged(
        before,
        await snapshot(w, { sessionIds: [id], tokens: [addr(other)], spenders: [addr(router)] }),
        ["session "],
      );
    });

    it("a token budgeted by another session is watched automatically, so this session cannot pull it either", async () => {
      const { w, router, other } = await networkHelpers.loadFixture(world);
      const cfg = await paymentsConfig(w, { agent: randomWallet().address });
      cfg.budgets = [{ ...cfg.budgets[0], token: addr(other) }];
      await grant(w, cfg);
      expect(await w.sessions.watchedAssets(w.accountAddress)).to.include(addr(other));
      const swap = router.interface.encodeFunctionData("swap", [addr(other), 1n, w.recipients[0]]);
      const id = await sessionWith(w, [perm(addr(router), swap.slice(0, 10))]);
      const r = await runAgent(w, id, { target: addr(router), data: swap });
      expect(r.revert?.name).to.equal("AgentSessionsUnbudgetedOutflow");
    });

    it("an asset watched after the session's operations (which skip a covered watch list) is measured again", async () => {
      const { w, router, other } = await networkHelpers.loadFixture(world);
      const swap = router.interface.encodeFunctionData("swap", [addr(other), 1n, w.recipients[0]]);
      const id = await sessionWith(w, [perm(addr(router), swap.slice(0, 10))]);
      // before `other` is watched: its drop is not measured, the op runs; twice (the second skips the list read)
      await agentInstant(w, id, { target: addr(router), data: swap });
      await agentInstant(w, id, { target: addr(router), data: swap });
      await ownerOk(w, {
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("watchAssets", [[addr(other)]]),
      });
      const r = await runAgent(w, id, { target: addr(router), data: swap });
      expect(r.revert?.name).to.equal("AgentSessionsUnbudgetedOutflow");
      expect(r.revert?.args).to.deep.equal([addr(other), 1n]);
    });

    it("a budgeted token pulled by the router is charged at its measured drop (the larger of the two)", async () => {
      const { w, router } = await networkHelpers.loadFixture(world);
      const swap = router.interface.encodeFunctionData("swap", [w.tokenAddress, 30n * U, w.recipients[0]]);
      const id = await sessionWith(w, [perm(addr(router), swap.slice(0, 10))]);
      const [, before] = await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress);
      await agentInstant(w, id, { target: addr(router), data: swap });
      const [, after] = await w.sessions.budgetOf(id, w.accountAddress, w.tokenAddress);
      expect(before - after).to.equal(30n * U);
    });

    it("unwatching an asset is loosening: with a security delay it waits", async () => {
      const w = await deploySessionWorld(ethers, DAY);
      const { receipt } = await ownerOk(w, {
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("watchAssets", [[w.tokenAddress]]),
      });
      void receipt;
      await ownerOk(w, {
        target: w.sessionsAddress,
        data: w.sessions.interface.encodeFunctionData("unwatchAsset", [w.tokenAddress]),
      });
      expect(await w.sessions.watchedAssets(w.accountAddress)).to.deep.equal([w.tokenAddress]);
    });
  });

  describe("gas regression: the watch list", () => {
    it("scales linearly per watched asset the session does not budget (about 11k gas each: a list slot and two cold balanceOf calls)", async () => {
      const { w } = await networkHelpers.loadFixture(world);
      const id = await grant(w, await paymentsConfig(w));
      const gas: bigint[] = [];
      const pay = {
        target: w.tokenAddress,
        data: w.token.interface.encodeFunctionData("transfer", [w.recipients[0], 1n]),
      };
      await agentInstant(w, id, pay); // first op of the session writes fresh counters: not part of the series
      for (let extra = 0; extra <= 4; extra++) {
        if (extra > 0) {
          const t = await ethers.deployContract("MockERC20", [`W${extra}`, `W${extra}`, 18]);
          await t.mint(w.accountAddress, 10n ** 18n);
          await ownerOk(w, {
            target: w.sessionsAddress,
            data: w.sessions.interface.encodeFunctionData("watchAssets", [[addr(t)]]),
          });
        }
        const r = await agentInstant(w, id, {
          target: w.tokenAddress,
          data: w.token.interface.encodeFunctionData("transfer", [w.recipients[0], 1n]),
        });
        gas.push(r.receipt.gasUsed);
      }
      const steps = gas.slice(1).map((g, i) => g - gas[i]);
      console.log(
        `      agent transfer gasUsed with 0..4 extra watched assets: ${gas.join(", ")} (per asset: ${steps.join(", ")})`,
      );
      // With 0 extra assets every watched asset is budgeted: the session's operations then skip reading the watch
      // list (watch coverage), so the first extra asset also brings back the list read (about 6k, once).
      expect(steps[0] > steps[1] && steps[0] - steps[1] < 7_000n, `first extra asset ${steps[0]}`).to.equal(true);
      const perAsset = steps.slice(1);
      for (const step of perAsset) {
        expect(step > 0n && step < 12_000n, `per-asset cost ${step}`).to.equal(true);
      }
      const spread = perAsset.reduce((a, b) => (a > b ? a : b)) - perAsset.reduce((a, b) => (a < b ? a : b));
      expect(spread < 1_000n, `linear: per-asset steps ${perAsset.join(", ")}`).to.equal(true);
    });
  });

  describe("4. conditions on a struct with a dynamic member", () => {
    async function routerSession(w: SessionWorld, router: World["router"], pinned: boolean) {
      const sel = router.interface.getFunction("exactInput")!.selector;
      const conditions: Permission["conditions"] = [
        { op: OP.Equal, word: 2n, value: word(w.recipients[0]), oneOf: [] },
      ];
      if (pinned) conditions.unshift({ op: OP.Equal, word: 0n, value: word(0x20n), oneOf: [] });
      return sessionWith(w, [perm(addr(router), sel, conditions)]);
    }
    function forged(w: SessionWorld, router: World["router"]) {
      // head offset 0x20 + 4 words: the router decodes a second copy whose recipient is the attacker, while the
      // canonical recipient word (2) still names recipients[0]
      const sel = router.interface.getFunction("exactInput")!.selector;
      const first = [word(0x80n), word(w.recipients[0]), word(100n * U), word(0n)];
      const second = [word(0x80n), word(attacker.address), word(100n * U), word(0n), word(0n)];
      return concat([sel, word(0x20n + 4n * 32n), ...first, ...second]);
    }

    it("with the offset pinned (the builder adds it), a forged offset is refused in validation", async () => {
      const { w, router } = await networkHelpers.loadFixture(world);
      const id = await routerSession(w, router, true);
      const r = await validationRefusal(w, await agentOp(w, id, { target: addr(router), data: forged(w, router) }));
      expect(r.name).to.equal("AgentSessionsConditionFailed");
      // the canonical call still works
      const ok = router.interface.encodeFunctionData("exactInput", [
        { path: "0x", recipient: w.recipients[0], amountIn: 1n * U, amountOutMinimum: 0n },
      ]);
      await agentInstant(w, id, { target: addr(router), data: ok });
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(1n * U);
    });

    it("without the pin the router would pay the attacker (why the builder refuses such a condition unpinned)", async () => {
      const { w, router } = await networkHelpers.loadFixture(world);
      const id = await routerSession(w, router, false);
      await agentInstant(w, id, { target: addr(router), data: forged(w, router) });
      expect(await w.token.balanceOf(attacker.address)).to.equal(100n * U); // charged to the budget, but misrouted
    });
  });
});

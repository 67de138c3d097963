import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, Wallet, concat, encodeBytes32String, parseEther, zeroPadValue } from "ethers";
import { ensureEntryPoint } from "../../src/infra/singletons.js";
import { EIP7702_INITCODE_MARKER, packUserOp, type UserOperation } from "../../src/userop/userop.js";
import {
  MAX_ASSOCIATED_OFFSET,
  buildCallTree,
  checkErc7562,
  checkStorageAccess,
  findValidationFrames,
  formatViolations,
  isAssociatedSlot,
  keccakPreimage,
  traceValidation,
  type CheckOptions,
  type StorageAccess,
  type Violation,
} from "../../src/erc7562/index.js";
import { sendHandleOps, type ScenarioContext } from "../../src/erc7562/scenario.js";
import { setupSimpleAccount } from "../../src/erc7562/scenarios/simple-account.js";

/** Misbehavior enum of contracts/mocks/erc7562/MisbehavingAccount.sol. */
const Misbehavior = {
  GasLeft: 0,
  ValueCall: 1,
  CodelessCall: 2,
  EntryPointView: 3,
  SelfBalance: 4,
  DepositToSelf: 5,
  DepositToOther: 6,
  P256Verify: 7,
  OtherPrecompile: 8,
} as const;

describe("ERC-7562 checker", () => {
  let ctx: ScenarioContext;

  before(async () => {
    const { ethers } = await network.create();
    const [deployer] = await ethers.getSigners();
    const { address: entryPoint } = await ensureEntryPoint(deployer);
    ctx = { ethers, deployer, entryPoint, chainId: (await ethers.provider.getNetwork()).chainId };
  });

  /** An unsigned op for a mock account (mocks accept any signature). */
  function mockOp(sender: string, extra: Partial<UserOperation> = {}): UserOperation {
    return {
      sender,
      nonce: 0n,
      callData: "0x",
      callGasLimit: 50_000n,
      verificationGasLimit: 1_000_000n,
      preVerificationGas: 50_000n,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
      signature: "0x",
      ...extra,
    };
  }

  async function fund(address: string): Promise<void> {
    await (await ctx.deployer.sendTransaction({ to: address, value: parseEther("1") })).wait();
  }

  async function check(ops: UserOperation[], options: CheckOptions = {}) {
    const trace = await traceValidation(ctx.ethers.provider, { entryPoint: ctx.entryPoint, ops: ops.map(packUserOp) });
    const violations = checkErc7562(trace, options);
    return { trace, violations };
  }

  /** Deploy a mock account (constructor args after the EntryPoint) and fund its prefund. */
  async function deployAccount(name: string, ...args: unknown[]): Promise<string> {
    const account = await ctx.ethers.deployContract(name, [ctx.entryPoint, ...args]);
    const address = (await account.getAddress()).toLowerCase();
    await fund(address);
    return address;
  }

  const rules = (vs: Violation[]) => [...new Set(vs.map((v) => v.rule))].sort();

  describe("SimpleAccount v0.8 (reference account)", () => {
    it("passes on its first op, which deploys it through initCode", async () => {
      const s = await setupSimpleAccount(ctx);
      const { trace, violations } = await check([await s.firstOp()]);
      expect(trace.failed, trace.returnValue).to.equal(false);
      // the check is not vacuous: the factory and the account frames were found and walked
      const tree = buildCallTree(trace.structLogs, ctx.entryPoint);
      const frames = findValidationFrames(tree, ctx.entryPoint, trace.ops);
      expect(frames.map((f) => [f.kind, f.opIndex])).to.deep.equal([
        ["factory", 0],
        ["account", 0],
      ]);
      expect(frames[0].entity).to.equal(s.factory.toLowerCase());
      expect(violations, formatViolations(violations)).to.deep.equal([]);
    });

    it("passes on a plain op", async () => {
      const s = await setupSimpleAccount(ctx);
      const { ethers } = ctx;
      const ep = await ethers.getContractAt(
        "@account-abstraction/contracts/interfaces/IEntryPoint.sol:IEntryPoint",
        ctx.entryPoint,
      );
      await (await ep.handleOps([packUserOp(await s.firstOp())], await ctx.deployer.getAddress())).wait();
      const { trace, violations } = await check([await s.op(1n)]);
      expect(trace.failed, trace.returnValue).to.equal(false);
      expect(violations, formatViolations(violations)).to.deep.equal([]);
    });

    it("traces a mined handleOps transaction too", async () => {
      const s = await setupSimpleAccount(ctx);
      const txHash = await sendHandleOps(ctx.deployer, ctx.entryPoint, [await s.firstOp()]);
      const trace = await traceValidation(ctx.ethers.provider, { entryPoint: ctx.entryPoint, txHash });
      expect(trace.ops).to.deep.equal([{ sender: s.sender, factory: s.factory, paymaster: undefined }]);
      const tree = buildCallTree(trace.structLogs, ctx.entryPoint);
      expect(findValidationFrames(tree, ctx.entryPoint, trace.ops).map((f) => f.kind)).to.deep.equal([
        "factory",
        "account",
      ]);
      const violations = checkErc7562(trace);
      expect(violations, formatViolations(violations)).to.deep.equal([]);
    });

    it("leaves the chain state unchanged", async () => {
      const s = await setupSimpleAccount(ctx);
      const before = await ctx.ethers.provider.getBlockNumber();
      await check([await s.firstOp()]);
      expect(await ctx.ethers.provider.getCode(s.sender)).to.equal("0x");
      expect(await ctx.ethers.provider.getBlockNumber()).to.equal(before);
    });
  });

  describe("non-compliant mocks are reported with the right rule and contract", () => {
    it("OP-011: BadTimestampAccount reads block.timestamp", async () => {
      const account = await deployAccount("BadTimestampAccount");
      const { trace, violations } = await check([mockOp(account)], { names: { [account]: "BadTimestampAccount" } });
      expect(trace.failed).to.equal(false);
      expect(violations).to.have.length(1);
      expect(violations[0]).to.include({
        rule: "OP-011",
        opIndex: 0,
        entity: "account",
        address: account,
        name: "BadTimestampAccount",
        opcode: "TIMESTAMP",
      });
      expect(formatViolations(violations)).to.match(/OP-011 .*BadTimestampAccount .*TIMESTAMP/);
    });

    it("STO-021: RegistryAccount writes account-first (unassociated) storage of BadRegistry", async () => {
      const registry = (await (await ctx.ethers.deployContract("BadRegistry")).getAddress()).toLowerCase();
      const account = await deployAccount("RegistryAccount", registry);
      const { violations } = await check([mockOp(account)]);
      expect(violations.length).to.be.greaterThan(0);
      for (const v of violations) {
        expect(v).to.include({ rule: "STO-021", entity: "account", address: registry, storageAddress: registry });
      }
      expect(violations.map((v) => v.opcode)).to.include("SSTORE");
    });

    it("GoodRegistry (account-last mapping, associated storage) passes", async () => {
      const registry = await (await ctx.ethers.deployContract("GoodRegistry")).getAddress();
      const account = await deployAccount("RegistryAccount", registry);
      const { trace, violations } = await check([mockOp(account)]);
      expect(trace.failed).to.equal(false);
      expect(violations, formatViolations(violations)).to.deep.equal([]);
    });

    it("STO-022: associated storage touched while the sender is deployed needs a staked factory", async () => {
      const registry = (await (await ctx.ethers.deployContract("GoodRegistry")).getAddress()).toLowerCase();
      const factory = await ctx.ethers.deployContract("RegistryAccountFactory", [ctx.entryPoint, registry]);
      const salt = encodeBytes32String("salt");
      const sender: string = await factory.accountAddress(salt);
      await fund(sender);
      const op = mockOp(sender, {
        factory: await factory.getAddress(),
        factoryData: factory.interface.encodeFunctionData("createAccount", [salt]),
      });
      const unstaked = await check([op]);
      expect(unstaked.trace.failed).to.equal(false);
      expect(rules(unstaked.violations)).to.deep.equal(["STO-022"]);
      expect(unstaked.violations.map((v) => v.storageAddress)).to.satisfy((a: string[]) =>
        a.every((x) => x === registry),
      );
      expect(unstaked.violations.map((v) => v.entity)).to.include("factory");
      const staked = checkErc7562(unstaked.trace, { staked: { factory: true } });
      expect(staked, formatViolations(staked)).to.deep.equal([]);
    });

    it("OP-012: gasleft() not followed by a call", async () => {
      const account = await deployAccount("MisbehavingAccount", Misbehavior.GasLeft, Wallet.createRandom().address);
      const { violations } = await check([mockOp(account)]);
      expect(rules(violations)).to.deep.equal(["OP-012"]);
      expect(violations[0]).to.include({ address: account, opcode: "GAS" });
    });

    it("OP-061: a call with value to an address other than the EntryPoint", async () => {
      const victim = await (await ctx.ethers.deployContract("GoodRegistry")).getAddress(); // has code, no receive
      const account = await deployAccount("MisbehavingAccount", Misbehavior.ValueCall, victim);
      const { violations } = await check([mockOp(account)]);
      expect(rules(violations)).to.deep.equal(["OP-061"]);
      expect(violations[0]).to.include({ address: account, opcode: "CALL", target: victim.toLowerCase() });
    });

    it("OP-041: a call to an address without code", async () => {
      const nobody = Wallet.createRandom().address.toLowerCase();
      const account = await deployAccount("MisbehavingAccount", Misbehavior.CodelessCall, nobody);
      const { violations } = await check([mockOp(account)]);
      expect(rules(violations)).to.deep.equal(["OP-041"]);
      expect(violations[0]).to.include({ address: account, target: nobody });
    });

    it("OP-054: calling an EntryPoint method other than depositTo", async () => {
      const account = await deployAccount("MisbehavingAccount", Misbehavior.EntryPointView, ctx.entryPoint);
      const { violations } = await check([mockOp(account)]);
      expect(rules(violations)).to.deep.equal(["OP-054"]);
      expect(violations[0]).to.include({
        address: account,
        opcode: "STATICCALL",
        target: ctx.entryPoint.toLowerCase(),
      });
    });

    it("OP-052: depositTo(sender) with value from the account passes; OP-054: depositTo of another address is refused", async () => {
      const self = await deployAccount("MisbehavingAccount", Misbehavior.DepositToSelf, ctx.entryPoint);
      expect(rules((await check([mockOp(self)])).violations)).to.deep.equal([]);
      const stranger = Wallet.createRandom().address;
      const other = await deployAccount("MisbehavingAccount", Misbehavior.DepositToOther, stranger);
      const { violations } = await check([mockOp(other)]);
      expect(rules(violations)).to.deep.equal(["OP-054"]);
      expect(violations[0].reason).to.include(`depositTo(${stranger.toLowerCase()})`);
    });

    it("OP-062: RIP-7212's P256VERIFY (0x100) is allowed; another precompile-range address is refused", async () => {
      const p256 = await deployAccount("MisbehavingAccount", Misbehavior.P256Verify, ctx.entryPoint);
      expect(rules((await check([mockOp(p256)])).violations)).to.deep.equal([]);
      const odd = "0x0000000000000000000000000000000000000123";
      const other = await deployAccount("MisbehavingAccount", Misbehavior.OtherPrecompile, odd);
      const { violations } = await check([mockOp(other)]);
      expect(rules(violations)).to.deep.equal(["OP-062"]);
      expect(violations[0]).to.include({ target: odd });
    });

    it("OP-080: SELFBALANCE is refused for an unstaked account, allowed for a staked one", async () => {
      const account = await deployAccount("MisbehavingAccount", Misbehavior.SelfBalance, ctx.entryPoint);
      const { trace, violations } = await check([mockOp(account)]);
      expect(rules(violations)).to.deep.equal(["OP-080"]);
      expect(violations[0]).to.include({ address: account, opcode: "SELFBALANCE" });
      expect(checkErc7562(trace, { staked: { account: true } })).to.deep.equal([]);
    });

    it("EIP-7702: the 0x7702 initCode's init frame is the account's own (OP-011 in it is reported; a clean init passes)", async () => {
      const impl = await ctx.ethers.deployContract("Init7702Account", [ctx.entryPoint]);
      for (const readTime of [true, false]) {
        const eoa = new Wallet(Wallet.createRandom().privateKey, ctx.ethers.provider);
        await fund(eoa.address);
        const auth = await eoa.authorize({ address: await impl.getAddress() });
        const from = await ctx.deployer.getAddress();
        await (await ctx.deployer.sendTransaction({ type: 4, to: from, authorizationList: [auth] })).wait();
        const op = mockOp(eoa.address, {
          factory: EIP7702_INITCODE_MARKER,
          factoryData: impl.interface.encodeFunctionData("init", [readTime]),
        });
        const { trace, violations } = await check([op]);
        expect(trace.failed).to.equal(false);
        const tree = buildCallTree(trace.structLogs, ctx.entryPoint);
        const kinds = findValidationFrames(tree, ctx.entryPoint, trace.ops).map((f) => f.kind);
        expect(kinds).to.deep.equal(["account", "account"]); // the init frame, then validateUserOp
        if (readTime) {
          expect(rules(violations)).to.deep.equal(["OP-011"]);
          expect(violations[0]).to.include({
            entity: "account",
            address: eoa.address.toLowerCase(),
            opcode: "TIMESTAMP",
          });
        } else {
          expect(violations).to.deep.equal([]);
        }
      }
    });

    it("checks every op of a bundle and attributes violations to the right op", async () => {
      const s = await setupSimpleAccount(ctx);
      const bad = await deployAccount("BadTimestampAccount");
      const { violations } = await check([await s.firstOp(), mockOp(bad)]);
      expect(violations.map((v) => [v.rule, v.opIndex, v.address])).to.deep.equal([["OP-011", 1, bad]]);
    });
  });

  describe("slot association (pure)", () => {
    const account = Wallet.createRandom().address;
    const x = zeroPadValue("0x07", 32);
    const accountFirst = keccakPreimage(concat([zeroPadValue(account, 32), x]));
    const base = accountFirst.hash;

    it("keccak256(A ‖ x) + n is associated for n = 0 and n = 128", () => {
      expect(MAX_ASSOCIATED_OFFSET).to.equal(128n);
      expect(isAssociatedSlot(base, account, [accountFirst])).to.equal(true);
      expect(isAssociatedSlot(base + 128n, account, [accountFirst])).to.equal(true);
    });

    it("is not associated for n = 129, nor below the base", () => {
      expect(isAssociatedSlot(base + 129n, account, [accountFirst])).to.equal(false);
      expect(isAssociatedSlot(base - 1n, account, [accountFirst])).to.equal(false);
    });

    it("is not associated when the account is not first in the preimage", () => {
      const accountSecond = keccakPreimage(concat([x, zeroPadValue(account, 32)]));
      expect(isAssociatedSlot(accountSecond.hash, account, [accountSecond])).to.equal(false);
      // nor when it is another account's slot
      expect(isAssociatedSlot(base, Wallet.createRandom().address, [accountFirst])).to.equal(false);
    });

    it("the slot equal to the address itself is associated", () => {
      expect(isAssociatedSlot(BigInt(account), account, [])).to.equal(true);
    });

    describe("storage rules", () => {
      const sender = account.toLowerCase();
      const paymaster = Wallet.createRandom().address.toLowerCase();
      const other = Wallet.createRandom().address.toLowerCase();
      const access = (over: Partial<StorageAccess>): StorageAccess => ({
        opcode: "SSTORE",
        storageAddress: other,
        slot: base,
        sender,
        creatingSender: false,
        entity: "account",
        entityAddress: sender,
        staked: {},
        preimages: [accountFirst],
        ...over,
      });
      const ruleOf = (a: StorageAccess) => checkStorageAccess(a)?.rule;

      it("the sender's own storage is always allowed (STO-010)", () => {
        expect(ruleOf(access({ storageAddress: sender, slot: 12345n, preimages: [] }))).to.equal(undefined);
      });

      it("associated storage elsewhere is allowed (STO-021), but not while deploying with an unstaked factory (STO-022)", () => {
        expect(ruleOf(access({}))).to.equal(undefined);
        expect(ruleOf(access({ creatingSender: true }))).to.equal("STO-022");
        expect(ruleOf(access({ creatingSender: true, staked: { factory: true } }))).to.equal(undefined);
        expect(ruleOf(access({ slot: base + 129n }))).to.equal("STO-021");
      });

      it("an entity's own storage needs stake (STO-031)", () => {
        const pm = { entity: "paymaster" as const, entityAddress: paymaster, storageAddress: paymaster, slot: 0n };
        expect(ruleOf(access(pm))).to.equal("STO-031");
        expect(ruleOf(access({ ...pm, staked: { paymaster: true } }))).to.equal(undefined);
      });

      it("an unstaked entity may use a slot associated with the sender in its own storage (STO-021, as bundlers do)", () => {
        const pm = { entity: "paymaster" as const, entityAddress: paymaster, storageAddress: paymaster };
        expect(ruleOf(access({ ...pm, slot: base }))).to.equal(undefined);
        expect(ruleOf(access({ ...pm, slot: base + 128n }))).to.equal(undefined);
        expect(ruleOf(access({ ...pm, slot: base + 129n }))).to.equal("STO-031");
        expect(ruleOf(access({ ...pm, slot: base, creatingSender: true }))).to.equal("STO-022");
        const factory = { entity: "factory" as const, entityAddress: paymaster, storageAddress: paymaster };
        expect(ruleOf(access({ ...factory, slot: base, opcode: "SLOAD" }))).to.equal(undefined);
      });

      it("a staked entity may read any storage, write only associated storage (STO-032/033)", () => {
        const pm = { entity: "paymaster" as const, entityAddress: paymaster, slot: 42n, preimages: [] };
        expect(ruleOf(access({ ...pm, opcode: "SLOAD" }))).to.equal("STO-021");
        expect(ruleOf(access({ ...pm, opcode: "SLOAD", staked: { paymaster: true } }))).to.equal(undefined);
        expect(ruleOf(access({ ...pm, staked: { paymaster: true } }))).to.equal("STO-033");
        const pmSlot = keccakPreimage(AbiCoder.defaultAbiCoder().encode(["address", "uint256"], [paymaster, 3]));
        expect(ruleOf(access({ ...pm, slot: pmSlot.hash, preimages: [pmSlot], staked: { paymaster: true } }))).to.equal(
          undefined,
        );
      });

      it("transient storage follows the same rules (OP-070)", () => {
        expect(ruleOf(access({ opcode: "TSTORE", slot: 42n, preimages: [] }))).to.equal("STO-021");
      });
    });
  });
});

import { expect } from "chai";
import { network } from "hardhat";
import { ensureEntryPoint } from "../../src/infra/singletons.js";
import { packUserOp, type UserOperation } from "../../src/userop/userop.js";
import {
  buildCallTree,
  checkErc7562,
  findValidationFrames,
  formatViolations,
  traceValidation,
  type TracedBundle,
  type Violation,
} from "../../src/erc7562/index.js";
import {
  agentOp,
  badValidatorOp,
  deployReinsWorld,
  grantCall,
  ownerOp,
  paymentsSession,
  reinsScenarios,
  sessionIdOf,
  transferCall,
  type ReinsWorld,
} from "../../src/erc7562/scenarios/reins.js";
import {
  sendHandleOps,
  describeExpectation,
  meetsExpectation,
  runScenario,
  type ScenarioBundle,
  type ScenarioContext,
} from "../../src/erc7562/scenario.js";

const rules = (vs: readonly Violation[]): string[] => [...new Set(vs.map((v) => v.rule))].sort();

describe("ERC-7562: Reins account and modules", () => {
  let ctx: ScenarioContext;

  before(async () => {
    const { ethers } = await network.create();
    const [deployer] = await ethers.getSigners();
    const { address: entryPoint } = await ensureEntryPoint(deployer);
    ctx = { ethers, deployer, entryPoint, chainId: (await ethers.provider.getNetwork()).chainId };
  });

  async function check(ops: UserOperation[], options: Pick<ScenarioBundle, "staked" | "names"> = {}) {
    const trace: TracedBundle = await traceValidation(ctx.ethers.provider, {
      entryPoint: ctx.entryPoint,
      ops: ops.map(packUserOp),
    });
    return { trace, violations: checkErc7562(trace, options) };
  }

  /** Contracts (lower case) whose code ran inside the validation frames of a trace. */
  function validationCode(trace: TracedBundle): { kinds: string[]; code: Set<string> } {
    const tree = buildCallTree(trace.structLogs, ctx.entryPoint);
    const frames = findValidationFrames(tree, ctx.entryPoint, trace.ops);
    const code = new Set<string>();
    for (const vf of frames) {
      for (const f of tree.frames) if (f.start >= vf.frame.start && f.end <= vf.frame.end) code.add(f.codeAddress);
    }
    return { kinds: frames.map((f) => f.kind), code };
  }

  const lc = (a: string): string => a.toLowerCase();

  async function deployed(): Promise<ReinsWorld> {
    const w = await deployReinsWorld(ctx);
    await sendHandleOps(ctx.deployer, ctx.entryPoint, [await ownerOp(w, grantCall(w, await paymentsSession(w)), true)]);
    return w;
  }

  describe("every registered Reins scenario meets its expectation", () => {
    for (const scenario of reinsScenarios) {
      it(`${scenario.name} → ${describeExpectation(scenario.expect)}`, async () => {
        const r = await runScenario(ctx.ethers.provider, ctx, scenario);
        expect(r.ok, `${r.refusal ?? "accepted"}\n${formatViolations(r.violations)}`).to.equal(true);
        if (scenario.expect === "pass" || scenario.expect === "refused") expect(r.violations).to.deep.equal([]);
      });
    }
  });

  describe("compliant operations (all entities unstaked unless stated)", () => {
    it("owner op on a deployed account: no violation, OwnerValidator ran in validation", async () => {
      const w = await deployed();
      const { trace, violations } = await check([await ownerOp(w, { target: w.recipients[0], value: 1n })]);
      expect(trace.failed, trace.returnValue).to.equal(false);
      expect(violations, formatViolations(violations)).to.deep.equal([]);
      const { kinds, code } = validationCode(trace);
      expect(kinds).to.deep.equal(["account"]);
      expect(code.has(lc(w.ownerValidator)) && code.has(lc(w.implementation))).to.equal(true);
    });

    it("agent single and batch ops: no violation, AgentSessions validated them", async () => {
      const w = await deployed();
      const id = sessionIdOf(w.account, 1n);
      for (const calls of [
        transferCall(w, w.recipients[0], 1_000_000n),
        [transferCall(w, w.recipients[1], 2_000_000n), transferCall(w, w.recipients[2], 3_000_000n)],
      ]) {
        const { trace, violations } = await check([await agentOp(w, id, calls)]);
        expect(trace.failed, trace.returnValue).to.equal(false);
        expect(violations, formatViolations(violations)).to.deep.equal([]);
        expect(validationCode(trace).code.has(lc(w.sessionsAddress))).to.equal(true);
      }
    });

    it("deploying op with a staked factory: no violation; factory and account frames walked", async () => {
      const w = await deployReinsWorld(ctx);
      const op = await ownerOp(w, grantCall(w, await paymentsSession(w)), true);
      const { trace, violations } = await check([op], { staked: { factory: true }, names: w.names });
      expect(trace.failed, trace.returnValue).to.equal(false);
      expect(violations, formatViolations(violations)).to.deep.equal([]);
      const { kinds, code } = validationCode(trace);
      expect(kinds).to.deep.equal(["factory", "account"]);
      for (const module of [w.ownerValidator, w.sessionsAddress, w.timelockAddress]) {
        expect(code.has(lc(module)), module).to.equal(true);
      }
    });

    it("out-of-scope agent op: refused with AgentSessionsScopeViolation, no violation up to the revert", async () => {
      const w = await deployed();
      const approve = {
        target: w.tokenAddress,
        data: w.token.interface.encodeFunctionData("approve", [w.recipients[0], 1n]),
      };
      const { trace, violations } = await check([await agentOp(w, sessionIdOf(w.account, 1n), approve)]);
      expect(trace.failed).to.equal(true);
      const selector = w.sessions.interface.getError("AgentSessionsScopeViolation")!.selector.slice(2);
      expect(trace.returnValue).to.include(selector);
      expect(violations, formatViolations(violations)).to.deep.equal([]);
    });
  });

  describe("non-compliant setups are caught", () => {
    it("unstaked factory: STO-022 in the three modules (factory and account frames), and no SELFBALANCE (OP-080)", async () => {
      const w = await deployReinsWorld(ctx);
      const op = await ownerOp(w, grantCall(w, await paymentsSession(w)), true);
      const { trace, violations } = await check([op], { names: w.names });
      expect(trace.failed, trace.returnValue).to.equal(false);
      expect(rules(violations)).to.deep.equal(["STO-022"]);
      const sto022 = violations.filter((v) => v.rule === "STO-022");
      // AgentSessions' install runs in AgentSessionsAdmin's code by delegatecall, on AgentSessions' storage
      expect([...new Set(sto022.map((v) => v.name))].sort()).to.deep.equal([
        "AgentSessionsAdmin",
        "OwnerValidator",
        "ReinsTimelock",
      ]);
      // the account's own validation reads the owner from OwnerValidator while being deployed
      expect(sto022.some((v) => v.entity === "account" && v.name === "OwnerValidator")).to.equal(true);
      const admin = lc(await w.sessions.admin());
      expect(
        sto022.every((v) =>
          lc(v.address) === admin ? v.storageAddress === lc(w.sessionsAddress) : v.storageAddress === lc(v.address),
        ),
      ).to.equal(true);
    });

    it("BadReinsValidator on a Reins account: OP-011 TIMESTAMP and STO-021, both in BadReinsValidator", async () => {
      const w = await deployReinsWorld(ctx);
      const { op, badValidator, names } = await badValidatorOp(w);
      const { trace, violations } = await check([op], { names });
      // the EntryPoint accepts it: only the ERC-7562 check tells this validator is unusable on public mempools
      expect(trace.failed, trace.returnValue).to.equal(false);
      expect(violations.map((v) => [v.rule, v.opcode, v.name, v.address, v.entity])).to.deep.equal([
        ["OP-011", "TIMESTAMP", "BadReinsValidator", lc(badValidator), "account"],
        ["STO-021", "SSTORE", "BadReinsValidator", lc(badValidator), "account"],
      ]);
      expect(violations[1].storageAddress).to.equal(lc(badValidator));
      // a staked account does not excuse either rule
      const staked = checkErc7562(trace, { names, staked: { account: true, factory: true } });
      expect(rules(staked)).to.include("OP-011");
    });
  });

  describe("meetsExpectation", () => {
    const v = (rule: Violation["rule"], name?: string): Violation => ({
      rule,
      opIndex: 0,
      entity: "account",
      address: "0x01",
      name,
      opcode: "X",
      depth: 1,
      pc: 0,
      step: 0,
      count: 1,
      reason: "",
    });
    const bad = { violations: ["OP-011", "STO-021"], in: "Bad" } as const;
    const want = { violations: [...bad.violations], in: bad.in };

    it("pass / refused need zero violations and the right outcome", () => {
      expect(meetsExpectation("pass", { refused: false, violations: [] })).to.equal(true);
      expect(meetsExpectation("pass", { refused: true, violations: [] })).to.equal(false);
      expect(meetsExpectation("pass", { refused: false, violations: [v("OP-011")] })).to.equal(false);
      expect(meetsExpectation("refused", { refused: true, violations: [] })).to.equal(true);
      expect(meetsExpectation("refused", { refused: true, violations: [v("STO-021")] })).to.equal(false);
      expect(meetsExpectation("refused", { refused: true, refusal: "AA23 Foo", violations: [] }, /Bar/)).to.equal(
        false,
      );
    });

    it("a violations expectation needs exactly those rules, in the named contract", () => {
      const ok = [v("OP-011", "Bad"), v("STO-021", "Bad"), v("STO-021", "Bad")];
      expect(meetsExpectation(want, { refused: false, violations: ok })).to.equal(true);
      expect(meetsExpectation(want, { refused: false, violations: [v("OP-011", "Bad")] })).to.equal(false);
      expect(meetsExpectation(want, { refused: false, violations: [...ok, v("OP-080", "Bad")] })).to.equal(false);
      expect(
        meetsExpectation(want, { refused: false, violations: [v("OP-011", "Bad"), v("STO-021", "Good")] }),
      ).to.equal(false);
      expect(meetsExpectation(want, { refused: true, violations: ok })).to.equal(false);
      expect(meetsExpectation(want, { refused: false, violations: [] })).to.equal(false);
    });
  });
});

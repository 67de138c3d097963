/**
 * Attack and misuse paths that the module suites did not reach: configuration validation, delayed loosening of
 * every setting, argument conditions and value caps, less common outflows (increaseAllowance,
 * transferFrom(account, …)), spend records across a reinstall, root-validator replacement, module-management
 * refusals, factory stake management and circuit-breaker settings. Agent actions are real UserOperations.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { Interface, ZeroAddress, ZeroHash, type ContractTransactionReceipt } from "ethers";
import {
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_FALLBACK,
  MODULE_TYPE_HOOK,
  MODULE_TYPE_VALIDATOR,
  encodeMode,
  encodeSingle,
  executeCalldata,
  initializeCalldata,
  wrapExecuteUserOp,
  type Call,
} from "../../src/account/encoding.js";
import { packUserOp, type UserOperation } from "../../src/userop/userop.js";
import { buildOp, handleOps, randomWallet, signAsOwner, userOpEvents } from "../helpers/reins.js";
import {
  DAY,
  HOUR,
  OP,
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

const ERRORS = new Interface([
  "error ERC7579MismatchedModuleTypeId(uint256,address)",
  "error ERC7579AlreadyInstalledModule(uint256,address)",
  "error ERC7579UninstalledModule(uint256,address)",
  "error ERC7579UnsupportedModuleType(uint256)",
  "error ERC7579UnsupportedCallType(bytes1)",
  "error ReinsAccountInvalidModule(address)",
  "error ERC20InsufficientBalance(address,uint256,uint256)",
]);

function word(x: string | bigint): string {
  return "0x" + BigInt(x).toString(16).padStart(64, "0");
}

/** Name of the error in revert data, from AgentSessions, the account, or the common ERC-7579 set. */
function errorName(w: SessionWorld, data: string | undefined): string | undefined {
  if (!data) return undefined;
  for (const i of [w.sessions.interface, w.account.interface, ERRORS]) {
    try {
      const p = i.parseError(data);
      if (p) return p.name;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** An owner operation that must fail with `error`. */
async function ownerRefused(w: SessionWorld, calls: Call | Call[], error: string) {
  const { event } = await ownerCalls(w, calls);
  expect(event.success, "owner operation unexpectedly succeeded").to.equal(false);
  expect(errorName(w, event.revertReason)).to.equal(error);
}

async function ownerOk(w: SessionWorld, calls: Call | Call[]) {
  const r = await ownerCalls(w, calls);
  expect(r.event.success, r.event.revertReason).to.equal(true);
  return r.receipt;
}

const sessionsCall = (w: SessionWorld, fn: string, args: unknown[]): Call => ({
  target: w.sessionsAddress,
  data: w.sessions.interface.encodeFunctionData(fn as never, args as never),
});
const accountCall = (w: SessionWorld, fn: string, args: unknown[]): Call => ({
  target: w.accountAddress,
  data: w.account.interface.encodeFunctionData(fn as never, args as never),
});

/** The inner (validation) error of an agent op that the EntryPoint refuses with FailedOpWithRevert. */
async function agentRefusal(w: SessionWorld, op: UserOperation): Promise<string | undefined> {
  try {
    await w.core.entryPoint.handleOps.staticCall([packUserOp(op)], ZeroAddress);
  } catch (e) {
    const parsed = w.core.entryPoint.interface.parseError((e as { data?: string }).data ?? "0x");
    expect(parsed?.name).to.equal("FailedOpWithRevert");
    return errorName(w, parsed!.args.inner);
  }
  throw new Error("agent op was not refused");
}

async function agentOk(w: SessionWorld, id: string, calls: Call | Call[], execType = 0) {
  const { events, receipt } = await sendAgent(w, [await agentOp(w, id, calls, {}, w.agent, execType)]);
  expect(events[0].success, events[0].revertReason).to.equal(true);
  return parseEvents(w, receipt);
}

/** Apply every change the receipt proposed, after the delay. Returns the applyChange receipts. */
async function applyProposed(w: SessionWorld, receipt: ContractTransactionReceipt, delay: bigint) {
  const out: ContractTransactionReceipt[] = [];
  const proposed = parseEvents(w, receipt).filter((e) => e.name === "ChangeProposed");
  expect(proposed.length, "no change was proposed").to.be.greaterThan(0);
  await time.increase(delay);
  for (const p of proposed)
    out.push((await (await w.sessions.applyChange(w.accountAddress, p.args.data as string)).wait())!);
  return out;
}

function perm(
  target: string,
  selector: string,
  calldataLength: bigint,
  conditions: SessionConfig["permissions"][number]["conditions"] = [],
  valueCap = 0n,
) {
  return { target, selector, valueCap, calldataLength, conditions };
}

describe("Security: hardening of configuration, outflows and module management", () => {
  describe("session configuration", () => {
    it("grantSession refuses a zero agent, a zero period, too many or None conditions, an empty one-of set and an installed module as target", async () => {
      const w = await deploySessionWorld(ethers);
      const base = await paymentsConfig(w);
      const cond = { op: OP.AtMost, word: 1n, value: word(1n), oneOf: [] as string[] };
      const transfer = w.token.interface.getFunction("transfer")!.selector;
      const bad: [Partial<SessionConfig>, string][] = [
        [{ agent: ZeroAddress }, "AgentSessionsInvalidConfig"],
        [{ budgets: [{ ...base.budgets[0], period: 0n }] }, "AgentSessionsInvalidConfig"],
        [
          { permissions: [perm(w.tokenAddress, transfer, 68n, [cond, cond, cond, cond, cond])] },
          "AgentSessionsInvalidConfig",
        ],
        [
          { permissions: [perm(w.tokenAddress, transfer, 68n, [{ ...cond, op: OP.None }])] },
          "AgentSessionsInvalidConfig",
        ],
        [
          { permissions: [perm(w.tokenAddress, transfer, 68n, [{ ...cond, op: OP.OneOf }])] },
          "AgentSessionsInvalidConfig",
        ],
        [
          { permissions: [perm(await w.core.ownerValidator.getAddress(), "0x00000000", 0n)] },
          "AgentSessionsForbiddenTarget",
        ],
        [{ permissions: [perm(await w.timelock.getAddress(), "0x00000000", 0n)] }, "AgentSessionsForbiddenTarget"],
      ];
      for (const [override, error] of bad) {
        await ownerRefused(w, sessionsCall(w, "grantSession", [{ ...base, ...override }]), error);
      }
      expect((await w.sessions.accountConfig(w.accountAddress)).sessionNonce).to.equal(0n);
    });

    it("addPermission waits the security delay and applies through applyChange; removePermission applies at once", async () => {
      const w = await deploySessionWorld(ethers, 2n * DAY);
      const grantReceipt = await ownerOk(w, sessionsCall(w, "grantSession", [await paymentsConfig(w)]));
      const [applied] = await applyProposed(w, grantReceipt, 2n * DAY);
      const id = parseEvents(w, applied).find((e) => e.name === "SessionGranted")!.args.sessionId as string;
      const sink = await ethers.deployContract("Sink");
      const sinkAddress = await sink.getAddress();
      const ping = sink.interface.getFunction("ping")!.selector;
      const add = await ownerOk(w, sessionsCall(w, "addPermission", [id, perm(sinkAddress, ping, 36n)]));
      expect(await w.sessions.hasPermission(id, w.accountAddress, sinkAddress, ping)).to.equal(false);
      const pingCall = { target: sinkAddress, data: sink.interface.encodeFunctionData("ping", [1n]) };
      expect(await agentRefusal(w, await agentOp(w, id, pingCall))).to.equal("AgentSessionsScopeViolation");
      await applyProposed(w, add, 2n * DAY);
      expect(await w.sessions.hasPermission(id, w.accountAddress, sinkAddress, ping)).to.equal(true);
      await agentOk(w, id, pingCall);
      expect(await sink.calls()).to.equal(1n);
      await ownerOk(w, sessionsCall(w, "removePermission", [id, sinkAddress, ping]));
      expect(await w.sessions.hasPermission(id, w.accountAddress, sinkAddress, ping)).to.equal(false);
      expect(await agentRefusal(w, await agentOp(w, id, pingCall))).to.equal("AgentSessionsScopeViolation");
    });

    it("fleet budget, security delay and breaker: loosening waits, tightening is at once; unknown changes and sessions are refused", async () => {
      const w = await deploySessionWorld(ethers, 2n * DAY);
      const t = w.tokenAddress;
      await ownerRefused(w, sessionsCall(w, "setFleetBudget", [t, 100n, 200n, 0n]), "AgentSessionsInvalidConfig");
      await ownerOk(w, sessionsCall(w, "setFleetBudget", [t, 100n * U, 200n * U, DAY])); // first: at once
      expect((await w.sessions.fleetRemaining(w.accountAddress, t))[1]).to.equal(100n * U);
      const raise = await ownerOk(w, sessionsCall(w, "setFleetBudget", [t, 150n * U, 200n * U, DAY]));
      expect((await w.sessions.fleetRemaining(w.accountAddress, t))[1]).to.equal(100n * U);
      await ownerOk(w, sessionsCall(w, "setFleetBudget", [t, 50n * U, 200n * U, DAY])); // lower: at once
      expect((await w.sessions.fleetRemaining(w.accountAddress, t))[1]).to.equal(50n * U);
      await applyProposed(w, raise, 2n * DAY);
      expect((await w.sessions.fleetRemaining(w.accountAddress, t))[1]).to.equal(150n * U);

      await ownerOk(w, sessionsCall(w, "setSecurityDelay", [3n * DAY])); // raise: at once
      expect((await w.sessions.accountConfig(w.accountAddress)).securityDelay).to.equal(3n * DAY);
      const lower = await ownerOk(w, sessionsCall(w, "setSecurityDelay", [0n]));
      expect((await w.sessions.accountConfig(w.accountAddress)).securityDelay).to.equal(3n * DAY);
      await applyProposed(w, lower, 3n * DAY);
      expect((await w.sessions.accountConfig(w.accountAddress)).securityDelay).to.equal(0n);
      await ownerOk(w, sessionsCall(w, "setSecurityDelay", [DAY]));

      const [b1, b2] = [randomWallet().address, randomWallet().address];
      await ownerOk(w, sessionsCall(w, "setBreaker", [b1])); // none before: at once
      expect(await w.sessions.breakerOf(w.accountAddress)).to.equal(b1);
      const replace = await ownerOk(w, sessionsCall(w, "setBreaker", [b2]));
      expect(await w.sessions.breakerOf(w.accountAddress)).to.equal(b1);
      await applyProposed(w, replace, DAY);
      expect(await w.sessions.breakerOf(w.accountAddress)).to.equal(b2);

      await ownerRefused(w, sessionsCall(w, "cancelChange", [ZeroHash]), "AgentSessionsChangeNotReady");
      await ownerRefused(w, sessionsCall(w, "renewSession", [ZeroHash, 10n ** 10n]), "AgentSessionsUnknownSession");
      await ownerRefused(w, sessionsCall(w, "revokeSession", [ZeroHash]), "AgentSessionsUnknownSession");
      const [, , stranger] = await ethers.getSigners();
      await expect(
        w.sessions.connect(stranger).revokeByWatchdog(w.accountAddress, ZeroHash),
      ).to.be.revertedWithCustomError(w.sessions, "AgentSessionsUnauthorized");
    });
  });

  describe("scope", () => {
    it("Equal and AtLeast conditions and the per-call value cap bind every call; short call data is refused", async () => {
      const w = await deploySessionWorld(ethers);
      const [a, b] = [await ethers.deployContract("Sink"), await ethers.deployContract("Sink")];
      const [aa, ba] = [await a.getAddress(), await b.getAddress()];
      const ping = a.interface.getFunction("ping")!.selector;
      const cfg = await paymentsConfig(w);
      cfg.permissions = [
        ...cfg.permissions,
        perm(aa, ping, 36n, [{ op: OP.Equal, word: 0n, value: word(7n), oneOf: [] }], 10n ** 15n),
        perm(ba, ping, 36n, [{ op: OP.AtLeast, word: 0n, value: word(5n), oneOf: [] }]),
      ];
      const id = await grant(w, cfg);
      const call = (to: string, x: bigint, value = 0n) => ({
        target: to,
        value,
        data: a.interface.encodeFunctionData("ping", [x]),
      });
      await agentOk(w, id, call(aa, 7n, 10n ** 15n));
      expect(await a.calls()).to.equal(1n);
      expect(await agentRefusal(w, await agentOp(w, id, call(aa, 8n)))).to.equal("AgentSessionsConditionFailed");
      expect(await agentRefusal(w, await agentOp(w, id, call(aa, 7n, 2n * 10n ** 15n)))).to.equal(
        "AgentSessionsValueExceeded",
      );
      expect(await agentRefusal(w, await agentOp(w, id, call(ba, 4n)))).to.equal("AgentSessionsConditionFailed");
      await agentOk(w, id, call(ba, 5n));
      expect(await b.calls()).to.equal(1n);
      // 1 to 3 bytes of call data are no selector: refused
      expect(await agentRefusal(w, await agentOp(w, id, { target: w.recipients[0], data: "0x1234" }))).to.equal(
        "CallPolicyInvalidCallData",
      );
    });

    it("try mode, when the session allows it: single and batch", async () => {
      const w = await deploySessionWorld(ethers);
      const id = await grant(w, await paymentsConfig(w, { allowTry: true }));
      await agentOk(w, id, transferCall(w, w.recipients[0], 1n * U), 1);
      await agentOk(w, id, [transferCall(w, w.recipients[0], 1n * U), transferCall(w, w.recipients[1], 1n * U)], 1);
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(2n * U);
    });
  });

  describe("outflows that are not a transfer", () => {
    it("increaseAllowance is counted like approve and reset to zero after the op", async () => {
      const w = await deploySessionWorld(ethers);
      const token = await ethers.deployContract("AllowanceToken");
      const t = await token.getAddress();
      await token.mint(w.accountAddress, 10_000n * U);
      const [, , , attacker] = await ethers.getSigners();
      const cfg = await paymentsConfig(w);
      cfg.permissions = [perm(t, token.interface.getFunction("increaseAllowance")!.selector, 68n)];
      cfg.budgets = [{ ...cfg.budgets[0], token: t }];
      const id = await grant(w, cfg);
      const inc = (x: bigint) => ({
        target: t,
        data: token.interface.encodeFunctionData("increaseAllowance", [attacker.address, x]),
      });
      const evs = await agentOk(w, id, inc(80n * U));
      expect(evs.find((e) => e.name === "SpendRecorded")?.args.amount).to.equal(80n * U);
      expect(await token.allowance(w.accountAddress, attacker.address)).to.equal(0n);
      const queued = (await agentOk(w, id, inc(500n * U))).find((e) => e.name === "OperationQueued");
      expect(queued?.args.tier).to.equal(TIER.Delayed);
      expect(await token.allowance(w.accountAddress, attacker.address)).to.equal(0n);
    });

    it("transferFrom(account, …) is counted from its call data; an approval of zero leaves nothing to reset", async () => {
      const w = await deploySessionWorld(ethers);
      await ownerOk(w, {
        target: w.tokenAddress,
        data: w.token.interface.encodeFunctionData("approve", [w.accountAddress, 10n ** 30n]),
      });
      const cfg = await paymentsConfig(w);
      cfg.permissions = [
        ...cfg.permissions,
        perm(w.tokenAddress, w.token.interface.getFunction("transferFrom")!.selector, 100n),
        perm(w.tokenAddress, w.token.interface.getFunction("approve")!.selector, 68n),
      ];
      const id = await grant(w, cfg);
      const from = (x: bigint) => ({
        target: w.tokenAddress,
        data: w.token.interface.encodeFunctionData("transferFrom", [w.accountAddress, w.recipients[0], x]),
      });
      const small = await agentOk(w, id, from(50n * U));
      expect(small.find((e) => e.name === "SpendRecorded")?.args.amount).to.equal(50n * U);
      // 150 > instant threshold 100 by its call data alone: queued, nothing moves now
      const big = await agentOk(w, id, from(150n * U));
      expect(big.find((e) => e.name === "OperationQueued")?.args.tier).to.equal(TIER.Delayed);
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(50n * U);
      await agentOk(w, id, {
        target: w.tokenAddress,
        data: w.token.interface.encodeFunctionData("approve", [w.recipients[1], 0n]),
      });
      expect(await w.token.allowance(w.accountAddress, w.recipients[1])).to.equal(0n);
    });
  });

  describe("lifecycle", () => {
    it("uninstalling and reinstalling AgentSessions keeps the fleet spend: a new session gets only what is left", async () => {
      const w = await deploySessionWorld(ethers);
      await ownerOk(w, sessionsCall(w, "setFleetBudget", [w.tokenAddress, 250n * U, 10_000n * U, DAY]));
      const id = await grant(w, await paymentsConfig(w));
      for (const x of [100n, 100n]) await agentOk(w, id, transferCall(w, w.recipients[0], x * U));
      const s = w.sessionsAddress;
      await ownerOk(w, [
        accountCall(w, "uninstallModule", [MODULE_TYPE_VALIDATOR, s, "0x"]),
        accountCall(w, "uninstallModule", [MODULE_TYPE_EXECUTOR, s, "0x"]),
      ]);
      await ownerOk(w, [
        accountCall(w, "installModule", [MODULE_TYPE_VALIDATOR, s, "0x"]),
        accountCall(w, "installModule", [MODULE_TYPE_EXECUTOR, s, "0x"]),
      ]);
      expect((await w.sessions.fleetRemaining(w.accountAddress, w.tokenAddress))[1]).to.equal(50n * U);
      const fresh = await grant(w, await paymentsConfig(w));
      const evs = await agentOk(w, fresh, transferCall(w, w.recipients[0], 100n * U));
      expect(evs.find((e) => e.name === "OperationQueued")?.args.tier).to.equal(TIER.Approval);
      expect(await w.token.balanceOf(w.recipients[0])).to.equal(200n * U);
    });

    it("setRootValidator hands the owner role to another installed validator; the old root can then be removed", async () => {
      const w = await deploySessionWorld(ethers);
      const second = await ethers.deployContract("OwnerValidator");
      const v2 = await second.getAddress();
      const v1 = await w.core.ownerValidator.getAddress();
      const newOwner = randomWallet();
      await ownerRefused(w, accountCall(w, "setRootValidator", [v2]), "ERC7579UninstalledModule");
      // rotating the owner to the zero address is refused
      const { event: zero } = await ownerCalls(w, {
        target: v1,
        data: w.core.ownerValidator.interface.encodeFunctionData("setOwner", [ZeroAddress]),
      });
      expect(zero.success).to.equal(false);
      expect(w.core.ownerValidator.interface.parseError(zero.revertReason!)?.name).to.equal("OwnerValidatorZeroOwner");
      expect(await w.core.ownerValidator.isInitialized(w.accountAddress)).to.equal(true);
      expect(await second.isInitialized(w.accountAddress)).to.equal(false);
      await ownerOk(w, [
        accountCall(w, "installModule", [MODULE_TYPE_VALIDATOR, v2, newOwner.address]),
        accountCall(w, "setRootValidator", [v2]),
      ]);
      expect(await w.account.rootValidator()).to.equal(v2);
      expect(await w.account.isModuleInstalled(MODULE_TYPE_VALIDATOR, v1, "0x")).to.equal(true);
      // the new owner operates through the new root; the old owner's operations no longer execute
      const sendVia = async (validator: string, signer = newOwner, callData = executeCalldata([])) => {
        const op = signAsOwner(
          w.core,
          await buildOp(w.core, w.accountAddress, validator, wrapExecuteUserOp(callData)),
          signer,
        );
        return userOpEvents(w.core, await handleOps(w.core, [op]))[0];
      };
      expect((await sendVia(v1, w.owner)).success).to.equal(false);
      const removeOld = executeCalldata(accountCall(w, "uninstallModule", [MODULE_TYPE_VALIDATOR, v1, "0x"]));
      const ev = await sendVia(v2, newOwner, removeOld);
      expect(ev.success, ev.revertReason).to.equal(true);
      expect(await w.account.isModuleInstalled(MODULE_TYPE_VALIDATOR, v1, "0x")).to.equal(false);
    });
  });

  describe("owner safety net configuration", () => {
    it("enableSafetyNet refuses a lock source or timelock without code and a zero delay; disabling clears the configuration", async () => {
      const w = await deploySessionWorld(ethers);
      const ov = w.core.ownerValidator;
      const v = await ov.getAddress();
      const t = await w.timelock.getAddress();
      const eoa = randomWallet().address;
      const enable = (lockSource: string, timelock: string, minDelay: bigint): Call => ({
        target: v,
        data: ov.interface.encodeFunctionData("enableSafetyNet", [{ lockSource, timelock, minDelay }]),
      });
      for (const bad of [enable(eoa, t, DAY), enable(t, eoa, DAY), enable(t, t, 0n)]) {
        const { event } = await ownerCalls(w, bad);
        expect(event.success).to.equal(false);
        expect(ov.interface.parseError(event.revertReason!)?.name).to.equal("OwnerValidatorInvalidSafetyNet");
      }
      expect((await ov.safetyNetOf(w.accountAddress))[0]).to.equal(false);
      // turning a net that is off "off" again is harmless and leaves no configuration behind
      await ownerOk(w, { target: v, data: ov.interface.encodeFunctionData("disableSafetyNet") });
      const [enabled, config] = await ov.safetyNetOf(w.accountAddress);
      expect(enabled).to.equal(false);
      expect(config.timelock).to.equal(ZeroAddress);
    });
  });

  describe("account module management and execution", () => {
    it("refuses modules without code, double installs, unknown types, removing what is not installed, and reserved fallback selectors", async () => {
      const w = await deploySessionWorld(ethers);
      const eoa = randomWallet().address;
      const echo = await ethers.deployContract("EchoFallback");
      const e = await echo.getAddress();
      const hook = await ethers.deployContract("CountingHook");
      const h = await hook.getAddress();
      const sel = echo.interface.getFunction("echo")!.selector;
      const install = (t: bigint, m: string, d: string) => accountCall(w, "installModule", [t, m, d]);
      const uninstall = (t: bigint, m: string, d: string) => accountCall(w, "uninstallModule", [t, m, d]);
      await ownerRefused(w, install(MODULE_TYPE_EXECUTOR, eoa, "0x"), "ReinsAccountInvalidModule");
      await ownerRefused(w, install(MODULE_TYPE_VALIDATOR, w.sessionsAddress, "0x"), "ERC7579AlreadyInstalledModule");
      await ownerOk(w, [install(MODULE_TYPE_FALLBACK, e, sel), install(MODULE_TYPE_HOOK, h, "0x")]);
      await ownerRefused(w, install(MODULE_TYPE_FALLBACK, e, sel), "ERC7579AlreadyInstalledModule");
      await ownerRefused(w, install(MODULE_TYPE_HOOK, h, "0x"), "ERC7579AlreadyInstalledModule");
      await ownerRefused(w, uninstall(7n, e, "0x"), "ERC7579UnsupportedModuleType");
      await ownerRefused(w, uninstall(MODULE_TYPE_VALIDATOR, eoa, "0x"), "ERC7579UninstalledModule");
      await ownerRefused(w, uninstall(MODULE_TYPE_FALLBACK, h, sel), "ERC7579UninstalledModule");
      await ownerRefused(w, uninstall(MODULE_TYPE_HOOK, e, "0x"), "ERC7579UninstalledModule");
      const onInstall = echo.interface.getFunction("onInstall")!.selector;
      await ownerRefused(w, install(MODULE_TYPE_FALLBACK, e, onInstall), "ERC7579UnsupportedModuleType");
      await ownerRefused(w, install(MODULE_TYPE_FALLBACK, e, "0x1234"), "ERC7579UnsupportedModuleType");
      expect(await w.account.isModuleInstalled(9n, e, "0x")).to.equal(false);
      expect(await w.account.isModuleInstalled(MODULE_TYPE_FALLBACK, e, sel)).to.equal(true);
    });

    it("owner executeUserOp bubbles the inner revert; unknown call types are refused; a reverting fallback handler reverts the call", async () => {
      const w = await deploySessionWorld(ethers);
      const v = await w.core.ownerValidator.getAddress();
      const send = async (callData: string) => {
        const op = signAsOwner(w.core, await buildOp(w.core, w.accountAddress, v, callData), w.owner);
        return userOpEvents(w.core, await handleOps(w.core, [op]))[0];
      };
      const tooMuch = transferCall(w, w.recipients[0], 10n ** 30n);
      const ev = await send(wrapExecuteUserOp(executeCalldata(tooMuch)));
      expect(ev.success).to.equal(false);
      expect(errorName(w, ev.revertReason)).to.equal("ERC20InsufficientBalance");
      const unknown = w.account.interface.encodeFunctionData("execute", [encodeMode(0xfe), encodeSingle(tooMuch)]);
      const ev2 = await send(unknown);
      expect(ev2.success).to.equal(false);
      expect(errorName(w, ev2.revertReason)).to.equal("ERC7579UnsupportedCallType");
      // a fallback handler without the routed function reverts, and so does the call to the account
      const broken = await ethers.deployContract("RevertingUninstallModule");
      const selector = "0xdeadbeef";
      await ownerOk(w, accountCall(w, "installModule", [MODULE_TYPE_FALLBACK, await broken.getAddress(), selector]));
      const [caller] = await ethers.getSigners();
      await expect(caller.sendTransaction({ to: w.accountAddress, data: selector })).to.be.revert(ethers);
    });
  });

  describe("circuit breaker settings", () => {
    it("a zero window is refused; an unconfigured breaker lets operations through; loosening the config or a spend limit waits the security delay; batches with native value run", async () => {
      const w = await deploySessionWorld(ethers);
      const breaker = await ethers.deployContract("CircuitBreaker", [w.sessionsAddress]);
      const b = await breaker.getAddress();
      const id = await grant(w, await paymentsConfig(w));
      await ownerOk(w, sessionsCall(w, "setBreaker", [b]));
      await ownerOk(w, sessionsCall(w, "setSecurityDelay", [DAY])); // raising the delay applies at once
      const cb = (fn: string, args: unknown[]): Call => ({
        target: b,
        data: breaker.interface.encodeFunctionData(fn as never, args as never),
      });
      const { event: zero } = await ownerCalls(w, cb("configure", [{ window: 0n, maxOps: 1n, maxNewRecipients: 1n }]));
      expect(zero.success).to.equal(false);
      expect(breaker.interface.parseError(zero.revertReason!)?.name).to.equal("CircuitBreakerZeroWindow");
      // attached but not configured: nothing trips
      await agentOk(w, id, transferCall(w, w.recipients[0], 1n * U));
      expect(await w.sessions.isPaused(w.accountAddress)).to.equal(false);

      await ownerOk(w, cb("configure", [{ window: HOUR, maxOps: 5n, maxNewRecipients: 5n }]));
      expect((await breaker.configOf(w.accountAddress)).maxOps).to.equal(5n);
      await ownerOk(w, cb("configure", [{ window: HOUR, maxOps: 10n, maxNewRecipients: 5n }])); // loosening
      expect((await breaker.configOf(w.accountAddress)).maxOps).to.equal(5n);
      await expect(breaker.applyConfig(w.accountAddress)).to.be.revertedWithCustomError(
        breaker,
        "CircuitBreakerNotReady",
      );

      const t = w.tokenAddress;
      await ownerOk(w, cb("setSpendLimit", [t, 100n * U]));
      expect(await breaker.spendLimitOf(w.accountAddress, t)).to.equal(100n * U);
      await ownerOk(w, cb("setSpendLimit", [t, 200n * U])); // loosening
      expect(await breaker.spendLimitOf(w.accountAddress, t)).to.equal(100n * U);
      await expect(breaker.applySpendLimit(w.accountAddress, t, 200n * U)).to.be.revertedWithCustomError(
        breaker,
        "CircuitBreakerNotReady",
      );
      await time.increase(DAY);
      await (await breaker.applyConfig(w.accountAddress)).wait();
      await (await breaker.applySpendLimit(w.accountAddress, t, 200n * U)).wait();
      expect((await breaker.configOf(w.accountAddress)).maxOps).to.equal(10n);
      expect(await breaker.spendLimitOf(w.accountAddress, t)).to.equal(200n * U);
      await expect(breaker.applySpendLimit(w.accountAddress, t, 200n * U)).to.be.revertedWithCustomError(
        breaker,
        "CircuitBreakerNotReady",
      );

      // a batch with an ERC-20 transfer and native value is recorded (two recipients) and runs
      await agentOk(w, id, [transferCall(w, w.recipients[0], 1n * U), { target: w.recipients[1], value: 10n ** 15n }]);
      expect(await ethers.provider.getBalance(w.recipients[1])).to.equal(10n ** 15n);
      expect(await w.sessions.isPaused(w.accountAddress)).to.equal(false);
    });
  });

  describe("factory", () => {
    it("createAccount bubbles an initialize revert (root validator without code); stake management is the stake owner's", async () => {
      const w = await deploySessionWorld(ethers);
      const f = w.core.factory;
      const badInit = initializeCalldata(randomWallet().address, randomWallet().address, []);
      await expect(f.createAccount(badInit, ZeroHash)).to.be.revertedWithCustomError(
        w.account,
        "ReinsAccountInvalidModule",
      );
      const [deployer, , stranger] = await ethers.getSigners();
      await (await f.connect(stranger).addStake(HOUR, { value: 10n ** 18n })).wait();
      const info = await w.core.entryPoint.getDepositInfo(await f.getAddress());
      expect(info.stake).to.equal(10n ** 18n);
      await expect(f.connect(stranger).unlockStake()).to.be.revertedWithCustomError(f, "ReinsFactoryNotStakeOwner");
      await expect(f.connect(stranger).withdrawStake(stranger.address)).to.be.revertedWithCustomError(
        f,
        "ReinsFactoryNotStakeOwner",
      );
      await (await f.connect(deployer).unlockStake()).wait();
      await time.increase(HOUR);
      const to = randomWallet().address;
      await (await f.connect(deployer).withdrawStake(to)).wait();
      expect(await ethers.provider.getBalance(to)).to.equal(10n ** 18n);
    });
  });
});

/**
 * ERC-7562 scenarios on the Reins account (ReinsAccount behind ReinsProxy, deployed by ReinsAccountFactory) with
 * its modules: OwnerValidator (root), AgentSessions (validator + executor) and ReinsTimelock (executor).
 *
 * What they establish:
 * - Owner operations and agent-session operations (single, batch, first and later uses of a session) validate
 *   within the rules with every entity UNSTAKED, on an account that is already deployed.
 * - The operation that deploys the account (initCode) makes the initial modules write storage associated with
 *   the account in other contracts (OwnerValidator's owner, AgentSessions' and ReinsTimelock's per-account
 *   config). ERC-7562 allows that only for a STAKED factory (STO-022). **On public mempools the
 *   ReinsAccountFactory must therefore be staked** (or accounts must be deployed outside the mempool, e.g. by a
 *   plain transaction). The unstaked variant is kept as a scenario that must report STO-022, so a change in the
 *   factory's or the modules' footprint shows up here. Even with no initial module besides the owner validator,
 *   the deploying operation's own validation reads the owner from OwnerValidator (associated storage, STO-022),
 *   so an ERC-7579 account whose validators keep state outside the account always needs a staked factory.
 * - Fixed finding in ReinsAccountFactory: it used OpenZeppelin's `Create2.deploy(0, …)`, whose balance check
 *   executes SELFBALANCE (OP-080 for an unstaked entity). It now deploys with an inline `create2`; the test below
 *   asserts that the unstaked factory is reported for STO-022 only.
 * - An agent operation outside the session's scope is refused with AgentSessions' own error, and the trace up
 *   to that revert is rule-clean (a bundler drops the operation, it does not blame the account).
 * - A deliberately non-compliant validator (BadReinsValidator) installed on a Reins account is caught: OP-011
 *   (TIMESTAMP) and STO-021 (a slot keyed account-first), both attributed to that contract.
 *
 * - An agent-session operation in the same operation that deploys the account: the owner commits to an initial
 *   session in the account's init data (AgentSessions' `onInstall` takes `(securityDelay, SessionConfig[])`, and
 *   the factory's CREATE2 salt covers it), so the agent's first operation carries the initCode. This scenario
 *   first failed with STO-033: the session's budgeted-token list was a dynamic array, whose elements are not
 *   associated with the account; it is now an account-keyed mapping.
 */
import {
  AbiCoder,
  Interface,
  ParamType,
  Wallet,
  ZeroHash,
  id,
  keccak256,
  parseEther,
  zeroPadValue,
  type AddressLike,
} from "ethers";
import {
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_VALIDATOR,
  MODE_SINGLE,
  accountInterface,
  encodeSingle,
  executeCalldata,
  initializeCalldata,
  wrapExecuteUserOp,
  type Call,
  type ModuleInit,
} from "../../account/encoding.js";
import { signSessionOp } from "../../session/signature.js";
import { paymentsSession as paymentsPreset } from "../../session/presets.js";
import { getUserOpHash, type UserOperation } from "../../userop/userop.js";
import {
  AgentSessions__factory,
  IEntryPoint__factory,
  type AgentSessions,
  type MockERC20,
  type ReinsAccountFactory,
  type ReinsTimelock,
} from "../../../types/ethers-contracts/index.js";
import type { IAgentSessions } from "../../../types/ethers-contracts/contracts/modules/AgentSessions.js";
import { sendHandleOps, type Scenario, type ScenarioBundle, type ScenarioContext } from "../scenario.js";

/** AgentSessions' session configuration, as the typechain bindings take it. */
export type SessionConfig = IAgentSessions.SessionConfigStruct;

const DAY = 86_400n;
/** Token units (6 decimals). */
const USD = 10n ** 6n;

/** The Reins contracts of one scenario, a funded counterfactual account, its owner and an agent key. */
export interface ReinsWorld {
  ctx: ScenarioContext;
  /** Address of `ctx.deployer` (recipient of the owner's test transfers). */
  deployerAddress: string;
  owner: Wallet;
  agent: Wallet;
  ownerValidator: string;
  implementation: string;
  factory: ReinsAccountFactory;
  factoryAddress: string;
  timelock: ReinsTimelock;
  timelockAddress: string;
  sessions: AgentSessions;
  sessionsAddress: string;
  token: MockERC20;
  tokenAddress: string;
  /** Allow-listed recipients of the payments session. */
  recipients: string[];
  /** The account (counterfactual until its first operation). */
  account: string;
  /** `ReinsAccount.initialize` calldata the account's address commits to. */
  initCall: string;
  /** Address → name, for readable reports. */
  names: Record<string, string>;
}

const addressOf = async (c: { getAddress(): Promise<string> }): Promise<string> => c.getAddress();

/**
 * Deploy OwnerValidator, ReinsAccount, ReinsAccountFactory, ReinsTimelock, AgentSessions and a 6-decimal
 * token; pick a counterfactual account whose initial modules are AgentSessions (validator + executor, no
 * security delay) and ReinsTimelock (executor, AgentSessions as canceller); fund it with ETH and tokens.
 */
export async function deployReinsWorld(
  ctx: ScenarioContext,
  opts: { initialSession?: boolean } = {},
): Promise<ReinsWorld> {
  const { ethers, deployer, entryPoint } = ctx;
  const ownerValidatorC = await ethers.deployContract("OwnerValidator", deployer);
  const implementationC = await ethers.deployContract("ReinsAccount", deployer);
  const implementation = await addressOf(implementationC);
  const factory = await ethers.deployContract(
    "ReinsAccountFactory",
    [implementation, await deployer.getAddress()],
    deployer,
  );
  const timelock = await ethers.deployContract("ReinsTimelock", deployer);
  const timelockAddress = await addressOf(timelock);
  const sessions = await ethers.deployContract("AgentSessions", [timelockAddress], deployer);
  const sessionsAddress = await addressOf(sessions);
  const token = await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6], deployer);
  const tokenAddress = await addressOf(token);
  const ownerValidator = await addressOf(ownerValidatorC);
  const factoryAddress = await addressOf(factory);

  const owner = new Wallet(Wallet.createRandom().privateKey);
  const agent = new Wallet(Wallet.createRandom().privateKey);
  const recipients = [0, 1, 2].map(() => Wallet.createRandom().address);
  const coder = AbiCoder.defaultAbiCoder();
  let sessionsInit = coder.encode(["uint32"], [0n]);
  if (opts.initialSession) {
    // the owner commits to an initial agent session in the account's address (AgentSessions.onInstall grants it)
    const proto = { ctx, agent, token, tokenAddress, recipients } as unknown as ReinsWorld;
    const grantParam = sessions.interface.getFunction("grantSession").inputs[0]!;
    sessionsInit = coder.encode(
      ["uint32", ParamType.from({ type: "tuple[]", components: grantParam.components })],
      [0n, [await paymentsSession(proto)]],
    );
  }
  const modules: ModuleInit[] = [
    { moduleTypeId: MODULE_TYPE_VALIDATOR, module: sessionsAddress, initData: sessionsInit },
    { moduleTypeId: MODULE_TYPE_EXECUTOR, module: sessionsAddress, initData: coder.encode(["uint32"], [0n]) },
    {
      moduleTypeId: MODULE_TYPE_EXECUTOR,
      module: timelockAddress,
      initData: coder.encode(["address[]"], [[sessionsAddress]]),
    },
  ];
  const initCall = initializeCalldata(ownerValidator, owner.address, modules);
  const account = await factory.getAccountAddress(initCall, ZeroHash);
  await (await deployer.sendTransaction({ to: account, value: parseEther("10") })).wait();
  await (await token.mint(account, 1_000_000n * USD)).wait();

  const senderCreator = await IEntryPoint__factory.connect(entryPoint, deployer).senderCreator();
  return {
    ctx,
    deployerAddress: await deployer.getAddress(),
    owner,
    agent,
    ownerValidator,
    implementation,
    factory,
    factoryAddress,
    timelock,
    timelockAddress,
    sessions,
    sessionsAddress,
    token,
    tokenAddress,
    recipients,
    account,
    initCall,
    names: {
      [account]: "ReinsAccount (proxy)",
      [implementation]: "ReinsAccount impl",
      [ownerValidator]: "OwnerValidator",
      [sessionsAddress]: "AgentSessions",
      [(await sessions.admin()).toLowerCase()]: "AgentSessionsAdmin",
      [timelockAddress]: "ReinsTimelock",
      [tokenAddress]: "MockERC20 (TUSD)",
      [factoryAddress]: "ReinsAccountFactory",
      [senderCreator]: "SenderCreator",
      [entryPoint]: "EntryPoint",
    },
  };
}

/** Build an unsigned operation of `w.account` for `validator`'s nonce key (current sequence from the EntryPoint). */
async function baseOp(
  w: ReinsWorld,
  validator: string,
  callData: string,
  extra: Partial<UserOperation> = {},
): Promise<UserOperation> {
  const ep = IEntryPoint__factory.connect(w.ctx.entryPoint, w.ctx.deployer);
  const key = BigInt(validator) << 32n;
  const nonce = await ep.getNonce(w.account, key);
  return {
    sender: w.account,
    nonce,
    callData,
    callGasLimit: 1_000_000n,
    verificationGasLimit: 1_000_000n,
    preVerificationGas: 60_000n,
    maxFeePerGas: 1_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
    signature: "0x",
    ...extra,
  };
}

const hashOf = (w: ReinsWorld, op: UserOperation): string => getUserOpHash(op, w.ctx.entryPoint, w.ctx.chainId);

/**
 * A signed owner operation (OwnerValidator's nonce key, 65-byte ECDSA over the userOpHash) running `calls`
 * through `execute`. With `deploy`, it carries the factory's initCode.
 */
export async function ownerOp(w: ReinsWorld, calls: Call | Call[], deploy = false): Promise<UserOperation> {
  const initCode = deploy
    ? {
        factory: w.factoryAddress,
        factoryData: w.factory.interface.encodeFunctionData("createAccount", [w.initCall, ZeroHash]),
      }
    : {};
  const op = await baseOp(w, w.ownerValidator, executeCalldata(calls), initCode);
  return { ...op, signature: w.owner.signingKey.sign(hashOf(w, op)).serialized };
}

/** A signed agent operation for `calls` (a batch when an array), wrapped in `executeUserOp`. */
export async function agentOp(
  w: ReinsWorld,
  sessionId: string,
  calls: Call | Call[],
  deploy = false,
): Promise<UserOperation> {
  const initCode = deploy
    ? {
        factory: w.factoryAddress,
        factoryData: w.factory.interface.encodeFunctionData("createAccount", [w.initCall, ZeroHash]),
      }
    : {};
  const op = await baseOp(w, w.sessionsAddress, wrapExecuteUserOp(executeCalldata(calls)), {
    callGasLimit: 600_000n,
    verificationGasLimit: deploy ? 2_000_000n : 400_000n,
    ...initCode,
  });
  return {
    ...op,
    signature: signSessionOp(
      w.agent.signingKey,
      { chainId: w.ctx.chainId, sessions: w.sessionsAddress },
      hashOf(w, op),
      sessionId,
    ),
  };
}

/**
 * A payments session: TUSD `transfer` to the allow-listed recipients (at most 10^6 TUSD per call) and native
 * transfers to them, with budgets for both.
 */
export async function paymentsSession(w: ReinsWorld): Promise<SessionConfig> {
  const latest = await w.ctx.ethers.provider.getBlock("latest");
  return paymentsPreset({
    agent: w.agent.address,
    token: w.tokenAddress,
    recipients: w.recipients,
    now: BigInt(latest?.timestamp ?? 0),
  });
}

/** The call the owner makes to grant `config`. */
export function grantCall(w: ReinsWorld, config: SessionConfig): Call {
  return { target: w.sessionsAddress, data: w.sessions.interface.encodeFunctionData("grantSession", [config]) };
}

/** The id AgentSessions assigns to the account's `n`-th granted session: `keccak256(abi.encode(account, n))`. */
export function sessionIdOf(account: string, n: bigint): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["address", "uint256"], [account, n]));
}

/** Mine `ops` in one bundle (throws if `handleOps` reverts). */
async function mine(w: ReinsWorld, ...ops: UserOperation[]): Promise<void> {
  await sendHandleOps(w.ctx.deployer, w.ctx.entryPoint, ops);
}

/** Check the first session was granted (the execution phase of a mined operation can fail silently). */
async function expectSession(w: ReinsWorld, sessionId: string): Promise<void> {
  const s = await w.sessions.getSession(sessionId, w.account);
  if (s.agent !== w.agent.address) throw new Error(`session ${sessionId} was not granted on ${w.account}`);
}

/** Mine the deploying operation, then a separate owner operation granting the payments session. */
async function deployAndGrant(w: ReinsWorld): Promise<string> {
  await mine(w, await ownerOp(w, { target: w.deployerAddress, value: 0n }, true));
  await mine(w, await ownerOp(w, grantCall(w, await paymentsSession(w))));
  const id = sessionIdOf(w.account, 1n);
  await expectSession(w, id);
  return id;
}

const RESERVE_SELECTOR = "0xb8c43d4d";
const RESERVE = new Interface([
  "function reserveTransferAuthorization(address token, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes32 nameHash, bytes32 versionHash) returns (bytes32)",
]);

/** TUSD transfer call. */
export function transferCall(w: ReinsWorld, to: AddressLike, amount: bigint): Call {
  return { target: w.tokenAddress, data: w.token.interface.encodeFunctionData("transfer", [to, amount]) };
}

/** Custom errors of the account and its modules (decodes a validator's revert inside `FailedOpWithRevert`). */
export const REINS_ERRORS: Interface = new Interface([
  ...AgentSessions__factory.createInterface().fragments.filter((f) => f.type === "error"),
]);

const bundle = (w: ReinsWorld, ops: UserOperation[], extra: Partial<ScenarioBundle> = {}): ScenarioBundle => ({
  ops,
  names: w.names,
  errors: REINS_ERRORS,
  ...extra,
});

/**
 * Turn the owner safety net on (GuardianRecovery as the lock source, OwnerValidator also installed as executor)
 * and build the only kind of owner operation it lets through at once: a delayed timelock schedule guarded by
 * the owner validator. Its validation calls `GuardianRecovery.lockedUntil(account)`.
 */
export async function safetyNetOp(w: ReinsWorld): Promise<{ op: UserOperation; names: Record<string, string> }> {
  const recovery = await w.ctx.ethers.deployContract("GuardianRecovery", w.ctx.deployer);
  const recoveryAddress = await recovery.getAddress();
  const guardians = [Wallet.createRandom().address, Wallet.createRandom().address];
  const install = AbiCoder.defaultAbiCoder().encode(
    ["address[]", "uint8", "uint32", "uint32", "uint32", "tuple(address target, bytes data)[]"],
    [guardians, 1, DAY, DAY, DAY, []],
  );
  const ownerValidator = new Interface([
    "function enableSafetyNet((address lockSource, address timelock, uint48 minDelay) config)",
  ]);
  await mine(w, await ownerOp(w, { target: w.deployerAddress, value: 0n }, true));
  await mine(
    w,
    await ownerOp(w, [
      {
        target: w.account,
        data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, recoveryAddress, install]),
      },
      {
        target: w.account,
        data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, w.ownerValidator, "0x"]),
      },
      {
        target: w.ownerValidator,
        data: ownerValidator.encodeFunctionData("enableSafetyNet", [
          { lockSource: recoveryAddress, timelock: w.timelockAddress, minDelay: DAY },
        ]),
      },
    ]),
  );
  const schedule = w.timelock.interface.encodeFunctionData("schedule", [
    MODE_SINGLE,
    encodeSingle(transferCall(w, w.recipients[0], USD)),
    DAY,
    DAY,
    false,
    w.ownerValidator,
    ZeroHash,
  ]);
  const op = await ownerOp(w, { target: w.timelockAddress, data: schedule });
  return { op, names: { ...w.names, [recoveryAddress.toLowerCase()]: "GuardianRecovery" } };
}

/**
 * Install BadReinsValidator on a deployed Reins account (owner operation calling `installModule`) and build an
 * operation validated by it (its address in the nonce key), running a plain `execute` (no `executeUserOp`
 * wrapping: the account hands wrapped operations of non-root validators to the validator).
 */
export async function badValidatorOp(
  w: ReinsWorld,
): Promise<{ op: UserOperation; badValidator: string; names: Record<string, string> }> {
  const bad = await w.ctx.ethers.deployContract("BadReinsValidator", w.ctx.deployer);
  const badValidator = await bad.getAddress();
  await mine(w, await ownerOp(w, { target: w.deployerAddress, value: 0n }, true));
  await mine(
    w,
    await ownerOp(w, {
      target: w.account,
      data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_VALIDATOR, badValidator, "0x"]),
    }),
  );
  const account = await w.ctx.ethers.getContractAt("ReinsAccount", w.account);
  if (!(await account.isModuleInstalled(MODULE_TYPE_VALIDATOR, badValidator, "0x"))) {
    throw new Error("BadReinsValidator was not installed");
  }
  const op = await baseOp(w, badValidator, executeCalldata({ target: w.deployerAddress, value: 1n }));
  return { op, badValidator, names: { ...w.names, [badValidator]: "BadReinsValidator" } };
}

/** The Reins scenarios (all entities unstaked unless stated). */
export const reinsScenarios: Scenario[] = [
  {
    name: "Reins: owner op, native transfer (account deployed)",
    expect: "pass",
    build: async (ctx) => {
      const w = await deployReinsWorld(ctx);
      await mine(w, await ownerOp(w, { target: w.deployerAddress, value: 0n }, true));
      return bundle(w, [await ownerOp(w, { target: w.recipients[0], value: parseEther("0.01") })]);
    },
  },
  {
    name: "Reins: first op deploys the account + 3 modules and grants a session (initCode), STAKED factory",
    expect: "pass",
    build: async (ctx) => {
      const w = await deployReinsWorld(ctx);
      const op = await ownerOp(w, grantCall(w, await paymentsSession(w)), true);
      return bundle(w, [op], { staked: { factory: true } });
    },
  },
  {
    name: "Reins: same first op, UNSTAKED factory (modules write account-associated storage)",
    expect: { violations: ["STO-022"] },
    build: async (ctx) => {
      const w = await deployReinsWorld(ctx);
      const op = await ownerOp(w, grantCall(w, await paymentsSession(w)), true);
      return bundle(w, [op], { staked: { factory: false } });
    },
  },
  {
    name: "Reins: agent session op in the SAME op that deploys the account (initial session), STAKED factory",
    expect: "pass",
    build: async (ctx) => {
      const w = await deployReinsWorld(ctx, { initialSession: true });
      const op = await agentOp(w, sessionIdOf(w.account, 1n), transferCall(w, w.recipients[0], 5n * USD), true);
      return bundle(w, [op], { staked: { factory: true } });
    },
  },
  {
    name: "Reins: agent op, TUSD transfer in scope (second use of the session)",
    expect: "pass",
    build: async (ctx) => {
      const w = await deployReinsWorld(ctx);
      const id = await deployAndGrant(w);
      await mine(w, await agentOp(w, id, transferCall(w, w.recipients[0], 5n * USD)));
      return bundle(w, [await agentOp(w, id, transferCall(w, w.recipients[1], 7n * USD))]);
    },
  },
  {
    name: "Reins: first agent op of a session granted by the deploying op (fresh counters)",
    expect: "pass",
    build: async (ctx) => {
      const w = await deployReinsWorld(ctx);
      await mine(w, await ownerOp(w, grantCall(w, await paymentsSession(w)), true));
      const id = sessionIdOf(w.account, 1n);
      await expectSession(w, id);
      return bundle(w, [await agentOp(w, id, transferCall(w, w.recipients[2], 3n * USD))]);
    },
  },
  {
    name: "Reins: agent batch op, 2 TUSD transfers",
    expect: "pass",
    build: async (ctx) => {
      const w = await deployReinsWorld(ctx);
      const id = await deployAndGrant(w);
      const calls = [transferCall(w, w.recipients[0], 4n * USD), transferCall(w, w.recipients[1], 6n * USD)];
      return bundle(w, [await agentOp(w, id, calls)]);
    },
  },
  {
    name: "Reins: agent op pays an x402 / EIP-3009 authorization (reserveTransferAuthorization on AgentSessions)",
    expect: "pass",
    build: async (ctx) => {
      const w = await deployReinsWorld(ctx);
      await mine(w, await ownerOp(w, { target: w.deployerAddress, value: 0n }, true));
      const base = await paymentsSession(w);
      const x402: IAgentSessions.PermissionStruct = {
        target: w.sessionsAddress,
        selector: RESERVE_SELECTOR,
        valueCap: 0n,
        calldataLength: 4 + 8 * 32,
        conditions: [{ op: 1, word: 0, value: zeroPadValue(w.tokenAddress, 32), oneOf: [] }],
      };
      await mine(w, await ownerOp(w, grantCall(w, { ...base, permissions: [...base.permissions, x402] })));
      const sessionId = sessionIdOf(w.account, 1n);
      await expectSession(w, sessionId);
      const latest = await w.ctx.ethers.provider.getBlock("latest");
      const reserve: Call = {
        target: w.sessionsAddress,
        data: RESERVE.encodeFunctionData("reserveTransferAuthorization", [
          w.tokenAddress,
          w.recipients[0],
          2n * USD,
          0n,
          BigInt(latest!.timestamp) + 3600n,
          id("nonce-1"),
          id("Test USD"),
          id("1"),
        ]),
      };
      return bundle(w, [await agentOp(w, sessionId, reserve)]);
    },
  },
  {
    name: "Reins: agent op under a USD value budget priced by a feed (prices are read in execution only)",
    expect: "pass",
    build: async (ctx) => {
      const w = await deployReinsWorld(ctx);
      const sessionId = await deployAndGrant(w);
      const feed = await w.ctx.ethers.deployContract("MockAggregator", [8, 10n ** 8n], w.ctx.deployer);
      const i = w.sessions.interface;
      const source = {
        kind: 2,
        rateDecimals: 0,
        maxStaleness: 3600n,
        feed: await feed.getAddress(),
        rate: 0n,
        minPrice: 9n * 10n ** 7n,
        maxPrice: 11n * 10n ** 7n,
      };
      const budget = {
        unit: "0x5553440000000000", // "USD"
        unitDecimals: 8,
        period: 86_400n,
        instantThreshold: 20n * 10n ** 8n,
        ceiling: 200n * 10n ** 8n,
        periodCap: 500n * 10n ** 8n,
        lifetimeCap: 5_000n * 10n ** 8n,
      };
      await mine(
        w,
        await ownerOp(w, [
          { target: w.sessionsAddress, data: i.encodeFunctionData("setPriceSource", [w.tokenAddress, 6, source]) },
          { target: w.sessionsAddress, data: i.encodeFunctionData("setValueBudget", [sessionId, budget]) },
        ]),
      );
      if ((await w.sessions.valueBudgetOf(w.account, sessionId)).config.period !== 86_400n) {
        throw new Error("value budget was not set");
      }
      const names = { ...w.names, [await feed.getAddress()]: "MockAggregator (TUSD/USD)" };
      const op = await agentOp(w, sessionId, transferCall(w, w.recipients[0], 5n * USD));
      return { ...bundle(w, [op]), names };
    },
  },
  {
    name: "Reins: agent op out of scope (TUSD approve) is refused by AgentSessions",
    expect: "refused",
    refusal: /AA23 reverted.*AgentSessionsScopeViolation/,
    build: async (ctx) => {
      const w = await deployReinsWorld(ctx);
      const id = await deployAndGrant(w);
      const approve = {
        target: w.tokenAddress,
        data: w.token.interface.encodeFunctionData("approve", [w.recipients[0], 5n * USD]),
      };
      return bundle(w, [await agentOp(w, id, approve)]);
    },
  },
  {
    name: "Reins: owner op with the owner safety net on (validation reads the guardian lock)",
    expect: "pass",
    build: async (ctx) => {
      const w = await deployReinsWorld(ctx);
      const { op, names } = await safetyNetOp(w);
      return bundle(w, [op], { names });
    },
  },
  {
    name: "Reins: op validated by BadReinsValidator (non-compliant module) is caught",
    expect: { violations: ["OP-011", "STO-021"], in: "BadReinsValidator" },
    build: async (ctx) => {
      const w = await deployReinsWorld(ctx);
      const { op, names } = await badValidatorOp(w);
      return bundle(w, [op], { names });
    },
  },
];

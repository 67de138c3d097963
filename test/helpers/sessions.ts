/**
 * Fixture for agent-session tests: an account with the owner validator (root), AgentSessions (validator +
 * executor) and ReinsTimelock (executor, with AgentSessions registered as canceller), a token, and helpers to
 * grant sessions and send agent operations through handleOps.
 */
import type { Wallet } from "ethers";
import {
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_VALIDATOR,
  executeCalldata,
  wrapExecuteUserOp,
  type Call,
} from "../../src/account/encoding.js";
import { signSessionOp } from "../../src/session/signature.js";
import { paymentsSession } from "../../src/session/presets.js";
import type { UserOperation } from "../../src/userop/userop.js";
import type { AgentSessions, MockERC20, ReinsAccount, ReinsTimelock } from "../../types/ethers-contracts/index.js";
import type { IAgentSessions } from "../../types/ethers-contracts/contracts/modules/AgentSessions.js";
import {
  buildOp,
  counterfactualAccount,
  deployCore,
  factoryData,
  fund,
  handleOps,
  opHash,
  randomWallet,
  signAsOwner,
  userOpEvents,
  type Core,
  type Ethers,
} from "./reins.js";

export type SessionConfig = IAgentSessions.SessionConfigStruct;

export const HOUR = 3600n;
export const DAY = 24n * HOUR;
/** ConditionOp values. */
export const OP = { None: 0, Equal: 1, AtMost: 2, AtLeast: 3, OneOf: 4 } as const;
/** Tier values. */
export const TIER = { Instant: 0n, Delayed: 1n, Approval: 2n } as const;

export interface SessionWorld {
  core: Core;
  owner: Wallet;
  agent: Wallet;
  account: ReinsAccount;
  accountAddress: string;
  sessions: AgentSessions;
  sessionsAddress: string;
  timelock: ReinsTimelock;
  token: MockERC20;
  tokenAddress: string;
  recipients: string[];
}

export async function deploySessionWorld(ethers: Ethers, securityDelay = 0n): Promise<SessionWorld> {
  const core = await deployCore(ethers);
  const timelock = await ethers.deployContract("ReinsTimelock");
  const sessions = await ethers.deployContract("AgentSessions", [await timelock.getAddress()]);
  const sessionsAddress = await sessions.getAddress();
  const owner = randomWallet();
  const agent = randomWallet();
  const delayData = ethers.AbiCoder.defaultAbiCoder().encode(["uint32"], [securityDelay]);
  const handle = await counterfactualAccount(core, owner, [
    { moduleTypeId: MODULE_TYPE_VALIDATOR, module: sessionsAddress, initData: delayData },
    { moduleTypeId: MODULE_TYPE_EXECUTOR, module: sessionsAddress, initData: delayData },
    { moduleTypeId: MODULE_TYPE_EXECUTOR, module: await timelock.getAddress(), initData: "0x" },
  ]);
  await fund(ethers, handle.address, 100n * 10n ** 18n);
  const setup = executeCalldata({
    target: await timelock.getAddress(),
    data: timelock.interface.encodeFunctionData("setCanceller", [sessionsAddress, true]),
  });
  const op = signAsOwner(
    core,
    await buildOp(core, handle.address, await core.ownerValidator.getAddress(), setup, factoryData(core, handle)),
    owner,
  );
  const [ev] = userOpEvents(core, await handleOps(core, [op]));
  if (!ev.success) throw new Error("session world setup failed");
  const token = await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6]);
  await token.mint(handle.address, 1_000_000n * 10n ** 6n);
  const account = await ethers.getContractAt("ReinsAccount", handle.address);
  return {
    core,
    owner,
    agent,
    account,
    accountAddress: handle.address,
    sessions,
    sessionsAddress,
    timelock,
    token,
    tokenAddress: await token.getAddress(),
    recipients: [randomWallet().address, randomWallet().address, randomWallet().address],
  };
}

/** A typical payments session (`src/session/presets.ts`), with `overrides` applied. */
export async function paymentsConfig(w: SessionWorld, overrides: Partial<SessionConfig> = {}): Promise<SessionConfig> {
  const now = BigInt((await w.core.entryPoint.runner!.provider!.getBlock("latest"))!.timestamp);
  return {
    ...paymentsSession({ agent: w.agent.address, token: w.tokenAddress, recipients: w.recipients, now }),
    ...overrides,
  };
}

/** The owner sends `calls` as one owner operation; returns the UserOperationEvent (+ receipt). */
export async function ownerCalls(w: SessionWorld, calls: Call | Call[]) {
  const op = signAsOwner(
    w.core,
    await buildOp(w.core, w.accountAddress, await w.core.ownerValidator.getAddress(), executeCalldata(calls)),
    w.owner,
  );
  const receipt = await handleOps(w.core, [op]);
  return { event: userOpEvents(w.core, receipt)[0], receipt };
}

/** Grant `config` through an owner operation; returns the session id from the SessionGranted event. */
export async function grant(w: SessionWorld, config: SessionConfig): Promise<string> {
  const { event, receipt } = await ownerCalls(w, {
    target: w.sessionsAddress,
    data: w.sessions.interface.encodeFunctionData("grantSession", [config]),
  });
  if (!event.success) throw new Error("grant failed: " + event.revertReason);
  for (const log of receipt.logs) {
    const parsed = w.sessions.interface.parseLog(log);
    if (parsed?.name === "SessionGranted") return parsed.args.sessionId as string;
  }
  throw new Error("no SessionGranted event (grant queued behind the security delay?)");
}

/** Build and sign an agent operation for `calls` (batch when an array). */
export async function agentOp(
  w: SessionWorld,
  sessionId: string,
  calls: Call | Call[],
  overrides: Partial<UserOperation> = {},
  key: Wallet = w.agent,
  execType = 0,
): Promise<UserOperation> {
  const callData = overrides.callData ?? wrapExecuteUserOp(executeCalldata(calls, execType));
  const op = await buildOp(w.core, w.accountAddress, w.sessionsAddress, callData, {
    callGasLimit: 600_000n,
    verificationGasLimit: 400_000n,
    preVerificationGas: 60_000n,
    maxFeePerGas: 1_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
    ...overrides,
  });
  return {
    ...op,
    signature: signSessionOp(
      key.signingKey,
      { chainId: w.core.chainId, sessions: w.sessionsAddress },
      opHash(w.core, op),
      sessionId,
    ),
  };
}

/** Send agent operations in one bundle; returns the UserOperationEvents and the receipt. */
export async function sendAgent(w: SessionWorld, ops: UserOperation[], beneficiary?: string) {
  const receipt = await handleOps(w.core, ops, w.core.bundler, beneficiary);
  return { events: userOpEvents(w.core, receipt), receipt };
}

export function transferCall(w: SessionWorld, to: string, amount: bigint): Call {
  return { target: w.tokenAddress, data: w.token.interface.encodeFunctionData("transfer", [to, amount]) };
}

/** Parse AgentSessions / timelock events out of a receipt. */
export function parseEvents(
  w: SessionWorld,
  receipt: { logs: readonly { topics: readonly string[]; data: string }[] },
) {
  const out: { name: string; args: Record<string, unknown> & unknown[] }[] = [];
  for (const log of receipt.logs) {
    for (const c of [w.sessions, w.timelock]) {
      try {
        const parsed = c.interface.parseLog(log as never);
        if (parsed) out.push({ name: parsed.name, args: parsed.args as never });
      } catch {
        /* not this contract's event */
      }
    }
  }
  return out;
}

/**
 * GuardianRecovery set-up for Reins accounts: the install data of the module and the calls the account makes after
 * a completed recovery (`onRecovery`).
 *
 * By default a completed recovery revokes every agent session (`AgentSessions.revokeAllSessions()`) and clears the
 * timelock queue (`ReinsTimelock.cancelAll()`), both called by the account itself: after a recovery the old
 * agents cannot pay any more and nothing they (or the old owner key) queued can still run. Pass your own list
 * (or `[]`) to opt out.
 */
import { AbiCoder, Interface, getAddress } from "ethers";
import { MODULE_TYPE_EXECUTOR, type ModuleInit } from "../account/encoding.js";
import { PolicyError } from "./errors.js";
import { parseDuration, type Duration } from "./units.js";

/** A call the account makes (with no value) after a recovery changed its owner (`GuardianRecovery.Call`). */
export interface RecoveryCall {
  target: string;
  data: string;
}

/** The guardian set-up of {@link guardianRecoveryModule} / `CreateAccountOptions.guardians`. */
export interface GuardianOptions {
  /** Guardian addresses (EOA or ERC-1271), distinct; sorted by the helper. */
  guardians: string[];
  /** Signatures needed (default: all guardians). */
  threshold?: number;
  /** Delay between proposing and completing a recovery (default 2 days). */
  recoveryDelay?: Duration;
  /** Delay of guardian-set changes (default 1 day). */
  guardianDelay?: Duration;
  /** How long a guardian lock lasts (default 7 days). */
  lockDuration?: Duration;
  /**
   * Calls the account makes after a completed recovery. Default: {@link defaultRecoveryCalls} (revoke every agent
   * session, clear the timelock queue). `[]` makes none.
   */
  onRecovery?: RecoveryCall[];
}

/** Defaults of {@link GuardianOptions}, in seconds. */
export const DEFAULT_RECOVERY_DELAY = 2n * 86_400n;
/** Default delay of guardian-set changes: 1 day. */
export const DEFAULT_GUARDIAN_DELAY = 86_400n;
/** Default duration of a guardian lock: 7 days. */
export const DEFAULT_LOCK_DURATION = 7n * 86_400n;

const sessionsInterface = new Interface(["function revokeAllSessions()"]);
const timelockInterface = new Interface(["function cancelAll()"]);

/**
 * The default follow-up calls of a recovery: `AgentSessions.revokeAllSessions()` (every session of the account
 * dies: its epoch moves on) and `ReinsTimelock.cancelAll()` (every queued operation of the account is cancelled).
 */
export function defaultRecoveryCalls(deployment: { sessions: string; timelock: string }): RecoveryCall[] {
  return [
    { target: getAddress(deployment.sessions), data: sessionsInterface.encodeFunctionData("revokeAllSessions") },
    { target: getAddress(deployment.timelock), data: timelockInterface.encodeFunctionData("cancelAll") },
  ];
}

/** A readable name of a recovery call against a deployment (`AgentSessions.revokeAllSessions()`), else raw. */
export function describeRecoveryCall(call: RecoveryCall, deployment: { sessions: string; timelock: string }): string {
  const target = getAddress(call.target);
  const known: [string, string, Interface][] = [
    [getAddress(deployment.sessions), "AgentSessions", sessionsInterface],
    [getAddress(deployment.timelock), "ReinsTimelock", timelockInterface],
  ];
  for (const [address, name, iface] of known) {
    if (address !== target) continue;
    const parsed = iface.parseTransaction({ data: call.data });
    if (parsed) return `${name}.${parsed.signature}`;
  }
  return `${target}:${call.data.slice(0, 10)}`;
}

/** The `GuardianRecovery.onInstall` data: `(guardians (sorted), threshold, delays, onRecovery)`. */
export function guardianRecoveryInitData(
  options: GuardianOptions,
  deployment: { sessions: string; timelock: string },
): string {
  const guardians = options.guardians.map((g) => getAddress(g));
  if (!guardians.length) throw new PolicyError("bad config", "guardian recovery needs at least one guardian");
  if (new Set(guardians).size !== guardians.length) {
    throw new PolicyError("bad config", "the same guardian is given twice");
  }
  const threshold = options.threshold ?? guardians.length;
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > guardians.length) {
    throw new PolicyError("bad config", `guardian threshold must be 1…${guardians.length}, got ${threshold}`);
  }
  const onRecovery = options.onRecovery ?? defaultRecoveryCalls(deployment);
  return AbiCoder.defaultAbiCoder().encode(
    ["address[]", "uint8", "uint32", "uint32", "uint32", "tuple(address,bytes)[]"],
    [
      [...guardians].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
      threshold,
      parseDuration(options.recoveryDelay ?? DEFAULT_RECOVERY_DELAY),
      parseDuration(options.guardianDelay ?? DEFAULT_GUARDIAN_DELAY),
      parseDuration(options.lockDuration ?? DEFAULT_LOCK_DURATION),
      onRecovery.map((c) => [getAddress(c.target), c.data]),
    ],
  );
}

/** GuardianRecovery as an executor module for `initialize` (see {@link guardianRecoveryInitData}). */
export function guardianRecoveryModule(
  recovery: string,
  options: GuardianOptions,
  deployment: { sessions: string; timelock: string },
): ModuleInit {
  return {
    moduleTypeId: MODULE_TYPE_EXECUTOR,
    module: getAddress(recovery),
    initData: guardianRecoveryInitData(options, deployment),
  };
}

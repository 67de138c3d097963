/**
 * Fixture for tests of a passkey root: the agent-session world of `sessions.ts` whose owner moved from the ECDSA
 * OwnerValidator to a PasskeyValidator root (a software P-256 passkey signing WebAuthn assertions), and helpers
 * that sign owner operations with that passkey.
 */
import { AbiCoder, concat, type Wallet } from "ethers";
import {
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_VALIDATOR,
  accountInterface,
  executeCalldata,
} from "../../src/account/encoding.js";
import type { Call } from "../../src/account/encoding.js";
import { signUserOpWithPasskey, type PasskeySigner } from "../../src/client/passkey.js";
import { softwarePasskey, type SoftwarePasskey } from "../../src/erc7562/scenarios/passkey.js";
import { ENTRYPOINT_V08 } from "../../src/infra/singletons.js";
import type { GuardianRecovery, PasskeyValidator } from "../../types/ethers-contracts/index.js";
import { buildOp, handleOps, randomWallet, signAsOwner, signDigest, userOpEvents, type Ethers } from "./reins.js";
import { DAY, HOUR, deploySessionWorld, type SessionWorld } from "./sessions.js";

/** A session world whose root validator is a PasskeyValidator holding `passkey`. */
export interface PasskeyRootWorld {
  w: SessionWorld;
  validator: PasskeyValidator;
  validatorAddress: string;
  passkey: SoftwarePasskey;
}

/** Deploy the session world and move its owner to a passkey root (the ECDSA validator is uninstalled). */
export async function deployPasskeyRootWorld(ethers: Ethers): Promise<PasskeyRootWorld> {
  const w = await deploySessionWorld(ethers);
  const ov = await w.core.ownerValidator.getAddress();
  const validator = (await ethers.deployContract("PasskeyValidator", [ov])) as unknown as PasskeyValidator;
  const validatorAddress = await validator.getAddress();
  const passkey = softwarePasskey();
  const key = AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [passkey.qx, passkey.qy]);
  const migrate = signAsOwner(
    w.core,
    await buildOp(
      w.core,
      w.accountAddress,
      ov,
      executeCalldata([
        selfCall(w, "installModule", [MODULE_TYPE_VALIDATOR, validatorAddress, key]),
        selfCall(w, "setRootValidator", [validatorAddress]),
        selfCall(w, "uninstallModule", [MODULE_TYPE_VALIDATOR, ov, "0x"]),
      ]),
    ),
    w.owner,
  );
  const [ev] = userOpEvents(w.core, await handleOps(w.core, [migrate]));
  if (!ev.success) throw new Error("passkey root migration failed: " + ev.revertReason);
  return { w, validator, validatorAddress, passkey };
}

/** A call the account makes on itself (`installModule`, `setRootValidator`, …). */
export function selfCall(w: SessionWorld, fn: string, args: unknown[]): Call {
  return {
    target: w.accountAddress,
    data: w.account.interface.encodeFunctionData(fn as "installModule", args as never),
  };
}

/** An owner operation with `callData`, signed by `signer` (default: the world's passkey). */
export async function passkeyOp(p: PasskeyRootWorld, callData: string, signer: PasskeySigner = p.passkey.signer) {
  const op = await buildOp(p.w.core, p.w.accountAddress, p.validatorAddress, callData);
  return signUserOpWithPasskey(op, signer, ENTRYPOINT_V08, p.w.core.chainId);
}

/** Sign and send a passkey owner operation with `callData`; returns the bundle receipt (or the refusal). */
export async function passkeyAttempt(p: PasskeyRootWorld, callData: string) {
  return handleOps(p.w.core, [await passkeyOp(p, callData)]);
}

/** Sign and send a passkey owner operation making `calls`; returns its UserOperationEvent and the receipt. */
export async function passkeyCalls(p: PasskeyRootWorld, calls: Call | Call[]) {
  const receipt = await passkeyAttempt(p, executeCalldata(calls));
  return { event: userOpEvents(p.w.core, receipt)[0], receipt };
}

/** `guardian ‖ signature` entries over `digest`, sorted by guardian address. */
export function guardianSignatures(digest: string, guardians: Wallet[]): string[] {
  return [...guardians]
    .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
    .map((g) => concat([g.address, signDigest(g, digest)]));
}

/** `onInstall` data of GuardianRecovery: 2 of `guardians`, recovery delay 1 h, lock 2 days, `onRecovery` calls. */
export function recoveryInstallData(guardians: Wallet[], onRecovery: Call[] = []): string {
  return AbiCoder.defaultAbiCoder().encode(
    ["address[]", "uint8", "uint32", "uint32", "uint32", "tuple(address target, bytes data)[]"],
    [guardians.map((g) => g.address), 2, HOUR, DAY, 2n * DAY, onRecovery.map((c) => [c.target, c.data ?? "0x"])],
  );
}

/**
 * A passkey root with GuardianRecovery (2 of 3, `onRecovery`: cancel every queued operation and revoke every
 * session) installed by a passkey owner operation; with `safetyNet`, the passkey validator is also installed as an
 * executor and its safety net turned on (`minDelay` one day, longer than the one-hour recovery delay).
 */
export async function deployPasskeyRecoveryWorld(ethers: Ethers, safetyNet: boolean) {
  const p = await deployPasskeyRootWorld(ethers);
  const { w } = p;
  const recovery = (await ethers.deployContract("GuardianRecovery")) as unknown as GuardianRecovery;
  const recoveryAddress = await recovery.getAddress();
  const timelockAddress = await w.timelock.getAddress();
  const guardians = [randomWallet(), randomWallet(), randomWallet()];
  const install = recoveryInstallData(guardians, [
    { target: timelockAddress, data: w.timelock.interface.encodeFunctionData("cancelAll") },
    { target: w.sessionsAddress, data: w.sessions.interface.encodeFunctionData("revokeAllSessions") },
  ]);
  const calls: Call[] = [selfCall(w, "installModule", [MODULE_TYPE_EXECUTOR, recoveryAddress, install])];
  if (safetyNet) {
    calls.push(selfCall(w, "installModule", [MODULE_TYPE_EXECUTOR, p.validatorAddress, "0x"]), {
      target: p.validatorAddress,
      data: p.validator.interface.encodeFunctionData("enableSafetyNet", [
        { lockSource: recoveryAddress, timelock: timelockAddress, minDelay: DAY },
      ]),
    });
  }
  const { event } = await passkeyCalls(p, calls);
  if (!event.success) throw new Error("recovery setup failed: " + event.revertReason);
  return { ...p, recovery, recoveryAddress, guardians };
}

/** What {deployPasskeyRecoveryWorld} returns. */
export type PasskeyRecoveryWorld = Awaited<ReturnType<typeof deployPasskeyRecoveryWorld>>;

/**
 * `reins recovery status|sign|propose|complete` (GuardianRecovery).
 *
 * Flow: each guardian runs `recovery sign <account> --new-owner 0x…` with its key in `REINS_GUARDIAN_KEY` and
 * hands the printed blob (`guardian ‖ signature`) over; anyone runs `recovery propose … --sig <blob> …` with
 * at least `threshold` of them, then `recovery complete` once the delay has passed. `propose`/`complete` are
 * plain transactions from the key in `REINS_SENDER_KEY` (any funded key).
 */
import { SigningKey, concat, getAddress, recoverAddress, dataSlice, dataLength, isHexString } from "ethers";
import { decodeReinsError } from "../../client/errors.js";
import { describeRecoveryCall } from "../../client/recovery.js";
import { GuardianRecovery__factory, type GuardianRecovery } from "../../../types/ethers-contracts/index.js";
import type { Invocation } from "../args.js";
import type { RecoveryProposeInput, RecoverySendInput, RecoverySignInput } from "../input/recovery.js";
import { CliContext } from "../context.js";
import { FailureError, RefusedError, UsageError } from "../errors.js";
import { asCliError } from "../report.js";
import { duration, emit, keyValues, time } from "../format.js";

async function moduleFor(ctx: CliContext, account: string): Promise<GuardianRecovery> {
  const { reins } = await ctx.deployment();
  if (!reins.recovery) throw new UsageError("this deployment has no GuardianRecovery");
  const gr = GuardianRecovery__factory.connect(reins.recovery, await ctx.provider());
  if (!(await gr.isInitialized(account))) throw new UsageError(`GuardianRecovery is not installed on ${account}`);
  return gr;
}

/** `reins recovery status`. */
export async function status(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(inv.args.account);
    const { reins } = await ctx.deployment();
    const gr = reins.recovery ? GuardianRecovery__factory.connect(reins.recovery, await ctx.provider()) : undefined;
    if (!gr || !(await gr.isInitialized(account))) {
      emit(inv.json, { account, installed: false }, `GuardianRecovery is not installed on ${account}`);
      return 0;
    }
    const [recoveryDelay, securityDelay, lockDuration] = await gr.delaysOf(account);
    const [newOwner, readyAt] = await gr.pendingRecovery(account);
    const [pgGuardians, pgThreshold, pgReadyAt] = await gr.pendingGuardianChange(account);
    const onRecovery = (await gr.onRecoveryCallsOf(account)).map((c) =>
      describeRecoveryCall({ target: c.target, data: c.data }, reins),
    );
    const out = {
      account,
      installed: true,
      owner: await ctx.ownerOf(account),
      guardians: (await gr.guardiansOf(account)).map((g) => getAddress(g)),
      threshold: Number(await gr.thresholdOf(account)),
      recoveryDelay,
      securityDelay,
      lockDuration,
      onRecovery,
      locked: await gr.isLocked(account),
      lockedUntil: await gr.lockedUntil(account),
      nonce: await gr.nonceOf(account),
      pendingRecovery: readyAt === 0n ? null : { newOwner: getAddress(newOwner), readyAt },
      pendingGuardianChange:
        pgReadyAt === 0n ? null : { guardians: pgGuardians, threshold: Number(pgThreshold), readyAt: pgReadyAt },
    };
    emit(inv.json, out, () =>
      keyValues([
        ["account", account],
        ["owner", out.owner],
        ["guardians", `${out.threshold} of ${out.guardians.length}: ${out.guardians.join(", ")}`],
        [
          "delays",
          `recovery ${duration(recoveryDelay)}, guardian change ${duration(securityDelay)}, lock ${duration(lockDuration)}`,
        ],
        ["on recovery", onRecovery.length ? onRecovery.join(", ") : "nothing (sessions and queue survive a recovery)"],
        ["locked", out.locked ? `until ${time(out.lockedUntil)}` : "no"],
        [
          "recovery",
          out.pendingRecovery
            ? `to ${out.pendingRecovery.newOwner}, completable from ${time(readyAt)}`
            : "none pending",
        ],
        [
          "guardian change",
          out.pendingGuardianChange
            ? `${out.pendingGuardianChange.threshold} of ${pgGuardians.length}, from ${time(pgReadyAt)}`
            : "none pending",
        ],
      ]),
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins recovery sign`: a guardian's approval blob for proposing `--new-owner`. */
export async function sign(input: RecoverySignInput, inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const forLock = input.newOwner === undefined;
    const newOwner = input.newOwner === undefined ? undefined : getAddress(input.newOwner);
    const account = await ctx.account(input.account);
    const gr = await moduleFor(ctx, account);
    const envName = input.guardianKeyEnv;
    const key = await ctx.key(envName, "guardian");
    if (!(await gr.isGuardian(account, key.address)))
      throw new UsageError(`${envName} is ${key.address}, which is not a guardian of ${account}`);
    const digest = newOwner === undefined ? await gr.lockDigest(account) : await gr.recoveryDigest(account, newOwner);
    const blob = concat([key.address, new SigningKey(key.privateKey).sign(digest).serialized]);
    emit(
      input.json,
      {
        account,
        purpose: forLock ? "lock" : "recovery",
        ...(newOwner ? { newOwner } : {}),
        guardian: key.address,
        digest,
        signature: blob,
      },
      blob,
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins recovery propose`: checks every signature off-chain, then sends `proposeRecovery`. */
export async function propose(input: RecoveryProposeInput, inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const newOwner = getAddress(input.newOwner);
    const blobs = input.sigs;
    const account = await ctx.account(input.account);
    const gr = await moduleFor(ctx, account);
    const [, pendingAt] = await gr.pendingRecovery(account);
    if (pendingAt !== 0n)
      throw new UsageError(`a recovery of ${account} is already pending (completable from ${time(pendingAt)})`);
    const digest = await gr.recoveryDigest(account, newOwner);
    const threshold = Number(await gr.thresholdOf(account));
    const checked: { guardian: string; blob: string }[] = [];
    for (const b of blobs) {
      const guardian = getAddress(dataSlice(b, 0, 20));
      let signer: string;
      try {
        signer = recoverAddress(digest, dataSlice(b, 20));
      } catch {
        throw new UsageError(`--sig of ${guardian}: not a valid signature`);
      }
      if (signer !== guardian)
        throw new UsageError(`--sig of ${guardian}: signed by ${signer}, or for another owner/nonce`);
      if (!(await gr.isGuardian(account, guardian)))
        throw new UsageError(`--sig: ${guardian} is not a guardian of ${account}`);
      if (checked.some((c) => c.guardian === guardian)) throw new UsageError(`--sig: ${guardian} signed twice`);
      checked.push({ guardian, blob: b });
    }
    if (checked.length < threshold)
      throw new UsageError(`need ${threshold} guardian signatures, got ${checked.length}`);
    checked.sort((a, b) => (BigInt(a.guardian) < BigInt(b.guardian) ? -1 : 1));
    const sender = await ctx.key(input.senderKeyEnv, "transaction sender");
    let txHash: string;
    try {
      txHash = (await (
        await gr.connect(sender).proposeRecovery(
          account,
          newOwner,
          checked.map((c) => c.blob),
        )
      ).wait())!.hash;
    } catch (e) {
      throw new FailureError(`proposeRecovery failed: ${decodeReinsError(e).message}`);
    }
    const [, readyAt] = await gr.pendingRecovery(account);
    emit(
      input.json,
      { account, newOwner, readyAt, txHash },
      `recovery of ${account} to ${newOwner} proposed; completable from ${time(readyAt)} (tx ${txHash})`,
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins recovery complete`. */
export async function complete(input: RecoverySendInput, inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(input.account);
    const gr = await moduleFor(ctx, account);
    const [newOwner, readyAt] = await gr.pendingRecovery(account);
    if (readyAt === 0n) throw new UsageError(`no recovery of ${account} is pending`);
    const now = BigInt((await (await ctx.provider()).getBlock("latest"))!.timestamp);
    if (now < readyAt) throw new UsageError(`the recovery of ${account} cannot complete before ${time(readyAt)}`);
    const sender = await ctx.key(input.senderKeyEnv, "transaction sender");
    let txHash: string;
    try {
      txHash = (await (await gr.connect(sender).completeRecovery(account)).wait())!.hash;
    } catch (e) {
      throw new FailureError(`completeRecovery failed: ${decodeReinsError(e).message}`);
    }
    emit(
      input.json,
      { account, newOwner: getAddress(newOwner), txHash },
      `recovery complete: the owner of ${account} is now ${getAddress(newOwner)} (tx ${txHash})`,
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** Check guardian blobs against `digest`: signer = claimed guardian, a guardian of the account, no duplicates, enough. */
async function checkedSignatures(
  gr: GuardianRecovery,
  account: string,
  digest: string,
  blobs: string[],
  what: string,
): Promise<string[]> {
  for (const b of blobs)
    if (!isHexString(b) || dataLength(b) !== 85)
      throw new UsageError(`--sig: expected guardian (20 bytes) ‖ signature (65 bytes), got ${b.slice(0, 20)}…`);
  const threshold = Number(await gr.thresholdOf(account));
  const checked: { guardian: string; blob: string }[] = [];
  for (const b of blobs) {
    const guardian = getAddress(dataSlice(b, 0, 20));
    let signer: string;
    try {
      signer = recoverAddress(digest, dataSlice(b, 20));
    } catch {
      throw new UsageError(`--sig of ${guardian}: not a valid signature`);
    }
    if (signer !== guardian)
      throw new UsageError(`--sig of ${guardian}: signed by ${signer}, or not for this ${what} (or an older nonce)`);
    if (!(await gr.isGuardian(account, guardian)))
      throw new UsageError(`--sig: ${guardian} is not a guardian of ${account}`);
    if (checked.some((c) => c.guardian === guardian)) throw new UsageError(`--sig: ${guardian} signed twice`);
    checked.push({ guardian, blob: b });
  }
  if (checked.length < threshold) throw new UsageError(`need ${threshold} guardian signatures, got ${checked.length}`);
  checked.sort((a, b) => (BigInt(a.guardian) < BigInt(b.guardian) ? -1 : 1));
  return checked.map((c) => c.blob);
}

/** `reins recovery lock`: guardians lock the account (blobs from `recovery sign --lock`), sent from REINS_SENDER_KEY. */
export async function lock(input: RecoverySendInput, inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const blobs = input.sigs;
    const account = await ctx.account(input.account);
    const gr = await moduleFor(ctx, account);
    const sigs = await checkedSignatures(gr, account, await gr.lockDigest(account), blobs, "lock");
    const sender = await ctx.key(input.senderKeyEnv, "transaction sender");
    let txHash: string;
    try {
      txHash = (await (await gr.connect(sender).lock(account, sigs)).wait())!.hash;
    } catch (e) {
      throw new FailureError(`lock failed: ${decodeReinsError(e).message}`);
    }
    const until = await gr.lockedUntil(account);
    emit(
      input.json,
      { account, status: "locked", lockedUntil: until, txHash },
      `${account} locked by its guardians until ${time(until)}: owner operations are refused and the owner cannot cancel a recovery (tx ${txHash})`,
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins recovery cancel`: the owner cancels the pending recovery (an owner operation; refused while locked). */
export async function cancel(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(inv.args.account);
    const gr = await moduleFor(ctx, account);
    const [newOwner, readyAt] = await gr.pendingRecovery(account);
    if (readyAt === 0n) throw new UsageError(`no recovery of ${account} is pending; nothing sent`);
    const owner = await ctx.owner(account);
    if (await gr.isLocked(account)) {
      const until = await gr.lockedUntil(account);
      const report = { status: "refused", rule: "locked", account, lockedUntil: until };
      if (inv.json) emit(true, report, "");
      throw new RefusedError(
        `refused: locked: the guardians locked ${account} until ${time(until)}; the owner cannot cancel the recovery to ${getAddress(newOwner)} before then`,
        report,
      );
    }
    let txHash: string;
    try {
      txHash = (
        await owner.execute({ target: gr.target as string, data: gr.interface.encodeFunctionData("cancelRecovery") })
      ).txHash;
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    emit(
      inv.json,
      { account, status: "cancelled", newOwner: getAddress(newOwner), txHash },
      `recovery of ${account} to ${getAddress(newOwner)} cancelled by the owner (tx ${txHash})`,
    );
    return 0;
  } finally {
    ctx.close();
  }
}

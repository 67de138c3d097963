/**
 * `reins account upgrade-eoa` and `reins account downgrade-eoa`: EIP-7702 mode, an existing EOA becoming a Reins
 * account at its own address (its key the owner), and leaving it on purpose.
 */
import { ZeroAddress, formatEther } from "ethers";
import { MODULE_TYPE_EXECUTOR, MODULE_TYPE_HOOK, MODULE_TYPE_VALIDATOR } from "../../account/encoding.js";
import { ReinsOwner } from "../../client/owner.js";
import { delegationStatus, downgradeEoa, upgradeEoa, type ModuleRef } from "../../client/eip7702.js";
import { ReinsAccount__factory } from "../../../types/ethers-contracts/index.js";
import { str, type Invocation } from "../args.js";
import { CliContext } from "../context.js";
import { UsageError } from "../errors.js";
import { duration, emit, keyValues } from "../format.js";
import { asCliError } from "../report.js";
import { guardianOptionsOf, parseAccountOptions, warnNoSecurityDelay } from "./setup.js";

/** The ReinsAccount7702 implementation of the deployment, or a usage error naming what to do. */
async function implementationOf(ctx: CliContext): Promise<string> {
  const { reins } = await ctx.deployment();
  if (!reins.account7702) {
    throw new UsageError("this deployment has no ReinsAccount7702 (redeploy with reins deploy to add it)");
  }
  return reins.account7702;
}

/** `reins account upgrade-eoa`. */
export async function accountUpgradeEoa(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const parsed = parseAccountOptions(inv);
    const { reins } = await ctx.deployment();
    const implementation = await implementationOf(ctx);
    const key = await ctx.key(str(inv, "owner-key-env") ?? "REINS_OWNER_KEY", "owner (the EOA)");
    const provider = await ctx.provider();
    const { guardianOptions } = guardianOptionsOf(parsed, reins);
    const before = await delegationStatus(provider, key.address);
    if (before.delegate && before.delegate !== implementation) {
      process.stderr.write(`reins: note: ${key.address} delegates to ${before.delegate} now; this replaces it\n`);
    }
    const balance = await provider.getBalance(key.address);
    if (balance === 0n) {
      throw new UsageError(`the EOA ${key.address} has no ETH to pay its upgrade transactions`);
    }
    if (parsed.securityDelay === 0n) warnNoSecurityDelay();
    const owner = new ReinsOwner({ owner: key, provider, deployment: reins, sender: await ctx.sender(key) });
    let result;
    try {
      result = await upgradeEoa(owner, key, implementation, {
        securityDelay: parsed.securityDelay,
        ...(guardianOptions ? { guardians: guardianOptions } : {}),
      });
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    const status = result.alreadyInitialized ? "exists" : "upgraded";
    emit(inv.json, { account: key.address, delegate: implementation, status, txHashes: result.txHashes }, () =>
      result.alreadyInitialized
        ? `${key.address} is already a Reins account (delegates to ${implementation}); nothing sent`
        : keyValues([
            ["account", `${key.address} (same address, EIP-7702)`],
            ["delegate", `${implementation} (ReinsAccount7702)`],
            ["owner", `${key.address} (the EOA's own key)`],
            ["security delay", duration(parsed.securityDelay)],
            ["balance", `${formatEther(balance)} ETH before (tokens stay where they are)`],
            ["txs", result.txHashes.join(", ")],
          ]),
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins account downgrade-eoa`. */
export async function accountDowngradeEoa(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const { reins } = await ctx.deployment();
    const key = await ctx.key(str(inv, "owner-key-env") ?? "REINS_OWNER_KEY", "owner (the EOA)");
    const provider = await ctx.provider();
    const status = await delegationStatus(provider, key.address);
    if (!status.delegate) throw new UsageError(`${key.address} has no EIP-7702 delegation: nothing to downgrade`);
    const account = ReinsAccount__factory.connect(key.address, provider);
    const modules: ModuleRef[] = [];
    const candidates: [bigint, string | undefined][] = [
      [MODULE_TYPE_VALIDATOR, reins.sessions],
      [MODULE_TYPE_EXECUTOR, reins.sessions],
      [MODULE_TYPE_EXECUTOR, reins.timelock],
      [MODULE_TYPE_EXECUTOR, reins.recovery],
    ];
    if (status.initialized) {
      for (const [type, module] of candidates) {
        if (module && (await account.isModuleInstalled(type, module, "0x")))
          modules.push({ moduleTypeId: type, module });
      }
      const hook = await account.hook();
      if (hook !== ZeroAddress) modules.push({ moduleTypeId: MODULE_TYPE_HOOK, module: hook });
    }
    let result;
    try {
      result = await downgradeEoa(key, modules);
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    emit(inv.json, { account: key.address, status: "downgraded", removed: modules, txHashes: result.txHashes }, () =>
      keyValues([
        ["account", `${key.address} (a plain EOA again)`],
        ["removed", modules.map((m) => m.module).join(", ") || "no modules"],
        ["sessions", "ended for good (AgentSessions uninstalled: a later upgrade does not revive them)"],
        ["txs", result.txHashes.join(", ")],
      ]),
    );
    return 0;
  } finally {
    ctx.close();
  }
}

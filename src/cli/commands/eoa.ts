/**
 * `reins account upgrade-eoa` and `reins account downgrade-eoa`: EIP-7702 mode, an existing EOA becoming a Reins
 * account at its own address (its key the owner), and leaving it on purpose.
 */
import { formatEther } from "ethers";
import { ReinsOwner } from "../../client/owner.js";
import { delegationStatus, downgradeEoa, upgradeEoa } from "../../client/eip7702.js";
import { describeModule } from "./eoaModules.js";
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
    const before = await delegationStatus(provider, key.address, { modules: false });
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

/** `--from-block`: a block number, or undefined (scan from 0). */
function fromBlockOf(inv: Invocation): number | undefined {
  const raw = str(inv, "from-block");
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--from-block must be a block number, got ${raw}`);
  return Number(raw);
}

/** `reins account downgrade-eoa`. */
export async function accountDowngradeEoa(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const { reins } = await ctx.deployment();
    const fromBlock = fromBlockOf(inv);
    const key = await ctx.key(str(inv, "owner-key-env") ?? "REINS_OWNER_KEY", "owner (the EOA)");
    const provider = await ctx.provider();
    const status = await delegationStatus(provider, key.address, { modules: false });
    if (!status.delegate) throw new UsageError(`${key.address} has no EIP-7702 delegation: nothing to downgrade`);
    let result;
    try {
      result = await downgradeEoa(key, fromBlock === undefined ? {} : { fromBlock });
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    const removed = result.removed.map((m) => ({
      moduleTypeId: m.moduleTypeId,
      module: m.module,
      ...(m.selector ? { selector: m.selector } : {}),
      name: describeModule(m, reins),
    }));
    emit(inv.json, { account: key.address, status: "downgraded", removed, txHashes: result.txHashes }, () =>
      keyValues([
        ["account", `${key.address} (a plain EOA again)`],
        ["removed", removed.map((m) => m.name).join(", ") || "no modules"],
        ["also removed", "the root (owner) validator; the init nonce moved on"],
        ["sessions", "ended for good (every module uninstalled: a later upgrade revives none of them)"],
        ["txs", result.txHashes.join(", ")],
      ]),
    );
    return 0;
  } finally {
    ctx.close();
  }
}

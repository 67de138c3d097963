/**
 * `reins deploy`, `reins account create`, `reins account status`.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Contract, ZeroAddress, ZeroHash, formatEther, getAddress, isHexString, toBeHex, zeroPadValue } from "ethers";
import { artifactsFromDirectory, deployReins } from "../../deploy/deploy.js";
import { CONTRACT_NAMES } from "../../deploy/plan.js";
import { MODULE_TYPE_EXECUTOR, MODULE_TYPE_VALIDATOR } from "../../account/encoding.js";
import { DEFAULT_SECURITY_DELAY, ReinsOwner, type ReinsDeployment } from "../../client/owner.js";
import { defaultRecoveryCalls, describeRecoveryCall } from "../../client/recovery.js";
import { listSessions } from "../../client/actions/listSessions.js";
import { delegationStatus } from "../../client/eip7702.js";
import { describeModule } from "./eoaModules.js";
import { parseDuration } from "../../client/units.js";
import {
  AgentSessions__factory,
  GuardianRecovery__factory,
  IEntryPoint__factory,
  ReinsAccountFactory__factory,
  ReinsAccount__factory,
} from "../../../types/ethers-contracts/index.js";
import { ENTRYPOINT_V08 } from "../../infra/singletons.js";
import { list, str, type Invocation } from "../args.js";
import { CliContext, parseAddress, parseHumanAmount } from "../context.js";
import { FailureError, UsageError } from "../errors.js";
import { amount, emit, keyValues, table, time, duration } from "../format.js";
import { asCliError } from "../report.js";
import { checkDuration } from "../specs.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** `reins deploy`. */
export async function deploy(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const artifactsDir = path.resolve(str(inv, "artifacts") ?? path.join(REPO_ROOT, "artifacts"));
    const envName = str(inv, "deployer-key-env") ?? "REINS_DEPLOYER_KEY";
    const signer = await ctx.key(envName, "deployer");
    if ((await ctx.provider().then((p) => p.getBalance(signer.address))) === 0n) {
      throw new UsageError(`the deployer ${signer.address} (${envName}) has no ETH on chain ${await ctx.chainId()}`);
    }
    const lines: string[] = [];
    let result;
    try {
      result = await deployReins(signer, {
        artifacts: artifactsFromDirectory(artifactsDir),
        deploymentsDir: ctx.deploymentsDir,
        log: (l) => lines.push(l),
      });
    } catch (e) {
      const msg = (e as Error).message;
      if (/cannot read artifact/.test(msg)) throw new UsageError(msg);
      throw new FailureError(`deploy failed: ${msg}`);
    }
    emit(inv.json, result, () => {
      const rows = CONTRACT_NAMES.map((name) => [
        name,
        result.addresses[name],
        result.deployed.includes(name) ? `deployed (gas ${result.gasUsed[name] ?? "?"})` : "already deployed",
      ]);
      const head =
        result.deployed.length === 0 && result.singletonsInstalled.length === 0
          ? `nothing deployed: every Reins contract is already on chain ${result.chainId}`
          : `deployed ${result.deployed.length} contract(s) on chain ${result.chainId}` +
            (result.singletonsInstalled.length ? ` (installed ${result.singletonsInstalled.join(", ")})` : "");
      return [
        head,
        "",
        table(["contract", "address", "status"], [["EntryPoint v0.8", result.entryPoint, "singleton"], ...rows]),
        "",
        `record: ${result.file}`,
      ].join("\n");
    });
    return 0;
  } finally {
    ctx.close();
  }
}

function parseSalt(raw: string | undefined): string {
  if (raw === undefined) return ZeroHash;
  if (/^\d+$/.test(raw)) return zeroPadValue(toBeHex(BigInt(raw)), 32);
  if (isHexString(raw, 32)) return raw;
  throw new UsageError(`--salt: expected a number or 32-byte hex, got ${raw}`);
}

/** The options `reins account create` and `reins account upgrade-eoa` share, checked without the network. */
export function parseAccountOptions(inv: Invocation) {
  const securityDelay = parseDuration(
    checkDuration(str(inv, "security-delay") ?? `${DEFAULT_SECURITY_DELAY}s`, "--security-delay") as "1s",
  );
  const guardians = list(inv, "guardian")
    .flatMap((g) => g.split(","))
    .map((g) => parseAddress(g, "--guardian"));
  const thresholdRaw = str(inv, "threshold");
  if (thresholdRaw !== undefined && !guardians.length) throw new UsageError("--threshold needs --guardian");
  const threshold = thresholdRaw === undefined ? guardians.length : Number(thresholdRaw);
  if (guardians.length && (!Number.isInteger(threshold) || threshold < 1 || threshold > guardians.length)) {
    throw new UsageError(`--threshold: expected 1…${guardians.length}, got ${thresholdRaw}`);
  }
  if (new Set(guardians).size !== guardians.length) throw new UsageError("--guardian: the same guardian twice");
  const recoveryDelay = parseDuration(checkDuration(str(inv, "recovery-delay") ?? "2d", "--recovery-delay") as "1s");
  const guardianDelay = parseDuration(checkDuration(str(inv, "guardian-delay") ?? "1d", "--guardian-delay") as "1s");
  const lockDuration = parseDuration(checkDuration(str(inv, "lock-duration") ?? "7d", "--lock-duration") as "1s");
  const onRecoveryRaw = str(inv, "on-recovery");
  if (onRecoveryRaw !== undefined && !guardians.length) throw new UsageError("--on-recovery needs --guardian");
  if (onRecoveryRaw !== undefined && onRecoveryRaw !== "revoke-all" && onRecoveryRaw !== "none") {
    throw new UsageError(`--on-recovery: expected revoke-all or none, got ${onRecoveryRaw}`);
  }
  return { securityDelay, guardians, threshold, recoveryDelay, guardianDelay, lockDuration, onRecoveryRaw };
}

/** The GuardianRecovery install options of parsed account options on `reins` (none without `--guardian`). */
export function guardianOptionsOf(parsed: ReturnType<typeof parseAccountOptions>, reins: ReinsDeployment) {
  const { guardians, threshold, recoveryDelay, guardianDelay, lockDuration, onRecoveryRaw } = parsed;
  if (guardians.length && !reins.recovery) throw new UsageError("this deployment has no GuardianRecovery");
  const onRecovery = onRecoveryRaw === "none" ? [] : defaultRecoveryCalls(reins);
  const guardianOptions = guardians.length
    ? { guardians, threshold, recoveryDelay, guardianDelay, lockDuration, onRecovery }
    : undefined;
  return { onRecovery, guardianOptions };
}

/** The warning `--security-delay 0s` prints (account create, upgrade-eoa). */
export function warnNoSecurityDelay(): void {
  process.stderr.write(
    "reins: warning: --security-delay 0s: loosening changes (new sessions and permissions, higher budgets, " +
      "later expiry, grant delegates) will apply at once, with no time to notice and cancel them; " +
      "use 0s only on a dev chain\n",
  );
}

/** `reins account create`. */
export async function accountCreate(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    // Syntax first (no network).
    const salt = parseSalt(str(inv, "salt"));
    const parsed = parseAccountOptions(inv);
    const { securityDelay, guardians, threshold, onRecoveryRaw } = parsed;
    const prefundRaw = str(inv, "prefund");
    const prefund =
      prefundRaw === undefined
        ? 0n
        : parseHumanAmount(prefundRaw, { symbol: "ETH", address: ZeroAddress, decimals: 18 }, "--prefund");

    // Chain checks.
    const { reins } = await ctx.deployment();
    const envName = str(inv, "owner-key-env") ?? "REINS_OWNER_KEY";
    const key = await ctx.key(envName, "owner");
    const provider = await ctx.provider();
    const { onRecovery, guardianOptions } = guardianOptionsOf(parsed, reins);
    const sender = await ctx.sender(key);
    const owner = new ReinsOwner({ owner: key, provider, deployment: reins, sender });
    const opts = { salt, securityDelay, ...(guardianOptions ? { guardians: guardianOptions } : {}) };
    const predicted = await owner.predictAddress(opts);
    const onRecoveryNames = onRecovery.map((c) => describeRecoveryCall(c, reins));
    const out = {
      account: predicted,
      owner: key.address,
      chainId: await ctx.chainId(),
      salt,
      securityDelay,
      ...(guardians.length ? { onRecovery: onRecoveryNames } : {}),
    };
    if ((await provider.getCode(predicted)) !== "0x") {
      emit(
        inv.json,
        { ...out, status: "exists" },
        `account ${predicted} already exists (owner ${key.address}); nothing sent`,
      );
      return 0;
    }
    const ownerBalance = await provider.getBalance(key.address);
    const accountBalance = await provider.getBalance(predicted);
    if (prefund > 0n && ownerBalance <= prefund) {
      throw new UsageError(
        `--prefund ${prefundRaw} ETH: the owner ${key.address} has only ${formatEther(ownerBalance)} ETH`,
      );
    }
    if (prefund === 0n && accountBalance === 0n) {
      throw new UsageError(
        `the account ${predicted} has no ETH for its first operation: pass --prefund <ETH> or fund it first`,
      );
    }
    if (!ctx.bundlerUrl && ownerBalance === 0n) {
      throw new UsageError(`the owner ${key.address} has no ETH to submit handleOps (fund it, or use --bundler)`);
    }
    if (securityDelay === 0n) warnNoSecurityDelay();
    let created;
    try {
      created = await owner.createAccount({
        ...opts,
        ...(prefund > 0n ? { prefund: { from: key, value: prefund } } : {}),
      });
    } catch (e) {
      throw await asCliError(ctx, e, false);
    }
    emit(inv.json, { ...out, status: "created", txHash: created.txHash, userOpHash: created.userOpHash }, () =>
      keyValues([
        ["account", created.account],
        ["owner", key.address],
        [
          "modules",
          `OwnerValidator, AgentSessions, ReinsTimelock${guardians.length ? `, GuardianRecovery (${threshold} of ${guardians.length})` : ""}`,
        ],
        [
          "security delay",
          securityDelay === 0n ? "0s (loosening applies at once: dev chains only)" : duration(securityDelay),
        ],
        ...(guardians.length
          ? [
              [
                "on recovery",
                onRecoveryNames.length ? onRecoveryNames.join(", ") : "nothing (sessions and queue survive a recovery)",
              ] as [string, string],
            ]
          : []),
        ["prefund", `${amount(prefund, 18)} ETH`],
        ["tx", created.txHash],
      ]),
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins account status`. */
export async function accountStatus(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(inv.args.account);
    const { reins } = await ctx.deployment();
    const provider = await ctx.provider();
    const acc = ReinsAccount__factory.connect(account, provider);
    const sessions = AgentSessions__factory.connect(reins.sessions, provider);
    let accountId: string;
    try {
      accountId = await acc.accountId();
    } catch {
      throw new UsageError(`unknown account ${account}: not a Reins account (no accountId())`);
    }
    const owner = await ctx.ownerOf(account);
    const { delegate, modules: installed7702, moduleCount } = await delegationStatus(provider, account);
    const eip7702Modules = installed7702
      ? { count: moduleCount, installed: installed7702.map((m) => ({ ...m, name: describeModule(m, reins) })) }
      : null;
    const installed = async (type: bigint, module: string | undefined) =>
      module ? acc.isModuleInstalled(type, module, "0x") : false;
    const modules = {
      ownerValidator: await installed(MODULE_TYPE_VALIDATOR, reins.ownerValidator),
      sessionsValidator: await installed(MODULE_TYPE_VALIDATOR, reins.sessions),
      sessionsExecutor: await installed(MODULE_TYPE_EXECUTOR, reins.sessions),
      timelock: await installed(MODULE_TYPE_EXECUTOR, reins.timelock),
      guardianRecovery: await installed(MODULE_TYPE_EXECUTOR, reins.recovery),
    };
    const hook = await acc.hook();
    const config = await sessions.accountConfig(account);
    const list = await listSessions(sessions, account);
    const balances = [
      { symbol: "ETH", address: ZeroAddress, balance: await provider.getBalance(account), decimals: 18 },
    ];
    for (const t of await ctx.knownTokens()) {
      const erc20 = new Contract(t.address, ["function balanceOf(address) view returns (uint256)"], provider);
      balances.push({
        symbol: t.symbol,
        address: t.address,
        balance: BigInt(await erc20.getFunction("balanceOf")(account)),
        decimals: t.decimals,
      });
    }
    let recovery: Record<string, unknown> | undefined;
    if (modules.guardianRecovery && reins.recovery) {
      const gr = GuardianRecovery__factory.connect(reins.recovery, provider);
      const [pendingOwner, readyAt] = await gr.pendingRecovery(account);
      recovery = {
        guardians: (await gr.guardiansOf(account)).map((g) => getAddress(g)),
        threshold: Number(await gr.thresholdOf(account)),
        lockedUntil: await gr.lockedUntil(account),
        pendingRecovery: readyAt === 0n ? null : { newOwner: pendingOwner, readyAt },
        onRecovery: (await gr.onRecoveryCallsOf(account)).map((c) =>
          describeRecoveryCall({ target: c.target, data: c.data }, reins),
        ),
      };
    }
    // Watchdogs: every address a WatchdogSet named, still registered.
    const watchdogs: string[] = [];
    for (const log of await sessions.queryFilter(sessions.filters.WatchdogSet(account), 0)) {
      const w = getAddress(log.args.watchdog);
      if (!watchdogs.includes(w) && (await sessions.isWatchdog(w, account))) watchdogs.push(w);
    }
    // Fleet budgets: the latest FleetBudgetSet per token, with what is left now.
    const fleetLogs = new Map<string, { periodCap: bigint; lifetimeCap: bigint; period: bigint }>();
    for (const log of await sessions.queryFilter(sessions.filters.FleetBudgetSet(account), 0)) {
      fleetLogs.set(getAddress(log.args.token), {
        periodCap: log.args.periodCap,
        lifetimeCap: log.args.lifetimeCap,
        period: log.args.period,
      });
    }
    const fleet: Record<string, unknown>[] = [];
    for (const [tokenAddress, f] of fleetLogs) {
      const [set, periodLeft, lifetimeLeft] = await sessions.fleetRemaining(account, tokenAddress);
      if (!set) continue;
      const t =
        tokenAddress === ZeroAddress
          ? { symbol: "ETH", decimals: 18 }
          : await ctx.token(tokenAddress).catch(() => ({ symbol: tokenAddress, decimals: 0 }));
      fleet.push({
        token: t.symbol,
        address: tokenAddress,
        periodCap: amount(f.periodCap, t.decimals),
        period: duration(f.period),
        lifetime: amount(f.lifetimeCap, t.decimals),
        periodLeft: amount(periodLeft, t.decimals),
        lifetimeLeft: amount(lifetimeLeft, t.decimals),
      });
    }
    const entryPoint = IEntryPoint__factory.connect(ENTRYPOINT_V08, provider);
    const deposit = await entryPoint.balanceOf(account);
    const active = list.filter((s) => s.status === "active").length;
    const out = {
      account,
      accountId,
      owner,
      eip7702Delegate: delegate ?? null,
      eip7702Modules,
      modules,
      hook: hook === ZeroAddress ? null : hook,
      paused: config.paused,
      securityDelay: config.securityDelay,
      sessions: { total: list.length, active },
      balances: balances.map((b) => ({
        symbol: b.symbol,
        address: b.address,
        balance: amount(b.balance, b.decimals),
        raw: b.balance,
      })),
      recovery: recovery ?? null,
      watchdogs,
      fleet,
      entryPointDeposit: { amount: amount(deposit, 18), raw: deposit },
    };
    emit(inv.json, out, () => {
      const mods = Object.entries(modules)
        .filter(([, v]) => v)
        .map(([k]) => k)
        .join(", ");
      const pairs: [string, string][] = [
        ["account", `${account} (${accountId})`],
        ["owner", owner],
        [
          "EIP-7702",
          delegate
            ? `the EOA delegates to ${delegate}${delegate === reins.account7702 ? " (ReinsAccount7702)" : " (NOT this deployment's ReinsAccount7702)"}`
            : "no (proxy account)",
        ],
        ["modules", mods],
        ...(eip7702Modules
          ? [
              [
                "EIP-7702 modules",
                `${eip7702Modules.count} besides the root validator: ${eip7702Modules.installed.map((m) => m.name).join(", ") || "none"}`,
              ] as [string, string],
            ]
          : []),
        ["hook", hook === ZeroAddress ? "none" : hook],
        ["agents", config.paused ? "PAUSED" : "running"],
        [
          "security delay",
          config.securityDelay === 0n
            ? "0s (WARNING: loosening changes apply at once)"
            : duration(config.securityDelay),
        ],
        ["sessions", `${list.length} granted, ${active} active`],
        ...balances.map((b): [string, string] => [`balance ${b.symbol}`, amount(b.balance, b.decimals)]),
        ["EntryPoint deposit", `${amount(deposit, 18)} ETH (prepaid gas; operations without it pay from the balance)`],
        ["watchdogs", watchdogs.length ? watchdogs.join(", ") : "none"],
        [
          "fleet budgets",
          fleet.length
            ? fleet
                .map(
                  (f) =>
                    `${String(f.token)} ${String(f.periodCap)}/${String(f.period)} (${String(f.periodLeft)} left), lifetime ${String(f.lifetime)} (${String(f.lifetimeLeft)} left)`,
                )
                .join("; ")
            : "none (each session's own budgets only)",
        ],
      ];
      if (recovery) {
        const r = recovery as {
          guardians: string[];
          threshold: number;
          lockedUntil: bigint;
          pendingRecovery: { newOwner: string; readyAt: bigint } | null;
          onRecovery: string[];
        };
        pairs.push(["guardians", `${r.threshold} of ${r.guardians.length}: ${r.guardians.join(", ")}`]);
        pairs.push(["on recovery", r.onRecovery.length ? r.onRecovery.join(", ") : "nothing"]);
        pairs.push(["locked until", time(r.lockedUntil)]);
        pairs.push([
          "recovery",
          r.pendingRecovery
            ? `to ${r.pendingRecovery.newOwner} from ${time(r.pendingRecovery.readyAt)}`
            : "none pending",
        ]);
      }
      return keyValues(pairs);
    });
    return 0;
  } finally {
    ctx.close();
  }
}

async function factoryStakeInfo(ctx: CliContext) {
  const { reins } = await ctx.deployment();
  const provider = await ctx.provider();
  const entryPoint = IEntryPoint__factory.connect(ENTRYPOINT_V08, provider);
  const factory = ReinsAccountFactory__factory.connect(reins.factory, provider);
  const info = await entryPoint.getDepositInfo(reins.factory);
  return {
    factory: reins.factory,
    entryPoint: ENTRYPOINT_V08,
    stakeOwner: getAddress(await factory.stakeOwner()),
    staked: info.staked,
    stake: info.stake,
    unstakeDelaySec: info.unstakeDelaySec,
    withdrawTime: info.withdrawTime,
    deposit: info.deposit,
  };
}

function stakeLine(s: Awaited<ReturnType<typeof factoryStakeInfo>>): string {
  return s.staked
    ? `factory ${s.factory} staked ${formatEther(s.stake)} ETH in the EntryPoint, unstake delay ${duration(s.unstakeDelaySec)}`
    : s.stake > 0n
      ? `factory ${s.factory} stake of ${formatEther(s.stake)} ETH is unlocking (withdrawable from ${time(s.withdrawTime)})`
      : `factory ${s.factory} is not staked`;
}

/** `reins factory status`: the factory's EntryPoint stake. */
export async function factoryStatus(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const s = await factoryStakeInfo(ctx);
    emit(inv.json, s, stakeLine(s));
    return 0;
  } finally {
    ctx.close();
  }
}

/**
 * `reins factory stake --amount <ETH> [--unstake-delay 1d]`: stake the factory in the EntryPoint (public bundlers
 * require a staked factory: account creation writes module storage, ERC-7562 STO-022). Anyone may pay; only the
 * factory's stake owner can later unlock and withdraw it.
 */
export async function factoryStake(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const rawAmount = str(inv, "amount");
    if (rawAmount === undefined) throw new UsageError("--amount is required (ETH to stake, e.g. --amount 0.1)");
    const value = parseHumanAmount(rawAmount, { symbol: "ETH", address: ZeroAddress, decimals: 18 }, "--amount");
    if (value === 0n) throw new UsageError("--amount: must be more than zero");
    const delay = parseDuration(checkDuration(str(inv, "unstake-delay") ?? "1d", "--unstake-delay") as "1s");
    if (delay === 0n || delay > 0xffffffffn)
      throw new UsageError(`--unstake-delay: expected 1s … 136y, got ${str(inv, "unstake-delay")}`);
    const before = await factoryStakeInfo(ctx);
    if (delay < before.unstakeDelaySec)
      throw new UsageError(
        `--unstake-delay ${duration(delay)} is shorter than the factory's current ${duration(before.unstakeDelaySec)} (the EntryPoint never lowers it)`,
      );
    const envName = str(inv, "sender-key-env") ?? "REINS_SENDER_KEY";
    const key = await ctx.key(envName, "transaction sender");
    const balance = await (await ctx.provider()).getBalance(key.address);
    if (balance <= value)
      throw new UsageError(
        `${envName} is ${key.address}, which has ${formatEther(balance)} ETH: not enough to stake ${rawAmount} ETH and pay gas`,
      );
    const factory = ReinsAccountFactory__factory.connect(before.factory, key);
    let txHash: string;
    try {
      await factory.addStake.staticCall(delay, { value });
      txHash = (await (await factory.addStake(delay, { value })).wait())!.hash;
    } catch (e) {
      throw new FailureError(`addStake failed: ${(e as Error).message.split("\n")[0]}`);
    }
    const after = await factoryStakeInfo(ctx);
    emit(inv.json, { ...after, status: "staked", added: value, txHash }, `${stakeLine(after)} (tx ${txHash})`);
    return 0;
  } finally {
    ctx.close();
  }
}

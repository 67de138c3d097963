/**
 * {@link ReinsOwner}: the owner's client. Creates the account (counterfactually, with AgentSessions and the
 * timelock installed), runs owner operations, grants and manages agent sessions, budgets, watchdogs, the pause
 * switch and the timelock queue. Every write is one owner UserOperation (nonce key = OwnerValidator).
 */
import { AbiCoder, ZeroHash, getAddress, type Provider, type Signer } from "ethers";
import {
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_VALIDATOR,
  executeCalldata,
  initializeCalldata,
  type Call,
  type ModuleInit,
} from "../account/encoding.js";
import { nonceKey, userOperationTypedData, type UserOperation } from "../userop/userop.js";
import { encodePasskeySignature, signUserOpWithPasskey, type PasskeySigner } from "./passkey.js";
import {
  AgentSessions__factory,
  IEntryPoint__factory,
  ReinsAccountFactory__factory,
  ReinsTimelock__factory,
  type AgentSessions,
  type ReinsAccountFactory,
  type ReinsTimelock,
} from "../../types/ethers-contracts/index.js";
import { ReinsError } from "./errors.js";
import type { SessionConfig, TokenBudget } from "./policy.js";
import { priceSourceTuple, valueBudgetTuple, type PriceSource, type ValueBudgetConfig } from "./valueBudget.js";
import { listSessions, type SessionInfo } from "./actions/listSessions.js";
import { executeQueued, findQueued, listQueue, type QueuedOperation } from "./actions/queue.js";
import { parseDuration, type Duration } from "./units.js";
import { guardianRecoveryModule, type GuardianOptions } from "./recovery.js";
import {
  DEFAULT_GAS_LIMITS,
  operationFees,
  submitOperation,
  type GasOverrides,
  type OperationResultRaw,
  type OperationSender,
} from "./transport/sender.js";

/** Addresses of a Reins deployment. */
export interface ReinsDeployment {
  factory: string;
  ownerValidator: string;
  sessions: string;
  timelock: string;
  /** GuardianRecovery, when deployed (installed by `createAccount({ guardians })`). */
  recovery?: string;
  /** ReinsAccount7702, the EIP-7702 delegate an EOA upgrades to (`upgradeEoa`), when deployed. */
  account7702?: string;
  /** PasskeyValidator (WebAuthn P-256 root validator), when deployed. */
  passkeyValidator?: string;
}

/**
 * A passkey owner: the account's root validator is `PasskeyValidator` with this P-256 key, and every owner
 * operation is signed by a WebAuthn assertion over its userOpHash (`navigator.credentials.get` in a browser, a
 * security key, or a software key in tests).
 */
export interface PasskeyOwner {
  /** Produces the assertion for a challenge (the userOpHash). */
  passkey: PasskeySigner;
  /** The credential's public key (P-256 x and y, 32 bytes each), installed by {@link ReinsOwner.createAccount}. */
  qx: string;
  qy: string;
  /** The PasskeyValidator (default: `deployment.passkeyValidator`). */
  validator?: string;
}

/** Whether an owner is a {@link PasskeyOwner} (else an ethers `Signer`). */
export function isPasskeyOwner(owner: Signer | PasskeyOwner): owner is PasskeyOwner {
  return typeof (owner as PasskeyOwner).passkey === "function";
}

/** Options of {@link ReinsOwner}. */
export interface ReinsOwnerOptions {
  /**
   * The owner's signer: any ethers `Signer` (a `Wallet`, a KMS or hardware signer, a browser wallet through
   * `BrowserProvider`). It signs each owner operation as the EntryPoint v0.8 EIP-712 typed data
   * ({@link userOperationTypedData}), which is the userOpHash itself; needs no ETH (the account pays).
   * Or a {@link PasskeyOwner}: the root validator is then PasskeyValidator and operations carry WebAuthn assertions.
   */
  owner: Signer | PasskeyOwner;
  provider: Provider;
  deployment: ReinsDeployment;
  sender: OperationSender;
  /** The account, when it exists already (else set by {@link ReinsOwner.createAccount}). */
  account?: string;
  gas?: GasOverrides;
}

/**
 * Default AgentSessions security delay of {@link ReinsOwner.createAccount}: one day (86,400 s). Every loosening
 * (a new session or permission, a higher budget, a later expiry, a lower delay, a grant delegate) waits this long
 * before it can be applied, and the owner, a watchdog or the monitor can see the `ChangeProposed` event and cancel
 * it. A day is long enough for a person to notice a loosening they did not make (a stolen owner key, a
 * compromised grant pipeline) and matches the default delay of guardian-set changes; it is short enough not to
 * block routine work, and tightening, revoking and pausing never wait. Dev chains opt out with `securityDelay: 0`.
 */
export const DEFAULT_SECURITY_DELAY = 86_400n;

/** Options of {@link ReinsOwner.predictAddress} / {@link ReinsOwner.createAccount}. */
export interface CreateAccountOptions {
  /** User salt (bytes32, default zero). */
  salt?: string;
  /**
   * AgentSessions security delay for loosening changes (default {@link DEFAULT_SECURITY_DELAY}, one day). `0` makes
   * every loosening apply at once: only for dev chains and tests.
   */
  securityDelay?: Duration;
  /**
   * Install GuardianRecovery (`deployment.recovery`) with these guardians. Unless `guardians.onRecovery` says
   * otherwise, a completed recovery revokes every agent session and clears the timelock queue
   * ({@link defaultRecoveryCalls}).
   */
  guardians?: GuardianOptions;
  /** Further modules installed at creation (after the guardians' module). */
  modules?: ModuleInit[];
  /** Send this much ETH to the counterfactual address first, from `funder`. */
  prefund?: { from: Signer; value: bigint };
}

/** A configuration write that is either applied or waits the security delay. */
export type ChangeOutcome =
  | { status: "applied"; txHash: string }
  | { status: "pending"; txHash: string; changeHash: string; readyAt: bigint; data: string };

/** Stub owner signature for estimation: 65 well-formed bytes that recover to some other address. */
const OWNER_STUB = "0x" + "11".repeat(32) + "22".repeat(32) + "1b";
/** Stub passkey signature for estimation: a well-formed assertion (UP and UV set) that verifies for no key. */
const PASSKEY_STUB = encodePasskeySignature({
  authenticatorData: "0x" + "00".repeat(32) + "0500000001",
  clientDataJSON: JSON.stringify({ type: "webauthn.get", challenge: "A".repeat(43), origin: "https://stub" }),
  signature: { r: 1n, s: 1n },
});

/** The owner's client for one Reins account. */
export class ReinsOwner {
  readonly owner: Signer | PasskeyOwner;
  readonly provider: Provider;
  readonly deployment: ReinsDeployment;
  readonly sender: OperationSender;
  readonly sessions: AgentSessions;
  readonly timelock: ReinsTimelock;
  readonly factory: ReinsAccountFactory;
  private accountAddress?: string;
  private readonly gas: GasOverrides;

  constructor(options: ReinsOwnerOptions) {
    this.owner = options.owner;
    this.provider = options.provider;
    this.deployment = options.deployment;
    this.sender = options.sender;
    this.accountAddress = options.account;
    this.gas = options.gas ?? {};
    this.sessions = AgentSessions__factory.connect(options.deployment.sessions, options.provider);
    this.timelock = ReinsTimelock__factory.connect(options.deployment.timelock, options.provider);
    this.factory = ReinsAccountFactory__factory.connect(options.deployment.factory, options.provider);
  }

  /** The account address; throws until the account is known. */
  get account(): string {
    if (!this.accountAddress) throw new ReinsError("config", "ReinsOwner: no account yet (call createAccount)");
    return this.accountAddress;
  }

  /** Use an existing account (for example an EOA made a Reins account with EIP-7702). */
  useAccount(account: string): void {
    this.accountAddress = getAddress(account);
  }

  /** `initialize` call the factory commits to: owner validator root, AgentSessions, timelock, extra modules. */
  async initCall(opts: CreateAccountOptions = {}): Promise<string> {
    const d = this.deployment;
    const delay = AbiCoder.defaultAbiCoder().encode(
      ["uint32"],
      [parseDuration(opts.securityDelay ?? DEFAULT_SECURITY_DELAY)],
    );
    const guardians: ModuleInit[] = [];
    if (opts.guardians) {
      if (!d.recovery) throw new ReinsError("config", "guardians given, but the deployment has no GuardianRecovery");
      guardians.push(guardianRecoveryModule(d.recovery, opts.guardians, d));
    }
    const root = isPasskeyOwner(this.owner)
      ? {
          validator: this.rootValidator(),
          data: AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [this.owner.qx, this.owner.qy]),
        }
      : { validator: d.ownerValidator, data: await this.ownerAddress() };
    return initializeCalldata(root.validator, root.data, [
      { moduleTypeId: MODULE_TYPE_VALIDATOR, module: d.sessions, initData: delay },
      { moduleTypeId: MODULE_TYPE_EXECUTOR, module: d.sessions, initData: delay },
      { moduleTypeId: MODULE_TYPE_EXECUTOR, module: d.timelock, initData: "0x" },
      ...guardians,
      ...(opts.modules ?? []),
    ]);
  }

  /** The counterfactual address of the account {@link createAccount} would deploy with `opts`. */
  async predictAddress(opts: CreateAccountOptions = {}): Promise<string> {
    return getAddress(await this.factory.getAccountAddress(await this.initCall(opts), opts.salt ?? ZeroHash));
  }

  /**
   * Deploy the account with its first owner operation (initCode), which also registers AgentSessions as a
   * timelock canceller (so a watchdog pause can clear the queue). The account must hold ETH for gas:
   * pass `prefund` or fund the predicted address first.
   */
  async createAccount(
    opts: CreateAccountOptions = {},
  ): Promise<{ account: string; userOpHash: string; txHash: string }> {
    const initCall = await this.initCall(opts);
    const salt = opts.salt ?? ZeroHash;
    const account = await this.predictAddress(opts);
    if (opts.prefund)
      await (await opts.prefund.from.sendTransaction({ to: account, value: opts.prefund.value })).wait();
    this.accountAddress = account;
    const result = await this.run(
      {
        target: this.deployment.timelock,
        data: this.timelock.interface.encodeFunctionData("setCanceller", [this.deployment.sessions, true]),
      },
      {
        factory: this.deployment.factory,
        factoryData: this.factory.interface.encodeFunctionData("createAccount", [initCall, salt]),
      },
    );
    return { account, userOpHash: result.userOpHash, txHash: result.txHash };
  }

  /**
   * Run `calls` as one owner operation. Throws a typed error when it is refused or reverts. `first` adds fields of
   * a first operation: the EIP-7702 parts from `eip7702FirstOperation` (or a factory's initCode).
   */
  async execute(calls: Call | Call[], first: Partial<UserOperation> = {}): Promise<OperationResultRaw> {
    return this.run(calls, first);
  }

  private async run(calls: Call | Call[], initCode: Partial<UserOperation> = {}): Promise<OperationResultRaw> {
    const entryPoint = IEntryPoint__factory.connect(this.sender.entryPoint, this.provider);
    const nonce = await entryPoint.getNonce(this.account, nonceKey(this.rootValidator()));
    const d = DEFAULT_GAS_LIMITS.owner;
    const draft: UserOperation = {
      sender: this.account,
      nonce,
      callData: executeCalldata(calls),
      callGasLimit: this.gas.callGasLimit ?? d.callGasLimit,
      verificationGasLimit: this.gas.verificationGasLimit ?? d.verificationGasLimit,
      preVerificationGas: this.gas.preVerificationGas ?? d.preVerificationGas,
      ...(await operationFees(this.provider, this.gas)),
      signature: "0x",
      ...initCode,
    };
    return submitOperation({
      sender: this.sender,
      draft,
      stubSignature: isPasskeyOwner(this.owner) ? PASSKEY_STUB : OWNER_STUB,
      sign: (_hash, op) => this.signOperation(op),
      fixed: this.gas,
    });
  }

  /**
   * The owner signature of an operation: the owner's `Signer` signs EntryPoint v0.8's EIP-712 typed data of `op`
   * (the userOpHash; what `OwnerValidator` checks), so a KMS, hardware or browser wallet can sign it.
   */
  async signOperation(op: UserOperation): Promise<string> {
    const chainId = await this.sender.chainId();
    if (isPasskeyOwner(this.owner)) {
      return (await signUserOpWithPasskey(op, this.owner.passkey, this.sender.entryPoint, chainId)).signature;
    }
    const typed = userOperationTypedData(op, this.sender.entryPoint, chainId);
    return this.owner.signTypedData(typed.domain, typed.types, typed.message);
  }

  /** The owner's address (an ECDSA owner; a passkey owner has none: throws). */
  async ownerAddress(): Promise<string> {
    if (isPasskeyOwner(this.owner)) {
      throw new ReinsError("config", "ReinsOwner: a passkey owner has no address (its root is PasskeyValidator)");
    }
    return getAddress(await this.owner.getAddress());
  }

  /** The root validator owner operations go through: OwnerValidator, or PasskeyValidator for a passkey owner. */
  rootValidator(): string {
    if (!isPasskeyOwner(this.owner)) return this.deployment.ownerValidator;
    const validator = this.owner.validator ?? this.deployment.passkeyValidator;
    if (!validator)
      throw new ReinsError("config", "passkey owner: no PasskeyValidator (pass validator, or a deployment with one)");
    return validator;
  }

  private sessionsCall(data: string): Call {
    return { target: this.deployment.sessions, data };
  }

  private timelockCall(data: string): Call {
    return { target: this.deployment.timelock, data };
  }

  /** Applied, or pending behind the security delay (from `ChangeProposed`). */
  private changeOutcome(result: OperationResultRaw): ChangeOutcome {
    for (const log of result.logs) {
      if (getAddress(log.address) !== getAddress(this.deployment.sessions)) continue;
      const parsed = this.sessions.interface.parseLog({ topics: [...log.topics], data: log.data });
      if (parsed?.name === "ChangeProposed") {
        return {
          status: "pending",
          txHash: result.txHash,
          changeHash: parsed.args.changeHash,
          readyAt: parsed.args.readyAt,
          data: parsed.args.data,
        };
      }
    }
    return { status: "applied", txHash: result.txHash };
  }

  /**
   * Grant a session. Returns its id; with a security delay the grant is only proposed, and this throws
   * {@link ChangePending} (apply it later with {@link applyChange}).
   */
  async grantSession(config: SessionConfig): Promise<string> {
    const result = await this.run(
      this.sessionsCall(this.sessions.interface.encodeFunctionData("grantSession", [config])),
    );
    const id = this.sessionIdFrom(result);
    if (id) return id;
    const outcome = this.changeOutcome(result);
    if (outcome.status === "pending") throw new ChangePending(outcome);
    throw new ReinsError("grant", "grantSession emitted neither SessionGranted nor ChangeProposed");
  }

  private sessionIdFrom(result: OperationResultRaw): string | undefined {
    for (const log of result.logs) {
      if (getAddress(log.address) !== getAddress(this.deployment.sessions)) continue;
      const parsed = this.sessions.interface.parseLog({ topics: [...log.topics], data: log.data });
      if (parsed?.name === "SessionGranted") return parsed.args.sessionId;
    }
    return undefined;
  }

  /** Every session of the account with its live status. */
  async listSessions(options: { fromBlock?: number } = {}): Promise<SessionInfo[]> {
    return listSessions(this.sessions, this.account, options);
  }

  /** Change a session's end (later = loosening: may be pending). */
  async renewSession(sessionId: string, validUntil: bigint | Date): Promise<ChangeOutcome> {
    const until = validUntil instanceof Date ? BigInt(Math.floor(validUntil.getTime() / 1000)) : validUntil;
    return this.changeOutcome(
      await this.run(this.sessionsCall(this.sessions.interface.encodeFunctionData("renewSession", [sessionId, until]))),
    );
  }

  /** Revoke a session at once. */
  async revokeSession(sessionId: string): Promise<OperationResultRaw> {
    return this.run(this.sessionsCall(this.sessions.interface.encodeFunctionData("revokeSession", [sessionId])));
  }

  /** Set a session's budget for one token (raising any field is loosening: may be pending). */
  async setBudget(sessionId: string, budget: TokenBudget): Promise<ChangeOutcome> {
    return this.changeOutcome(
      await this.run(this.sessionsCall(this.sessions.interface.encodeFunctionData("setBudget", [sessionId, budget]))),
    );
  }

  /** Set the fleet budget of `token` (all sessions together). */
  async setFleetBudget(
    token: string,
    budget: { periodCap: bigint; lifetimeCap: bigint; period: Duration },
  ): Promise<ChangeOutcome> {
    const data = this.sessions.interface.encodeFunctionData("setFleetBudget", [
      token,
      budget.periodCap,
      budget.lifetimeCap,
      parseDuration(budget.period),
    ]);
    return this.changeOutcome(await this.run(this.sessionsCall(data)));
  }

  /**
   * Set the value budget (a cap in money across tokens, see `valueBudget()`) of `sessionId`, or of the account over
   * all its sessions (`"account"`). A first budget applies at once; a raised limit or another period is loosening
   * (may be pending). The unit must be the account's (its first value budget fixes it).
   */
  async setValueBudget(sessionId: string | "account", config: ValueBudgetConfig): Promise<ChangeOutcome> {
    const id = sessionId === "account" ? ZeroHash : sessionId;
    const data = this.sessions.interface.encodeFunctionData("setValueBudget", [id, valueBudgetTuple(config)]);
    return this.changeOutcome(await this.run(this.sessionsCall(data)));
  }

  /** Remove the value budget of `sessionId` (or `"account"`): loosening, may be pending. */
  async clearValueBudget(sessionId: string | "account"): Promise<ChangeOutcome> {
    const id = sessionId === "account" ? ZeroHash : sessionId;
    return this.changeOutcome(
      await this.run(this.sessionsCall(this.sessions.interface.encodeFunctionData("clearValueBudget", [id]))),
    );
  }

  /**
   * Set `token`'s price source in the account's unit (`ZeroAddress`: ETH; a stablecoin: `ONE_TO_ONE`). Once the
   * account has a value budget, a new or changed source is loosening (may be pending): set sources first.
   */
  async setPriceSource(token: string, tokenDecimals: number, source: PriceSource): Promise<ChangeOutcome> {
    const data = this.sessions.interface.encodeFunctionData("setPriceSource", [
      token,
      tokenDecimals,
      priceSourceTuple(source),
    ]);
    return this.changeOutcome(await this.run(this.sessionsCall(data)));
  }

  /**
   * Set price sources and then a value budget in ONE owner operation (sources first: while the account has no
   * value budget they apply at once). `budget` is optional (sources only). Pending when any part is loosening.
   */
  async configureValue(options: {
    prices?: { token: string; tokenDecimals: number; source: PriceSource }[];
    budget?: { sessionId: string | "account"; config: ValueBudgetConfig };
  }): Promise<ChangeOutcome> {
    const i = this.sessions.interface;
    const calls = (options.prices ?? []).map((p) =>
      this.sessionsCall(i.encodeFunctionData("setPriceSource", [p.token, p.tokenDecimals, priceSourceTuple(p.source)])),
    );
    if (options.budget) {
      const id = options.budget.sessionId === "account" ? ZeroHash : options.budget.sessionId;
      calls.push(
        this.sessionsCall(i.encodeFunctionData("setValueBudget", [id, valueBudgetTuple(options.budget.config)])),
      );
    }
    if (!calls.length) throw new ReinsError("value", "configureValue: give prices and/or a budget");
    return this.changeOutcome(await this.run(calls));
  }

  /** Remove `token`'s price source (tightening: its spends then need the owner's approval under a value budget). */
  async removePriceSource(token: string): Promise<OperationResultRaw> {
    return this.run(this.sessionsCall(this.sessions.interface.encodeFunctionData("removePriceSource", [token])));
  }

  /** Add or remove a watchdog (may pause every session and revoke single ones). */
  async setWatchdog(watchdog: string, enabled = true): Promise<OperationResultRaw> {
    return this.run(this.sessionsCall(this.sessions.interface.encodeFunctionData("setWatchdog", [watchdog, enabled])));
  }

  /**
   * Watch assets (ERC-20 or ERC-721 contracts, `ZeroAddress` for ETH): every agent operation reverts on a drop of a
   * watched asset that no budget of its session pays for. Tightening: applies at once. Budgeted tokens are watched
   * automatically; register every other asset the account holds.
   */
  async watchAssets(assets: string[]): Promise<OperationResultRaw> {
    return this.run(this.sessionsCall(this.sessions.interface.encodeFunctionData("watchAssets", [assets])));
  }

  /** Stop watching an asset (loosening: waits the security delay). */
  async unwatchAsset(asset: string): Promise<ChangeOutcome> {
    const data = this.sessions.interface.encodeFunctionData("unwatchAsset", [asset]);
    return this.changeOutcome(await this.run(this.sessionsCall(data)));
  }

  /** The assets the account watches. */
  async watchedAssets(): Promise<string[]> {
    return [...(await this.sessions.watchedAssets(this.account))];
  }

  /** Pause every agent session; optionally cancel the whole queue too. */
  async pause(options: { cancelQueued?: boolean } = {}): Promise<OperationResultRaw> {
    const data = this.sessions.interface.encodeFunctionData("pause", [this.account, options.cancelQueued ?? false]);
    return this.run(this.sessionsCall(data));
  }

  /** Unpause agent sessions. */
  async unpause(): Promise<OperationResultRaw> {
    return this.run(this.sessionsCall(this.sessions.interface.encodeFunctionData("unpause")));
  }

  /**
   * Approve a queued operation. By default it also runs in the same owner operation (`execute: false` only
   * approves; anyone may then run it until it expires).
   */
  async approveQueued(id: string, options: { execute?: boolean } = {}): Promise<OperationResultRaw> {
    const calls: Call[] = [this.timelockCall(this.timelock.interface.encodeFunctionData("approve", [id]))];
    if (options.execute ?? true) {
      const q = await findQueued(this.timelock, this.account, id);
      calls.push(
        this.timelockCall(
          this.timelock.interface.encodeFunctionData("execute", [this.account, id, q.mode, q.executionCalldata]),
        ),
      );
    }
    return this.run(calls);
  }

  /** Cancel a queued operation. */
  async cancelQueued(id: string): Promise<OperationResultRaw> {
    return this.run(this.timelockCall(this.timelock.interface.encodeFunctionData("cancel", [this.account, id])));
  }

  /** The account's timelock queue (every scheduled operation with its live state; filter with `states`). */
  async listQueue(options: Parameters<typeof listQueue>[2] = {}): Promise<QueuedOperation[]> {
    return listQueue(this.timelock, this.account, options);
  }

  /** Run a Ready queued operation from `runner` (a plain transaction; anyone may). */
  async executeQueued(id: string, runner: Signer): Promise<string> {
    const timelock = this.timelock.connect(runner);
    return executeQueued(timelock, this.account, await findQueued(timelock, this.account, id));
  }

  /** Apply a matured loosening change (`data` from a pending {@link ChangeOutcome}). */
  async applyChange(data: string): Promise<{ result: OperationResultRaw; sessionId?: string }> {
    const call = this.sessionsCall(this.sessions.interface.encodeFunctionData("applyChange", [this.account, data]));
    const result = await this.run(call);
    return { result, sessionId: this.sessionIdFrom(result) };
  }
}

/** A loosening write (e.g. a grant) was only proposed: it applies after the security delay. */
export class ChangePending extends ReinsError {
  override readonly name = "ChangePending" as const;
  constructor(readonly change: Extract<ChangeOutcome, { status: "pending" }>) {
    super("security delay", `change ${change.changeHash} is pending until ${change.readyAt}`, { ...change });
  }
}

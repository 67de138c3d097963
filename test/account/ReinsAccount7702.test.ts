/**
 * EIP-7702 mode on Hardhat's in-process chain (type-4 transactions): an EOA with tokens becomes a Reins account
 * at its own address, an agent session pays from it through a real UserOperation, the initialisation cannot be
 * front-run, the first UserOperation can carry the delegation and the initialisation (EntryPoint v0.8's `0x7702`
 * initCode), and leaving Reins on purpose ends the sessions for good and removes every module (the account refuses
 * to deinitialise while one is left), under the account's hook.
 */
import { expect } from "chai";
import { ConditionFailed, ReinsError } from "../../src/client/errors.js";
import { network } from "hardhat";
import { Wallet, ZeroAddress, concat, parseEther } from "ethers";
import {
  AgentSession,
  DirectSender,
  ReinsOwner,
  defaultRecoveryCalls,
  decodeInitialize,
  delegationStatus,
  downgradeEoa,
  eip7702FirstOperation,
  policy,
  signInitialization,
  upgradeEoa,
  type ReinsDeployment,
} from "../../src/client/index.js";
import {
  MODE_SINGLE,
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_FALLBACK,
  MODULE_TYPE_HOOK,
  MODULE_TYPE_VALIDATOR,
  encodeSingle,
  executeCalldata,
} from "../../src/account/encoding.js";
import { buildOp, deployCore, handleOps, randomWallet, signAsOwner, signDigest, type Core } from "../helpers/reins.js";
import type { AgentSessions, MockERC20, ReinsAccount7702 } from "../../types/ethers-contracts/index.js";

const { ethers, networkHelpers } = await network.create();

/** Resolve to the error a promise rejects with; fail when it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection, but it resolved");
}
const USD = 10n ** 6n;

describe("EIP-7702 mode: an EOA becomes a Reins account at its own address", function () {
  let core: Core;
  let deployment: ReinsDeployment;
  let implementation: ReinsAccount7702;
  let impl: string;
  let sessions: AgentSessions;
  let token: MockERC20;
  let sender: DirectSender;

  before(async function () {
    core = await deployCore(ethers);
    const timelock = await ethers.deployContract("ReinsTimelock");
    sessions = await ethers.deployContract("AgentSessions", [await timelock.getAddress()]);
    const recovery = await ethers.deployContract("GuardianRecovery");
    implementation = await ethers.deployContract("ReinsAccount7702");
    impl = await implementation.getAddress();
    token = await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6]);
    deployment = {
      factory: await core.factory.getAddress(),
      ownerValidator: await core.ownerValidator.getAddress(),
      sessions: await sessions.getAddress(),
      timelock: await timelock.getAddress(),
      recovery: await recovery.getAddress(),
    };
    sender = new DirectSender(core.bundler);
  });

  /** A funded EOA holding 1,000 TUSD, and the owner client whose owner is that EOA. */
  async function fundedEoa(): Promise<{ eoa: Wallet; owner: ReinsOwner }> {
    const eoa = randomWallet().connect(ethers.provider);
    await (await core.deployer.sendTransaction({ to: eoa.address, value: parseEther("10") })).wait();
    await (await token.mint(eoa.address, 1_000n * USD)).wait();
    const owner = new ReinsOwner({ owner: eoa, provider: ethers.provider, deployment, sender });
    return { eoa, owner };
  }

  async function grantPayments(owner: ReinsOwner, account: string, agentKey: Wallet, to: string) {
    const config = await policy()
      .agent(agentKey.address)
      .validFor("30d")
      .maxUses(100)
      .gas({ perOp: "0.01", total: "1" })
      .queue({ delay: "1h", approvalWindow: "24h" })
      .allowTransfer("TUSD", { to: [to], max: "1000" })
      .budget("TUSD", { instant: "50", ceiling: "200", perPeriod: "300", period: "24h", lifetime: "500" })
      .build({
        provider: ethers.provider,
        account,
        tokens: { TUSD: { address: await token.getAddress(), decimals: 6 } },
      });
    const sessionId = await owner.grantSession(config);
    return new AgentSession({ agent: agentKey, account, sessionId, sessions: deployment.sessions, sender });
  }

  const transfer = (to: string, whole: bigint) => ({
    target: token.target as string,
    data: token.interface.encodeFunctionData("transfer", [to, whole * USD]),
  });

  const accountAt = (address: string) => implementation.attach(address) as ReinsAccount7702;

  it("upgrade-eoa: one type-4 self transaction; the tokens stay; an agent session pays through a UserOperation", async function () {
    const { eoa, owner } = await fundedEoa();
    const { account, txHashes } = await upgradeEoa(owner, eoa, impl, { securityDelay: 0 });
    expect(account).to.equal(eoa.address);
    expect(txHashes).to.have.length(2);
    expect(await ethers.provider.getCode(eoa.address)).to.equal("0xef0100" + impl.slice(2).toLowerCase());
    expect(await delegationStatus(ethers.provider, eoa.address, { modules: false })).to.deep.equal({
      delegate: impl,
      initialized: true,
    });
    const acct = accountAt(account);
    expect(await acct.accountId()).to.equal("reins.account.7702.0.1.0");
    expect(await acct.rootValidator()).to.equal(deployment.ownerValidator);
    expect(await core.ownerValidator.ownerOf(account)).to.equal(eoa.address);
    expect(await token.balanceOf(account)).to.equal(1_000n * USD);

    const agentKey = randomWallet().connect(ethers.provider);
    const payee = randomWallet().address;
    const agent = await grantPayments(owner, account, agentKey, payee);
    const result = await agent.send(transfer(payee, 30n));
    expect(result.status).to.equal("executed");
    expect(await token.balanceOf(payee)).to.equal(30n * USD);
    // A payment above the instant tier waits in the timelock, as on a proxy account.
    const queued = await agent.send(transfer(payee, 100n));
    expect(queued.status).to.equal("queued");
    expect(await token.balanceOf(payee)).to.equal(30n * USD);
    // Above the ceiling: waits for the owner's approval; to a payee outside the scope: refused. Nothing moves.
    expect((await agent.send(transfer(payee, 250n))).status).to.equal("queued");
    expect(await rejection(agent.send(transfer(randomWallet().address, 1n)))).to.be.instanceOf(ConditionFailed);
    expect(await token.balanceOf(payee)).to.equal(30n * USD);
    // Upgrades belong to the delegation.
    await expect(acct.connect(eoa).upgradeToAndCall(impl, "0x")).to.be.revertedWithCustomError(
      implementation,
      "ReinsAccount7702UpgradeThroughDelegation",
    );
    // Running it again changes nothing.
    expect((await upgradeEoa(owner, eoa, impl, { securityDelay: 0 })).alreadyInitialized).to.equal(true);
  });

  it("the initialisation cannot be front-run: strangers get a revert, the EOA's own signature is the only way in", async function () {
    const { eoa, owner } = await fundedEoa();
    const stranger = core.stranger;
    // The EOA delegates without initialising (a type-4 transaction with no call data).
    const nonce = await ethers.provider.getTransactionCount(eoa.address);
    const auth = await eoa.authorize({ address: impl, nonce: nonce + 1 });
    await (await eoa.sendTransaction({ type: 4, to: eoa.address, authorizationList: [auth], nonce })).wait();
    const acct = accountAt(eoa.address);
    expect(await acct.rootValidator()).to.equal(ZeroAddress);

    const args = decodeInitialize(await owner.initCall({ securityDelay: 0 }));
    const modules = args.modules.map((m) => ({ moduleTypeId: m.moduleTypeId, module: m.module, initData: m.initData }));
    const evil = randomWallet();
    const evilArgs = {
      ...args,
      rootValidatorData: ethers.AbiCoder.defaultAbiCoder().encode(["address"], [evil.address]),
    };
    // 1. The plain initializer: only the EOA itself.
    await expect(acct.connect(stranger).initialize(args.rootValidator, evilArgs.rootValidatorData, modules))
      .to.be.revertedWithCustomError(implementation, "ReinsAccount7702InitializerNotSelf")
      .withArgs(stranger.address);
    // 2. A signature by someone else.
    const chainId = core.chainId;
    const strangerSig = await signInitialization(evil, chainId, impl, evilArgs, 0n);
    await expect(
      acct
        .connect(stranger)
        .initializeWithSignature(args.rootValidator, evilArgs.rootValidatorData, modules, strangerSig),
    ).to.be.revertedWithCustomError(implementation, "ReinsAccount7702BadInitSignature");
    // 3. The EOA's signature of its own configuration, with the owner swapped by the front-runner.
    const good = await signInitialization(eoa, chainId, impl, args, 0n);
    await expect(
      acct.connect(stranger).initializeWithSignature(args.rootValidator, evilArgs.rootValidatorData, modules, good),
    ).to.be.revertedWithCustomError(implementation, "ReinsAccount7702BadInitSignature");
    // 4. ... with a module dropped.
    await expect(
      acct
        .connect(stranger)
        .initializeWithSignature(args.rootValidator, args.rootValidatorData, modules.slice(1), good),
    ).to.be.revertedWithCustomError(implementation, "ReinsAccount7702BadInitSignature");
    // 5. The EOA's signature for another init nonce (a later activation's).
    const later = await signInitialization(eoa, chainId, impl, args, 1n);
    await expect(
      acct.connect(stranger).initializeWithSignature(args.rootValidator, args.rootValidatorData, modules, later),
    ).to.be.revertedWithCustomError(implementation, "ReinsAccount7702BadInitSignature");
    expect(await acct.rootValidator()).to.equal(ZeroAddress);
    // 6. Anyone may relay the EOA's exact consent: it installs what the EOA signed, its own key the owner.
    await (
      await acct.connect(stranger).initializeWithSignature(args.rootValidator, args.rootValidatorData, modules, good)
    ).wait();
    expect(await core.ownerValidator.ownerOf(eoa.address)).to.equal(eoa.address);
    // Relaying it again does nothing (the EntryPoint repeats a 7702 initCode): no revert, no change.
    await (
      await acct.connect(stranger).initializeWithSignature(args.rootValidator, args.rootValidatorData, modules, good)
    ).wait();
    expect(await core.ownerValidator.ownerOf(eoa.address)).to.equal(eoa.address);
    // The implementation itself can never be initialised (nor is it a delegated EOA).
    await expect(
      implementation.connect(stranger).initialize(args.rootValidator, args.rootValidatorData, modules),
    ).to.be.revertedWithCustomError(implementation, "ReinsAccount7702InitializerNotSelf");
  });

  it("the first UserOperation delegates and initialises through EntryPoint v0.8's 0x7702 initCode", async function () {
    const { eoa, owner } = await fundedEoa();
    const first = await eip7702FirstOperation(owner, eoa, impl, { securityDelay: 0 });
    const eoaNonce = await ethers.provider.getTransactionCount(eoa.address);
    expect(await ethers.provider.getCode(eoa.address)).to.equal("0x");
    const setCanceller = {
      target: deployment.timelock,
      data: owner.timelock.interface.encodeFunctionData("setCanceller", [deployment.sessions, true]),
    };
    const result = await owner.execute(setCanceller, first);
    expect(result.success).to.equal(true);
    // The bundler's transaction carried the authorisation; the EOA sent nothing (its nonce moved by the authorisation only).
    expect(await ethers.provider.getTransactionCount(eoa.address)).to.equal(eoaNonce + 1);
    const status = await delegationStatus(ethers.provider, eoa.address);
    expect(status).to.deep.include({ delegate: impl, initialized: true, moduleCount: 3n });
    // What is installed, besides the owner validator: AgentSessions (validator and executor) and the timelock.
    expect(status.modules).to.have.deep.members([
      { moduleTypeId: MODULE_TYPE_VALIDATOR, module: deployment.sessions },
      { moduleTypeId: MODULE_TYPE_EXECUTOR, module: deployment.sessions },
      { moduleTypeId: MODULE_TYPE_EXECUTOR, module: deployment.timelock },
    ]);
    expect(await core.ownerValidator.ownerOf(eoa.address)).to.equal(eoa.address);
    // Later operations are ordinary owner operations at the EOA's address.
    const payee = randomWallet().address;
    await owner.execute(transfer(payee, 5n));
    expect(await token.balanceOf(payee)).to.equal(5n * USD);
    // And an agent session pays from it.
    const agentKey = randomWallet().connect(ethers.provider);
    const agent = await grantPayments(owner, eoa.address, agentKey, payee);
    expect((await agent.send(transfer(payee, 10n))).status).to.equal("executed");
    expect(await token.balanceOf(payee)).to.equal(15n * USD);
  });

  it("re-delegation: a plain round trip keeps the account as it was; leaving with downgrade-eoa ends the sessions for good", async function () {
    const { eoa, owner } = await fundedEoa();
    await upgradeEoa(owner, eoa, impl, { securityDelay: 0 });
    const agentKey = randomWallet().connect(ethers.provider);
    const payee = randomWallet().address;
    const agent = await grantPayments(owner, eoa.address, agentKey, payee);
    expect((await agent.send(transfer(payee, 1n))).status).to.equal("executed");

    // Away to another contract and back, with authorisations only: EIP-7702 keeps storage and runs no code, so the
    // account (and its session) is as it was. Documented: the owner signed an authorisation naming Reins again.
    const elsewhere = await ethers.deployContract("RecordingTarget");
    for (const target of [await elsewhere.getAddress(), impl]) {
      const n = await ethers.provider.getTransactionCount(eoa.address);
      const a = await eoa.authorize({ address: target, nonce: n + 1 });
      // Sent to another address: the EOA's own code may have no receive function while delegated away.
      await (
        await eoa.sendTransaction({ type: 4, to: core.deployer.address, authorizationList: [a], nonce: n })
      ).wait();
    }
    expect((await agent.send(transfer(payee, 1n))).status).to.equal("executed");
    expect(await token.balanceOf(payee)).to.equal(2n * USD);

    // Leaving on purpose: every module out, root gone, init nonce 1, delegation cleared.
    const { removed } = await downgradeEoa(eoa);
    expect(removed).to.have.length(3);
    expect(await ethers.provider.getCode(eoa.address)).to.equal("0x");
    expect(await delegationStatus(ethers.provider, eoa.address)).to.deep.equal({ initialized: false });
    expect(await rejection(agent.send(transfer(payee, 1n)))).to.be.instanceOf(ReinsError);

    // The first activation's consent (init nonce 0) cannot bring the old configuration back.
    const args = decodeInitialize(await owner.initCall({ securityDelay: 0 }));
    const oldConsent = await signInitialization(eoa, core.chainId, impl, args, 0n);
    const n = await ethers.provider.getTransactionCount(eoa.address);
    const back = await eoa.authorize({ address: impl, nonce: n + 1 });
    await (await eoa.sendTransaction({ type: 4, to: eoa.address, authorizationList: [back], nonce: n })).wait();
    await expect(
      accountAt(eoa.address)
        .connect(core.stranger)
        .initializeWithSignature(args.rootValidator, args.rootValidatorData, args.modules, oldConsent),
    ).to.be.revertedWithCustomError(implementation, "ReinsAccount7702BadInitSignature");
    // Back with a fresh initialisation: the old session stays dead (AgentSessions moved to a new epoch).
    await upgradeEoa(owner, eoa, impl, { securityDelay: 0 });
    expect(await accountAt(eoa.address).initNonce()).to.equal(1n);
    expect(await rejection(agent.send(transfer(payee, 1n)))).to.be.instanceOf(ReinsError);
    expect(await token.balanceOf(payee)).to.equal(2n * USD);
    // A new session works.
    const agent2 = await grantPayments(owner, eoa.address, randomWallet().connect(ethers.provider), payee);
    expect((await agent2.send(transfer(payee, 3n))).status).to.equal("executed");
    // deinitialize is the account's own call only.
    await expect(accountAt(eoa.address).connect(core.stranger).deinitialize([])).to.be.revertedWithCustomError(
      implementation,
      "ReinsAccount7702OnlySelf",
    );
  });

  it("guardian recovery: a lost EOA key's account gets a new owner for operations; sessions are revoked; the old key still sends plain transactions (EIP-7702)", async function () {
    const { eoa, owner } = await fundedEoa();
    const guardian = randomWallet();
    await upgradeEoa(owner, eoa, impl, {
      securityDelay: 0,
      guardians: {
        guardians: [guardian.address],
        threshold: 1,
        recoveryDelay: 3600n,
        guardianDelay: 3600n,
        lockDuration: 86_400n,
        onRecovery: defaultRecoveryCalls(deployment),
      },
    });
    const payee = randomWallet().address;
    const agent = await grantPayments(owner, eoa.address, randomWallet().connect(ethers.provider), payee);
    expect((await agent.send(transfer(payee, 1n))).status).to.equal("executed");

    const recovery = await ethers.getContractAt("GuardianRecovery", deployment.recovery!);
    const newKey = randomWallet().connect(ethers.provider);
    const digest = await recovery.recoveryDigest(eoa.address, newKey.address);
    const sig = concat([guardian.address, guardian.signingKey.sign(digest).serialized]);
    await (await recovery.connect(core.stranger).proposeRecovery(eoa.address, newKey.address, [sig])).wait();
    await networkHelpers.time.increase(3601);
    await (await recovery.connect(core.stranger).completeRecovery(eoa.address)).wait();
    expect(await core.ownerValidator.ownerOf(eoa.address)).to.equal(newKey.address);

    // The new owner runs owner operations at the EOA's address; the old key's operations are refused.
    const recovered = new ReinsOwner({ owner: newKey, provider: ethers.provider, deployment, sender });
    recovered.useAccount(eoa.address);
    await recovered.execute(transfer(payee, 2n));
    expect(await token.balanceOf(payee)).to.equal(3n * USD);
    expect(await rejection(owner.execute(transfer(payee, 1n)))).to.be.instanceOf(ReinsError);
    // The completed recovery revoked every session.
    expect(await rejection(agent.send(transfer(payee, 1n)))).to.be.instanceOf(ReinsError);
    expect(await token.balanceOf(payee)).to.equal(3n * USD);
    // What recovery cannot do under EIP-7702: the old EOA key still signs ordinary transactions (documented).
    const before = await ethers.provider.getBalance(payee);
    await (await eoa.sendTransaction({ to: payee, value: 1n })).wait();
    expect(await ethers.provider.getBalance(payee)).to.equal(before + 1n);
  });

  it("the watchdog and the circuit breaker work on a delegated EOA as on a proxy account", async function () {
    const { eoa, owner } = await fundedEoa();
    await upgradeEoa(owner, eoa, impl, { securityDelay: 0 });
    const payee = randomWallet().address;
    const agent = await grantPayments(owner, eoa.address, randomWallet().connect(ethers.provider), payee);
    // Watchdog: pauses every session; the owner unpauses.
    const watchdog = randomWallet().connect(ethers.provider);
    await (await core.deployer.sendTransaction({ to: watchdog.address, value: parseEther("1") })).wait();
    await owner.setWatchdog(watchdog.address);
    await (await sessions.connect(watchdog).pause(eoa.address, false)).wait();
    expect(await sessions.isPaused(eoa.address)).to.equal(true);
    expect(await rejection(agent.send(transfer(payee, 1n)))).to.be.instanceOf(ReinsError);
    await owner.unpause();
    expect((await agent.send(transfer(payee, 1n))).status).to.equal("executed");
    // Breaker: at most one agent operation per hour; the second trips it, pauses, and moves nothing.
    const breaker = await ethers.deployContract("CircuitBreaker", [deployment.sessions]);
    await owner.execute([
      {
        target: deployment.sessions,
        data: sessions.interface.encodeFunctionData("setBreaker", [await breaker.getAddress()]),
      },
      {
        target: await breaker.getAddress(),
        data: breaker.interface.encodeFunctionData("configure", [{ window: 3600n, maxOps: 1n, maxNewRecipients: 0n }]),
      },
    ]);
    await agent.send(transfer(payee, 2n));
    expect(await token.balanceOf(payee)).to.equal(3n * USD);
    await agent.send(transfer(payee, 4n)).catch(() => undefined); // trips: the operation does nothing
    expect(await sessions.isPaused(eoa.address)).to.equal(true);
    expect(await token.balanceOf(payee)).to.equal(3n * USD);
  });
  /** The EOA's own transactions to itself install these by hand (an ERC-7579 account accepts any module). */
  async function installByHand(eoa: Wallet) {
    const oldKey = randomWallet();
    const extra = await ethers.deployContract("OwnerValidator"); // a second owner validator, `oldKey` its owner
    const forwarder = await ethers.deployContract("ForwardingExecutor");
    const echo = await ethers.deployContract("EchoFallback");
    const hook = await ethers.deployContract("CountingHook");
    const echoSelector = echo.interface.getFunction("echo").selector;
    const installs: { moduleTypeId: bigint; module: string; data: string }[] = [
      {
        moduleTypeId: MODULE_TYPE_VALIDATOR,
        module: await extra.getAddress(),
        data: ethers.AbiCoder.defaultAbiCoder().encode(["address"], [oldKey.address]),
      },
      { moduleTypeId: MODULE_TYPE_EXECUTOR, module: await extra.getAddress(), data: "0x" }, // OwnerValidator as executor
      { moduleTypeId: MODULE_TYPE_EXECUTOR, module: await forwarder.getAddress(), data: "0x" },
      { moduleTypeId: MODULE_TYPE_FALLBACK, module: await echo.getAddress(), data: echoSelector },
      { moduleTypeId: MODULE_TYPE_HOOK, module: await hook.getAddress(), data: "0x" },
    ];
    const acct = accountAt(eoa.address).connect(eoa);
    for (const m of installs) await (await acct.installModule(m.moduleTypeId, m.module, m.data)).wait();
    return { oldKey, extra, forwarder, echo, hook, echoSelector, installs };
  }

  it("downgrade-eoa removes EVERY module, hand-installed ones too: after a re-upgrade with a new consent none of them validates, signs, executes or handles a call", async function () {
    const { eoa, owner } = await fundedEoa();
    await upgradeEoa(owner, eoa, impl, { securityDelay: 0 });
    const acct = accountAt(eoa.address).connect(eoa);
    const { oldKey, extra, forwarder, echo, hook, echoSelector, installs } = await installByHand(eoa);
    const extraAddress = await extra.getAddress();

    // delegationStatus shows all of them: the three Reins modules and the five installed by hand.
    const status = await delegationStatus(ethers.provider, eoa.address);
    expect(status.moduleCount).to.equal(8n);
    expect(status.modules).to.have.length(8);
    expect(status.modules).to.deep.include({
      moduleTypeId: MODULE_TYPE_FALLBACK,
      module: await echo.getAddress(),
      selector: echoSelector,
    });

    // Live now: the old key's operation through `extra` pays, its ERC-1271 signature is accepted, the executor pays.
    const payee = randomWallet().address;
    const viaExtra = async () =>
      signAsOwner(core, await buildOp(core, eoa.address, extraAddress, executeCalldata(transfer(payee, 1n))), oldKey);
    await handleOps(core, [await viaExtra()]);
    const hash = ethers.id("a message");
    const erc1271 = concat([extraAddress, signDigest(oldKey, await extra.messageDigest(eoa.address, hash))]);
    expect(await acct.isValidSignature(hash, erc1271)).to.equal("0x1626ba7e");
    await (await forwarder.forward(eoa.address, MODE_SINGLE, encodeSingle(transfer(payee, 1n)))).wait();
    expect(await token.balanceOf(payee)).to.equal(2n * USD);

    // The contract refuses to deinitialise while a module is left: the list of the modules Reins knows leaves 5.
    const known = [
      [MODULE_TYPE_VALIDATOR, deployment.sessions, "0x"],
      [MODULE_TYPE_EXECUTOR, deployment.sessions, "0x"],
      [MODULE_TYPE_EXECUTOR, deployment.timelock, "0x"],
    ] as const;
    await expect(acct.deinitialize(known.map(([t, m, d]) => ({ moduleTypeId: t, module: m, deInitData: d }))))
      .to.be.revertedWithCustomError(implementation, "ReinsAccount7702ModulesRemain")
      .withArgs(5n);

    // downgrade-eoa finds all eight from the events; the hook sees deinitialize (wrapped like uninstallModule).
    const [pre, post] = [await hook.preChecks(eoa.address), await hook.postChecks(eoa.address)];
    const { removed } = await downgradeEoa(eoa);
    expect(removed).to.have.deep.members(status.modules!);
    expect(await hook.preChecks(eoa.address)).to.equal(pre + 1n);
    expect(await hook.postChecks(eoa.address)).to.equal(post + 1n);
    expect(await hook.lastSelector(eoa.address)).to.equal(
      implementation.interface.getFunction("deinitialize").selector,
    );
    expect(await ethers.provider.getCode(eoa.address)).to.equal("0x");

    // Back with a new consent (init nonce 1) in the first UserOperation: only the modules of that consent.
    const first = await eip7702FirstOperation(owner, eoa, impl, { securityDelay: 0 });
    const setCanceller = {
      target: deployment.timelock,
      data: owner.timelock.interface.encodeFunctionData("setCanceller", [deployment.sessions, true]),
    };
    expect((await owner.execute(setCanceller, first)).success).to.equal(true);
    const back = accountAt(eoa.address);
    expect(await back.initNonce()).to.equal(1n);
    expect(await back.moduleCount()).to.equal(3n);
    for (const m of installs) {
      const context = m.moduleTypeId === MODULE_TYPE_FALLBACK ? echoSelector : "0x";
      expect(await back.isModuleInstalled(m.moduleTypeId, m.module, context), `type ${m.moduleTypeId}`).to.equal(false);
    }
    expect(await back.hook()).to.equal(ZeroAddress);
    // The old key's operation through `extra` fails validation, its signature is refused; the executor and the
    // fallback handler are refused. Nothing moved.
    await expect(handleOps(core, [await viaExtra()]))
      .to.be.revertedWithCustomError(core.entryPoint, "FailedOp")
      .withArgs(0n, "AA24 signature error");
    expect(await back.isValidSignature(hash, erc1271)).to.equal("0xffffffff");
    await expect(forwarder.forward(eoa.address, MODE_SINGLE, encodeSingle(transfer(payee, 1n))))
      .to.be.revertedWithCustomError(implementation, "ReinsAccountUnauthorizedModule")
      .withArgs(MODULE_TYPE_EXECUTOR, await forwarder.getAddress());
    await expect(echo.attach(eoa.address).getFunction("echo").staticCall(1n)).to.be.revertedWithCustomError(
      implementation,
      "ERC7579UnsupportedCallType",
    );
    expect(await token.balanceOf(payee)).to.equal(2n * USD);
  });

  it("deinitialize runs under the account's hook: a refusing hook stops it (its own removal, never wrapped, is the way out); a scan that misses modules sends nothing", async function () {
    const { eoa, owner } = await fundedEoa();
    await upgradeEoa(owner, eoa, impl, { securityDelay: 0 });
    const acct = accountAt(eoa.address).connect(eoa);
    const hook = await ethers.deployContract("CountingHook");
    await (await acct.installModule(MODULE_TYPE_HOOK, await hook.getAddress(), "0x")).wait();
    const delegated = await ethers.provider.getCode(eoa.address);

    // Events scanned from too late a block: the client sees fewer modules than the account counts and stops.
    const late = await rejection(downgradeEoa(eoa, { fromBlock: (await ethers.provider.getBlockNumber()) + 1 }));
    expect(late).to.be.instanceOf(ReinsError);
    expect((late as ReinsError).rule).to.equal("modules");
    expect((late as ReinsError).details).to.include({ count: 4n, found: 0 });

    // The hook refuses everything: deinitialize (under it) reverts, the account stays as it was.
    await (await hook.setRevertAll(true)).wait();
    await expect(acct.deinitialize([])).to.be.revertedWithCustomError(hook, "CountingHookRefused");
    expect(await rejection(downgradeEoa(eoa))).to.be.an("error");
    expect(await ethers.provider.getCode(eoa.address)).to.equal(delegated);
    expect(await acct.moduleCount()).to.equal(4n);
    // Uninstalling the hook itself is not wrapped by it; then the downgrade goes through.
    await (await acct.uninstallModule(MODULE_TYPE_HOOK, await hook.getAddress(), "0x")).wait();
    const { removed } = await downgradeEoa(eoa);
    expect(removed).to.have.length(3);
    expect(await ethers.provider.getCode(eoa.address)).to.equal("0x");
  });
});

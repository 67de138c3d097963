/**
 * Gas benchmark: Reins against eth-infinitism's SimpleAccount v0.8, side by side on one fresh in-process chain.
 *
 * Every scenario (except `queued-execute`, a plain transaction) is ONE UserOperation in its own `handleOps`
 * bundle. Conditions are the same for both accounts:
 * - accounts deployed (nonce already used once) with an EntryPoint deposit large enough that validation never
 *   pays a prefund (no `missingAccountFunds` transfer) — except in `deploy`, where both pay the prefund from
 *   their ETH balance, as a first operation does;
 * - the token already has a non-zero balance at both accounts; recipients are fresh addresses (zero balances);
 * - the same beneficiary (the bundler EOA, which is `tx.origin`), the same fees (maxFeePerGas =
 *   maxPriorityFeePerGas = 1 gwei), verificationGasLimit 500k and preVerificationGas 50k (a constant inside
 *   `actualGasUsed`, not in the receipt's `gasUsed`);
 * - callGasLimit per operation from a search: the smallest limit (1,000-gas steps) with which the operation
 *   succeeds, plus 10,000. EntryPoint v0.8 charges 10 % of the unused execution gas only when more than 40,000 is
 *   unused, so no operation pays that penalty (checked: `penaltyFree`).
 *
 * Determinism: every key and recipient is derived from a fixed string, recipients are chosen without zero bytes
 * (so calldata costs match between accounts), and every block gets a pinned timestamp (a fixed start plus 12 s
 * per block), so the numbers are identical run to run.
 */
import crypto from "node:crypto";
import {
  AbiCoder,
  Interface,
  getBytes,
  hexlify,
  Wallet,
  ZeroAddress,
  ZeroHash,
  getAddress,
  keccak256,
  toUtf8Bytes,
  zeroPadValue,
  type Signer,
} from "ethers";
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import {
  MODULE_TYPE_EXECUTOR,
  MODULE_TYPE_VALIDATOR,
  executeCalldata,
  initializeCalldata,
  wrapExecuteUserOp,
  type Call,
  type ModuleInit,
} from "../../src/account/encoding.js";
import { ENTRYPOINT_V08, ensureEntryPoint } from "../../src/infra/singletons.js";
import { signSessionOp } from "../../src/session/signature.js";
import { getUserOpHash, nonceKey, packUserOp, type UserOperation } from "../../src/userop/userop.js";
import { gasBreakdown, type GasNode, type Labels } from "./breakdown.js";
import { P256_N, encodePasskeySignature, type PasskeyAssertion } from "../../src/client/passkey.js";

/** One row of `reports/gas.json`. */
export interface GasResult {
  scenario: string;
  account: "reins" | "simple";
  /** Receipt gasUsed of the bundle transaction (for `queued-execute`: of the `timelock.execute` transaction). */
  gasUsed: number;
  /** `actualGasUsed` of the UserOperationEvent (for `queued-execute`: equal to `gasUsed`). */
  actualGasUsed: number;
}

/** Extra facts about one measurement, for the Markdown report. */
export interface GasDetail extends GasResult {
  /** callGasLimit used (0 for the plain transaction). */
  callGasLimit: number;
  /** Whether the EntryPoint's unused-gas penalty was zero (actualGasUsed unchanged between the minimal and the
   * used callGasLimit). */
  penaltyFree: boolean;
  txHash: string;
}

export interface BenchmarkOptions {
  /** Trace the Reins transactions (and the Simple counterparts) and attribute their gas. Default false. */
  breakdown?: boolean;
  /** Progress log. */
  log?: (line: string) => void;
}

export interface BenchmarkOutput {
  results: GasResult[];
  details: GasDetail[];
  /** Per `scenario/account`: gas attribution tree (only with `breakdown`). */
  breakdowns: Map<string, GasNode>;
}

/** Scenario names, in run order. The `*-first` rows are extras (first use of a session / token budget). */
export const SCENARIOS = [
  "deploy",
  "native-transfer-owner",
  "erc20-transfer-owner",
  "erc20-batch5-owner",
  "native-transfer-owner-7702",
  "erc20-transfer-owner-7702",
  "session-grant",
  "native-transfer-agent-first",
  "erc20-transfer-agent-first",
  "native-transfer-agent",
  "erc20-transfer-agent",
  "erc20-queue-agent",
  "queued-execute",
  "erc20-transfer-owner-passkey",
  "erc20-transfer-agent-value",
] as const;

/** Which SimpleAccount scenario a Reins scenario is compared with. */
export const BASELINE_OF: Record<string, string | undefined> = {
  deploy: "deploy",
  "native-transfer-owner": "native-transfer-owner",
  "erc20-transfer-owner": "erc20-transfer-owner",
  "erc20-batch5-owner": "erc20-batch5-owner",
  "native-transfer-owner-7702": "native-transfer-owner",
  "erc20-transfer-owner-7702": "erc20-transfer-owner",
  "native-transfer-agent-first": "native-transfer-owner",
  "erc20-transfer-agent-first": "erc20-transfer-owner",
  "native-transfer-agent": "native-transfer-owner",
  "erc20-transfer-agent": "erc20-transfer-owner",
  "erc20-queue-agent": "erc20-transfer-owner",
  "erc20-transfer-owner-passkey": "erc20-transfer-owner",
  "erc20-transfer-agent-value": "erc20-transfer-owner",
};

/** Target ratios (Reins gasUsed / SimpleAccount gasUsed), from the AgentSessions-by-phase issue (18). */
export const TARGETS: Record<string, number> = {
  deploy: 1.0,
  "native-transfer-owner": 1.07,
  "erc20-transfer-owner": 1.07,
  "erc20-batch5-owner": 1.07,
  "native-transfer-agent": 1.5,
  "erc20-transfer-agent": 1.5,
};

const T0 = 2_000_000_000; // 2033-05-18: pinned start of the chain's clock
const BLOCK_TIME = 12;
const GWEI = 1_000_000_000n;
const VERIFICATION_GAS = 500_000n;
const PRE_VERIFICATION_GAS = 50_000n;
const CALL_GAS_STEP = 1_000n;
const CALL_GAS_MARGIN = 10_000n;
/** Stake owner given to the benchmark's factory (irrelevant to gas; fixed for determinism). */
const STAKE_OWNER = "0x000000000000000000000000000000000000dEaD";
const NATIVE_AMOUNT = 10n ** 15n; // 0.001 ETH: inside the session's instant tier (0.01 ETH)
const TOKEN_AMOUNT = 10n * 10n ** 6n; // 10 TUSD: inside the instant tier (100 TUSD)
const QUEUED_AMOUNT = 500n * 10n ** 6n; // 500 TUSD: delayed tier (1 h)
const HOUR = 3600n;
const DAY = 24n * HOUR;

const SIMPLE_ACCOUNT = new Interface([
  "function execute(address target, uint256 value, bytes data)",
  "function executeBatch((address target, uint256 value, bytes data)[] calls)",
  "function validateUserOp((address,uint256,bytes,bytes,bytes32,uint256,bytes32,bytes,bytes),bytes32,uint256)",
  "function initialize(address owner)",
]);
const ERC20 = new Interface([
  "function transfer(address to, uint256 amount) returns (bool)",
  "function balanceOf(address) view returns (uint256)",
]);
const SIMPLE_FACTORY = new Interface([
  "function createAccount(address owner, uint256 salt) returns (address)",
  "function getAddress(address owner, uint256 salt) view returns (address)",
]);

/**
 * A deterministic software passkey for `name` (P-256 key from a fixed string) that signs WebAuthn assertions with
 * fixed authenticator and client data. ECDSA nonces are random, so it re-signs until r and the low s have no zero
 * byte: the calldata cost, hence the gas, is then the same run to run.
 */
function benchPasskey(name: string) {
  const d = Buffer.from(keccak256(toUtf8Bytes(`reins-bench/passkey/${name}`)).slice(2), "hex");
  const ecdh = crypto.createECDH("prime256v1");
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey(); // 0x04 ‖ x ‖ y
  const [x, y] = [pub.subarray(1, 33), pub.subarray(33, 65)];
  const key = crypto.createPrivateKey({
    key: {
      kty: "EC",
      crv: "P-256",
      d: d.toString("base64url"),
      x: x.toString("base64url"),
      y: y.toString("base64url"),
    },
    format: "jwk",
  });
  const authenticatorData = Buffer.concat([
    crypto.createHash("sha256").update("reins.bench").digest(),
    Buffer.from([0x05, 0, 0, 0, 0]), // UP | UV, sign count 0
  ]);
  const noZeroByte = (v: bigint) => !(v.toString(16).padStart(64, "0").match(/../g) ?? ([] as string[])).includes("00");
  return {
    qx: hexlify(x),
    qy: hexlify(y),
    sign(challenge: Uint8Array): PasskeyAssertion {
      const clientDataJSON = Buffer.from(
        `{"type":"webauthn.get","challenge":"${Buffer.from(challenge).toString("base64url")}","origin":"https://reins.bench"}`,
      );
      const message = Buffer.concat([authenticatorData, crypto.createHash("sha256").update(clientDataJSON).digest()]);
      for (;;) {
        const sig = crypto.sign("sha256", message, { key, dsaEncoding: "ieee-p1363" });
        const r = BigInt(hexlify(sig.subarray(0, 32)));
        const raw = BigInt(hexlify(sig.subarray(32)));
        const s = raw > P256_N / 2n ? P256_N - raw : raw;
        if (noZeroByte(r) && noZeroByte(s)) return { authenticatorData, clientDataJSON, signature: { r, s } };
      }
    },
  };
}

/** Deterministic private key for `name`. */
function wallet(name: string): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(`reins-bench/${name}`)));
}

/** A deterministic fresh address for `name` with no zero byte (so calldata costs do not depend on the pick). */
function recipient(name: string): string {
  for (let i = 0; ; i++) {
    const a = keccak256(toUtf8Bytes(`reins-bench/recipient/${name}/${i}`)).slice(26);
    const bytes: string[] = a.match(/../g) ?? [];
    if (!bytes.includes("00")) return getAddress("0x" + a);
  }
}

interface Chain {
  ethers: HardhatEthers;
  send(method: string, params: unknown[]): Promise<unknown>;
  /** Pin the next block's timestamp (call before every transaction). */
  tick(seconds?: number): Promise<void>;
  /** Take a snapshot; the returned function reverts to it (and rewinds the pinned clock). */
  snapshot(): Promise<() => Promise<void>>;
}

function makeChain(ethers: HardhatEthers): Chain {
  const send = (m: string, p: unknown[]) => ethers.provider.send(m, p) as Promise<unknown>;
  let last = T0 - BLOCK_TIME;
  return {
    ethers,
    send,
    async tick(seconds = BLOCK_TIME) {
      last += seconds;
      await send("evm_setNextBlockTimestamp", [last]);
    },
    async snapshot() {
      const id = await send("evm_snapshot", []);
      const saved = last;
      return async () => {
        await send("evm_revert", [id]);
        last = saved;
      };
    },
  };
}

/**
 * Run the benchmark on `ethers`' chain, which must be a fresh in-process (EDR) chain: it pins block timestamps
 * from a fixed start, so it cannot share a chain with anything else.
 */
export async function runBenchmark(ethers: HardhatEthers, options: BenchmarkOptions = {}): Promise<BenchmarkOutput> {
  const log = options.log ?? (() => {});
  const chain = makeChain(ethers);
  const [deployer, bundler, keeper] = await ethers.getSigners();
  const beneficiary = await bundler.getAddress();
  const chainId = (await ethers.provider.getNetwork()).chainId;

  async function tx<T extends { wait(): Promise<unknown> }>(send: () => Promise<T>): Promise<T> {
    await chain.tick();
    const t = await send();
    await t.wait();
    return t;
  }
  async function deploy(name: string, args: unknown[] = []) {
    await chain.tick();
    const c = await ethers.deployContract(name, args);
    await c.waitForDeployment();
    return c;
  }

  // ---------------------------------------------------------------------------------------------- contracts
  await chain.tick();
  await ensureEntryPoint(deployer as unknown as Signer);
  const entryPoint = await ethers.getContractAt(
    "@account-abstraction/contracts/interfaces/IEntryPoint.sol:IEntryPoint",
    ENTRYPOINT_V08,
  );
  const ownerValidator = await deploy("OwnerValidator");
  const implementation = await deploy("ReinsAccount");
  const factory = await deploy("ReinsAccountFactory", [await implementation.getAddress(), STAKE_OWNER]);
  const timelock = await deploy("ReinsTimelock");
  const sessions = await deploy("AgentSessions", [await timelock.getAddress()]);
  const simpleFactory = await deploy(
    "@account-abstraction/contracts/accounts/SimpleAccountFactory.sol:SimpleAccountFactory",
    [ENTRYPOINT_V08],
  );
  const token = await deploy("MockERC20", ["Test USD", "TUSD", 6]);
  const [ownerValidatorAddr, factoryAddr, timelockAddr, sessionsAddr, simpleFactoryAddr, tokenAddr] = await Promise.all(
    [ownerValidator, factory, timelock, sessions, simpleFactory, token].map((c) => c.getAddress()),
  );

  const owner = wallet("owner");
  const agent = wallet("agent");
  const delayData = AbiCoder.defaultAbiCoder().encode(["uint32"], [0]);

  // ---------------------------------------------------------------------------------------------- op plumbing
  type Kind = "reins" | "simple";
  const reinsOwnerKey = nonceKey(ownerValidatorAddr);
  const reinsAgentKey = nonceKey(sessionsAddr);

  function sign(op: UserOperation, signer: { kind: Kind | "agent"; sessionId?: string; key?: Wallet }): UserOperation {
    const hash = getUserOpHash(op, ENTRYPOINT_V08, chainId);
    if (signer.key) return { ...op, signature: signer.key.signingKey.sign(hash).serialized };
    if (signer.kind === "agent")
      return {
        ...op,
        signature: signSessionOp(agent.signingKey, { chainId, sessions: sessionsAddr }, hash, signer.sessionId!),
      };
    return { ...op, signature: owner.signingKey.sign(hash).serialized };
  }

  async function buildOp(
    sender: string,
    key: bigint,
    callData: string,
    callGasLimit: bigint,
    extra: Partial<UserOperation> = {},
  ): Promise<UserOperation> {
    return {
      sender,
      nonce: await entryPoint.getNonce(sender, key),
      callData,
      callGasLimit,
      verificationGasLimit: VERIFICATION_GAS,
      preVerificationGas: PRE_VERIFICATION_GAS,
      maxFeePerGas: GWEI,
      maxPriorityFeePerGas: GWEI,
      signature: "0x",
      ...extra,
    };
  }

  /** Send one op in its own bundle; returns the receipt facts. */
  async function sendOp(op: UserOperation) {
    await chain.tick();
    const t = await entryPoint.connect(bundler).getFunction("handleOps")([packUserOp(op)], beneficiary, {
      gasLimit: 15_000_000n,
    });
    const receipt = (await t.wait())!;
    let success = false;
    let actualGasUsed = 0n;
    let reason = "";
    for (const l of receipt.logs) {
      const parsed = entryPoint.interface.parseLog(l);
      if (parsed?.name === "UserOperationEvent") {
        success = parsed.args.success;
        actualGasUsed = parsed.args.actualGasUsed;
      }
      if (parsed?.name === "UserOperationRevertReason") reason = parsed.args.revertReason;
    }
    return { receipt, success, actualGasUsed, reason };
  }

  /**
   * Find the smallest callGasLimit (in CALL_GAS_STEP) with which `make(limit)` succeeds (in snapshots that are
   * reverted), then send it for real with that limit + CALL_GAS_MARGIN.
   */
  async function measure(
    scenario: string,
    account: Kind,
    make: (callGasLimit: bigint) => Promise<UserOperation>,
  ): Promise<GasDetail> {
    const probe = async (limit: bigint) => {
      const restore = await chain.snapshot();
      try {
        return await sendOp(await make(limit));
      } finally {
        await restore();
      }
    };
    let lo = 0n; // fails
    let hi = 2_000_000n; // succeeds
    const top = await probe(hi);
    if (!top.success) throw new Error(`${scenario}/${account}: fails even with callGasLimit ${hi}: ${top.reason}`);
    while (hi - lo > CALL_GAS_STEP) {
      const mid = ((lo + hi) / 2n / CALL_GAS_STEP) * CALL_GAS_STEP;
      if ((await probe(mid)).success) hi = mid;
      else lo = mid;
    }
    const minimal = await probe(hi);
    const limit = hi + CALL_GAS_MARGIN;
    const final = await sendOp(await make(limit));
    if (!final.success) throw new Error(`${scenario}/${account} failed: ${final.reason}`);
    const detail: GasDetail = {
      scenario,
      account,
      gasUsed: Number(final.receipt.gasUsed),
      actualGasUsed: Number(final.actualGasUsed),
      callGasLimit: Number(limit),
      penaltyFree: minimal.actualGasUsed === final.actualGasUsed,
      txHash: final.receipt.hash,
    };
    log(`${scenario.padEnd(28)} ${account.padEnd(6)} gasUsed ${detail.gasUsed} actualGasUsed ${detail.actualGasUsed}`);
    return detail;
  }

  const reinsCall = (c: Call | Call[]) => executeCalldata(c);
  const simpleCall = (c: Call | Call[]) =>
    Array.isArray(c)
      ? SIMPLE_ACCOUNT.encodeFunctionData("executeBatch", [c.map((x) => [x.target, x.value ?? 0n, x.data ?? "0x"])])
      : SIMPLE_ACCOUNT.encodeFunctionData("execute", [c.target, c.value ?? 0n, c.data ?? "0x"]);
  const transfer = (to: string, amount: bigint): Call => ({
    target: tokenAddr,
    data: ERC20.encodeFunctionData("transfer", [to, amount]),
  });

  const details: GasDetail[] = [];

  // ---------------------------------------------------------------------------------------------- deploy
  // Reins: owner validator only. SimpleAccount: through SimpleAccountFactory (createAccount needs the
  // EntryPoint's SenderCreator as caller, so initCode is the only way).
  const reinsInit = initializeCalldata(ownerValidatorAddr, owner.address, []);
  const reinsDeployAddr = await factory.getFunction("getAccountAddress")(reinsInit, ZeroHash);
  const simpleAddr: string = await simpleFactory.getFunction("getAddress")(owner.address, 0n);
  for (const a of [reinsDeployAddr, simpleAddr]) {
    await tx(() => deployer.sendTransaction({ to: a, value: 10n ** 18n }));
  }
  const reinsInitCode = {
    factory: factoryAddr,
    factoryData: factory.interface.encodeFunctionData("createAccount", [reinsInit, ZeroHash]),
  };
  const simpleInitCode = {
    factory: simpleFactoryAddr,
    factoryData: SIMPLE_FACTORY.encodeFunctionData("createAccount", [owner.address, 0n]),
  };
  details.push(
    await measure("deploy", "reins", async (l) =>
      sign(
        await buildOp(
          reinsDeployAddr,
          reinsOwnerKey,
          reinsCall({ target: recipient("deploy/reins"), value: NATIVE_AMOUNT }),
          l,
          reinsInitCode,
        ),
        { kind: "reins" },
      ),
    ),
  );
  details.push(
    await measure("deploy", "simple", async (l) =>
      sign(
        await buildOp(
          simpleAddr,
          0n,
          simpleCall({ target: recipient("deploy/simple"), value: NATIVE_AMOUNT }),
          l,
          simpleInitCode,
        ),
        { kind: "simple" },
      ),
    ),
  );

  // ---------------------------------------------------------------------------------------------- setup
  // The Reins account used from here on has the agent modules (as in the test fixtures); its first operation
  // (unmeasured) registers AgentSessions as the timelock's canceller. SimpleAccount's first op was `deploy`.
  const modules: ModuleInit[] = [
    { moduleTypeId: MODULE_TYPE_VALIDATOR, module: sessionsAddr, initData: delayData },
    { moduleTypeId: MODULE_TYPE_EXECUTOR, module: sessionsAddr, initData: delayData },
    { moduleTypeId: MODULE_TYPE_EXECUTOR, module: timelockAddr, initData: "0x" },
  ];
  const fullInit = initializeCalldata(ownerValidatorAddr, owner.address, modules);
  const reinsAddr: string = await factory.getFunction("getAccountAddress")(fullInit, ZeroHash);
  await tx(() => deployer.sendTransaction({ to: reinsAddr, value: 10n ** 18n }));
  const setup = await sendOp(
    sign(
      await buildOp(
        reinsAddr,
        reinsOwnerKey,
        reinsCall({
          target: timelockAddr,
          data: timelock.interface.encodeFunctionData("setCanceller", [sessionsAddr, true]),
        }),
        1_000_000n,
        {
          factory: factoryAddr,
          factoryData: factory.interface.encodeFunctionData("createAccount", [fullInit, ZeroHash]),
        },
      ),
      { kind: "reins" },
    ),
  );
  if (!setup.success) throw new Error("Reins account setup failed: " + setup.reason);
  for (const a of [reinsAddr, simpleAddr]) {
    await tx(() => deployer.sendTransaction({ to: a, value: 10n * 10n ** 18n }));
    await tx(() => entryPoint.connect(deployer).getFunction("depositTo")(a, { value: 10n ** 18n }));
    await tx(() => token.getFunction("mint")(a, 1_000_000n * 10n ** 6n));
  }

  // ---------------------------------------------------------------------------------------------- owner ops
  const ownerScenario = async (scenario: string, calls: (k: Kind) => Call | Call[]) => {
    details.push(
      await measure(scenario, "reins", async (l) =>
        sign(await buildOp(reinsAddr, reinsOwnerKey, reinsCall(calls("reins")), l), { kind: "reins" }),
      ),
    );
    details.push(
      await measure(scenario, "simple", async (l) =>
        sign(await buildOp(simpleAddr, 0n, simpleCall(calls("simple")), l), { kind: "simple" }),
      ),
    );
  };
  await ownerScenario("native-transfer-owner", (k) => ({ target: recipient(`native/${k}`), value: NATIVE_AMOUNT }));
  await ownerScenario("erc20-transfer-owner", (k) => transfer(recipient(`erc20/${k}`), TOKEN_AMOUNT));
  await ownerScenario("erc20-batch5-owner", (k) =>
    [0, 1, 2, 3, 4].map((i) => transfer(recipient(`batch/${k}/${i}`), TOKEN_AMOUNT)),
  );

  // ---------------------------------------------------------------------------------------------- EIP-7702
  // An EOA delegated to ReinsAccount7702 with the same modules as the Reins account above, initialised by its own
  // type-4 transaction (delegation and `initialize` in one); then the same owner transfers at the EOA's address.
  const impl7702 = await deploy("ReinsAccount7702");
  const eoa = wallet("eoa-7702").connect(ethers.provider);
  await tx(() => deployer.sendTransaction({ to: eoa.address, value: 10n * 10n ** 18n }));
  const eoaNonce = await ethers.provider.getTransactionCount(eoa.address);
  const auth = await eoa.authorize({ address: await impl7702.getAddress(), nonce: eoaNonce + 1, chainId });
  const upgrade = await tx(() =>
    eoa.sendTransaction({
      type: 4,
      to: eoa.address,
      data: initializeCalldata(ownerValidatorAddr, eoa.address, modules),
      authorizationList: [auth],
      nonce: eoaNonce,
      gasLimit: 3_000_000n,
    }),
  );
  log(`upgrade-eoa (type-4 delegation + initialize): gasUsed ${(await upgrade.wait())!.gasUsed}`);
  await tx(() => entryPoint.connect(deployer).getFunction("depositTo")(eoa.address, { value: 10n ** 18n }));
  await tx(() => token.getFunction("mint")(eoa.address, 1_000_000n * 10n ** 6n));
  // Its first owner operation (unmeasured, as for the proxy account above): registers the canceller and moves the
  // owner nonce off zero, so the measured rows compare like with like.
  const setup7702 = await sendOp(
    sign(
      await buildOp(
        eoa.address,
        reinsOwnerKey,
        reinsCall({
          target: timelockAddr,
          data: timelock.interface.encodeFunctionData("setCanceller", [sessionsAddr, true]),
        }),
        1_000_000n,
      ),
      { kind: "reins", key: eoa },
    ),
  );
  if (!setup7702.success) throw new Error("EIP-7702 account setup failed: " + setup7702.reason);
  const owner7702 = async (scenario: string, call: Call) =>
    details.push(
      await measure(scenario, "reins", async (l) =>
        sign(await buildOp(eoa.address, reinsOwnerKey, reinsCall(call), l), { kind: "reins", key: eoa }),
      ),
    );
  await owner7702("native-transfer-owner-7702", { target: recipient("native/7702"), value: NATIVE_AMOUNT });
  await owner7702("erc20-transfer-owner-7702", transfer(recipient("erc20/7702"), TOKEN_AMOUNT));

  // ---------------------------------------------------------------------------------------------- session
  // The shape of the test fixtures' `paymentsConfig`: ERC-20 transfers to 3 allow-listed recipients (OneOf +
  // AtMost), native transfers to the same 3, budgets for the token and for ETH with instant/ceiling tiers.
  const allowed = [0, 1, 2].map((i) => recipient(`agent/${i}`));
  const config = {
    agent: agent.address,
    validAfter: 0n,
    validUntil: BigInt(T0) + 365n * DAY,
    maxUses: 1000n,
    maxGasCostPerOp: 10n ** 16n,
    gasBudget: 10n ** 18n,
    allowTry: false,
    allowPaymaster: false,
    queueDelay: HOUR,
    approvalWindow: DAY,
    permissions: [
      {
        target: tokenAddr,
        selector: ERC20.getFunction("transfer")!.selector,
        valueCap: 0n,
        calldataLength: 68n,
        conditions: [
          { op: 4, word: 0n, value: ZeroHash, oneOf: allowed.map((r) => zeroPadValue(r, 32)) },
          { op: 2, word: 1n, value: zeroPadValue("0x" + (10n ** 12n).toString(16), 32), oneOf: [] },
        ],
      },
      ...allowed.map((r) => ({
        target: r,
        selector: "0x00000000",
        valueCap: 10n ** 18n,
        calldataLength: 0n,
        conditions: [],
      })),
    ],
    budgets: [
      {
        token: tokenAddr,
        instantThreshold: 100n * 10n ** 6n,
        ceiling: 1_000n * 10n ** 6n,
        periodCap: 2_000n * 10n ** 6n,
        lifetimeCap: 10_000n * 10n ** 6n,
        period: DAY,
      },
      {
        token: ZeroAddress,
        instantThreshold: 10n ** 16n,
        ceiling: 10n ** 17n,
        periodCap: 2n * 10n ** 17n,
        lifetimeCap: 10n ** 18n,
        period: DAY,
      },
    ],
  };
  const grantCall = { target: sessionsAddr, data: sessions.interface.encodeFunctionData("grantSession", [config]) };
  const grantDetail = await measure("session-grant", "reins", async (l) =>
    sign(await buildOp(reinsAddr, reinsOwnerKey, reinsCall(grantCall), l), { kind: "reins" }),
  );
  details.push(grantDetail);
  const grantReceipt = await ethers.provider.getTransactionReceipt(grantDetail.txHash);
  let sessionId = "";
  for (const l of grantReceipt!.logs) {
    const parsed = sessions.interface.parseLog(l);
    if (parsed?.name === "SessionGranted") sessionId = parsed.args.sessionId;
  }
  if (!sessionId) throw new Error("no SessionGranted event");

  // ---------------------------------------------------------------------------------------------- agent ops
  const agentScenario = (scenario: string, call: Call) =>
    measure(scenario, "reins", async (l) =>
      sign(await buildOp(reinsAddr, reinsAgentKey, wrapExecuteUserOp(executeCalldata(call)), l), {
        kind: "agent",
        sessionId,
      }),
    );
  // First use: the session's gasSpent, the agent nonce key and the budgets' spend windows go from zero.
  details.push(await agentScenario("native-transfer-agent-first", { target: allowed[0], value: NATIVE_AMOUNT }));
  details.push(await agentScenario("erc20-transfer-agent-first", transfer(allowed[0], TOKEN_AMOUNT)));
  // Steady state: the session and both budgets have been used before (same spend-window bucket).
  details.push(await agentScenario("native-transfer-agent", { target: allowed[1], value: NATIVE_AMOUNT }));
  details.push(await agentScenario("erc20-transfer-agent", transfer(allowed[1], TOKEN_AMOUNT)));
  // Above the instant tier: the operation is scheduled in the timelock instead of executed.
  const queueDetail = await agentScenario("erc20-queue-agent", transfer(allowed[2], QUEUED_AMOUNT));
  details.push(queueDetail);

  // ---------------------------------------------------------------------------------------------- queued
  const queueReceipt = await ethers.provider.getTransactionReceipt(queueDetail.txHash);
  let scheduled: { id: string; mode: string; executionCalldata: string } | undefined;
  for (const l of queueReceipt!.logs) {
    try {
      const parsed = timelock.interface.parseLog(l);
      if (parsed?.name === "OperationScheduled") scheduled = parsed.args as unknown as typeof scheduled;
    } catch {
      /* not a timelock event */
    }
  }
  if (!scheduled) throw new Error("erc20-queue-agent: no OperationScheduled event");
  await chain.tick(Number(HOUR) + 1); // the delay has passed
  const execTx = await timelock.connect(keeper).getFunction("execute")(
    reinsAddr,
    scheduled.id,
    scheduled.mode,
    scheduled.executionCalldata,
    { gasLimit: 1_000_000n },
  );
  const execReceipt = (await execTx.wait())!;
  if (execReceipt.status !== 1) throw new Error("queued-execute failed");
  if ((await token.getFunction("balanceOf")(allowed[2])) !== QUEUED_AMOUNT)
    throw new Error("queued-execute paid nothing");
  details.push({
    scenario: "queued-execute",
    account: "reins",
    gasUsed: Number(execReceipt.gasUsed),
    actualGasUsed: Number(execReceipt.gasUsed),
    callGasLimit: 0,
    penaltyFree: true,
    txHash: execReceipt.hash,
  });
  log(`${"queued-execute".padEnd(28)} reins  gasUsed ${execReceipt.gasUsed}`);

  // ---------------------------------------------------------------------------------------------- passkey owner
  // An account whose root validator is PasskeyValidator (WebAuthn P-256, verified by the P256VERIFY precompile of
  // the default hardfork); deployed by an unmeasured first op, then the same ERC-20 transfer as
  // `erc20-transfer-owner`. Last in the run, so it does not move any other scenario's addresses or clock.
  const passkeyValidator = await deploy("PasskeyValidator", [ownerValidatorAddr]);
  const passkeyValidatorAddr = await passkeyValidator.getAddress();
  const passkey = benchPasskey("owner");
  const passkeyInit = initializeCalldata(
    passkeyValidatorAddr,
    AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [passkey.qx, passkey.qy]),
  );
  const passkeyAddr: string = await factory.getFunction("getAccountAddress")(passkeyInit, ZeroHash);
  const passkeyKey = nonceKey(passkeyValidatorAddr);
  const passkeySign = async (op: UserOperation) => ({
    ...op,
    signature: encodePasskeySignature(passkey.sign(getBytes(getUserOpHash(op, ENTRYPOINT_V08, chainId)))),
  });
  await tx(() => deployer.sendTransaction({ to: passkeyAddr, value: 10n * 10n ** 18n }));
  const passkeySetup = await sendOp(
    await passkeySign(
      await buildOp(passkeyAddr, passkeyKey, reinsCall([]), 100_000n, {
        factory: factoryAddr,
        factoryData: factory.interface.encodeFunctionData("createAccount", [passkeyInit, ZeroHash]),
      }),
    ),
  );
  if (!passkeySetup.success) throw new Error("passkey account setup failed: " + passkeySetup.reason);
  await tx(() => entryPoint.connect(deployer).getFunction("depositTo")(passkeyAddr, { value: 10n ** 18n }));
  await tx(() => token.getFunction("mint")(passkeyAddr, 1_000_000n * 10n ** 6n));
  details.push(
    await measure("erc20-transfer-owner-passkey", "reins", async (l) =>
      passkeySign(
        await buildOp(passkeyAddr, passkeyKey, reinsCall(transfer(recipient("erc20/passkey"), TOKEN_AMOUNT)), l),
      ),
    ),
  );

  // ---------------------------------------------------------------------------------------------- value budget
  // The agent's steady-state ERC-20 transfer again, with a USD value budget on the session and the token priced by
  // a Chainlink-style feed (issue 19): valued in the execution phase (assessment and charge). Last in the run.
  const feed = await deploy("MockAggregator", [8, 10n ** 8n]);
  const valueSetup = await sendOp(
    await sign(
      await buildOp(
        reinsAddr,
        reinsOwnerKey,
        reinsCall([
          {
            target: sessionsAddr,
            data: sessions.interface.encodeFunctionData("setPriceSource", [
              tokenAddr,
              6,
              {
                kind: 2,
                rateDecimals: 0,
                maxStaleness: 365n * DAY,
                feed: await feed.getAddress(),
                rate: 0n,
                minPrice: 9n * 10n ** 7n,
                maxPrice: 11n * 10n ** 7n,
              },
            ]),
          },
          {
            target: sessionsAddr,
            data: sessions.interface.encodeFunctionData("setValueBudget", [
              sessionId,
              {
                unit: "0x5553440000000000",
                unitDecimals: 8,
                period: DAY,
                instantThreshold: 100n * 10n ** 8n,
                ceiling: 1_000n * 10n ** 8n,
                periodCap: 2_000n * 10n ** 8n,
                lifetimeCap: 10_000n * 10n ** 8n,
              },
            ]),
          },
        ]),
        400_000n,
      ),
      { kind: "reins" },
    ),
  );
  if (!valueSetup.success) throw new Error("value budget setup failed: " + valueSetup.reason);
  // first valued spend (unmeasured): the value budget's window goes from zero
  const valueFirst = await sendOp(
    await sign(
      await buildOp(
        reinsAddr,
        reinsAgentKey,
        wrapExecuteUserOp(executeCalldata(transfer(allowed[0], TOKEN_AMOUNT))),
        600_000n,
      ),
      {
        kind: "agent",
        sessionId,
      },
    ),
  );
  if (!valueFirst.success) throw new Error("first valued agent op failed: " + valueFirst.reason);
  details.push(await agentScenario("erc20-transfer-agent-value", transfer(allowed[1], TOKEN_AMOUNT)));

  // ---------------------------------------------------------------------------------------------- breakdown
  const breakdowns = new Map<string, GasNode>();
  if (options.breakdown) {
    const labels: Labels = {
      addresses: new Map<string, string>([
        [ENTRYPOINT_V08.toLowerCase(), "EntryPoint"],
        [(await entryPoint.senderCreator()).toLowerCase(), "SenderCreator"],
        [ownerValidatorAddr.toLowerCase(), "OwnerValidator"],
        [(await implementation.getAddress()).toLowerCase(), "ReinsAccount(impl)"],
        [factoryAddr.toLowerCase(), "ReinsAccountFactory"],
        [timelockAddr.toLowerCase(), "ReinsTimelock"],
        [sessionsAddr.toLowerCase(), "AgentSessions"],
        [simpleFactoryAddr.toLowerCase(), "SimpleAccountFactory"],
        [((await simpleFactory.getFunction("accountImplementation")()) as string).toLowerCase(), "SimpleAccount(impl)"],
        [tokenAddr.toLowerCase(), "TUSD"],
        [reinsAddr.toLowerCase(), "ReinsAccount"],
        [reinsDeployAddr.toLowerCase(), "ReinsAccount"],
        [simpleAddr.toLowerCase(), "SimpleAccount"],
        [beneficiary.toLowerCase(), "beneficiary"],
      ]),
      interfaces: [
        entryPoint.interface,
        ownerValidator.interface,
        implementation.interface,
        factory.interface,
        timelock.interface,
        sessions.interface,
        simpleFactory.interface,
        token.interface,
        SIMPLE_ACCOUNT,
        new Interface([
          "function createSender(bytes)",
          "function innerHandleOp(bytes,(uint256,bytes32,bytes32,address,uint256,uint256,uint256,uint256,uint256,address,uint256,uint256),bytes)",
        ]),
      ],
    };
    for (const d of details) {
      breakdowns.set(`${d.scenario}/${d.account}`, await gasBreakdown(chain, d.txHash, labels));
    }
  }

  const results: GasResult[] = details.map(({ scenario, account, gasUsed, actualGasUsed }) => ({
    scenario,
    account,
    gasUsed,
    actualGasUsed,
  }));
  return { results, details, breakdowns };
}

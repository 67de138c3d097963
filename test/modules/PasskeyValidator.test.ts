/**
 * PasskeyValidator (issue 15, part 1): an account whose root validator is a WebAuthn P-256 passkey makes owner
 * operations through the EntryPoint, grants a session, approves a queued request, rotates its passkey and rotates
 * to an ECDSA OwnerValidator owner; bad assertions give SIG_VALIDATION_FAILED and change nothing; ERC-1271 is bound
 * to the account and the chain. WebAuthn is simulated with node:crypto P-256 keys. The owner operation runs with the
 * P256VERIFY precompile (Hardhat's default hardfork, osaka, has EIP-7951 at 0x100) and without it (prague), and the
 * gas of a passkey owner op is printed next to an ECDSA owner op measured in the same run.
 */
import { expect } from "chai";
import { network } from "hardhat";
import crypto from "node:crypto";
import { AbiCoder, ZeroHash, getBytes, hexlify, keccak256, toUtf8Bytes, type Wallet } from "ethers";
import {
  MODULE_TYPE_VALIDATOR,
  accountInterface,
  executeCalldata,
  initializeCalldata,
  type Call,
} from "../../src/account/encoding.js";
import { ENTRYPOINT_V08, ensureEntryPoint } from "../../src/infra/singletons.js";
import { formatViolations } from "../../src/erc7562/index.js";
import { runScenario } from "../../src/erc7562/scenario.js";
import { passkeyScenarios } from "../../src/erc7562/scenarios/passkey.js";
import { packUserOp, type UserOperation } from "../../src/userop/userop.js";
import {
  P256_N,
  encodePasskeySignature,
  parseDerSignature,
  passkeyMessageDigest,
  signMessageWithPasskey,
  signUserOpWithPasskey,
  type PasskeyAssertion,
  type PasskeySigner,
} from "../../src/client/passkey.js";
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
} from "../helpers/reins.js";
import {
  DAY,
  TIER,
  agentOp,
  deploySessionWorld,
  parseEvents,
  paymentsConfig,
  sendAgent,
  transferCall,
} from "../helpers/sessions.js";
import type { PasskeyValidator } from "../../types/ethers-contracts/index.js";

const withPrecompile = await network.create();
const withoutPrecompile = await network.create({ override: { hardfork: "prague" } });
const { ethers, networkHelpers } = withPrecompile;

const abi = AbiCoder.defaultAbiCoder();
const SIG_VALIDATION_FAILED = 1n;
const U = 10n ** 6n;

// ------------------------------------------------------------------------------------- simulated WebAuthn

interface AssertionOptions {
  /** authenticatorData flags byte (default UP | UV = 0x05). */
  flags?: number;
  type?: string;
  /** Sign this challenge instead of the one asked for. */
  challenge?: Uint8Array;
  /** Rewrite the client data JSON before signing. */
  editClientData?: (json: string) => string;
  dsaEncoding?: "der" | "ieee-p1363";
}

interface Passkey {
  qx: string;
  qy: string;
  installData: string;
  signer: (o?: AssertionOptions) => PasskeySigner;
}

function newPasskey(): Passkey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const qx = hexlify(Buffer.from(jwk.x!, "base64url"));
  const qy = hexlify(Buffer.from(jwk.y!, "base64url"));
  return {
    qx,
    qy,
    installData: abi.encode(["bytes32", "bytes32"], [qx, qy]),
    signer:
      (o: AssertionOptions = {}) =>
      async (challenge: Uint8Array) =>
        webauthnAssert(privateKey, challenge, o),
  };
}

/** What an authenticator + browser produce for `navigator.credentials.get` with `challenge`. */
function webauthnAssert(key: crypto.KeyObject, challenge: Uint8Array, o: AssertionOptions): PasskeyAssertion {
  const rpIdHash = crypto.createHash("sha256").update("reins.example").digest();
  const authenticatorData = Buffer.concat([rpIdHash, Buffer.from([o.flags ?? 0x05]), Buffer.from([0, 0, 0, 7])]);
  let json = JSON.stringify({
    type: o.type ?? "webauthn.get",
    challenge: Buffer.from(o.challenge ?? challenge).toString("base64url"),
    origin: "https://reins.example",
    crossOrigin: false,
  });
  if (o.editClientData) json = o.editClientData(json);
  const clientDataHash = crypto.createHash("sha256").update(json).digest();
  const signature = crypto.sign("sha256", Buffer.concat([authenticatorData, clientDataHash]), {
    key,
    dsaEncoding: o.dsaEncoding ?? "ieee-p1363",
  });
  return { authenticatorData, clientDataJSON: Buffer.from(json), signature };
}

/** Re-encode a validator signature with the high-s twin of its (valid, low) s. */
function toHighS(encoded: string): string {
  const types = ["bytes32", "bytes32", "uint256", "uint256", "bytes", "string"];
  const [r, s, ci, ti, ad, cd] = abi.decode(types, encoded);
  const high = "0x" + (P256_N - BigInt(s)).toString(16).padStart(64, "0");
  return abi.encode(types, [r, high, ci, ti, ad, cd]);
}

// ------------------------------------------------------------------------------------- fixtures

interface PasskeyWorld {
  core: Core;
  validator: PasskeyValidator;
  validatorAddress: string;
  passkey: Passkey;
  account: string;
}

async function deployValidator(e: Ethers, core: Core) {
  const validator = await e.deployContract("PasskeyValidator", [await core.ownerValidator.getAddress()]);
  return { validator, validatorAddress: await validator.getAddress() };
}

/** A fresh account whose root validator is the passkey (deployed by its first owner op, which the passkey signs). */
async function passkeyWorldOn(e: Ethers): Promise<PasskeyWorld> {
  const core = await deployCore(e);
  const { validator, validatorAddress } = await deployValidator(e, core);
  const passkey = newPasskey();
  const initCall = initializeCalldata(validatorAddress, passkey.installData);
  const account = await core.factory.getAccountAddress(initCall, ZeroHash);
  await fund(e, account);
  const first = await buildOp(core, account, validatorAddress, executeCalldata([]), {
    factory: core.factory.target as string,
    factoryData: core.factory.interface.encodeFunctionData("createAccount", [initCall, ZeroHash]),
  });
  const ev = await send(core, await signUserOpWithPasskey(first, passkey.signer(), ENTRYPOINT_V08, core.chainId));
  if (!ev.success) throw new Error("passkey account deployment failed: " + ev.revertReason);
  return { core, validator, validatorAddress, passkey, account };
}

async function send(core: Core, op: UserOperation) {
  return userOpEvents(core, await handleOps(core, [op]))[0];
}

async function passkeyOwnerOp(
  w: Pick<PasskeyWorld, "core" | "validatorAddress" | "account">,
  calls: Call | Call[],
  signer: PasskeySigner,
): Promise<UserOperation> {
  const op = await buildOp(w.core, w.account, w.validatorAddress, executeCalldata(calls));
  return signUserOpWithPasskey(op, signer, ENTRYPOINT_V08, w.core.chainId);
}

function ethTransfer(to: string, value: bigint): Call {
  return { target: to, value, data: "0x" };
}

function selfCall(account: string, fn: string, args: unknown[]): Call {
  return { target: account, data: accountInterface.encodeFunctionData(fn, args) };
}

/** P256VERIFY (0x100) on a valid input: 32 bytes of 1 when the precompile exists, empty otherwise. */
async function hasP256Precompile(e: Ethers): Promise<boolean> {
  const msg = Buffer.from("precompile probe");
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const sig = crypto.sign("sha256", msg, { key: privateKey, dsaEncoding: "ieee-p1363" });
  const input = Buffer.concat([
    crypto.createHash("sha256").update(msg).digest(),
    sig,
    Buffer.from(jwk.x!, "base64url"),
    Buffer.from(jwk.y!, "base64url"),
  ]);
  const out = await e.provider.call({ to: "0x0000000000000000000000000000000000000100", data: hexlify(input) });
  return BigInt(out === "0x" ? 0 : out) === 1n;
}

/** `validateUserOp(op, hash)` called as `account` (an eth_call with `from` = the account). */
async function validateAs(w: PasskeyWorld, op: UserOperation): Promise<bigint> {
  const data = w.validator.interface.encodeFunctionData("validateUserOp", [packUserOp(op), opHash(w.core, op)]);
  return BigInt(await ethers.provider.call({ to: w.validatorAddress, from: w.account, data }));
}

/** Named fixtures (loadFixture snapshots per function). */
function passkeyWorld(): Promise<PasskeyWorld> {
  return passkeyWorldOn(ethers);
}
function passkeyWorldWithout(): Promise<PasskeyWorld> {
  return passkeyWorldOn(withoutPrecompile.ethers);
}
function sessionWorld() {
  return deploySessionWorld(ethers);
}

// ------------------------------------------------------------------------------------- tests

describe("PasskeyValidator: passkey (WebAuthn P-256) root validator", function () {
  this.timeout(120_000);

  const gas: Record<string, bigint> = {};

  for (const [label, conn, precompile, fixture] of [
    ["with the P256VERIFY precompile (osaka)", withPrecompile, true, passkeyWorld],
    ["without the precompile (prague, Solidity P-256 fallback)", withoutPrecompile, false, passkeyWorldWithout],
  ] as const) {
    it(`owner operations through the EntryPoint ${label}; gas next to an ECDSA owner op`, async () => {
      const e = conn.ethers;
      expect(await hasP256Precompile(e), "precompile presence").to.equal(precompile);
      const w = await conn.networkHelpers.loadFixture(fixture);
      const account = await e.getContractAt("ReinsAccount", w.account);
      expect(await account.rootValidator()).to.equal(w.validatorAddress);

      const to = randomWallet().address;
      // DER signature, as browsers return it (the client parses it and normalises s)
      const op = await passkeyOwnerOp(w, ethTransfer(to, 12345n), w.passkey.signer({ dsaEncoding: "der" }));
      const ev = await send(w.core, op);
      expect(ev.success, ev.revertReason).to.equal(true);
      expect(await e.provider.getBalance(to)).to.equal(12345n);
      gas[precompile ? "passkey (precompile)" : "passkey (Solidity fallback)"] = ev.actualGasUsed;

      // the same call from an ECDSA-owned account, same chain, same run
      const to2 = randomWallet().address; // also a fresh recipient: same new-account cost
      const owner = randomWallet();
      const handle = await counterfactualAccount(w.core, owner);
      await fund(e, handle.address);
      const ownerValidator = await w.core.ownerValidator.getAddress();
      const deployOp = signAsOwner(
        w.core,
        await buildOp(w.core, handle.address, ownerValidator, executeCalldata([]), factoryData(w.core, handle)),
        owner,
      );
      expect((await send(w.core, deployOp)).success).to.equal(true);
      const ecdsaOp = signAsOwner(
        w.core,
        await buildOp(w.core, handle.address, ownerValidator, executeCalldata(ethTransfer(to2, 12345n))),
        owner,
      );
      const ecdsa = await send(w.core, ecdsaOp);
      expect(ecdsa.success).to.equal(true);
      gas[precompile ? "ECDSA (osaka run)" : "ECDSA (prague run)"] = ecdsa.actualGasUsed;
    });
  }

  after(() => {
    if (Object.keys(gas).length === 0) return;
    console.log("      gas of an owner op (ETH transfer, actualGasUsed):");
    for (const [k, v] of Object.entries(gas)) console.log(`        ${k.padEnd(30)} ${v}`);
  });

  it("install data, rotation by the account, views", async () => {
    const w = await networkHelpers.loadFixture(passkeyWorld);
    expect(await w.validator.isModuleType(1n)).to.equal(true);
    expect(await w.validator.isModuleType(2n)).to.equal(true); // executor: the safety net's queue guard
    expect(await w.validator.isModuleType(3n)).to.equal(false);
    expect(await w.validator.passkeyOf(w.account)).to.deep.equal([w.passkey.qx, w.passkey.qy]);
    expect(await w.validator.isInitialized(w.account)).to.equal(true);
    await expect(w.validator.onInstall("0x1234")).to.be.revertedWithCustomError(
      w.validator,
      "PasskeyValidatorInvalidInstallData",
    );
    const offCurve = abi.encode(["bytes32", "bytes32"], [w.passkey.qx, keccak256("0x01")]);
    await expect(w.validator.onInstall(offCurve)).to.be.revertedWithCustomError(
      w.validator,
      "PasskeyValidatorInvalidKey",
    );
    await expect(w.validator.setPasskey(w.passkey.qx, w.passkey.qy)).to.be.revertedWithCustomError(
      w.validator,
      "PasskeyValidatorNotInstalled",
    );

    const next = newPasskey();
    const rotate = await passkeyOwnerOp(
      w,
      { target: w.validatorAddress, data: w.validator.interface.encodeFunctionData("setPasskey", [next.qx, next.qy]) },
      w.passkey.signer(),
    );
    expect((await send(w.core, rotate)).success).to.equal(true);
    expect(await w.validator.passkeyOf(w.account)).to.deep.equal([next.qx, next.qy]);
    // the old passkey no longer validates, the new one does
    const old = await passkeyOwnerOp(w, [], w.passkey.signer());
    await expect(handleOps(w.core, [old])).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp");
    expect((await send(w.core, await passkeyOwnerOp(w, [], next.signer()))).success).to.equal(true);
  });

  describe("bad assertions give SIG_VALIDATION_FAILED and change nothing", () => {
    const cases: [string, (w: PasskeyWorld, op: UserOperation) => Promise<string>][] = [
      ["wrong challenge", async (w, op) => sign(w, op, { challenge: getBytes(keccak256("0xbad0")) })],
      ["UP flag missing", async (w, op) => sign(w, op, { flags: 0x04 })],
      ["UV flag missing", async (w, op) => sign(w, op, { flags: 0x01 })],
      ["BS without BE", async (w, op) => sign(w, op, { flags: 0x15 })],
      ["wrong type (webauthn.create)", async (w, op) => sign(w, op, { type: "webauthn.create" })],
      ["high s", async (w, op) => toHighS(await sign(w, op))],
      [
        "malformed client data (challenge quote cut)",
        async (w, op) => sign(w, op, { editClientData: (j) => j.replace(/","origin"/, ',"origin"') }),
      ],
      [
        "another passkey",
        async (w, op) => encodePasskeySignature(await newPasskey().signer()(getBytes(opHash(w.core, op)))),
      ],
      ["truncated encoding", async (w, op) => (await sign(w, op)).slice(0, 2 + 2 * 0xc0)],
      ["garbage bytes", async () => hexlify(crypto.randomBytes(300))],
      ["empty", async () => "0x"],
    ];

    async function sign(w: PasskeyWorld, op: UserOperation, o: AssertionOptions = {}) {
      return encodePasskeySignature(await w.passkey.signer(o)(getBytes(opHash(w.core, op))));
    }

    for (const [name, make] of cases) {
      it(name, async () => {
        const w = await networkHelpers.loadFixture(passkeyWorld);
        const to = randomWallet().address;
        const op = await buildOp(w.core, w.account, w.validatorAddress, executeCalldata(ethTransfer(to, 1n)));
        const bad = { ...op, signature: await make(w, op) };
        // validateUserOp returns 1 (does not revert), called as the account
        const result = await validateAs(w, bad);
        expect(result).to.equal(SIG_VALIDATION_FAILED);
        const nonce = await w.core.entryPoint.getNonce(w.account, BigInt(w.validatorAddress) << 32n);
        await expect(handleOps(w.core, [bad]))
          .to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp")
          .withArgs(0n, "AA24 signature error");
        expect(await w.core.entryPoint.getNonce(w.account, BigInt(w.validatorAddress) << 32n)).to.equal(nonce);
        expect(await ethers.provider.getBalance(to)).to.equal(0n);
        // the well-formed assertion for the same op does validate (so the case above fails for its own reason)
        const good = { ...op, signature: await sign(w, op) };
        expect(await validateAs(w, good)).to.equal(0n);
      });
    }
  });

  it("without the precompile too (Solidity P-256): bad assertions give SIG_VALIDATION_FAILED, the good one passes", async () => {
    const e = withoutPrecompile.ethers;
    const w = await withoutPrecompile.networkHelpers.loadFixture(passkeyWorldWithout);
    const op = await buildOp(
      w.core,
      w.account,
      w.validatorAddress,
      executeCalldata(ethTransfer(randomWallet().address, 1n)),
    );
    const signed = async (o: AssertionOptions = {}) =>
      encodePasskeySignature(await w.passkey.signer(o)(getBytes(opHash(w.core, op))));
    const validate = async (signature: string) => {
      const data = w.validator.interface.encodeFunctionData("validateUserOp", [
        packUserOp({ ...op, signature }),
        opHash(w.core, op),
      ]);
      return BigInt(await e.provider.call({ to: w.validatorAddress, from: w.account, data }));
    };
    const bad: [string, string][] = [
      ["wrong challenge", await signed({ challenge: getBytes(keccak256("0xbad0")) })],
      ["UV flag missing", await signed({ flags: 0x01 })],
      ["UP flag missing", await signed({ flags: 0x04 })],
      ["high s", toHighS(await signed())],
      ["malformed client data", await signed({ editClientData: (j) => j.replace(/","origin"/, ',"origin"') })],
    ];
    for (const [name, signature] of bad) expect(await validate(signature), name).to.equal(SIG_VALIDATION_FAILED);
    expect(await validate(await signed())).to.equal(0n);
  });

  it("ERC-1271: valid for the account and chain it was made for, not for another account or chain", async () => {
    const w = await networkHelpers.loadFixture(passkeyWorld);
    const account = await ethers.getContractAt("ReinsAccount", w.account);
    const hash = keccak256(toUtf8Bytes("order #1"));
    expect(await w.validator.messageDigest(w.account, hash)).to.equal(
      passkeyMessageDigest(w.account, hash, w.core.chainId),
    );
    // mirrors OwnerValidator.messageDigest exactly
    expect(await w.validator.messageDigest(w.account, hash)).to.equal(
      await w.core.ownerValidator.messageDigest(w.account, hash),
    );
    const sig = await signMessageWithPasskey(w.account, w.validatorAddress, hash, w.core.chainId, w.passkey.signer());
    expect(await account.isValidSignature(hash, sig)).to.equal("0x1626ba7e");
    expect(await account.isValidSignature(keccak256(toUtf8Bytes("order #2")), sig)).to.equal("0xffffffff");

    // a second account with the same passkey: the first account's signature is refused
    const initCall = initializeCalldata(w.validatorAddress, w.passkey.installData);
    const salt = "0x" + "01".padStart(64, "0");
    const other = await w.core.factory.getAccountAddress(initCall, salt);
    await (await w.core.factory.createAccount(initCall, salt)).wait();
    const otherAccount = await ethers.getContractAt("ReinsAccount", other);
    expect(await otherAccount.isValidSignature(hash, sig)).to.equal("0xffffffff");
    // another chain id
    const wrongChain = await signMessageWithPasskey(w.account, w.validatorAddress, hash, 1n, w.passkey.signer());
    expect(await account.isValidSignature(hash, wrongChain)).to.equal("0xffffffff");
    // UV missing
    const noUv = await signMessageWithPasskey(
      w.account,
      w.validatorAddress,
      hash,
      w.core.chainId,
      w.passkey.signer({ flags: 0x01 }),
    );
    expect(await account.isValidSignature(hash, noUv)).to.equal("0xffffffff");
  });

  it("an ECDSA account installs the passkey, makes it root, grants a session and approves a queued request", async () => {
    const sw = await networkHelpers.loadFixture(sessionWorld);
    const { validatorAddress } = await deployValidator(ethers, sw.core);
    const passkey = newPasskey();
    const ownerValidator = await sw.core.ownerValidator.getAddress();
    // the ECDSA owner installs the passkey validator and makes it root
    const migrate = signAsOwner(
      sw.core,
      await buildOp(
        sw.core,
        sw.accountAddress,
        ownerValidator,
        executeCalldata([
          selfCall(sw.accountAddress, "installModule", [MODULE_TYPE_VALIDATOR, validatorAddress, passkey.installData]),
          {
            target: sw.accountAddress,
            data: sw.account.interface.encodeFunctionData("setRootValidator", [validatorAddress]),
          },
          selfCall(sw.accountAddress, "uninstallModule", [MODULE_TYPE_VALIDATOR, ownerValidator, "0x"]),
        ]),
      ),
      sw.owner,
    );
    const receipt = await handleOps(sw.core, [migrate]);
    expect(userOpEvents(sw.core, receipt)[0].success, userOpEvents(sw.core, receipt)[0].revertReason).to.equal(true);
    expect(await sw.account.rootValidator()).to.equal(validatorAddress);
    const rootChanged = receipt.logs
      .map((l) => {
        try {
          return sw.account.interface.parseLog(l);
        } catch {
          return null;
        }
      })
      .find((p) => p?.name === "RootValidatorChanged");
    expect(rootChanged?.args.current).to.equal(validatorAddress);
    // the ECDSA key is out: its operations no longer validate
    const ecdsa = signAsOwner(
      sw.core,
      await buildOp(sw.core, sw.accountAddress, ownerValidator, executeCalldata([])),
      sw.owner,
    );
    await expect(handleOps(sw.core, [ecdsa])).to.be.revertedWithCustomError(sw.core.entryPoint, "FailedOp");

    const w = { core: sw.core, validatorAddress, account: sw.accountAddress };
    // grant a session with the passkey
    const P = 100n * U;
    const config = await paymentsConfig(sw, {
      budgets: [
        { token: sw.tokenAddress, instantThreshold: P, ceiling: P, periodCap: P, lifetimeCap: 10n * P, period: DAY },
      ],
    });
    const grantOp = await passkeyOwnerOp(
      w,
      { target: sw.sessionsAddress, data: sw.sessions.interface.encodeFunctionData("grantSession", [config]) },
      passkey.signer(),
    );
    const grantReceipt = await handleOps(sw.core, [grantOp]);
    expect(userOpEvents(sw.core, grantReceipt)[0].success).to.equal(true);
    const granted = parseEvents(sw, grantReceipt).find((e) => e.name === "SessionGranted");
    const sessionId = granted!.args.sessionId as string;

    // the agent asks for more than the ceiling: queued for approval
    const r = sw.recipients[0];
    const { events, receipt: agentReceipt } = await sendAgent(sw, [
      await agentOp(sw, sessionId, transferCall(sw, r, 2n * P)),
    ]);
    expect(events[0].success, events[0].revertReason).to.equal(true);
    const evs = parseEvents(sw, agentReceipt);
    const queued = evs.find((e) => e.name === "OperationQueued")!;
    const scheduled = evs.find((e) => e.name === "OperationScheduled")!;
    expect(queued.args.tier).to.equal(TIER.Approval);
    const requestId = queued.args.requestId as string;
    expect(await sw.token.balanceOf(r)).to.equal(0n);

    // the passkey owner approves it; anyone then runs it
    const approve = await passkeyOwnerOp(
      w,
      {
        target: await sw.timelock.getAddress(),
        data: sw.timelock.interface.encodeFunctionData("approve", [requestId]),
      },
      passkey.signer(),
    );
    expect((await send(sw.core, approve)).success).to.equal(true);
    await (
      await sw.timelock.execute(
        sw.accountAddress,
        requestId,
        scheduled.args.mode as string,
        scheduled.args.executionCalldata as string,
      )
    ).wait();
    expect(await sw.token.balanceOf(r)).to.equal(2n * P);
  });

  it("rotates back to an ECDSA OwnerValidator owner, then the passkey is out", async () => {
    const w = await networkHelpers.loadFixture(passkeyWorld);
    const owner: Wallet = randomWallet();
    const ownerValidator = await w.core.ownerValidator.getAddress();
    const rotate = await passkeyOwnerOp(
      w,
      [
        selfCall(w.account, "installModule", [
          MODULE_TYPE_VALIDATOR,
          ownerValidator,
          abi.encode(["address"], [owner.address]),
        ]),
        {
          target: w.account,
          data: (await ethers.getContractAt("ReinsAccount", w.account)).interface.encodeFunctionData(
            "setRootValidator",
            [ownerValidator],
          ),
        },
        selfCall(w.account, "uninstallModule", [MODULE_TYPE_VALIDATOR, w.validatorAddress, "0x"]),
      ],
      w.passkey.signer(),
    );
    const ev = await send(w.core, rotate);
    expect(ev.success, ev.revertReason).to.equal(true);
    const account = await ethers.getContractAt("ReinsAccount", w.account);
    expect(await account.rootValidator()).to.equal(ownerValidator);
    expect(await w.core.ownerValidator.ownerOf(w.account)).to.equal(owner.address);
    expect(await w.validator.isInitialized(w.account)).to.equal(false);

    const to = randomWallet().address;
    const ecdsa = signAsOwner(
      w.core,
      await buildOp(w.core, w.account, ownerValidator, executeCalldata(ethTransfer(to, 7n))),
      owner,
    );
    expect((await send(w.core, ecdsa)).success).to.equal(true);
    expect(await ethers.provider.getBalance(to)).to.equal(7n);
    const stale = await passkeyOwnerOp(w, ethTransfer(to, 7n), w.passkey.signer());
    await expect(handleOps(w.core, [stale])).to.be.revertedWithCustomError(w.core.entryPoint, "FailedOp");
  });

  it("client: DER parsing and low-s normalisation", async () => {
    const pk = newPasskey();
    const challenge = getBytes(keccak256("0x01"));
    const der = await pk.signer({ dsaEncoding: "der" })(challenge);
    const raw = { ...der };
    const { r, s } = parseDerSignature(der.signature as Uint8Array);
    // a high-s signature given to the client comes out low
    const high = encodePasskeySignature({ ...raw, signature: { r, s: s > P256_N / 2n ? s : P256_N - s } });
    const [, encodedS] = abi.decode(["bytes32", "bytes32"], high.slice(0, 2 + 128));
    expect(BigInt(encodedS) <= P256_N / 2n).to.equal(true);
    expect(() => parseDerSignature("0x3001")).to.throw(/DER/);
    expect(() => encodePasskeySignature({ ...raw, clientDataJSON: '{"type":"webauthn.get"}' })).to.throw(/challenge/);
  });

  describe("ERC-7562: owner op signed by a passkey, all entities unstaked", () => {
    // Only with the precompile: without it, OpenZeppelin's Solidity verifier makes a ~1-minute trace on which
    // src/erc7562/trace.ts's stats (JSON.stringify of the struct logs) throw "Do not know how to serialize a
    // BigInt" (see the issue 15 report).
    for (const [label, conn] of [["with the precompile", withPrecompile]] as const) {
      for (const scenario of passkeyScenarios) {
        it(`${scenario.name}, ${label}`, async () => {
          const [deployer] = await conn.ethers.getSigners();
          await ensureEntryPoint(deployer);
          const ctx = {
            ethers: conn.ethers,
            deployer,
            entryPoint: ENTRYPOINT_V08,
            chainId: (await conn.ethers.provider.getNetwork()).chainId,
          };
          const r = await runScenario(conn.ethers.provider, ctx, scenario);
          expect(r.ok, `${r.refusal ?? "accepted"}\n${formatViolations(r.violations)}`).to.equal(true);
          expect(r.violations.length, formatViolations(r.violations)).to.equal(0);
        });
      }
    }
  });
});

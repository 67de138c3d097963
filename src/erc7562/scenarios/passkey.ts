/**
 * ERC-7562 scenarios on a Reins account whose root validator is PasskeyValidator (WebAuthn P-256): an owner
 * operation signed by a passkey validates within the rules with every entity unstaked. Validation reads the
 * account's key from PasskeyValidator (slots `keccak256(account ‖ p)` and `+1`, associated with the account) and
 * calls P256VERIFY at 0x100 when the chain has it (allowed: RIP-7212 / EIP-7951) or, without it, OpenZeppelin's
 * Solidity verifier, which uses only the core modexp precompile (0x05). The passkey is simulated with a node:crypto
 * P-256 key, signing what an authenticator signs (`authenticatorData ‖ sha256(clientDataJSON)`).
 */
import crypto from "node:crypto";
import { AbiCoder, Interface, ZeroHash, hexlify, parseEther } from "ethers";
import {
  MODE_SINGLE,
  MODULE_TYPE_EXECUTOR,
  accountInterface,
  encodeSingle,
  executeCalldata,
  initializeCalldata,
  type Call,
} from "../../account/encoding.js";
import { encodePasskeySignature, type PasskeySigner } from "../../client/passkey.js";
import { getUserOpHash, type UserOperation } from "../../userop/userop.js";
import { sendHandleOps, type Scenario, type ScenarioBundle, type ScenarioContext } from "../scenario.js";

/** A software passkey: its public key and a WebAuthn signer (UP and UV set, `"type":"webauthn.get"`). */
export interface SoftwarePasskey {
  qx: string;
  qy: string;
  signer: PasskeySigner;
}

/** Generate a P-256 key and a signer producing WebAuthn assertions the way a browser and authenticator do. */
export function softwarePasskey(origin = "https://reins.example"): SoftwarePasskey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const rpIdHash = crypto.createHash("sha256").update(new URL(origin).hostname).digest();
  return {
    qx: hexlify(Buffer.from(jwk.x!, "base64url")),
    qy: hexlify(Buffer.from(jwk.y!, "base64url")),
    signer: async (challenge) => {
      const authenticatorData = Buffer.concat([rpIdHash, Buffer.from([0x05, 0, 0, 0, 1])]);
      const json = JSON.stringify({
        type: "webauthn.get",
        challenge: Buffer.from(challenge).toString("base64url"),
        origin,
        crossOrigin: false,
      });
      const clientDataHash = crypto.createHash("sha256").update(json).digest();
      const signature = crypto.sign("sha256", Buffer.concat([authenticatorData, clientDataHash]), {
        key: privateKey,
        dsaEncoding: "der",
      });
      return { authenticatorData, clientDataJSON: Buffer.from(json), signature };
    },
  };
}

/** A deployed Reins account with a passkey root, and a builder of its passkey-signed owner operations. */
export interface PasskeyAccountWorld {
  account: string;
  validator: string;
  names: Record<string, string>;
  /** An owner operation for `calls`, signed by the passkey (`deploy`: carries the initCode). */
  ownerOp: (calls: Call | Call[], deploy?: boolean) => Promise<UserOperation>;
}

const DAY = 24n * 3600n;
const SAFETY_NET = new Interface([
  "function enableSafetyNet((address lockSource, address timelock, uint48 minDelay) config)",
]);

const EP = new Interface(["function getNonce(address sender, uint192 key) view returns (uint256)"]);

/**
 * Deploy OwnerValidator (the recovery target PasskeyValidator's constructor names), PasskeyValidator, ReinsAccount
 * and ReinsAccountFactory; pick a counterfactual passkey-root account.
 */
export async function deployPasskeyWorld(ctx: ScenarioContext): Promise<PasskeyAccountWorld> {
  const { ethers, deployer, entryPoint, chainId } = ctx;
  const ownerValidatorC = await ethers.deployContract("OwnerValidator", deployer);
  const validatorC = await ethers.deployContract("PasskeyValidator", [await ownerValidatorC.getAddress()], deployer);
  const implementationC = await ethers.deployContract("ReinsAccount", deployer);
  const implementation = await implementationC.getAddress();
  const factory = await ethers.deployContract(
    "ReinsAccountFactory",
    [implementation, await deployer.getAddress()],
    deployer,
  );
  const validator = await validatorC.getAddress();
  const factoryAddress = await factory.getAddress();
  const passkey = softwarePasskey();
  const installData = AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [passkey.qx, passkey.qy]);
  const initCall = initializeCalldata(validator, installData);
  const account: string = await factory.getFunction("getAccountAddress")(initCall, ZeroHash);
  await (await deployer.sendTransaction({ to: account, value: parseEther("1") })).wait();
  const key = BigInt(validator) << 32n;
  const ownerOp = async (calls: Call | Call[], deploy = false): Promise<UserOperation> => {
    const [nonce] = EP.decodeFunctionResult(
      "getNonce",
      await ethers.provider.call({ to: entryPoint, data: EP.encodeFunctionData("getNonce", [account, key]) }),
    );
    const op: UserOperation = {
      sender: account,
      nonce: nonce as bigint,
      callData: executeCalldata(calls),
      callGasLimit: 200_000n,
      verificationGasLimit: 800_000n,
      preVerificationGas: 60_000n,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
      signature: "0x",
      ...(deploy
        ? {
            factory: factoryAddress,
            factoryData: factory.interface.encodeFunctionData("createAccount", [initCall, ZeroHash]),
          }
        : {}),
    };
    const challenge = Buffer.from(getUserOpHash(op, entryPoint, chainId).slice(2), "hex");
    return { ...op, signature: encodePasskeySignature(await passkey.signer(challenge)) };
  };
  return {
    account,
    validator,
    ownerOp,
    names: {
      [account]: "ReinsAccount (passkey)",
      [implementation]: "ReinsAccount impl",
      [factoryAddress]: "ReinsAccountFactory",
      [validator]: "PasskeyValidator",
      [entryPoint]: "EntryPoint",
    },
  };
}

/** The passkey scenarios (registered in `scripts/check-7562.ts`). */
export const passkeyScenarios: Scenario[] = [
  {
    name: "Reins: owner op signed by a passkey (PasskeyValidator root, account deployed)",
    expect: "pass",
    build: async (ctx): Promise<ScenarioBundle> => {
      const w = await deployPasskeyWorld(ctx);
      const to = await ctx.deployer.getAddress();
      await sendHandleOps(ctx.deployer, ctx.entryPoint, [await w.ownerOp({ target: to, value: 0n }, true)]);
      return { ops: [await w.ownerOp({ target: to, value: parseEther("0.01") })], names: w.names };
    },
  },
  {
    name: "Reins: passkey owner op with the owner safety net on (validation reads the guardian lock)",
    expect: "pass",
    build: async (ctx): Promise<ScenarioBundle> => {
      const w = await deployPasskeyWorld(ctx);
      const { ethers, deployer } = ctx;
      const recovery = await ethers.deployContract("GuardianRecovery", deployer);
      const timelock = await ethers.deployContract("ReinsTimelock", deployer);
      const recoveryAddress = await recovery.getAddress();
      const timelockAddress = await timelock.getAddress();
      const install = AbiCoder.defaultAbiCoder().encode(
        ["address[]", "uint8", "uint32", "uint32", "uint32", "tuple(address target, bytes data)[]"],
        [[await deployer.getAddress()], 1, DAY, DAY, DAY, []],
      );
      const enable = SAFETY_NET.encodeFunctionData("enableSafetyNet", [
        { lockSource: recoveryAddress, timelock: timelockAddress, minDelay: DAY },
      ]);
      await sendHandleOps(deployer, ctx.entryPoint, [
        await w.ownerOp(
          [
            {
              target: w.account,
              data: accountInterface.encodeFunctionData("installModule", [
                MODULE_TYPE_EXECUTOR,
                recoveryAddress,
                install,
              ]),
            },
            {
              target: w.account,
              data: accountInterface.encodeFunctionData("installModule", [MODULE_TYPE_EXECUTOR, w.validator, "0x"]),
            },
            { target: w.validator, data: enable },
          ],
          true,
        ),
      ]);
      // the only kind of owner operation the net lets through at once: a delayed schedule guarded by the validator
      const schedule = timelock.interface.encodeFunctionData("schedule", [
        MODE_SINGLE,
        encodeSingle({ target: await deployer.getAddress(), value: parseEther("0.01") }),
        DAY,
        DAY,
        false,
        w.validator,
        ZeroHash,
      ]);
      return {
        ops: [await w.ownerOp({ target: timelockAddress, data: schedule })],
        names: { ...w.names, [recoveryAddress]: "GuardianRecovery", [timelockAddress]: "ReinsTimelock" },
      };
    },
  },
];

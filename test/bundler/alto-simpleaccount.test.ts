/**
 * End-to-end against a real bundler: Alto (`@pimlico/alto`) in front of Hardhat's chain, EntryPoint v0.8 and
 * the reference SimpleAccount from `@account-abstraction/contracts`.
 */
import { createRequire } from "node:module";
import { expect } from "chai";
import { BaseWallet, Contract, Interface, Wallet, hexlify, id, parseEther, type Signer } from "ethers";
import { BundlerClient } from "../../src/bundler/client.js";
import { BundlerRpcError, UserOperationRejected } from "../../src/bundler/errors.js";
import { getUserOpHash, type UserOperation } from "../../src/userop/userop.js";
import { startBundlerEnv, type BundlerEnv } from "../helpers/alto.js";
import { waitFor } from "../helpers/wait.js";

const FACTORY = "@account-abstraction/contracts/accounts/SimpleAccountFactory.sol:SimpleAccountFactory";
/** SimpleAccount is deployed by the factory; its ABI comes from the package's own artifact. */
const ACCOUNT_ABI = (
  createRequire(import.meta.url)("@account-abstraction/contracts/artifacts/SimpleAccount.json") as { abi: unknown[] }
).abi;
const ECDSA_ERRORS = new Interface([
  "error ECDSAInvalidSignature()",
  "error ECDSAInvalidSignatureLength(uint256 length)",
  "error ECDSAInvalidSignatureS(bytes32 s)",
]);

/** A decoded custom error, as the Reins client would produce from revert bytes. */
class DecodedContractError extends Error {
  override readonly name = "DecodedContractError" as const;
  constructor(
    readonly errorName: string,
    readonly args: readonly unknown[],
  ) {
    super(`${errorName}(${args.map(String).join(", ")})`);
  }
}

const decodeEcdsa = (data: string): Error | undefined => {
  const parsed = ECDSA_ERRORS.parseError(data);
  return parsed ? new DecodedContractError(parsed.name, [...parsed.args]) : undefined;
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** Capture the rejection a promise ends with (fails the test if it does not reject). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  expect.fail("expected the bundler to reject");
}

describe("Alto bundler × SimpleAccount (EntryPoint v0.8)", function () {
  this.timeout(90_000);

  let env: BundlerEnv;
  let bundler: BundlerClient;
  let funder: Signer;
  const owner = Wallet.createRandom();
  const stranger = Wallet.createRandom();
  let factoryAddress: string;
  let factoryData: string;
  let sender: string;
  let account: Interface;
  let stubSignature: string;

  /** Fees comfortably above the chain's current base fee. */
  async function fees(): Promise<Pick<UserOperation, "maxFeePerGas" | "maxPriorityFeePerGas">> {
    const block = await env.provider.getBlock("latest");
    const base = block?.baseFeePerGas ?? 1_000_000_000n;
    const tip = 1_000_000_000n;
    return { maxFeePerGas: base * 2n + tip, maxPriorityFeePerGas: tip };
  }

  async function nextNonce(): Promise<bigint> {
    const ep = await env.ethers.getContractAt(
      "@account-abstraction/contracts/interfaces/IEntryPoint.sol:IEntryPoint",
      env.entryPoint,
    );
    return ep.getNonce(sender, 0);
  }

  /** An op with the stub signature, gas from the bundler's estimate. */
  async function estimated(callData: string, withFactory: boolean): Promise<UserOperation> {
    const op: UserOperation = {
      sender,
      nonce: await nextNonce(),
      ...(withFactory ? { factory: factoryAddress, factoryData } : {}),
      callData,
      callGasLimit: 0n,
      verificationGasLimit: 0n,
      preVerificationGas: 0n,
      ...(await fees()),
      signature: stubSignature,
    };
    const gas = await bundler.estimateUserOperationGas(op, env.entryPoint);
    return { ...op, ...gas };
  }

  function sign(op: UserOperation, key: BaseWallet = owner): UserOperation {
    const hash = getUserOpHash(op, env.entryPoint, env.chainId);
    return { ...op, signature: key.signingKey.sign(hash).serialized };
  }

  const transfer = (to: string, value: bigint) => account.encodeFunctionData("execute", [to, value, "0x"]);

  before(async function () {
    const t0 = performance.now();
    env = await startBundlerEnv();
    console.log(`      chain + EntryPoint + alto ready in ${(performance.now() - t0).toFixed(0)} ms`);
    bundler = new BundlerClient(env.bundlerUrl, { decodeRevert: decodeEcdsa });
    [funder] = await env.ethers.getSigners();
    const factory = await env.ethers.deployContract(FACTORY, [env.entryPoint], funder);
    await factory.waitForDeployment();
    factoryAddress = await factory.getAddress();
    factoryData = factory.interface.encodeFunctionData("createAccount", [owner.address, 0n]);
    sender = await factory.getFunction("getAddress")(owner.address, 0n);
    account = new Interface(ACCOUNT_ABI as string[]);
    // Counterfactual account pays its own prefund.
    await (await funder.sendTransaction({ to: sender, value: parseEther("10") })).wait();
    // A well-formed 65-byte signature (by a throwaway key) so ECDSA.recover does not revert during estimation.
    stubSignature = Wallet.createRandom().signingKey.sign(id("reins:stub")).serialized;
  });

  after(async function () {
    await env?.stop();
  });

  it("reports EntryPoint v0.8 as supported", async () => {
    expect((await bundler.supportedEntryPoints()).map((a) => a.toLowerCase())).to.include(env.entryPoint.toLowerCase());
    expect(await bundler.chainId()).to.equal(env.chainId);
  });

  it("deploys the account through factory/factoryData in the first UserOperation", async () => {
    expect(await env.provider.getCode(sender)).to.equal("0x");
    const op = sign(await estimated(transfer(stranger.address, 1n), true));
    const hash = await bundler.sendUserOperation(op, env.entryPoint);
    expect(hash).to.equal(getUserOpHash(op, env.entryPoint, env.chainId));
    const receipt = await bundler.waitForUserOperationReceipt(hash, { timeoutMs: 20_000, pollMs: 50 });
    expect(receipt.success).to.equal(true);
    expect(receipt.sender.toLowerCase()).to.equal(sender.toLowerCase());
    expect(await env.provider.getCode(sender)).to.not.equal("0x");
    const acct = new Contract(sender, account, env.provider);
    expect(await acct.getFunction("owner")()).to.equal(owner.address);
    expect(await env.provider.getBalance(stranger.address)).to.equal(1n);
  });

  it("executes a native transfer and serves it by hash", async () => {
    const value = parseEther("0.25");
    const before = await env.provider.getBalance(stranger.address);
    const op = sign(await estimated(transfer(stranger.address, value), false));
    const hash = await bundler.sendUserOperation(op, env.entryPoint);
    const receipt = await bundler.waitForUserOperationReceipt(hash, { timeoutMs: 20_000, pollMs: 50 });
    expect(receipt.success).to.equal(true);
    expect(await env.provider.getBalance(stranger.address)).to.equal(before + value);

    const byHash = await bundler.getUserOperationByHash(hash);
    expect(byHash).to.not.equal(null);
    expect(byHash!.transactionHash).to.equal(receipt.receipt.transactionHash);
    expect(byHash!.entryPoint.toLowerCase()).to.equal(env.entryPoint.toLowerCase());
    expect(byHash!.userOperation.sender.toLowerCase()).to.equal(sender.toLowerCase());
    expect(BigInt(byHash!.userOperation.nonce)).to.equal(op.nonce);
    expect(byHash!.userOperation.callData).to.equal(op.callData);
    expect(byHash!.userOperation.signature).to.equal(op.signature);
  });

  it("rejects a signature by the wrong key as AA24", async () => {
    const op = sign(await estimated(transfer(stranger.address, 1n), false), stranger);
    const err = await rejection(bundler.sendUserOperation(op, env.entryPoint));
    console.log("      alto AA24 error:", JSON.stringify(errorShape(err)));
    expect(err).to.be.instanceOf(UserOperationRejected);
    const rej = err as UserOperationRejected;
    expect(rej.name).to.equal("UserOperationRejected");
    expect(rej.aaCode).to.equal("AA24");
  });

  it("rejects a malformed signature as AA23 and hands its revert bytes to decodeRevert", async () => {
    const op = { ...(await estimated(transfer(stranger.address, 1n), false)), signature: hexlify(new Uint8Array(7)) };
    const err = await rejection(bundler.sendUserOperation(op, env.entryPoint));
    console.log("      alto AA23 error:", JSON.stringify(errorShape(err)));
    expect(err).to.be.instanceOf(UserOperationRejected);
    const rej = err as UserOperationRejected;
    expect(rej.aaCode).to.equal("AA23");
    expect(rej.revertData).to.equal(ECDSA_ERRORS.encodeErrorResult("ECDSAInvalidSignatureLength", [7]));
    expect(rej.decoded).to.be.instanceOf(DecodedContractError);
    expect((rej.decoded as DecodedContractError).errorName).to.equal("ECDSAInvalidSignatureLength");
  });

  it("reports a reverting call during estimation with the account's revert bytes", async () => {
    // Second call of the batch fails: the account wraps it in ExecuteError(1, <inner revert>).
    const callData = account.encodeFunctionData("executeBatch", [
      [
        { target: stranger.address, value: 0n, data: "0x" },
        { target: factoryAddress, value: 0n, data: factoryData }, // only callable from SenderCreator
      ],
    ]);
    const op: UserOperation = {
      sender,
      nonce: await nextNonce(),
      callData,
      callGasLimit: 0n,
      verificationGasLimit: 0n,
      preVerificationGas: 0n,
      ...(await fees()),
      signature: stubSignature,
    };
    const err = await rejection(bundler.estimateUserOperationGas(op, env.entryPoint));
    console.log("      alto call-revert error:", JSON.stringify(errorShape(err)));
    expect(err).to.be.instanceOf(UserOperationRejected);
    const rej = err as UserOperationRejected;
    expect(rej.revertData).to.be.a("string");
    const parsed = account.parseError(rej.revertData!);
    expect(parsed?.name).to.equal("ExecuteError");
    expect(parsed?.args[0]).to.equal(1n);
  });

  it("gives gas limits that are enough, and reports them against actual use", async () => {
    const op = sign(await estimated(transfer(stranger.address, 3n), false));
    const hash = await bundler.sendUserOperation(op, env.entryPoint);
    const receipt = await bundler.waitForUserOperationReceipt(hash, { timeoutMs: 20_000, pollMs: 50 });
    expect(receipt.success).to.equal(true);
    const limit = op.preVerificationGas + op.verificationGasLimit + op.callGasLimit;
    console.log(
      `      estimate: pvg=${op.preVerificationGas} vgl=${op.verificationGasLimit} cgl=${op.callGasLimit}` +
        ` (sum ${limit}); actualGasUsed=${receipt.actualGasUsed} (${((Number(receipt.actualGasUsed) * 100) / Number(limit)).toFixed(1)}% of limits)`,
    );
    expect(receipt.actualGasUsed > 0n).to.equal(true);
    expect(receipt.actualGasUsed <= limit).to.equal(true);
  });

  it("includes 20 sequential operations with a median send→receipt latency under 5 s", async () => {
    // Estimate once; the same shape of op costs the same each time.
    const template = await estimated(transfer(stranger.address, 1n), false);
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const op = sign({ ...template, nonce: template.nonce + BigInt(i), ...(await fees()) });
      const t0 = performance.now();
      const hash = await bundler.sendUserOperation(op, env.entryPoint);
      const receipt = await bundler.waitForUserOperationReceipt(hash, { timeoutMs: 20_000, pollMs: 10 });
      latencies.push(performance.now() - t0);
      expect(receipt.success).to.equal(true);
    }
    const m = median(latencies);
    console.log(
      `      latency over ${latencies.length} ops: median ${m.toFixed(0)} ms, min ${Math.min(...latencies).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms`,
    );
    expect(await nextNonce()).to.equal(template.nonce + 20n);
    expect(m).to.be.lessThan(5_000);
  });

  it("holds operations in manual bundling mode until sendBundleNow", async () => {
    await bundler.setBundlingMode("manual");
    try {
      const op = sign(await estimated(transfer(stranger.address, 1n), false));
      const hash = await bundler.sendUserOperation(op, env.entryPoint);
      // Held: Alto accepted it and keeps it outstanding in its mempool (auto bundling would have taken it out;
      // setBundlingMode("manual") returns only after Alto's last automatic round), and there is no receipt.
      const outstanding = () => bundler.request<unknown[]>("debug_bundler_dumpMempool", [env.entryPoint]);
      await waitFor(async () => (await outstanding()).length === 1, { what: "the operation in Alto's mempool" });
      expect(await bundler.getUserOperationReceipt(hash)).to.equal(null);
      expect(await outstanding()).to.have.length(1);
      await bundler.sendBundleNow();
      const receipt = await bundler.waitForUserOperationReceipt(hash, { timeoutMs: 10_000, pollMs: 20 });
      expect(receipt.success).to.equal(true);
    } finally {
      await bundler.setBundlingMode("auto");
    }
  });

  it("surfaces unknown methods as a plain BundlerRpcError, not a rejection", async () => {
    const err = await rejection(bundler.request("eth_noSuchMethod", []));
    expect(err).to.be.instanceOf(BundlerRpcError);
    expect(err).to.not.be.instanceOf(UserOperationRejected);
  });
});

function errorShape(e: unknown): unknown {
  if (e instanceof BundlerRpcError) return { code: e.code, message: e.rpcMessage, data: e.data };
  return String(e);
}

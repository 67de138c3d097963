import { expect } from "chai";
import { network } from "hardhat";
import { Wallet } from "ethers";
import { ENTRYPOINT_V08, ensureEntryPoint } from "../../src/infra/singletons.js";
import { getUserOpHash, packUserOp, unpackUserOp, type UserOperation } from "../../src/userop/userop.js";

describe("UserOperation helpers", () => {
  it("hash equals EntryPoint.getUserOpHash, with and without initCode and paymaster", async () => {
    const { ethers } = await network.create();
    const [deployer] = await ethers.getSigners();
    await ensureEntryPoint(deployer);
    const ep = await ethers.getContractAt(
      "@account-abstraction/contracts/interfaces/IEntryPoint.sol:IEntryPoint",
      ENTRYPOINT_V08,
    );
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const base: UserOperation = {
      sender: Wallet.createRandom().address,
      nonce: 5n | (123n << 64n),
      callData: "0xdeadbeef",
      callGasLimit: 100_000n,
      verificationGasLimit: 200_000n,
      preVerificationGas: 50_000n,
      maxFeePerGas: 3_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
      signature: "0x1234",
    };
    const variants: UserOperation[] = [
      base,
      { ...base, factory: Wallet.createRandom().address, factoryData: "0xabcdef" },
      {
        ...base,
        paymaster: Wallet.createRandom().address,
        paymasterVerificationGasLimit: 70_000n,
        paymasterPostOpGasLimit: 30_000n,
        paymasterData: "0x99",
      },
    ];
    for (const op of variants) {
      const packed = packUserOp(op);
      expect(getUserOpHash(op, ENTRYPOINT_V08, chainId)).to.equal(await ep.getUserOpHash(packed));
      expect(unpackUserOp(packed)).to.deep.equal({ ...op, sender: packed.sender });
    }
    // the signature is not part of the hash; every other field is
    expect(getUserOpHash({ ...base, signature: "0x" }, ENTRYPOINT_V08, chainId)).to.equal(
      getUserOpHash(base, ENTRYPOINT_V08, chainId),
    );
    expect(getUserOpHash({ ...base, nonce: 6n }, ENTRYPOINT_V08, chainId)).to.not.equal(
      getUserOpHash(base, ENTRYPOINT_V08, chainId),
    );
    expect(getUserOpHash(base, ENTRYPOINT_V08, chainId + 1n)).to.not.equal(
      getUserOpHash(base, ENTRYPOINT_V08, chainId),
    );
  });
});

import { expect } from "chai";
import { network } from "hardhat";
import { ENTRYPOINT_V08, ensureEntryPoint, entryPointArtifact } from "../../src/infra/singletons.js";

describe("chain singletons", () => {
  it("deploys the canonical EntryPoint v0.8 at its canonical address, once", async () => {
    const { ethers } = await network.create();
    const [deployer] = await ethers.getSigners();
    const first = await ensureEntryPoint(deployer);
    expect(first).to.deep.equal({ address: ENTRYPOINT_V08, deployed: true });
    // Same length as the canonical runtime (immutables such as the SenderCreator address differ in value only).
    const code = await ethers.provider.getCode(ENTRYPOINT_V08);
    expect(code.length).to.equal(entryPointArtifact().deployedBytecode.length);
    const ep = await ethers.getContractAt(
      "@account-abstraction/contracts/interfaces/IEntryPoint.sol:IEntryPoint",
      ENTRYPOINT_V08,
    );
    expect(await ep.getNonce(deployer.address, 0)).to.equal(0n);
    const second = await ensureEntryPoint(deployer);
    expect(second.deployed).to.equal(false);
  });
});

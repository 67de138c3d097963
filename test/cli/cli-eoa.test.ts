/**
 * `reins account upgrade-eoa` / `account status` / `account downgrade-eoa` as separate processes against Hardhat's
 * chain over HTTP: an EOA holding TUSD becomes a Reins account at its own address, an agent pays from it with
 * `reins agent pay`, status shows the delegation and every installed module, and leaving removes all of them (a
 * validator installed by hand included) and ends the session for good.
 */
import { expect } from "chai";
import { rmSync } from "node:fs";
import { Wallet } from "ethers";
import { MODULE_TYPE_VALIDATOR } from "../../src/account/encoding.js";
import type { MockERC20 } from "../../types/ethers-contracts/index.js";
import { killAllCli } from "../helpers/cli.js";
import { deployedContracts, operatorCli, operatorFolder, startHttpChain, type HttpChain } from "../helpers/operator.js";

const TUSD = 10n ** 6n;

describe("reins CLI: EIP-7702 upgrade-eoa / downgrade-eoa (separate process)", function () {
  let chain: HttpChain | undefined;
  let connection: HttpChain["connection"];
  let rpcUrl: string;
  let dir: string;
  let token: MockERC20;
  const deployer = Wallet.createRandom();
  const eoa = Wallet.createRandom();
  const agent = Wallet.createRandom();
  const payee = Wallet.createRandom().address;

  const env = () => ({
    REINS_RPC_URL: rpcUrl,
    REINS_DEPLOYER_KEY: deployer.privateKey,
    REINS_OWNER_KEY: eoa.privateKey,
    REINS_AGENT_KEY: agent.privateKey,
  });
  const { reins, json } = operatorCli({
    dir: () => dir,
    env,
    block: () => connection.ethers.provider.getBlockNumber(),
  });

  before(async function () {
    chain = await startHttpChain([deployer, eoa, agent]);
    ({ connection, rpcUrl } = chain);
    const { ethers } = connection;
    token = (await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6])) as unknown as MockERC20;
    await (await token.mint(eoa.address, 500n * TUSD)).wait();
    dir = operatorFolder("reins-cli-eoa-", { TUSD: await token.getAddress() });
    await json(["deploy"]);
  });

  after(async function () {
    killAllCli();
    await chain?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("upgrade-eoa, status, an agent payment, a no-op rerun, a validator installed by hand, then downgrade-eoa removes every module and ends the session", async function () {
    const deployed = deployedContracts(dir);
    const impl = deployed.ReinsAccount7702;
    const up = await json<{ account: string; status: string; delegate: string }>([
      "account", "upgrade-eoa", "--security-delay", "0s",
    ]); // prettier-ignore
    expect(up).to.include({ account: eoa.address, status: "upgraded", delegate: impl });
    const status = await json<{ eip7702Delegate: string; owner: string; accountId: string }>([
      "account", "status", eoa.address,
    ]); // prettier-ignore
    expect(status).to.include({ eip7702Delegate: impl, owner: eoa.address, accountId: "reins.account.7702.0.1.0" });

    const granted = await json<{ sessionId: string }>([
      "session", "grant", eoa.address, "--agent", agent.address, "--valid-for", "7d",
      "--allow-transfer", `TUSD:${payee}`, "--budget", "TUSD:instant=50,ceiling=100",
    ]); // prettier-ignore
    const paid = await json<{ status: string }>(["agent", "pay", eoa.address, granted.sessionId, "TUSD", payee, "20"]);
    expect(paid.status).to.equal("executed");
    expect(await token.balanceOf(payee)).to.equal(20n * TUSD);
    expect(await token.balanceOf(eoa.address)).to.equal(480n * TUSD);

    expect((await json<{ status: string }>(["account", "upgrade-eoa", "--security-delay", "0s"])).status).to.equal(
      "exists",
    );

    // A second owner validator installed by hand (the EOA's own transaction): status lists it with the others.
    const { ethers } = connection;
    const extra = await ethers.deployContract("OwnerValidator");
    const extraAddress = await extra.getAddress();
    const account = await ethers.getContractAt("ReinsAccount7702", eoa.address, eoa.connect(ethers.provider));
    const ownerData = ethers.AbiCoder.defaultAbiCoder().encode(["address"], [Wallet.createRandom().address]);
    await (await account.installModule(MODULE_TYPE_VALIDATOR, extraAddress, ownerData)).wait();
    type Listed = { moduleTypeId: string; module: string; name: string };
    const listed = await json<{ eip7702Modules: { count: string; installed: Listed[] } }>([
      "account", "status", eoa.address,
    ]); // prettier-ignore
    expect(listed.eip7702Modules.count).to.equal("4");
    expect(listed.eip7702Modules.installed.map((m) => m.module)).to.include(extraAddress);
    const text = await reins(["account", "status", eoa.address]);
    expect(text.stdout).to.match(/EIP-7702 modules:\s+4 besides the root validator: .*AgentSessions/);

    const down = await json<{ status: string; removed: Listed[] }>(["account", "downgrade-eoa"]);
    expect(down.status).to.equal("downgraded");
    // AgentSessions (validator, executor), the timelock, and the validator installed by hand.
    expect(down.removed.map((m) => m.name)).to.have.members([
      `AgentSessions ${deployed.AgentSessions} (validator)`,
      `AgentSessions ${deployed.AgentSessions} (executor)`,
      `ReinsTimelock ${deployed.ReinsTimelock} (executor)`,
      `${extraAddress} (validator)`,
    ]);
    expect(await connection.ethers.provider.getCode(eoa.address)).to.equal("0x");
    const after = await reins(["account", "status", eoa.address]);
    expect(after.code).to.equal(2);
    expect(after.stderr).to.match(/no code at this address/);

    // Back again: a clean account; the validator installed by hand is gone; the old session cannot pay.
    await json(["account", "upgrade-eoa", "--security-delay", "0s"]);
    expect(await account.isModuleInstalled(MODULE_TYPE_VALIDATOR, extraAddress, "0x")).to.equal(false);
    expect(await account.moduleCount()).to.equal(3n);
    const stale = await reins(["agent", "pay", eoa.address, granted.sessionId, "TUSD", payee, "1"]);
    expect(stale.code, stale.stderr).to.not.equal(0);
    expect(await token.balanceOf(payee)).to.equal(20n * TUSD);
  });
});

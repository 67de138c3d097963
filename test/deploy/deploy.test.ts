import { expect } from "chai";
import { artifacts, network } from "hardhat";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { getAddress, id, parseEther, type Signer } from "ethers";
import { executeCalldata } from "../../src/account/encoding.js";
import { DETERMINISTIC_DEPLOYER, ENTRYPOINT_V08, ensureDeterministicDeployer } from "../../src/infra/singletons.js";
import {
  artifactsFromDirectory,
  deployReins,
  formatDeploymentRecord,
  type DeployResult,
} from "../../src/deploy/deploy.js";
import {
  CONTRACT_NAMES,
  RELEASE,
  STAKE_OWNER,
  buildPlan,
  computeAddresses,
  creationBytecode,
  saltOf,
  type ReinsAddresses,
} from "../../src/deploy/plan.js";
import {
  AgentSessions__factory,
  IEntryPoint__factory,
  OwnerValidator__factory,
  ReinsAccountFactory__factory,
  ReinsAccount__factory,
} from "../../types/ethers-contracts/index.js";
import {
  buildOp,
  counterfactualAccount,
  factoryData,
  fund,
  handleOps,
  randomWallet,
  signAsOwner,
  userOpEvents,
  type Core,
  type Ethers,
} from "../helpers/reins.js";

const ERC1967_IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";

const tmpDir = () => mkdtemp(path.join(tmpdir(), "reins-deploy-"));

/** Deploy on a fresh in-process chain (optionally with another chain id), recording into a temp folder. */
async function freshDeploy(chainId?: number) {
  const { ethers } = await network.create(chainId === undefined ? undefined : { override: { chainId } });
  const [deployer] = await ethers.getSigners();
  const dir = await tmpDir();
  const lines: string[] = [];
  const result = await deployReins(deployer, { artifacts, deploymentsDir: dir, log: (l) => lines.push(l) });
  return { ethers, deployer, dir, lines, result };
}

/** A signer whose provider looks like a production node: another client version, and no setCode. */
function asNonDevChain(signer: Signer): Signer {
  const real = signer.provider as unknown as { send(m: string, p: unknown[]): Promise<unknown> };
  const provider = new Proxy(real, {
    get(target, prop) {
      if (prop === "send") {
        return async (method: string, params: unknown[]) => {
          if (method === "web3_clientVersion") return "Geth/v1.14.0-stable/linux-amd64/go1.22";
          if (method.endsWith("_setCode")) throw new Error(`the method ${method} does not exist`);
          return target.send(method, params);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return new Proxy(signer, {
    get(target, prop) {
      if (prop === "provider") return provider;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("deploy", () => {
  let offline: ReinsAddresses;
  let first: Awaited<ReturnType<typeof freshDeploy>>;

  before(async () => {
    offline = await computeAddresses(artifacts);
    first = await freshDeploy();
  });

  describe("plan", () => {
    it('salts are keccak256("<release>/<Name>") and every address is distinct', async () => {
      const plan = await buildPlan(artifacts);
      expect(plan.map((s) => s.name)).to.deep.equal([...CONTRACT_NAMES]);
      for (const step of plan)
        expect(step.salt)
          .to.equal(id(`${RELEASE}/${step.name}`))
          .and.equal(saltOf(step.name));
      expect(new Set(plan.map((s) => s.address)).size).to.equal(CONTRACT_NAMES.length);
    });

    it("constructor arguments that name Reins contracts use their CREATE2 addresses", async () => {
      const plan = await buildPlan(artifacts);
      const byName = Object.fromEntries(plan.map((s) => [s.name, s]));
      const word = (a: string) => `0x${getAddress(a).slice(2).toLowerCase().padStart(64, "0")}`;
      expect(byName.ReinsAccountFactory!.constructorArgs).to.equal(
        word(offline.ReinsAccount) + word(STAKE_OWNER).slice(2),
      );
      expect(byName.AgentSessions!.constructorArgs).to.equal(word(offline.ReinsTimelock));
      expect(byName.CircuitBreaker!.constructorArgs).to.equal(word(offline.AgentSessions));
      expect(byName.RiskEngineEnvelope!.constructorArgs).to.equal(word(offline.AgentSessions));
      for (const name of ["ReinsAccount", "OwnerValidator", "ReinsTimelock", "GuardianRecovery"]) {
        expect(byName[name]!.constructorArgs, name).to.equal("0x");
      }
    });

    it("is computed offline: the artifacts/ JSON reader gives the same addresses as hre.artifacts", async () => {
      expect(await computeAddresses(artifactsFromDirectory())).to.deep.equal(offline);
    });

    it("refuses bytecode with unlinked libraries or none at all", () => {
      const linked = { contractName: "X", bytecode: "0x6000", linkReferences: { "L.sol": { L: [{}] } } };
      expect(() => creationBytecode(linked)).to.throw(/X has unlinked libraries/);
      expect(() => creationBytecode({ contractName: "I", bytecode: "0x", linkReferences: {} })).to.throw(
        /I has no creation bytecode/,
      );
    });
  });

  describe("deployReins", () => {
    it("deploys every contract at the address computed offline, with the right wiring", async () => {
      const { ethers, result } = first;
      expect(result.chainId).to.equal(31337);
      expect(result.deployed).to.deep.equal([...CONTRACT_NAMES]);
      expect(result.skipped).to.deep.equal([]);
      expect(result.addresses).to.deep.equal(offline);
      for (const name of CONTRACT_NAMES) {
        expect(await ethers.provider.getCode(offline[name]), name).to.not.equal("0x");
        expect(result.gasUsed[name], name).to.be.a("bigint");
      }
      const factory = ReinsAccountFactory__factory.connect(offline.ReinsAccountFactory, ethers.provider);
      expect(await factory.implementation()).to.equal(offline.ReinsAccount);
      const sessions = AgentSessions__factory.connect(offline.AgentSessions, ethers.provider);
      expect(await sessions.timelock()).to.equal(offline.ReinsTimelock);
      expect(await ethers.provider.getCode(ENTRYPOINT_V08)).to.not.equal("0x");
      expect(first.lines.filter((l) => l.startsWith("deployed "))).to.have.length(CONTRACT_NAMES.length + 1);
    });

    it("deploys nothing the second time, says so, and sends no transaction", async () => {
      const { ethers, deployer, dir } = first;
      const blockBefore = await ethers.provider.getBlockNumber();
      const nonceBefore = await ethers.provider.getTransactionCount(deployer.address);
      const lines: string[] = [];
      const again = await deployReins(deployer, { artifacts, deploymentsDir: dir, log: (l) => lines.push(l) });
      expect(again.deployed).to.deep.equal([]);
      expect(again.singletonsInstalled).to.deep.equal([]);
      expect(again.skipped).to.deep.equal([...CONTRACT_NAMES]);
      expect(again.addresses).to.deep.equal(first.result.addresses);
      expect(lines.some((l) => l.startsWith("deployed"))).to.equal(false);
      for (const name of CONTRACT_NAMES) expect(lines).to.include(`${name} already at ${offline[name]} (skipped)`);
      expect(await ethers.provider.getBlockNumber()).to.equal(blockBefore);
      expect(await ethers.provider.getTransactionCount(deployer.address)).to.equal(nonceBefore);
    });

    it("gives the same addresses on a chain with another chain id", async () => {
      const other = await freshDeploy(31338);
      expect(await other.ethers.provider.send("eth_chainId", [])).to.equal("0x7a6a");
      expect(other.result.chainId).to.equal(31338);
      expect(other.result.deployed).to.deep.equal([...CONTRACT_NAMES]);
      expect(other.result.addresses).to.deep.equal(offline);
      for (const name of CONTRACT_NAMES) {
        expect(await other.ethers.provider.getCode(offline[name]), name).to.not.equal("0x");
      }
      expect(path.basename(other.result.file!)).to.equal("31338.json");
    });
  });

  describe("deployment record", () => {
    const expected = (chainId: number, addresses: ReinsAddresses) => ({
      chainId,
      deterministicDeployer: getAddress(DETERMINISTIC_DEPLOYER),
      entryPoint: ENTRYPOINT_V08,
      contracts: addresses,
    });

    it("holds exactly the chain id and the addresses, and a rerun leaves it untouched", async () => {
      const file = path.join(first.dir, "31337.json");
      expect(first.result.file).to.equal(file);
      const text = await readFile(file, "utf8");
      expect(JSON.parse(text)).to.deep.equal(expected(31337, offline));
      expect(text).to.equal(formatDeploymentRecord(expected(31337, offline)));
      const mtime = (await stat(file)).mtimeMs;
      await deployReins(first.deployer, { artifacts, deploymentsDir: first.dir });
      expect(await readFile(file, "utf8")).to.equal(text);
      expect((await stat(file)).mtimeMs).to.equal(mtime);
    });

    it("deploymentsDir null writes nothing", async () => {
      const result = await deployReins(first.deployer, { artifacts, deploymentsDir: null });
      expect(result.file).to.equal(undefined);
    });

    it("the committed deployments/31337.json matches this build (else rerun `npx hardhat run deploy/deploy.ts`)", async () => {
      const committed = JSON.parse(await readFile(path.resolve("deployments/31337.json"), "utf8"));
      expect(committed, "deployments/31337.json is stale").to.deep.equal(expected(31337, offline));
    });
  });

  describe("chains that are not dev chains", () => {
    it("fail with one clear line when the deterministic-deployment proxy is missing, before any transaction", async () => {
      const { ethers } = await network.create();
      const [deployer] = await ethers.getSigners();
      const err = await deployReins(asNonDevChain(deployer), { artifacts, deploymentsDir: null }).catch((e) => e);
      expect(err).to.be.instanceOf(Error);
      expect((err as Error).message).to.match(/^chain 31337 has no deterministic-deployment proxy at 0x4e59/);
      expect((err as Error).message).to.not.include("\n");
      expect(await ethers.provider.getTransactionCount(deployer.address)).to.equal(0);
    });

    it("fail clearly when EntryPoint v0.8 is missing", async () => {
      const { ethers } = await network.create();
      const [deployer] = await ethers.getSigners();
      await ensureDeterministicDeployer(ethers.provider);
      const err = await deployReins(asNonDevChain(deployer), { artifacts, deploymentsDir: null }).catch((e) => e);
      expect((err as Error).message).to.equal(
        `chain 31337 has no EntryPoint v0.8 at its canonical address ${ENTRYPOINT_V08}: Reins accounts need it`,
      );
      expect(await ethers.provider.getTransactionCount(deployer.address)).to.equal(0);
    });
  });

  describe("smoke: the deployed set works", () => {
    /** A test `Core` pointed at the deployed contracts instead of fresh ones. */
    async function deployedCore(ethers: Ethers, result: DeployResult): Promise<Core> {
      const [deployer, bundler, stranger] = await ethers.getSigners();
      return {
        deployer,
        bundler,
        stranger,
        entryPoint: IEntryPoint__factory.connect(result.entryPoint, deployer),
        ownerValidator: OwnerValidator__factory.connect(result.addresses.OwnerValidator, deployer),
        implementation: ReinsAccount__factory.connect(result.addresses.ReinsAccount, deployer),
        factory: ReinsAccountFactory__factory.connect(result.addresses.ReinsAccountFactory, deployer),
        chainId: BigInt(result.chainId),
      } as Core;
    }

    it("creates an account with the deployed factory and owner validator, and runs an owner operation", async () => {
      const { ethers, result } = first;
      const core = await deployedCore(ethers, result);
      const owner = randomWallet();
      const handle = await counterfactualAccount(core, owner);
      expect(await ethers.provider.getCode(handle.address)).to.equal("0x");
      await fund(ethers, handle.address);
      const recipient = randomWallet().address;
      const op = signAsOwner(
        core,
        await buildOp(
          core,
          handle.address,
          result.addresses.OwnerValidator,
          executeCalldata({ target: recipient, value: parseEther("1") }),
          factoryData(core, handle),
        ),
        owner,
      );
      const events = userOpEvents(core, await handleOps(core, [op]));
      expect(events).to.have.length(1);
      expect(events[0]!.success, events[0]!.revertReason).to.equal(true);
      expect(await ethers.provider.getBalance(recipient)).to.equal(parseEther("1"));
      // The proxy points at the deployed implementation (ERC-1967 implementation slot).
      const slot = await ethers.provider.getStorage(handle.address, ERC1967_IMPLEMENTATION_SLOT);
      expect(getAddress(`0x${slot.slice(-40)}`)).to.equal(result.addresses.ReinsAccount);
    });
  });
});

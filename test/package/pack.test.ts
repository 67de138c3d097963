/**
 * The installable package, as a dApp team uses it: `npm pack` (which builds dist/), a scratch project in a temporary
 * folder installs the tarball and `ethers`, type-checks the README's "For dApp teams" example with `tsc --strict`
 * (node16 resolution, no `allowImportingTsExtensions`, no `skipLibCheck`), and runs the compiled example with plain
 * `node` against Hardhat's chain served over HTTP. The consumer's node_modules must not hold Reins' development
 * dependencies, and the package's postinstall must do nothing there.
 */
import { ARTIFACTS } from "../../src/deploy/plan.js";
import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { network } from "hardhat";
import { Wallet, parseEther, toBeHex } from "ethers";
import { artifactsFromDirectory, deployReins } from "../../src/deploy/deploy.js";
import { loadDeployment } from "../../src/deploy/records.js";
import type { MockERC20 } from "../../types/ethers-contracts/index.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** node_modules/.bin first: the Node 22 of the `node` devDependency runs npm and the example. */
const PATH = `${join(REPO_ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`;

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
    child.once("error", fail);
    child.once("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

async function ok(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = await run(cmd, args, cwd, env);
  expect(r.code, `${cmd} ${args.join(" ")}\n${r.stdout}\n${r.stderr}`).to.equal(0);
  return r;
}

function sizeOf(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

/** The README's example: the ```ts block after `<!-- dapp-example -->`. */
function readmeExample(): string {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const m = /<!-- dapp-example -->\s*```ts\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error("README.md has no <!-- dapp-example --> ts block");
  return m[1];
}

describe("package: npm pack, install in a scratch project, README example", function () {
  this.timeout(300_000);
  let server: Awaited<ReturnType<typeof network.createServer>>;
  let connection: Awaited<ReturnType<typeof network.create>>;
  let rpcUrl: string;
  let scratch: string;
  let tarball: string;

  before(async function () {
    server = await network.createServer("default", "127.0.0.1", 0);
    const { address, port } = await server.listen();
    rpcUrl = `http://${address}:${port}`;
    connection = await network.create({ network: "localhost", chainType: "l1", override: { url: rpcUrl } });
    scratch = mkdtempSync(join(tmpdir(), "reins-consumer-"));
  });

  after(async function () {
    await connection?.close();
    await server?.close().catch(() => undefined);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    if (tarball) rmSync(tarball, { force: true });
  });

  it("npm pack builds dist/ and the tarball holds the library, types, ABIs, records and interfaces only", async function () {
    const r = await ok("npm", ["pack", "--json", "--pack-destination", scratch], REPO_ROOT);
    const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf("["))) as {
      filename: string;
      size: number;
      unpackedSize: number;
      files: { path: string }[];
    }[];
    tarball = join(scratch, info.filename);
    const files = info.files.map((f) => f.path);
    for (const f of [
      "package.json",
      "bin/reins.mjs",
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "dist/src/client/index.d.ts",
      "dist/src/contracts/abis.js",
      "dist/src/contracts/index.d.ts",
      "dist/src/erc7562/index.js",
      "dist/src/cli/main.js",
      "dist/types/ethers-contracts/index.d.ts",
      "dist/artifacts/contracts/modules/AgentSessions.sol/AgentSessions.json",
      "deployments/31337.json",
      "contracts/interfaces/IAgentSessions.sol",
    ]) {
      expect(files, f).to.include(f);
    }
    // every contract of the deployment plan, so `reins deploy` works from the package
    for (const fqn of Object.values(ARTIFACTS)) {
      const [source, name] = fqn.split(":");
      expect(files, fqn).to.include(`dist/artifacts/${source}/${name}.json`);
    }
    for (const f of files) {
      expect(f, "no sources, tests, mocks' sources or configs").to.not.match(
        /^(src|test|scripts\/(?!ensure-edr)|contracts\/(?!interfaces))/,
      );
      expect(f).to.not.match(/hardhat\.config|\.tsbuildinfo$|\.dbg\.json$/);
    }
    // the ABIs module carries production contracts only
    const abis = readFileSync(join(REPO_ROOT, "dist", "src", "contracts", "abis.js"), "utf8");
    expect(abis).to.match(/export const AgentSessionsAbi/);
    expect(abis).to.not.match(/Mock|Vm\b|Test/);
    console.log(
      `      tarball ${info.filename}: ${(info.size / 1e6).toFixed(2)} MB, unpacked ${(info.unpackedSize / 1e6).toFixed(2)} MB, ${files.length} files`,
    );
  });

  it("a scratch project installs it with ethers; tsc --strict checks the README example; node runs it", async function () {
    if (!tarball) this.skip();
    writeFileSync(
      join(scratch, "package.json"),
      JSON.stringify({ name: "my-dapp", version: "1.0.0", private: true, type: "module" }, null, 2),
    );
    const install = await ok(
      "npm",
      ["install", tarball, "ethers@^6.17.0", "@types/node@^22", "--prefer-offline", "--no-audit", "--no-fund"],
      scratch,
    );
    expect(install.stdout + install.stderr, "postinstall is a no-op in a consumer").to.not.match(/\[reins\]/);

    // no development dependency of Reins in the consumer, and a small install
    const nm = join(scratch, "node_modules");
    const repoPkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    const installed = readdirSync(nm).flatMap((n) =>
      n.startsWith("@") ? readdirSync(join(nm, n)).map((m) => `${n}/${m}`) : [n],
    );
    const allowed = new Set(["ethers", "@types/node"]);
    const leaked = Object.keys(repoPkg.devDependencies).filter((d) => !allowed.has(d) && installed.includes(d));
    expect(leaked, "Reins dev dependencies in the consumer").to.deep.equal([]);
    for (const d of ["hardhat", "solc", "@pimlico/alto", "@nomicfoundation/edr", "typescript", "tsx", "mocha"]) {
      expect(existsSync(join(nm, d)), d).to.equal(false);
    }
    const mb = sizeOf(nm) / 1e6;
    const reinsMb = sizeOf(join(nm, "reins")) / 1e6;
    console.log(
      `      consumer node_modules: ${mb.toFixed(1)} MB (reins ${reinsMb.toFixed(1)} MB), ${installed.length} packages`,
    );
    expect(mb, "consumer node_modules MB").to.be.below(60);

    // the README example, type-checked strictly and compiled to plain JS
    writeFileSync(join(scratch, "example.ts"), readmeExample());
    writeFileSync(
      join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2022",
          module: "node16",
          moduleResolution: "node16",
          strict: true,
          skipLibCheck: false,
          types: ["node"],
          outDir: "out",
        },
        files: ["example.ts"],
      }),
    );
    await ok(join(REPO_ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], scratch);

    // a chain over HTTP with Reins deployed at the addresses of the packaged record, and a token the funder holds
    const { ethers } = connection;
    const funder = Wallet.createRandom().connect(ethers.provider);
    await ethers.provider.send("hardhat_setBalance", [funder.address, toBeHex(parseEther("100"))]);
    const { addresses } = await deployReins(funder, {
      artifacts: artifactsFromDirectory(join(REPO_ROOT, "artifacts")),
      deploymentsDir: null,
    });
    // The example reads the record shipped in the package. Whether the committed record matches this build is the
    // deploy test's job ("the committed deployments/31337.json matches this build"); here the installed copy is
    // brought in line so that a stale record shows up there, not as a confusing failure of the example.
    const installedRecord = join(nm, "reins", "deployments", "31337.json");
    if (JSON.stringify(addresses) !== JSON.stringify(loadDeployment(31337).contracts)) {
      console.log("      note: deployments/31337.json is stale for this build; the installed copy is updated");
      const record = JSON.parse(readFileSync(installedRecord, "utf8")) as { contracts: unknown };
      writeFileSync(installedRecord, JSON.stringify({ ...record, contracts: addresses }, null, 2) + "\n");
    }
    const token = (await ethers.deployContract("MockERC20", ["Test USD", "TUSD", 6])) as unknown as MockERC20;
    await (await token.mint(funder.address, 1_000n * 10n ** 6n)).wait();

    const r = await ok(process.execPath, [join("out", "example.js")], scratch, {
      RPC_URL: rpcUrl,
      FUNDER_KEY: funder.privateKey,
      TOKEN: await token.getAddress(),
    });
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, string>;
    expect(out.payment).to.equal("executed");
    expect(out.periodLeft).to.equal("280.0");
    expect(out.lifetimeLeft).to.equal("980.0");
    expect(await ethers.provider.getCode(out.account)).to.not.equal("0x");

    // the installed CLI runs from compiled JS
    const help = await ok(process.execPath, [join(nm, "reins", "bin", "reins.mjs"), "--help"], scratch);
    expect(help.stdout).to.match(/^Usage: reins/);
  });
});

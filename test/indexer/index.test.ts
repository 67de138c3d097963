/**
 * The event index on Hardhat's in-process chain: incremental sync equals one full scan, a restart resumes with
 * no duplicates and no gaps, a reorg is rolled back, 200 followed accounts cost a bounded number of `eth_getLogs`
 * calls, and spendPerDay / requests agree with the chain.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { Wallet, type Provider } from "ethers";
import { EventIndex, type IndexedEvent } from "../../src/indexer/index.js";
import { pay } from "../client/fixture.js";
import { TUSD, capRange, countingProvider, indexWorld, mixedActivity, type IndexWorld } from "./world.js";

const { ethers } = await network.create();

const plain = (events: IndexedEvent[]) =>
  JSON.stringify(events, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

describe("EventIndex", function () {
  let w: IndexWorld;
  let dir: string;
  const open: EventIndex[] = [];

  function index(path = ":memory:", chunkSize = 2_000, provider: Provider = ethers.provider): EventIndex {
    const i = EventIndex.open({ path, provider, deployment: w.deployment, chunkSize });
    open.push(i);
    return i;
  }

  before(async function () {
    w = await indexWorld(ethers);
    dir = mkdtempSync(join(tmpdir(), "reins-index-"));
  });

  after(function () {
    for (const i of open) i.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("incremental sync (after every step, 3-block chunks) equals one full scan", async function () {
    const inc = index(":memory:", 3);
    inc.follow(w.account, w.startBlock);
    await inc.sync();
    await w.agent.send(pay(w, w.recipients[0], 10n));
    await inc.sync();
    const { approvalId, delayedId } = await mixedActivity(w);
    await inc.sync();
    const full = index();
    full.follow(w.account, w.startBlock);
    const r = await full.sync();
    expect(r.reorged).to.equal(0);
    const events = full.events(w.account);
    expect(plain(inc.events(w.account))).to.equal(plain(events));
    const kinds = new Set(events.map((e) => e.kind));
    for (const k of ["sessionGranted", "executed", "spend", "transfer", "queued", "scheduled", "approved"])
      expect(kinds, k).to.include(k);
    for (const k of ["requestExecuted", "cancelled", "paused", "unpaused"]) expect(kinds, k).to.include(k);
    const requests = full.requests(w.account);
    const approval = requests.find((q) => q.requestId === approvalId)!;
    expect(approval).to.include({ status: "executed", tier: "approval", recipient: w.recipients[2] });
    expect(approval.amount).to.equal(1_500n * TUSD);
    expect(approval.limit).to.equal(1_000n * TUSD);
    expect(requests.find((q) => q.requestId === delayedId)).to.include({ status: "cancelled", tier: "delayed" });
  });

  it("a restart resumes after the last indexed block: no duplicates, no gaps", async function () {
    const path = join(dir, "resume.db");
    const first = index(path, 4);
    first.follow(w.account, w.startBlock);
    await first.sync();
    const tip = first.tip()!;
    const before = first.events(w.account).length;
    first.close();
    await w.agent.send(pay(w, w.recipients[0], 3n));
    await w.agent.send(pay(w, w.recipients[1], 600n));
    const again = index(path, 4);
    expect(again.followed()).to.deep.equal([w.account]);
    const r = await again.sync();
    expect(r.fromBlock, "resumes at the block after the stored tip").to.equal(tip + 1n);
    const events = again.events(w.account);
    expect(events.length).to.be.greaterThan(before);
    const keys = events.map((e) => `${e.block}:${e.logIndex}`);
    expect(new Set(keys).size, "no duplicates").to.equal(keys.length);
    const full = index();
    full.follow(w.account, w.startBlock);
    await full.sync();
    expect(plain(events), "no gaps: equals a fresh full scan").to.equal(plain(full.events(w.account)));
  });

  it("a reorg (evm_revert, then other blocks) is detected and rolled back to the fork point", async function () {
    const idx = index(join(dir, "reorg.db"), 2_000);
    idx.follow(w.account, w.startBlock);
    await idx.sync();
    const snapshot = (await ethers.provider.send("evm_snapshot", [])) as string;
    const forkTip = BigInt(await ethers.provider.getBlockNumber());
    await w.agent.send(pay(w, w.recipients[0], 7n));
    await w.agent.send(pay(w, w.recipients[0], 8n));
    await idx.sync();
    const orphan = idx.events(w.account, { kinds: ["transfer"] }).filter((e) => e.amount === 7n * TUSD);
    expect(orphan, "the soon-orphaned payment was indexed").to.have.length(1);
    expect(await ethers.provider.send("evm_revert", [snapshot])).to.equal(true);
    await w.agent.send(pay(w, w.recipients[1], 9n)); // one block where the old branch had two
    const r = await idx.sync();
    expect(r.reorged, "rolled back to the fork point").to.equal(2);
    expect(idx.tip()).to.equal(forkTip + 1n);
    const amounts = idx.events(w.account, { kinds: ["transfer"], sinceBlock: forkTip + 1n }).map((e) => e.amount);
    expect(amounts).to.deep.equal([9n * TUSD]);
    const full = index();
    full.follow(w.account, w.startBlock);
    await full.sync();
    expect(plain(idx.events(w.account))).to.equal(plain(full.events(w.account)));
  });

  it("200 followed accounts: one eth_getLogs per chunk for all of them", async function () {
    this.timeout(120_000);
    const [deployer] = await ethers.getSigners();
    const holders = Array.from({ length: 200 }, () => Wallet.createRandom().connect(ethers.provider));
    const from = BigInt(await ethers.provider.getBlockNumber()) + 1n;
    await ethers.provider.send("evm_setAutomine", [false]);
    try {
      let nonce = await deployer.getNonce();
      for (const h of holders) {
        await ethers.provider.send("hardhat_setBalance", [h.address, "0xDE0B6B3A7640000"]);
        await w.token.connect(deployer).mint(h.address, 100n * TUSD, { nonce: nonce++, gasLimit: 100_000n });
      }
      await ethers.provider.send("evm_mine", []);
      for (const [i, h] of holders.entries())
        await w.token.connect(h).transfer(w.recipients[i % 3], BigInt(i + 1), { nonce: 0, gasLimit: 100_000n });
      await ethers.provider.send("evm_mine", []);
    } finally {
      await ethers.provider.send("evm_setAutomine", [true]);
    }
    for (let i = 0; i < 10; i++) await w.agent.send(pay(w, w.recipients[0], 1n));
    const to = BigInt(await ethers.provider.getBlockNumber());
    const counting = countingProvider(ethers.provider);
    const chunk = 4;
    const idx = index(":memory:", chunk, counting.provider);
    for (const h of holders) idx.follow(h.address, from);
    idx.follow(w.account, from);
    const t0 = performance.now();
    const r = await idx.sync();
    const ms = performance.now() - t0;
    const blocks = Number(to - from + 1n);
    const expected = Math.ceil(blocks / chunk);
    console.log(
      `      201 accounts, ${blocks} blocks, chunk ${chunk}: ${counting.calls()} eth_getLogs calls ` +
        `(one scan per account: ${201 * expected}), ${r.events} events in ${ms.toFixed(0)} ms`,
    );
    expect(counting.calls()).to.equal(expected);
    for (const [i, h] of holders.entries()) {
      const t = idx.events(h.address, { kinds: ["transfer"] });
      expect(t.map((e) => e.amount)).to.deep.equal([BigInt(i + 1)]);
    }
    expect(idx.events(w.account, { kinds: ["transfer"] })).to.have.length(10);

    // Accounts followed later (from an older block) are back-filled; the others are not scanned twice.
    const late = index(":memory:", chunk);
    for (const h of holders.slice(0, 100)) late.follow(h.address, from);
    await late.sync();
    for (const h of holders.slice(100)) late.follow(h.address, from);
    late.follow(w.account, from);
    await late.sync();
    for (const a of [...holders.map((h) => h.address), w.account])
      expect(plain(late.events(a)), a).to.equal(plain(idx.events(a)));

    // A provider that refuses ranges over 2 blocks: the index halves its range and still gets everything.
    const capped = index(":memory:", 8, capRange(ethers.provider, 2));
    capped.follow(w.account, from);
    await capped.sync();
    expect(plain(capped.events(w.account))).to.equal(plain(idx.events(w.account)));
  });

  it("spendPerDay sums the account's transfers per UTC day and token", async function () {
    await w.agent.send(pay(w, w.recipients[0], 11n));
    await ethers.provider.send("evm_increaseTime", [86_400]);
    await w.agent.send(pay(w, w.recipients[1], 12n));
    await w.agent.send(pay(w, w.recipients[2], 13n));
    const idx = index();
    idx.follow(w.account, w.startBlock);
    await idx.sync();
    const expected = new Map<string, bigint>();
    for (const log of await w.token.queryFilter(w.token.filters.Transfer(w.account), Number(w.startBlock))) {
      const block = await log.getBlock();
      const day = new Date(block.timestamp * 1000).toISOString().slice(0, 10);
      expected.set(day, (expected.get(day) ?? 0n) + log.args.value);
    }
    const got = idx.spendPerDay(w.account);
    expect(got.every((d) => d.token === w.tokenAddress)).to.equal(true);
    expect(new Map(got.map((d) => [d.day, d.amount]))).to.deep.equal(expected);
    expect(expected.size, "payments on two days").to.be.greaterThanOrEqual(2);
  });

  it("changes: security-delayed changes with their status (pending, cancelled, applied)", async function () {
    await w.owner.execute({
      target: w.deployment.sessions,
      data: w.sessions.interface.encodeFunctionData("setSecurityDelay", [3_600]),
    });
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const a = await w.owner.renewSession(w.agent.sessionId, now + 60n * 86_400n);
    const b = await w.owner.renewSession(w.agent.sessionId, now + 61n * 86_400n);
    const c = await w.owner.renewSession(w.agent.sessionId, now + 62n * 86_400n);
    if (a.status !== "pending" || b.status !== "pending" || c.status !== "pending") throw new Error("expected pending");
    await w.owner.execute({
      target: w.deployment.sessions,
      data: w.sessions.interface.encodeFunctionData("cancelChange", [b.changeHash]),
    });
    await ethers.provider.send("evm_increaseTime", [3_601]);
    await w.owner.applyChange(a.data);
    const idx = index();
    idx.follow(w.account, w.startBlock);
    await idx.sync();
    const byHash = new Map(idx.changes(w.account).map((ch) => [ch.changeHash, ch]));
    expect(byHash.get(a.changeHash)).to.include({ status: "applied", call: "renewSession", data: a.data });
    expect(byHash.get(b.changeHash)).to.include({ status: "cancelled" });
    expect(byHash.get(c.changeHash)).to.include({ status: "pending" });
    expect(byHash.get(c.changeHash)!.readyAt).to.equal(c.readyAt);
  });

  it("the chain moving under a chunk (its last block's hash changes during eth_getLogs): nothing is confirmed", async function () {
    await w.agent.send(pay(w, w.recipients[0], 4n));
    const head = await ethers.provider.getBlockNumber();
    let calls = 0;
    const flaky = new Proxy(ethers.provider, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop === "getBlock")
          return async (n: number) => {
            const b = await target.getBlock(n);
            // Every second read of the head block sees another hash, as if a reorg happened in between.
            if (b && n === head && ++calls % 2 === 0) return { hash: "0x" + "ee".repeat(32), timestamp: b.timestamp };
            return b;
          };
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const path = join(dir, "moved.db");
    const idx = index(path, 2_000, flaky);
    idx.follow(w.account, w.startBlock);
    const r = await idx.sync();
    expect(r.toBlock, "nothing indexed").to.equal(r.fromBlock - 1n);
    expect(idx.tip()).to.equal(undefined);
    expect(idx.events(w.account)).to.deep.equal([]);
    idx.close();
    const again = index(path);
    await again.sync();
    const full = index();
    full.follow(w.account, w.startBlock);
    await full.sync();
    expect(plain(again.events(w.account))).to.equal(plain(full.events(w.account)));
  });
});

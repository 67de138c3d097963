/**
 * Owner notifications end to end on Hardhat's in-process chain, with a local HTTP receiver:
 *
 * 1. approval requested, delayed operation queued, budget at 80 % and 100 % of the period cap, breaker tripped,
 *    paused (by the breaker) and session about to expire: each delivered exactly once, with a valid HMAC-SHA256
 *    signature (checked here with node:crypto), a timestamp and the event id header, and the decoded facts.
 * 2. The receiver down: the notifier retries with backoff, indexing goes on, and the notification arrives once
 *    after the receiver is back.
 * 3. A notifier restart: nothing delivered before is sent again, a notification left in flight by a crash is
 *    abandoned (at most once), and new events are still delivered.
 */
import { expect } from "chai";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { EventIndex } from "../../src/indexer/index.js";
import { Notifier, Outbox, runNotifyLoop } from "../../src/notify/index.js";
import type { CircuitBreaker } from "../../types/ethers-contracts/index.js";
import { pay } from "../client/fixture.js";
import { waitFor } from "../helpers/wait.js";
import { TUSD, indexWorld, type IndexWorld } from "../indexer/world.js";
import { Receiver } from "./receiver.js";
import { JsonLogger, streamSink } from "../../src/monitor/log.js";

const { ethers } = await network.create();
const SECRET = "test-webhook-secret";
const CONSOLE = "http://console.test:7400/";
const DAY = 86_400;

describe("Notifier", function () {
  this.timeout(120_000);
  let w: IndexWorld;
  let dir: string;
  let dbPath: string;
  let breaker: CircuitBreaker;
  const receiver = new Receiver();
  let index: EventIndex | undefined;
  let notifier: Notifier;
  let loop: { stop: () => Promise<void> } | undefined;

  const deployment = () => ({ ...w.deployment, breaker: breaker.target as string });

  function start() {
    index = EventIndex.open({ path: dbPath, provider: ethers.provider, deployment: deployment() });
    index.follow(w.account, w.startBlock);
    notifier = new Notifier({
      index,
      provider: ethers.provider,
      sessions: w.deployment.sessions,
      webhook: { url: receiver.url, secret: SECRET, timeoutMs: 5_000 },
      consoleUrl: CONSOLE,
      expiryLeadSeconds: 2 * DAY,
      backoff: { baseMs: 50, capMs: 400 },
      ...(process.env.NOTIFY_DEBUG ? { logger: new JsonLogger(streamSink(process.stderr)) } : {}),
    });
    const ac = new AbortController();
    const done = runNotifyLoop({ index, notifier, pollMs: 25, signal: ac.signal });
    loop = {
      stop: async () => {
        ac.abort();
        await done;
      },
    };
  }

  async function stop() {
    await loop?.stop();
    loop = undefined;
    index?.close();
    index = undefined;
  }

  const bodiesOf = (type: string) => receiver.bodies().filter((b) => b.type === type);

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "reins-notify-"));
    dbPath = join(dir, "index.db");
    w = await indexWorld(ethers);
    breaker = (await ethers.deployContract("CircuitBreaker", [w.deployment.sessions])) as unknown as CircuitBreaker;
    await receiver.up();
  });

  afterEach(async function () {
    await stop();
  });

  after(async function () {
    await stop();
    await receiver.down();
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers each kind once, signed, with the decoded facts and the console link", async function () {
    start();
    await w.agent.send(pay(w, w.recipients[0], 100n));
    const approval = await w.agent.send(pay(w, w.recipients[2], 1_500n));
    const delayed = await w.agent.send(pay(w, w.recipients[1], 1_000n));
    if (approval.status !== "queued" || delayed.status !== "queued") throw new Error("expected queued");
    await w.owner.approveQueued(approval.requestId); // approved by the owner: not charged to the session
    await ethers.provider.send("evm_increaseTime", [3_601]);
    await w.agent.executeQueued(delayed.requestId, w.core.deployer); // charged: 1,100 of the 2,000 period cap
    for (let i = 0; i < 5; i++) await w.agent.send(pay(w, w.recipients[0], 100n)); // 1,600: 80 %
    for (let i = 0; i < 4; i++) await w.agent.send(pay(w, w.recipients[0], 100n)); // 2,000: 100 %
    // The breaker: 5 TUSD per hour; a 6 TUSD payment trips it and pauses the account.
    const b = breaker.target as string;
    await w.owner.execute([
      { target: w.deployment.sessions, data: w.sessions.interface.encodeFunctionData("setBreaker", [b]) },
      {
        target: b,
        data: breaker.interface.encodeFunctionData("configure", [{ window: 3600, maxOps: 0, maxNewRecipients: 0 }]),
      },
      { target: b, data: breaker.interface.encodeFunctionData("setSpendLimit", [w.tokenAddress, 5n * TUSD]) },
    ]);
    await w.agent.send(pay(w, w.recipients[0], 6n));
    expect(await w.sessions.isPaused(w.account)).to.equal(true);
    // 29 days later the 30-day session is within the 2-day lead time.
    await ethers.provider.send("evm_increaseTime", [29 * DAY]);
    await ethers.provider.send("evm_mine", []);

    const expected = [
      "approval.requested",
      "operation.queued",
      "budget.threshold",
      "budget.threshold",
      "breaker.tripped",
      "paused",
      "session.expiring",
    ];
    await waitFor(() => receiver.received.length >= expected.length && bodiesOf("session.expiring").length > 0, {
      what: `${expected.length} notifications`,
      detail: () => JSON.stringify(receiver.bodies().map((x) => x.type)),
    });
    await stop();
    // Quiet rounds: nothing new to say, nothing sent again.
    start();
    await loop!.stop();
    await notifier.collect();
    await notifier.deliverDue();
    await notifier.collect();
    await notifier.deliverDue();
    await stop();

    expect(
      receiver
        .bodies()
        .map((x) => x.type)
        .sort(),
    ).to.deep.equal([...expected].sort());
    for (const r of receiver.received) {
      const sig = `sha256=${createHmac("sha256", SECRET).update(r.body).digest("hex")}`;
      expect(r.headers["x-reins-signature"], "HMAC of the raw body").to.equal(sig);
      const body = JSON.parse(r.body) as { id: string };
      expect(r.headers["x-reins-event-id"]).to.equal(body.id);
      expect(Number(r.headers["x-reins-timestamp"])).to.be.greaterThan(1_600_000_000);
    }
    const [req] = bodiesOf("approval.requested") as unknown as Record<string, any>[];
    expect(req.requestId).to.equal(approval.requestId);
    expect(req.link).to.equal(`http://console.test:7400/#/inbox/${approval.requestId}`);
    expect(req.amount).to.include({ base: (1_500n * TUSD).toString(), units: "1500.0", symbol: "TUSD", decimals: 6 });
    expect(req.limit).to.include({ units: "1000.0" });
    expect(req.recipient).to.equal(w.recipients[2]);
    expect(req.at.iso).to.equal(new Date(req.at.unix * 1000).toISOString());
    expect(req.expiresAt.unix).to.equal(Number(approval.expiresAt));
    const [queued] = bodiesOf("operation.queued") as unknown as Record<string, any>[];
    expect(queued).to.include({ tier: "delayed", requestId: delayed.requestId });
    expect(queued.readyAt.unix).to.equal(Number(delayed.earliestExecution));
    const marks = (bodiesOf("budget.threshold") as unknown as Record<string, any>[]).map((x) => [
      x.percent,
      x.cap,
      x.spent.units,
      x.limit.units,
    ]);
    expect(marks).to.deep.equal([
      [80, "period", "1600.0", "2000.0"],
      [100, "period", "2000.0", "2000.0"],
    ]);
    const [trip] = bodiesOf("breaker.tripped") as unknown as Record<string, any>[];
    expect(trip.rule).to.equal("SpendVelocity");
    expect(trip.value).to.include({ units: "6.0" });
    expect(trip.limit).to.include({ units: "5.0" });
    expect(bodiesOf("paused")[0]).to.include({ by: b });
    const [exp] = bodiesOf("session.expiring") as unknown as Record<string, any>[];
    expect(exp.secondsLeft)
      .to.be.greaterThan(0)
      .and.at.most(2 * DAY);
  });

  it("the receiver down: retried with backoff while indexing goes on, delivered once when it is back", async function () {
    await receiver.down();
    start();
    await w.owner.unpause();
    await w.owner.pause();
    const pending = () =>
      notifier.notifications().find((n) => n.type === "paused" && n.status === "pending" && n.attempts >= 3);
    await waitFor(pending, {
      what: "three failed attempts",
      detail: () => JSON.stringify(notifier.notifications().slice(-2)),
    });
    const id = pending()!.id;
    expect(index!.events(w.account, { kinds: ["paused"] }), "indexing went on").to.have.length(2);
    const before = receiver.received.length;
    await receiver.up();
    await waitFor(() => bodiesOf("paused").some((x) => x.id === id), { what: "the delayed delivery" });
    // The receiver has the body before the notifier has read its 2xx answer and marked the row: poll for the mark.
    await waitFor(() => notifier.notifications().find((n) => n.id === id && n.status === "delivered"), {
      what: "the delivered mark",
      detail: () => JSON.stringify(notifier.notifications().find((n) => n.id === id)),
    });
    await stop();
    expect(receiver.received.length).to.equal(before + 1);
  });

  it("after a restart: nothing is sent twice, an in-flight notification is abandoned, new events still arrive", async function () {
    // A crash in the middle of a delivery: the row is `sending` when the process dies.
    const crashed = EventIndex.open({ path: dbPath, provider: ethers.provider, deployment: deployment() });
    const outbox = new Outbox(crashed.db);
    outbox.add({ id: "test:in-flight", type: "paused", account: w.account, body: "{}" }, Date.now());
    outbox.markSending("test:in-flight");
    crashed.close();
    const before = receiver.received.length;
    start();
    expect(notifier.abandonedAtStart).to.equal(1);
    await w.owner.unpause();
    await w.owner.pause();
    await waitFor(() => bodiesOf("paused").length === 3, { what: "the new pause notification" });
    await stop();
    expect(receiver.received.length, "only the new one").to.equal(before + 1);
    const ids = receiver.bodies().map((x) => x.id);
    expect(new Set(ids).size, "no id twice").to.equal(ids.length);
    expect(ids).to.not.include("test:in-flight");
  });
});

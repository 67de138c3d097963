/**
 * Unit tests of the monitor's pure parts: every rule fires at its threshold and not one step below, the config
 * merge rejects typos, outflow attribution stays inside one operation, backoff is capped, state writes are atomic.
 */
import { expect } from "chai";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet, getAddress, zeroPadValue, toBeHex } from "ethers";
import {
  DEFAULT_RULES,
  RulesConfigError,
  TIER,
  approvalBurst,
  evaluate,
  newRecipient,
  queueBurst,
  resolveRules,
  spendSpike,
  type MonitorEvent,
  type QueuedEvent,
  type SpendEvent,
  type Thresholds,
} from "../../src/monitor/rules.js";
import {
  TRANSFER_TOPIC,
  attributeOutflows,
  entryPointInterface,
  sessionsInterface,
  type RawLog,
} from "../../src/monitor/decode.js";
import { backoffDelay } from "../../src/monitor/rpc.js";
import { MonitorStateError, emptyState, loadState, saveState } from "../../src/monitor/state.js";

const SESSION_A = "0x" + "aa".repeat(32);
const SESSION_B = "0x" + "bb".repeat(32);
const TOKEN = getAddress("0x" + "11".repeat(20));
const OTHER_TOKEN = getAddress("0x" + "22".repeat(20));
const ACCOUNT = getAddress("0x" + "33".repeat(20));
const R1 = getAddress("0x" + "44".repeat(20));
const R2 = getAddress("0x" + "55".repeat(20));

let seq = 0;
function spend(amount: bigint, over: Partial<SpendEvent> = {}): SpendEvent {
  seq++;
  return {
    kind: "SpendRecorded",
    blockNumber: seq,
    logIndex: 0,
    txHash: toBeHex(seq, 32),
    timestamp: 1_000 + seq,
    sessionId: SESSION_A,
    token: TOKEN,
    amount,
    tier: TIER.Instant,
    intentHash: "0x" + "00".repeat(32),
    outflows: [],
    ...over,
  };
}
function queued(timestamp: number, tier: number = TIER.Delayed): QueuedEvent {
  seq++;
  return {
    kind: "OperationQueued",
    blockNumber: seq,
    logIndex: 0,
    txHash: toBeHex(seq, 32),
    timestamp,
    sessionId: SESSION_A,
    requestId: toBeHex(seq, 32),
    tier,
    token: TOKEN,
    amount: 500n,
    limit: 100n,
    intentHash: "0x" + "00".repeat(32),
  };
}
const ctx = (window: MonitorEvent[], known: string[] = []) => ({
  window,
  knownRecipients: new Set(known.map((k) => k.toLowerCase())),
});

describe("monitor rules", () => {
  describe("(a) spendSpike", () => {
    const cfg: Thresholds<"spendSpike"> = { enabled: true, factor: 5, lookback: 3, minHistory: 3 };

    it("fires at factor × mean, not one unit below", () => {
      const history = [spend(10n), spend(20n), spend(30n)]; // mean 20, threshold 100
      const hit = spendSpike(ctx([...history, spend(100n)]), cfg);
      expect(hit?.rule).to.equal("spend-spike");
      expect(hit?.numbers).to.include({ amount: "100", mean: "20", history: "3", threshold: "100" });
      expect(spendSpike(ctx([...history, spend(99n)]), cfg)).to.equal(null);
    });

    it("supports fractional factors exactly", () => {
      const history = [spend(100n), spend(100n), spend(100n)];
      const c = { ...cfg, factor: 2.5 };
      expect(spendSpike(ctx([...history, spend(250n)]), c)?.numbers.threshold).to.equal("250");
      expect(spendSpike(ctx([...history, spend(249n)]), c)).to.equal(null);
    });

    it("needs minHistory previous spends of the same session and token", () => {
      const two = [spend(10n), spend(10n)];
      expect(spendSpike(ctx([...two, spend(1_000n)]), cfg)).to.equal(null);
      const mixed = [spend(10n), spend(10n), spend(10n, { sessionId: SESSION_B }), spend(10n, { token: OTHER_TOKEN })];
      expect(spendSpike(ctx([...mixed, spend(1_000n)]), cfg)).to.equal(null);
      expect(spendSpike(ctx([...mixed, spend(10n), spend(1_000n)]), cfg)?.numbers.history).to.equal("3");
    });

    it("uses only the last `lookback` spends", () => {
      // Old large spends fall out of the window: mean of the last 3 is 10, threshold 50.
      const history = [spend(1_000n), spend(1_000n), spend(10n), spend(10n), spend(10n)];
      expect(spendSpike(ctx([...history, spend(50n)]), cfg)?.numbers.mean).to.equal("10");
    });

    it("ignores non-spend current events and disabled config", () => {
      const history = [spend(10n), spend(10n), spend(10n)];
      expect(spendSpike(ctx([...history, queued(2_000)]), cfg)).to.equal(null);
      expect(spendSpike(ctx([...history, spend(1_000n)]), { ...cfg, enabled: false })).to.equal(null);
    });
  });

  describe("(b) queueBurst", () => {
    const cfg: Thresholds<"queueBurst"> = { enabled: true, count: 3, windowSec: 60 };

    it("fires at `count` queue requests within the window, not at count - 1", () => {
      expect(queueBurst(ctx([queued(100), queued(130), queued(159)]), cfg)?.numbers.queued).to.equal("3");
      expect(queueBurst(ctx([queued(130), queued(159)]), cfg)).to.equal(null);
    });

    it("counts only events inside (now - windowSec, now]", () => {
      // 99 is exactly windowSec before 159: outside.
      expect(queueBurst(ctx([queued(99), queued(130), queued(159)]), cfg)).to.equal(null);
      expect(queueBurst(ctx([queued(100), queued(130), queued(159)]), cfg)).to.not.equal(null);
    });

    it("counts every tier and only fires on a queue event", () => {
      const w = [queued(100, TIER.Approval), queued(110, TIER.Delayed), queued(120, TIER.Approval)];
      expect(queueBurst(ctx(w), cfg)).to.not.equal(null);
      expect(queueBurst(ctx([...w, spend(1n, { timestamp: 121 })]), cfg)).to.equal(null);
    });
  });

  describe("(c) newRecipient", () => {
    const cfg: Thresholds<"newRecipient"> = { enabled: true, allowlist: [], minKnown: 1 };
    const pay = (to: string) => spend(5n, { outflows: [{ token: TOKEN, to, amount: 5n }] });

    it("fires for a recipient never paid before once armed", () => {
      const hit = newRecipient(ctx([pay(R2)], [R1]), cfg);
      expect(hit?.rule).to.equal("new-recipient");
      expect(hit?.numbers.recipient).to.equal(R2);
      expect(newRecipient(ctx([pay(R1)], [R1]), cfg)).to.equal(null);
    });

    it("arms at minKnown known recipients, not one below", () => {
      const c = { ...cfg, minKnown: 2 };
      expect(newRecipient(ctx([pay(R2)], [R1]), c)).to.equal(null);
      expect(newRecipient(ctx([pay(R2)], [R1, getAddress("0x" + "66".repeat(20))]), c)).to.not.equal(null);
    });

    it("treats allow-listed recipients as known (and as arming the rule)", () => {
      expect(newRecipient(ctx([pay(R2)]), { ...cfg, allowlist: [R2] })).to.equal(null);
      expect(newRecipient(ctx([pay(R2)]), { ...cfg, allowlist: [R1] })?.numbers.recipient).to.equal(R2);
    });
  });

  describe("(d) approvalBurst", () => {
    const cfg: Thresholds<"approvalBurst"> = { enabled: true, count: 2, windowSec: 600 };

    it("fires at `count` approval-tier requests within the window, not at count - 1", () => {
      const hit = approvalBurst(ctx([queued(100, TIER.Approval), queued(200, TIER.Approval)]), cfg);
      expect(hit?.numbers.approvalRequests).to.equal("2");
      expect(approvalBurst(ctx([queued(200, TIER.Approval)]), cfg)).to.equal(null);
    });

    it("ignores delayed-tier requests and requests outside the window", () => {
      expect(approvalBurst(ctx([queued(100, TIER.Delayed), queued(200, TIER.Approval)]), cfg)).to.equal(null);
      expect(approvalBurst(ctx([queued(100, TIER.Approval), queued(700, TIER.Approval)]), cfg)).to.equal(null);
      expect(approvalBurst(ctx([queued(101, TIER.Approval), queued(700, TIER.Approval)]), cfg)).to.not.equal(null);
    });
  });

  it("evaluate applies every rule and defaults are sane", () => {
    const w = [spend(10n), spend(10n), spend(10n), spend(50n, { outflows: [{ token: TOKEN, to: R2, amount: 50n }] })];
    const rules = evaluate(ctx(w, [R1]), DEFAULT_RULES).map((a) => a.rule);
    expect(rules).to.deep.equal(["spend-spike", "new-recipient"]);
  });

  describe("resolveRules", () => {
    it("merges a subset over the defaults", () => {
      const r = resolveRules({ spendSpike: { factor: 3.5 }, approvalBurst: { count: 2 } });
      expect(r.spendSpike).to.deep.equal({ ...DEFAULT_RULES.spendSpike, factor: 3.5 });
      expect(r.approvalBurst.count).to.equal(2);
      expect(r.queueBurst).to.deep.equal(DEFAULT_RULES.queueBurst);
    });

    it("rejects unknown rules and fields, wrong types and fractional counts", () => {
      for (const bad of [
        [],
        { spendSpik: {} },
        { spendSpike: { factr: 2 } },
        { spendSpike: { enabled: "yes" } },
        { queueBurst: { count: 2.5 } },
        { queueBurst: { count: -1 } },
        { newRecipient: { allowlist: ["0x12"] } },
      ]) {
        expect(() => resolveRules(bad), JSON.stringify(bad)).to.throw(RulesConfigError);
      }
    });
  });
});

describe("monitor decoding", () => {
  const topic = (a: string) => zeroPadValue(a, 32);
  let idx = 0;
  const log = (topics: string[], data = "0x", address = TOKEN): RawLog => ({
    address,
    topics,
    data,
    blockNumber: 1,
    transactionHash: "0x" + "01".repeat(32),
    index: idx++,
  });
  const transfer = (from: string, to: string, amount: bigint, token = TOKEN) =>
    log([TRANSFER_TOPIC, topic(from), topic(to)], toBeHex(amount, 32), token);

  it("attributes only the account's transfers of the spent token since the previous operation", () => {
    idx = 0;
    const userOpEvent = entryPointInterface.getEvent("UserOperationEvent").topicHash;
    const logs = [
      transfer(ACCOUNT, R1, 7n), // 0: an earlier operation in the same bundle
      log([userOpEvent]), // 1: boundary
      transfer(R1, R2, 3n), // 2: not from the account
      transfer(ACCOUNT, R2, 9n, OTHER_TOKEN), // 3: other token
      transfer(ACCOUNT, R2, 5n), // 4: ours
      log([sessionsInterface.getEvent("SpendRecorded").topicHash]), // 5: the spend
      transfer(ACCOUNT, R1, 1n), // 6: after the spend
    ];
    expect(attributeOutflows(logs, ACCOUNT, TOKEN, 5)).to.deep.equal([{ token: TOKEN, to: R2, amount: 5n }]);
    expect(attributeOutflows(logs, ACCOUNT, OTHER_TOKEN, 5)).to.deep.equal([
      { token: OTHER_TOKEN, to: R2, amount: 9n },
    ]);
  });
});

describe("monitor backoff and state", () => {
  it("backs off exponentially up to the cap", () => {
    const o = { baseMs: 100, capMs: 1_000 };
    expect([1, 2, 3, 4, 5, 6, 50].map((a) => backoffDelay(a, o))).to.deep.equal([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it("round-trips bigints, writes atomically and refuses another account's file", () => {
    const dir = mkdtempSync(join(tmpdir(), "reins-monitor-"));
    const path = join(dir, "state.json");
    const s = emptyState(ACCOUNT);
    s.lastBlock = 42;
    s.window.push(spend(12345678901234567890n, { outflows: [{ token: TOKEN, to: R1, amount: 3n }] }));
    saveState(path, s);
    expect(readdirSync(dir)).to.deep.equal(["state.json"]); // temp file renamed away
    expect(loadState(path, ACCOUNT)).to.deep.equal(s);
    expect(() => loadState(path, Wallet.createRandom().address)).to.throw(MonitorStateError);
    writeFileSync(path, "{ not json");
    expect(() => loadState(path, ACCOUNT)).to.throw(MonitorStateError);
    expect(existsSync(join(dir, "missing.json"))).to.equal(false);
    expect(loadState(join(dir, "missing.json"), ACCOUNT).lastBlock).to.equal(null);
  });
});

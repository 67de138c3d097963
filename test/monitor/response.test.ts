/**
 * Unit tests of the monitor's response selection (`response.ts`): which alerts tighten and which pause, the
 * escalation window of `tighten-then-pause`, budget scaling, and the rules config accepting only known responses.
 */
import { expect } from "chai";
import { getAddress, toBeHex } from "ethers";
import {
  atMost,
  canShrink,
  checkTightenFactor,
  chooseResponse,
  scaleBudget,
  sessionTarget,
  type TokenBudget,
} from "../../src/monitor/response.js";
import {
  DEFAULT_RULES,
  RulesConfigError,
  TIER,
  resolveRules,
  type Alert,
  type QueuedEvent,
  type SpendEvent,
} from "../../src/monitor/rules.js";

const SESSION_A = "0x" + "aa".repeat(32);
const SESSION_B = "0x" + "bb".repeat(32);
const TOKEN = getAddress("0x" + "11".repeat(20));
const DAY = 86_400n;

const spendEv: SpendEvent = {
  kind: "SpendRecorded",
  blockNumber: 10,
  logIndex: 3,
  txHash: toBeHex(10, 32),
  timestamp: 10_000,
  sessionId: SESSION_A,
  token: TOKEN,
  amount: 90n,
  tier: TIER.Instant,
  intentHash: "0x" + "00".repeat(32),
  outflows: [],
};
const queuedEv: QueuedEvent = {
  kind: "OperationQueued",
  blockNumber: 11,
  logIndex: 0,
  txHash: toBeHex(11, 32),
  timestamp: 10_010,
  sessionId: SESSION_A,
  requestId: "0x" + "01".repeat(32),
  tier: TIER.Approval,
  token: TOKEN,
  amount: 5_000n,
  limit: 1_000n,
  intentHash: "0x" + "00".repeat(32),
};
const alert = (rule: Alert["rule"]): Alert => ({ rule, severity: "critical", message: "", numbers: {} });

const budget: TokenBudget = {
  token: TOKEN,
  instantThreshold: 100n * 10n ** 6n,
  ceiling: 1_000n * 10n ** 6n,
  periodCap: 2_000n * 10n ** 6n,
  lifetimeCap: 10_000n * 10n ** 6n,
  period: DAY,
};

describe("monitor responses", () => {
  describe("sessionTarget", () => {
    it("spend-spike and new-recipient point at the spend's session and token", () => {
      for (const rule of ["spend-spike", "new-recipient"] as const) {
        expect(sessionTarget(alert(rule), spendEv), rule).to.deep.equal({ sessionId: SESSION_A, token: TOKEN });
      }
    });
    it("account-wide rules have no target", () => {
      expect(sessionTarget(alert("queue-burst"), queuedEv)).to.equal(null);
      expect(sessionTarget(alert("approval-burst"), queuedEv)).to.equal(null);
    });
  });

  describe("chooseResponse", () => {
    const target = { sessionId: SESSION_A, token: TOKEN };

    it("pause is the default and ignores the target", () => {
      expect(chooseResponse("pause", target, 10_000, [], 3600)).to.deep.equal({
        action: "pause",
        reason: "configured",
      });
    });

    it("tighten tightens a session-bound alert every time, even a repeated one", () => {
      const prior = [{ sessionId: SESSION_A, eventTs: 9_999 }];
      expect(chooseResponse("tighten", target, 10_000, prior, 3600)).to.deep.equal({ action: "tighten", target });
    });

    it("falls back to pause when the alert is not tied to one session and token", () => {
      for (const r of ["tighten", "tighten-then-pause"] as const) {
        expect(chooseResponse(r, null, 10_000, [], 3600), r).to.deep.equal({
          action: "pause",
          reason: "not-session-bound",
        });
      }
    });

    it("tighten-then-pause: tightens first, pauses when the same session was tightened within the window", () => {
      expect(chooseResponse("tighten-then-pause", target, 10_000, [], 3600).action).to.equal("tighten");
      // the window is inclusive: exactly escalateWithinSec earlier still escalates, one second more does not
      const at = (eventTs: number, sessionId = SESSION_A) => [{ sessionId, eventTs }];
      expect(chooseResponse("tighten-then-pause", target, 10_000, at(6_400), 3600)).to.deep.equal({
        action: "pause",
        reason: "escalated",
      });
      expect(chooseResponse("tighten-then-pause", target, 10_000, at(6_399), 3600).action).to.equal("tighten");
      // another session's tightening does not escalate this one
      expect(chooseResponse("tighten-then-pause", target, 10_000, at(9_999, SESSION_B), 3600).action).to.equal(
        "tighten",
      );
    });
  });

  describe("scaleBudget", () => {
    it("halves every amount field by default factor 0.5 and keeps token and period", () => {
      expect(scaleBudget(budget, 0.5)).to.deep.equal({
        token: TOKEN,
        instantThreshold: 50n * 10n ** 6n,
        ceiling: 500n * 10n ** 6n,
        periodCap: 1_000n * 10n ** 6n,
        lifetimeCap: 5_000n * 10n ** 6n,
        period: DAY,
      });
    });

    it("rounds down, never raises a field and keeps instantThreshold ≤ ceiling", () => {
      const odd = { ...budget, instantThreshold: 7n, ceiling: 7n, periodCap: 1n, lifetimeCap: 3n };
      const out = scaleBudget(odd, 0.3333);
      expect([out.instantThreshold, out.ceiling, out.periodCap, out.lifetimeCap]).to.deep.equal([2n, 2n, 0n, 0n]);
      expect(atMost(out, odd)).to.equal(true);
      expect(out.instantThreshold <= out.ceiling).to.equal(true);
    });

    it("refuses factors outside (0, 1)", () => {
      for (const f of [0, 1, 1.5, -0.5, Number.NaN, 0.00001]) {
        expect(() => scaleBudget(budget, f), String(f)).to.throw(/tighten factor/);
      }
      expect(checkTightenFactor(0.9999)).to.equal(0.9999);
    });

    it("an all-zero budget cannot shrink; a non-zero one can", () => {
      const zero = { ...budget, instantThreshold: 0n, ceiling: 0n, periodCap: 0n, lifetimeCap: 0n };
      expect(canShrink(zero, 0.5)).to.equal(false);
      expect(canShrink({ ...zero, lifetimeCap: 1n }, 0.5)).to.equal(true);
      expect(canShrink(budget, 0.5)).to.equal(true);
    });

    it("atMost compares every field and requires the same period", () => {
      expect(atMost(budget, budget)).to.equal(true);
      expect(atMost({ ...budget, periodCap: budget.periodCap + 1n }, budget)).to.equal(false);
      expect(atMost({ ...budget, period: DAY / 2n }, budget)).to.equal(false);
    });
  });

  describe("rules config", () => {
    it("every rule defaults to pause with a one-day escalation window", () => {
      for (const r of Object.values(DEFAULT_RULES)) {
        expect(r).to.include({ response: "pause", escalateWithinSec: 86_400 });
      }
    });

    it("accepts the three responses and rejects anything else", () => {
      const r = resolveRules({
        spendSpike: { response: "tighten" },
        newRecipient: { response: "tighten-then-pause", escalateWithinSec: 600 },
      });
      expect(r.spendSpike.response).to.equal("tighten");
      expect(r.newRecipient).to.include({ response: "tighten-then-pause", escalateWithinSec: 600 });
      expect(r.queueBurst.response).to.equal("pause");
      for (const bad of [
        { spendSpike: { response: "stop" } },
        { spendSpike: { response: 1 } },
        { spendSpike: { escalateWithinSec: -1 } },
        { spendSpike: { escalateWithinSec: 1.5 } },
      ]) {
        expect(() => resolveRules(bad), JSON.stringify(bad)).to.throw(RulesConfigError);
      }
    });
  });
});

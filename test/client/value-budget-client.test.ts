/**
 * The client side of value budgets (issue 19): `ReinsOwner.configureValue` sets prices and a USD budget in one owner
 * operation; `AgentSession.send` reports why a value budget queued a payment (the limit, or the price failure);
 * `assessTier` (the module's preview) includes the value verdict; a run whose price fails decodes to `ValueUnpriced`.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ValueUnpriced, assessTier, decodeReinsError, valueBudget, valueBudgetView } from "../../src/client/index.js";
import { clientWorld, grantPayments, pay } from "./fixture.js";

const { ethers, networkHelpers } = await network.create();

describe("Reins client: value budgets", function () {
  it("configureValue, a value-queued payment with its reason, and the preview's tier", async function () {
    const w = await clientWorld(ethers);
    const agent = await grantPayments(w);
    const feed = await ethers.deployContract("MockAggregator", [8, 10n ** 8n]); // TUSD/USD at $1.00
    const outcome = await w.owner.configureValue({
      prices: [
        {
          token: w.tokenAddress,
          tokenDecimals: 6,
          source: {
            kind: "aggregator",
            feed: await feed.getAddress(),
            maxStaleness: 3600n,
            minPrice: 9n * 10n ** 7n,
            maxPrice: 11n * 10n ** 7n,
          },
        },
      ],
      budget: {
        sessionId: agent.sessionId,
        config: valueBudget("USD", 8, { instant: "20", ceiling: "200", perPeriod: "500", period: "24h" }),
      },
    });
    expect(outcome.status).to.equal("applied");
    const view = await valueBudgetView(w.sessions, w.account, agent.sessionId);
    expect(view).to.include({ unit: "USD", instant: "20", ceiling: "200", periodLeft: "500" });
    const [to] = w.recipients;
    const [keeper] = await ethers.getSigners();
    // $30 of TUSD: the token budget (instant 100) would pay it at once; the USD budget (instant 20) queues it
    expect((await assessTier(w.sessions, w.account, agent.sessionId, [pay(w, to, 30n)])).tier).to.equal("delayed");
    const queued = await agent.send([pay(w, to, 30n)]);
    expect(queued.status).to.equal("queued");
    if (queued.status !== "queued") return;
    expect(queued.value).to.deep.include({ budget: "session", limit: "InstantThreshold", value: 30n * 10n ** 8n });
    // a stale feed: even $1 needs the owner's approval, and the reason says which token and why
    await feed.setRound(10n ** 8n, (await networkHelpers.time.latest()) - 7200);
    const stale = await agent.send([pay(w, to, 1n)]);
    expect(stale.status).to.equal("queued");
    if (stale.status !== "queued") return;
    expect(stale.tier).to.equal("approval");
    expect(stale.value).to.deep.include({ limit: "Price", failure: "Stale", unpricedToken: w.tokenAddress });
    // the delayed one runs after its delay only if the price is good then: stale → typed ValueUnpriced
    await networkHelpers.time.increase(3601);
    let error: unknown;
    try {
      await agent.executeQueued(queued.requestId, keeper);
    } catch (e) {
      error = decodeReinsError(e);
    }
    expect(error).to.be.instanceOf(ValueUnpriced);
    expect(error).to.include({ token: w.tokenAddress, failure: "Stale" });
    await feed.setAnswer(10n ** 8n);
    await agent.executeQueued(queued.requestId, keeper);
    expect((await valueBudgetView(w.sessions, w.account, agent.sessionId))!.periodLeft).to.equal("470");
  });
});

/**
 * `assessTier` / `budgetTokens` (used by the CLI, the monitor, the MCP server and the console) ask the module:
 * the tier of each operation comes from `previewOperation` and the budget-token list from `budgetTokens`, with no
 * client copy of the rules and no log scan.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ScopeViolation, assessTier, budgetTokens } from "../../src/client/index.js";
import { clientWorld, grantPayments, pay } from "./fixture.js";

const { ethers } = await network.create();

describe("Reins client: tiers and budget tokens from the module", function () {
  it("instant, delayed and approval tiers and a typed refusal come from the module; tokens in its order", async function () {
    const w = await clientWorld(ethers);
    const agent = await grantPayments(w);
    const [to] = w.recipients;
    const of = async (whole: bigint) => assessTier(w.sessions, w.account, agent.sessionId, [pay(w, to, whole)]);
    expect((await of(10n)).tier).to.equal("instant");
    const delayed = await of(500n);
    expect(delayed).to.include({
      tier: "delayed",
      token: w.tokenAddress,
      amount: 500n * 10n ** 6n,
      limit: 100n * 10n ** 6n,
    });
    expect((await of(1500n)).tier).to.equal("approval");
    expect(delayed.spend.get(w.tokenAddress)).to.equal(500n * 10n ** 6n);
    const other = await ethers.deployContract("MockERC20", ["Other", "OTH", 18]);
    const unbudgeted = {
      target: await other.getAddress(),
      data: other.interface.encodeFunctionData("transfer", [to, 1n]),
    };
    let error: unknown;
    try {
      await assessTier(w.sessions, w.account, agent.sessionId, [unbudgeted]);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ScopeViolation); // the module checks scope before budgets
    expect(await budgetTokens(w.sessions, w.account, agent.sessionId)).to.deep.equal([w.tokenAddress]);
    // The preview agrees with what the agent's own preflight says.
    expect((await agent.preflight(pay(w, to, 500n))).outcome).to.equal("queue");
  });
});

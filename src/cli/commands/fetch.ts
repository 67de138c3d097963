/**
 * `reins agent fetch <account> <sessionId> <url>`: fetch a URL as the agent, paying an x402 (HTTP 402) request from
 * the account inside the session's limits (the payment is charged on chain before the server is paid).
 */
import { getAddress } from "ethers";
import { AgentSession } from "../../client/agent.js";
import { listSessions } from "../../client/actions/listSessions.js";
import { AgentSessions__factory } from "../../../types/ethers-contracts/index.js";
import { flag, str, type Invocation } from "../args.js";
import { CliContext, parseId } from "../context.js";
import { FailureError, RefusedError, UsageError } from "../errors.js";
import { emit } from "../format.js";
import type { X402Payment } from "../../x402/signer.js";
import type { ReinsError } from "../../client/errors.js";

/** Run `agent fetch`. Exit 0 on a 2xx answer, 3 when the payment is refused (nothing paid), 1 otherwise. */
export async function agentFetch(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const sessionId = parseId(inv.args.sessionId, "session id");
    let url: URL;
    try {
      url = new URL(inv.args.url);
    } catch {
      throw new UsageError(`url: not a URL: ${inv.args.url}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new UsageError(`url: must be http(s), got ${url.protocol}`);
    const method = (str(inv, "method") ?? "GET").toUpperCase();
    if (method !== "GET" && method !== "POST") throw new UsageError(`--method: GET or POST, got ${method}`);
    const account = await ctx.account(inv.args.account);
    const { reins } = await ctx.deployment();
    const envName = str(inv, "agent-key-env") ?? "REINS_AGENT_KEY";
    const agent = await ctx.key(envName, "agent");
    const provider = await ctx.provider();
    const sessions = AgentSessions__factory.connect(reins.sessions, provider);
    const session = (await listSessions(sessions, account)).find((s) => s.sessionId.toLowerCase() === sessionId);
    if (!session) throw new UsageError(`unknown session ${sessionId} for account ${account}`);
    if (getAddress(session.agent) !== agent.address) {
      throw new UsageError(
        `${envName} is ${agent.address}, but session ${sessionId} belongs to agent ${session.agent}`,
      );
    }
    const agentSession = new AgentSession({
      agent,
      account,
      sessionId: session.sessionId,
      sessions: reins.sessions,
      sender: await ctx.sender(agent),
    });
    const payments: X402Payment[] = [];
    const refusals: ReinsError[] = [];
    const { reinsPaymentFetch } = await import("../../x402/fetch.js");
    const paidFetch = await reinsPaymentFetch(agentSession, {
      intent: str(inv, "intent") ?? `fetch ${url.href}`,
      pending: flag(inv, "allow-queue") ? "queue" : "refuse",
      onPayment: (p) => payments.push(p),
      onRefusal: (e) => refusals.push(e),
    });
    let res: Response;
    try {
      res = await paidFetch(url.href, { method, body: str(inv, "body") });
    } catch (e) {
      const refusal = refusals[0];
      if (refusal) {
        const report = { status: "refused", url: url.href, rule: refusal.rule, message: refusal.message };
        if (inv.json) emit(true, report, "");
        throw new RefusedError(`refused: ${refusal.message}; the server was not paid`, report);
      }
      throw new FailureError(`fetch ${url.href} failed: ${(e as Error).message.split("\n")[0]}`);
    }
    const body = await res.text();
    const p = payments[0];
    emit(
      inv.json,
      {
        status: res.ok ? "ok" : "failed",
        httpStatus: res.status,
        url: url.href,
        body,
        ...(p
          ? { payment: { token: p.token, amount: p.authorization.value, payTo: p.authorization.to, txHash: p.txHash } }
          : {}),
      },
      `HTTP ${res.status}${p ? `, paid ${p.authorization.value} base units of ${p.token} to ${p.authorization.to} (tx ${p.txHash})` : ", no payment"}\n${body}`,
    );
    return res.ok ? 0 : 1;
  } finally {
    ctx.close();
  }
}

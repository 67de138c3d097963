/**
 * {@link listSessions}: every session an account granted, rebuilt from `SessionGranted` / `SessionRevoked` logs and
 * each session's live state (`getSession`, the account epoch, the block time).
 */
import type { AgentSessions } from "../../../types/ethers-contracts/index.js";

/** A session's live status. `stale` = granted before a revoke-all or a module reinstall. */
export type SessionStatus = "active" | "not yet valid" | "expired" | "revoked" | "used up" | "stale";

/** One session of an account. */
export interface SessionInfo {
  sessionId: string;
  agent: string;
  status: SessionStatus;
  validAfter: bigint;
  validUntil: bigint;
  maxUses: bigint;
  uses: bigint;
  gasBudget: bigint;
  gasSpent: bigint;
  queueDelay: bigint;
  approvalWindow: bigint;
  /** Transaction that granted it. */
  grantedIn: string;
}

/** Every session `account` granted (oldest first) with its status now. */
export async function listSessions(
  sessions: AgentSessions,
  account: string,
  options: { fromBlock?: number } = {},
): Promise<SessionInfo[]> {
  const granted = await sessions.queryFilter(sessions.filters.SessionGranted(account), options.fromBlock ?? 0);
  const provider = sessions.runner!.provider!;
  const now = BigInt((await provider.getBlock("latest"))!.timestamp);
  const config = await sessions.accountConfig(account);
  const out: SessionInfo[] = [];
  for (const log of granted) {
    const id = log.args.sessionId;
    const s = await sessions.getSession(id, account);
    let status: SessionStatus = "active";
    if (s.epoch !== config.epoch) status = "stale";
    else if (s.revoked) status = "revoked";
    else if (now > s.validUntil) status = "expired";
    else if (now < s.validAfter) status = "not yet valid";
    else if (s.uses >= s.maxUses) status = "used up";
    out.push({
      sessionId: id,
      agent: s.agent,
      status,
      validAfter: s.validAfter,
      validUntil: s.validUntil,
      maxUses: s.maxUses,
      uses: s.uses,
      gasBudget: s.gasBudget,
      gasSpent: s.gasSpent,
      queueDelay: s.queueDelay,
      approvalWindow: s.approvalWindow,
      grantedIn: log.transactionHash,
    });
  }
  return out;
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IReinsTimelock} from "../interfaces/IReinsTimelock.sol";
import {AgentSessionsStorage} from "./sessions/AgentSessionsStorage.sol";
import {AgentSessionsGrants} from "./sessions/AgentSessionsGrants.sol";
import {AgentSessionsAdminControls} from "./sessions/AgentSessionsAdminControls.sol";
import {AgentSessionsAdminValue} from "./sessions/AgentSessionsAdminValue.sol";

/**
 * @title AgentSessionsAdmin
 * @notice Configuration and lifecycle of {AgentSessions}: grants, permissions, budgets, watched assets, delayed
 * loosening, revocation, watchdogs, the breaker and grant delegates. It holds no state of its own: {AgentSessions}
 * runs it by `delegatecall`, so `msg.sender` is the configuring account and the storage is {AgentSessions}'.
 * @dev Rules kept here:
 * - Loosening (a new session, permission, higher budget, later expiry, lower security delay, a grant delegate, a
 *   replaced breaker, an unwatched asset) waits the account's security delay; tightening applies at once.
 * - A pending change belongs to the account's session epoch: a revoke-all, an uninstall (and so a guardian
 *   recovery whose follow-up calls revoke all sessions) voids every change proposed before, and every grant
 *   delegate accepted before.
 * - Revoking all sessions, uninstalling and a watchdog pause with `cancelQueued` cancel the agent requests queued
 *   in the timelock, and only those (the owner's own safety-net operations are not touched).
 * - A reinstall keeps the earlier security delay as a floor: a lower delay and initial sessions in its init data
 *   become pending changes behind that delay.
 */
contract AgentSessionsAdmin is AgentSessionsGrants, AgentSessionsAdminControls, AgentSessionsAdminValue {
    constructor(IReinsTimelock timelock_) AgentSessionsStorage(timelock_) {}
}

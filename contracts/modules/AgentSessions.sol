// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MODULE_TYPE_VALIDATOR, MODULE_TYPE_EXECUTOR} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {IReinsTimelock} from "../interfaces/IReinsTimelock.sol";
import {AgentSessionsStorage} from "./sessions/AgentSessionsStorage.sol";
import {AgentTransferAuthorizations} from "./sessions/AgentTransferAuthorizations.sol";
import {AgentSessionsValidation} from "./sessions/AgentSessionsValidation.sol";
import {AgentSessionsExecution} from "./sessions/AgentSessionsExecution.sol";
import {AgentSessionsConfiguration} from "./sessions/AgentSessionsConfiguration.sol";
import {AgentSessionsControls} from "./sessions/AgentSessionsControls.sol";
import {AgentSessionsViews} from "./sessions/AgentSessionsViews.sol";
import {AgentSessionsPreview} from "./sessions/AgentSessionsPreview.sol";
import {AgentSessionsAdmin} from "./AgentSessionsAdmin.sol";

/**
 * @title AgentSessions
 * @notice ERC-7579 validator + executor that lets AI agents sign UserOperations with session keys, inside a scope
 * (targets, selectors, native-value caps, argument conditions), a validity window, a usage limit, a gas budget and
 * per-token budgets with three tiers (instant, delayed, owner approval). Watchdogs can pause every session at once.
 *
 * @dev Phases:
 * - Validation (`validateUserOp`, ERC-7562 clean): session liveness, pause, usage and gas budgets, paymaster rule,
 *   canonical call data and the scope of every call; `validAfter`/`validUntil` go back in the validation data (no
 *   TIMESTAMP). Bad signatures return SIG_VALIDATION_FAILED; policy violations revert with a named error, so
 *   bundlers and the client can report the rule. All storage read here is keyed with the account innermost.
 *   Every interpreted outflow ({CallPolicy-outflow}: transfers, allowances, permits, operator grants) must be in
 *   canonical ABI form and have a budget in the session, so an operation the execution would refuse is refused
 *   here, at no cost to the account.
 * - Execution (`executeAuthorized`, called by the account's `executeUserOp`; `executeQueued`, called by the
 *   timelock): the same authority ({_liveSession} plus the time window) decides again; per-token spend from call
 *   data and from the balance difference of every watched asset across the execution; the larger is charged, and a
 *   drop of a watched asset the session has no budget for reverts (default deny on observed effects). Allowances
 *   granted by a session are reset to zero after its execution. Time-based budgets use {SpendWindow}. Operations
 *   above the instant tier are scheduled in the {IReinsTimelock} with this module as guard, and re-checked (window,
 *   scope, pause, revocation, budgets) when they run, owner-approved ones included: an approved request of an
 *   expired, revoked or narrowed session does not run (the owner can make the same calls as an owner operation).
 * - Configuration and controls: {AgentSessionsAdmin}, run by `delegatecall` (same storage, same ABI).
 * Parts (abstract, one contract once compiled): {AgentSessionsStorage}, {AgentSessionsSignature},
 * {AgentSessionsScope}, {AgentSessionsValidation}, {AgentSessionsBudgets}, {AgentSessionsExecution},
 * {AgentSessionsConfiguration}, {AgentSessionsControls}, {AgentSessionsViews}, {AgentSessionsPreview},
 * {AgentTransferAuthorizations}.
 * Invariants: a session never authorises a call outside its current scope and window; nothing an agent signs can
 * reach the account, the EntryPoint, this module, the timelock, the breaker, a grant delegate or an installed
 * module; uninstalling or revoking all bumps the account epoch so no session or pending change revives.
 */
contract AgentSessions is
    AgentTransferAuthorizations,
    AgentSessionsValidation,
    AgentSessionsExecution,
    AgentSessionsControls,
    AgentSessionsViews,
    AgentSessionsPreview
{
    constructor(
        IReinsTimelock timelock_
    ) AgentSessionsStorage(timelock_) AgentSessionsConfiguration(address(new AgentSessionsAdmin(timelock_))) {}

    /// @notice Install (see {AgentSessionsAdmin-onInstall}): `data` is empty, `abi.encode(uint32 securityDelay)`,
    /// or `abi.encode(uint32 securityDelay, SessionConfig[] initialSessions)`.
    function onInstall(bytes calldata) external {
        _delegateToAdmin();
    }

    /// @notice Uninstall: every session and pending change dies (epoch bump); queued agent requests are cancelled.
    function onUninstall(bytes calldata) external {
        _delegateToAdmin();
    }

    /// @notice Validator (1) and executor (2).
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR || moduleTypeId == MODULE_TYPE_EXECUTOR;
    }

    /// @notice Whether `account` has the module installed.
    function isInitialized(address account) external view returns (bool) {
        return _accounts[account].installed;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAgentSessionsValue} from "./IAgentSessionsValue.sol";

/**
 * @title IAgentSessions
 * @notice Types, events and errors of the Reins agent-session module ({AgentSessions}).
 */
interface IAgentSessions is IAgentSessionsValue {
    /// @notice Comparison applied to one 32-byte ABI word of a call's arguments.
    enum ConditionOp {
        None,
        Equal,
        AtMost,
        AtLeast,
        OneOf
    }

    /// @notice Tier that decided an agent operation.
    enum Tier {
        Instant,
        Delayed,
        Approval
    }

    /// @notice What an operation would meet on one budgeted token of its session ({AgentSessions-previewOperation}).
    struct TokenPreview {
        address token;
        /// @dev Calldata-visible spend of the operation on this token.
        uint256 amount;
        /// @dev Tier of this token's spend, and the limit that decided it (the instant threshold when instant).
        Tier tier;
        uint256 limit;
        /// @dev What is left of the session's sliding-window period cap and lifetime cap now.
        uint256 periodLeft;
        uint256 lifetimeLeft;
    }

    /// @notice What an operation of a session would do now ({AgentSessions-previewOperation}).
    struct OperationPreview {
        /// @dev Empty when the session may make these calls now (live, unpaused, inside its window, uses left, every
        /// call in scope with a budget for each interpreted outflow); otherwise the revert data of the refusing rule.
        bytes refusal;
        /// @dev The operation's tier (the highest over the tokens spent and the value budgets' verdicts, see
        /// {IAgentSessionsValue-quoteValue}; instant when nothing is spent), the token that decided the per-token
        /// tier, its amount and the limit it hit (zero address and zeros when nothing is spent).
        Tier tier;
        address token;
        uint256 amount;
        uint256 limit;
        /// @dev Every budgeted token of the session, in budget order.
        TokenPreview[] tokens;
    }

    /// @notice The budget limit an over-limit spend hit ({AgentSessionsBudgetExceeded}); mirrored by name in the
    /// TypeScript client (`BUDGET_LIMIT_CODES` in src/client/errors.ts).
    enum BudgetLimit {
        InstantThreshold,
        Ceiling,
        Period,
        Lifetime,
        FleetPeriod,
        FleetLifetime
    }

    /// @notice The field of a configuration that is invalid.
    enum ConfigField {
        Agent,
        ValidUntil,
        MaxUses,
        Permissions,
        ApprovalWindow,
        Period,
        InstantThreshold,
        Conditions,
        ConditionOp,
        OneOf,
        TightenOnly,
        Window,
        GasBudget,
        Watch
    }

    /// @notice A condition on argument word `word` (the word at `4 + 32 * word` in the call data).
    struct Condition {
        ConditionOp op;
        uint8 word;
        /// @dev Compared value for Equal / AtMost / AtLeast (as uint256 for the inequalities).
        bytes32 value;
        /// @dev Allowed values for OneOf.
        bytes32[] oneOf;
    }

    /// @notice One permitted call: target, selector (zero with `calldataLength` 0 for a plain transfer),
    /// native value cap per call, exact call-data length (0 = any length) and up to 4 argument conditions.
    struct Permission {
        address target;
        bytes4 selector;
        uint128 valueCap;
        uint16 calldataLength;
        Condition[] conditions;
    }

    /// @notice Budget of one asset (`address(0)` = native ETH) for one session.
    /// @dev Tiers: amount ≤ `instantThreshold` runs at once; ≤ `ceiling` (the per-operation cap) waits the session
    /// delay; above it, or above what is left of the period, lifetime or fleet budget, it waits for the owner.
    struct TokenBudget {
        address token;
        uint128 instantThreshold;
        uint128 ceiling;
        uint128 periodCap;
        uint128 lifetimeCap;
        uint32 period;
    }

    /// @notice Everything a session is, as granted by the owner.
    struct SessionConfig {
        address agent;
        uint48 validAfter;
        uint48 validUntil;
        uint32 maxUses;
        uint128 maxGasCostPerOp;
        uint128 gasBudget;
        bool allowTry;
        bool allowPaymaster;
        uint32 queueDelay;
        uint32 approvalWindow;
        Permission[] permissions;
        TokenBudget[] budgets;
    }

    /// @notice A session was granted.
    event SessionGranted(
        address indexed account,
        bytes32 indexed sessionId,
        address indexed agent,
        uint48 validAfter,
        uint48 validUntil
    );
    /// @notice A session was revoked by `by` (the account, its agent or a watchdog).
    event SessionRevoked(address indexed account, bytes32 indexed sessionId, address by);
    /// @notice A session's validity end changed.
    event SessionRenewed(address indexed account, bytes32 indexed sessionId, uint48 validUntil);
    /// @notice A budget was set or changed.
    event BudgetSet(address indexed account, bytes32 indexed sessionId, address indexed token, TokenBudget budget);
    /// @notice The fleet budget of a token was set.
    event FleetBudgetSet(
        address indexed account,
        address indexed token,
        uint128 periodCap,
        uint128 lifetimeCap,
        uint32 period
    );
    /// @notice A session validated an operation (emitted in the execution phase).
    event SessionOperationExecuted(
        address indexed account,
        bytes32 indexed sessionId,
        bytes32 indexed userOpHash,
        bytes32 intentHash,
        Tier tier
    );
    /// @notice Spend charged to a session.
    event SpendRecorded(
        address indexed account,
        bytes32 indexed sessionId,
        address indexed token,
        uint256 amount,
        Tier tier,
        bytes32 intentHash
    );
    /// @notice An agent operation was queued instead of executed.
    event OperationQueued(
        address indexed account,
        bytes32 indexed sessionId,
        bytes32 indexed requestId,
        Tier tier,
        address token,
        uint256 amount,
        uint256 limit,
        bytes32 intentHash
    );
    /// @notice A loosening change was proposed; it applies after `readyAt`.
    event ChangeProposed(address indexed account, bytes32 indexed changeHash, uint48 readyAt, bytes data);
    /// @notice A proposed change was applied.
    event ChangeApplied(address indexed account, bytes32 indexed changeHash);
    /// @notice A proposed change was cancelled.
    event ChangeCancelled(address indexed account, bytes32 indexed changeHash);
    /// @notice A watchdog was added or removed.
    event WatchdogSet(address indexed account, address indexed watchdog, bool enabled);
    /// @notice Agent sessions were paused (`by` a watchdog, the account or the breaker).
    event Paused(address indexed account, address by);
    /// @notice Agent sessions were unpaused by the account.
    event Unpaused(address indexed account);
    /// @notice Every session of the account was revoked at once.
    event AllSessionsRevoked(address indexed account, uint32 epoch);

    /// @notice The account's circuit breaker changed.
    event BreakerSet(address indexed account, address breaker);
    /// @notice The account started (or stopped) watching `asset`: agent operations may not lower its balance
    /// unless a budget of the session pays for it.
    event AssetWatched(address indexed account, address indexed asset, bool watched);
    /// @notice A grant delegate was accepted or dropped.
    event GrantDelegateSet(address indexed account, address indexed delegate, bool enabled);

    /// @notice The session is unknown or was granted before the last revoke-all / reinstall.
    error AgentSessionsUnknownSession(bytes32 sessionId);
    /// @notice The session was revoked.
    error AgentSessionsRevoked(bytes32 sessionId);
    /// @notice Agent sessions of the account are paused.
    error AgentSessionsPaused(address account);
    /// @notice Call `index` of the operation matches no permission of the session.
    error AgentSessionsScopeViolation(uint256 index, address target, bytes4 selector);
    /// @notice Call `index` breaks argument condition `condition` of its permission.
    error AgentSessionsConditionFailed(uint256 index, uint256 condition, bytes32 actual);
    /// @notice Call `index` sends more native value than its permission allows.
    error AgentSessionsValueExceeded(uint256 index, uint256 value, uint256 cap);
    /// @notice Call `index` has call data of a length its permission does not allow.
    error AgentSessionsCalldataLength(uint256 index, uint256 length, uint256 expected);
    /// @notice Call `index` targets the account, the EntryPoint or a module.
    error AgentSessionsForbiddenTarget(uint256 index, address target);
    /// @notice The operation's call data is not `executeUserOp ‖ execute(mode, payload)` in canonical form.
    error AgentSessionsInvalidCallData();
    /// @notice The execution mode is not allowed for agents (delegatecall, or try without `allowTry`).
    error AgentSessionsModeNotAllowed(bytes32 mode);
    /// @notice The operation could make the account pay more gas than the session allows.
    error AgentSessionsGasBudgetExceeded(uint256 cost, uint256 perOpCap, uint256 remaining);
    /// @notice The session's operation count is used up.
    error AgentSessionsUsageExceeded(uint32 maxUses);
    /// @notice The operation uses a paymaster, which the session does not allow.
    error AgentSessionsPaymasterNotAllowed(address paymaster);
    /// @notice The session has no budget for a token it tries to move (default deny).
    error AgentSessionsNoBudget(address token);
    /// @notice Spend over the limit `which` (for a tier limit, the tier's: instant threshold or ceiling).
    error AgentSessionsBudgetExceeded(address token, BudgetLimit which, uint256 amount, uint256 limit);
    /// @notice The caller may not do this.
    error AgentSessionsUnauthorized(address caller);
    /// @notice A session configuration is invalid: `field` names what is wrong.
    error AgentSessionsInvalidConfig(ConfigField field);
    /// @notice A proposed change is not ready (or unknown).
    error AgentSessionsChangeNotReady(bytes32 changeHash, uint48 readyAt);
    /// @notice The proposed change belongs to session epoch `proposedEpoch`; all sessions were revoked (or the module
    /// reinstalled) since, now epoch `currentEpoch`, which voids every change proposed before.
    error AgentSessionsChangeVoided(bytes32 changeHash, uint32 proposedEpoch, uint32 currentEpoch);
    /// @notice The session acts only while `validAfter < now ≤ validUntil` (queued and approved operations too).
    error AgentSessionsOutsideWindow(bytes32 sessionId, uint48 validAfter, uint48 validUntil, uint256 now_);
    /// @notice A batch with no call (it would use a session use and gas for nothing).
    error AgentSessionsEmptyBatch();
    /// @notice The watched asset `token` dropped by `drop` during the operation and the session has no budget for it.
    error AgentSessionsUnbudgetedOutflow(address token, uint256 drop);

    // ============================================================================================ functions
    // The configuration and control functions of {AgentSessions} (run by its {AgentSessionsAdmin} half), which
    // other modules and the account call. The grant-delegate functions (`grantSessionFor`, `renewSessionFor`,
    // `tightenBudgetFor`, `revokeFor`) are still declared by RiskEngineEnvelope's own interface.

    /// @notice Grant a session (loosening: waits the security delay; zero id while queued). Called by the account.
    function grantSession(SessionConfig calldata config) external returns (bytes32 sessionId);
    /// @notice Accept (loosening: delayed) or drop a grant delegate.
    function setGrantDelegate(address delegate, bool enabled) external;
    /// @notice Revoke a session at once (the account).
    function revokeSession(bytes32 sessionId) external;
    /// @notice The agent revokes its own session.
    function revokeSelf(address account, bytes32 sessionId) external;
    /// @notice Revoke every session of the account at once (epoch bump; queued agent requests cancelled).
    function revokeAllSessions() external;
    /// @notice Change a session's end: later is loosening (delayed), earlier applies at once.
    function renewSession(bytes32 sessionId, uint48 validUntil) external;
    /// @notice Add or replace a permission (loosening: delayed).
    function addPermission(bytes32 sessionId, Permission calldata permission) external;
    /// @notice Remove a permission (tightening: at once).
    function removePermission(bytes32 sessionId, address target, bytes4 selector) external;
    /// @notice Set a session's budget for one token (any raised field or another period: delayed).
    function setBudget(bytes32 sessionId, TokenBudget calldata budget) external;
    /// @notice Set the fleet budget of `token` (raising: delayed).
    function setFleetBudget(address token, uint128 periodCap, uint128 lifetimeCap, uint32 period) external;
    /// @notice Set the security delay for loosening changes (lowering: delayed).
    function setSecurityDelay(uint32 delay) external;
    /// @notice Watch assets (tightening: at once).
    function watchAssets(address[] calldata assets) external;
    /// @notice Stop watching an asset (loosening: delayed).
    function unwatchAsset(address asset) external;
    /// @notice Apply a matured loosening change proposed by `account` (anyone).
    function applyChange(address account, bytes calldata data) external;
    /// @notice Cancel a pending loosening change (the account).
    function cancelChange(bytes32 changeHash) external;
    /// @notice Add or remove a watchdog (the account).
    function setWatchdog(address watchdog, bool enabled) external;
    /// @notice Freeze every agent session of `account` (a watchdog or the account).
    function pause(address account, bool cancelQueued) external;
    /// @notice Unfreeze (the account only).
    function unpause() external;
    /// @notice A watchdog revokes one session.
    function revokeByWatchdog(address account, bytes32 sessionId) external;
    /// @notice Attach, replace (delayed) or detach (delayed) the account's circuit breaker.
    function setBreaker(address breaker) external;
}

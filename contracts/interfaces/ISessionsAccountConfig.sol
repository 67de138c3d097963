// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/**
 * @title ISessionsAccountConfig
 * @notice The per-account configuration {AgentSessions} exposes to companion modules (breaker, risk engines),
 * which reuse the account's security delay for their own loosening changes.
 */
interface ISessionsAccountConfig {
    /// @notice Per-account state of the session module.
    struct AccountData {
        uint32 epoch;
        uint32 securityDelay;
        uint64 sessionNonce;
        bool paused;
        bool installed;
        bool hasFleet; // any fleet budget set: lets operations of accounts without one skip the fleet reads
        uint8 watchCount; // number of watched assets (AgentSessions.watchAssets), read with the rest of this slot
        bool watchesNative; // native ETH is one of them (kept here, not in a list slot: `watchCount - 1` list slots)
        bool hasBreaker; // a breaker is attached: lets operations of accounts without one skip its slot
        uint32 watchVersion; // bumped by every change of the watched assets (see AgentSessions' watch coverage)
        bool hasValueBudget; // any value budget was ever set: lets operations of accounts without one skip valuing
    }

    /// @notice The account's security delay, session epoch and pause flag.
    function accountConfig(address account) external view returns (AccountData memory);

    /// @notice Whether an agent operation of `account` is executing right now: companion contracts that `account`
    /// configures through `msg.sender` refuse configuration then, so no agent call can loosen them.
    function isAgentExecuting(address account) external view returns (bool);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgentSessionsStorage} from "./AgentSessionsStorage.sol";

/**
 * @title AgentSessionsConfiguration
 * @notice The configuration entry points of the module (grants, permissions, budgets, fleet budgets,
 * watched assets, the security delay and pending changes). Each runs {AgentSessionsAdmin} by `delegatecall`:
 * same storage, same ABI, `msg.sender` the configuring account.
 */
abstract contract AgentSessionsConfiguration is AgentSessionsStorage {
    /// @notice The configuration half of the module ({AgentSessionsAdmin}), run by `delegatecall`.
    address public immutable admin;

    constructor(address admin_) {
        admin = admin_;
    }

    /// @notice Grant a session (loosening: waits the security delay when one is set; the id is assigned when it
    /// applies). Called by the account.
    /// @return sessionId The new session's id, or zero when the grant was queued behind the security delay.
    function grantSession(SessionConfig calldata) external returns (bytes32 sessionId) {
        _delegateToAdmin();
    }

    /// @notice A grant delegate (for example {RiskEngineEnvelope}) grants a session for `account` at once.
    function grantSessionFor(address, SessionConfig calldata) external returns (bytes32 sessionId) {
        _delegateToAdmin();
    }

    /// @notice A grant delegate moves the end of a session it granted (its envelope bounds how far).
    function renewSessionFor(address, bytes32, uint48) external {
        _delegateToAdmin();
    }

    /// @notice A grant delegate tightens any session of the account: every budget field lowered or kept, same period.
    function tightenBudgetFor(address, bytes32, TokenBudget calldata) external {
        _delegateToAdmin();
    }

    /// @notice Change a session's end: later is loosening (delayed), earlier applies at once.
    function renewSession(bytes32, uint48) external {
        _delegateToAdmin();
    }

    /// @notice Add or replace a permission (loosening: delayed); a replaced permission's one-of sets are gone.
    function addPermission(bytes32, Permission calldata) external {
        _delegateToAdmin();
    }

    /// @notice Remove a permission (tightening: at once, for new and queued operations).
    function removePermission(bytes32, address, bytes4) external {
        _delegateToAdmin();
    }

    /// @notice Set a session's budget for one token. Any raised field makes it loosening (delayed).
    function setBudget(bytes32, TokenBudget calldata) external {
        _delegateToAdmin();
    }

    /// @notice Set the fleet budget of `token` (all sessions together). Raising is loosening (delayed).
    function setFleetBudget(address, uint128, uint128, uint32) external {
        _delegateToAdmin();
    }

    /// @notice Set the security delay for loosening changes; lowering it is itself loosening.
    function setSecurityDelay(uint32) external {
        _delegateToAdmin();
    }

    /// @notice Watch assets (tightening: at once); see {AgentSessionsAdmin-watchAssets}.
    function watchAssets(address[] calldata) external {
        _delegateToAdmin();
    }

    /// @notice Stop watching an asset (loosening: delayed).
    function unwatchAsset(address) external {
        _delegateToAdmin();
    }

    /// @notice Apply a loosening change proposed by `account` once its delay has passed, in its epoch (anyone).
    function applyChange(address, bytes calldata) external {
        _delegateToAdmin();
    }

    /// @notice Cancel a pending loosening change (the account).
    function cancelChange(bytes32) external {
        _delegateToAdmin();
    }

    /// @dev Runs the same call on {AgentSessionsAdmin} in this contract's context and returns or reverts with it.
    function _delegateToAdmin() internal {
        address target = admin;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) {
                revert(0, returndatasize())
            }
            return(0, returndatasize())
        }
    }
}

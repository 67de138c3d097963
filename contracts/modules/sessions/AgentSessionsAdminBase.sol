// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {ISessionsAccountConfig} from "../../interfaces/ISessionsAccountConfig.sol";
import {AgentSessionsStorage} from "./AgentSessionsStorage.sol";

/**
 * @title AgentSessionsAdminBase
 * @notice What every part of {AgentSessionsAdmin} shares: the `delegatecall`-only guard, the configuring account,
 * the security delay on loosening changes (propose now, apply later in the same epoch), the epoch bump and
 * revocation.
 */
abstract contract AgentSessionsAdminBase is AgentSessionsStorage {
    using TransientSlot for *;

    uint256 internal constant _MAX_WATCHED = 32;
    address private immutable _self;

    constructor() {
        _self = address(this);
    }

    /// @dev Only ever run by `delegatecall` from {AgentSessions} (its own storage would mean nothing).
    modifier delegated() {
        if (address(this) == _self) revert AgentSessionsUnauthorized(msg.sender);
        _;
    }

    /// @dev The configuring account: the caller, or the account whose matured change is being applied.
    function _account() internal view returns (address) {
        if (msg.sender == address(this)) return _APPLYING.asAddress().tload();
        return msg.sender;
    }

    /// @dev True when a loosening change may apply now; otherwise records it behind the security delay.
    function _loosening(address account) internal returns (bool) {
        if (msg.sender == address(this)) return true;
        if (_accounts[account].securityDelay == 0) return true;
        _propose(account, msg.data);
        return false;
    }

    function _propose(address account, bytes memory data) internal {
        bytes32 changeHash = keccak256(data);
        uint48 readyAt = _proposeChange(account, changeHash);
        emit ChangeProposed(account, changeHash, readyAt, data);
    }

    function _newEpoch(address account, ISessionsAccountConfig.AccountData storage a) internal {
        emit AllSessionsRevoked(account, ++a.epoch);
        timelock.cancelAllGuarded(account);
    }

    function _onlyDelegate(address account) internal view {
        if (_delegates[msg.sender][account] != _accounts[account].epoch + 1) {
            revert AgentSessionsUnauthorized(msg.sender);
        }
    }

    function _revoke(address account, bytes32 sessionId) internal {
        SessionData storage s = _sessions[sessionId][account];
        if (s.agent == address(0)) revert AgentSessionsUnknownSession(sessionId);
        s.revoked = true;
        emit SessionRevoked(account, sessionId, msg.sender);
    }
}

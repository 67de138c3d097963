// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SecurityDelayed} from "../shared/SecurityDelayed.sol";
import {GuardianApprovals} from "./GuardianApprovals.sol";

/**
 * @title GuardianChanges
 * @notice Changing the guardian set: the account proposes, the change waits its `securityDelay` (the shared
 * {SecurityDelayed} mechanism), then anyone applies it; refused while locked or while a recovery is pending; a
 * completed recovery or an uninstall discards it.
 */
abstract contract GuardianChanges is GuardianApprovals, SecurityDelayed {
    /// @dev The {SecurityDelayed} key of an account's pending guardian-set change (one per account).
    bytes32 private constant _GUARDIAN_CHANGE = keccak256("GuardianRecovery.guardianChange");

    /**
     * @notice The calling account proposes a new guardian set, applicable by anyone after `securityDelay`.
     * Replaces (and restarts) a pending proposal. Refused while locked or while a recovery is pending.
     */
    function proposeGuardianChange(address[] calldata guardians, uint8 threshold) external {
        address account = msg.sender;
        _installedConfig(account); // reverts when not installed
        _checkNoRecoveryOrLock(account);
        _validateGuardians(guardians, threshold);
        uint48 readyAt = _proposeChange(account, _GUARDIAN_CHANGE);
        PendingGuardianChange storage change = _guardianChanges[account];
        change.guardians = guardians;
        change.threshold = threshold;
        emit GuardianChangeProposed(account, guardians, threshold, readyAt);
    }

    /// @notice Apply the pending guardian change of `account` once `securityDelay` passed; anyone may call.
    function applyGuardianChange(address account) external {
        Config storage config = _installedConfig(account);
        _applyChange(account, _GUARDIAN_CHANGE); // reverts unless pending and past its delay
        _checkNoRecoveryOrLock(account);
        PendingGuardianChange memory change = _guardianChanges[account];
        delete _guardianChanges[account];
        ++_nonces[account];
        address[] storage old = config.guardians;
        for (uint256 i = 0; i < old.length; ++i) {
            delete _isGuardian[old[i]][account];
        }
        delete config.guardians;
        _setGuardians(account, config, change.guardians, change.threshold);
    }

    /// @notice The calling account cancels its pending guardian change.
    function cancelGuardianChange() external {
        address account = msg.sender;
        _cancelChange(account, _GUARDIAN_CHANGE); // reverts GuardianRecoveryNoPendingGuardianChange if none
        delete _guardianChanges[account];
    }

    /// @notice The pending guardian change of `account` (empty, zero, zero if none).
    function pendingGuardianChange(
        address account
    ) external view returns (address[] memory guardians, uint8 threshold, uint48 readyAt) {
        uint48 readyAt = _changeReadyAt(account, _GUARDIAN_CHANGE);
        if (readyAt == 0) return (new address[](0), 0, 0);
        PendingGuardianChange storage change = _guardianChanges[account];
        return (change.guardians, change.threshold, readyAt);
    }

    /// @dev Guardian changes wait the account's own `securityDelay`. One epoch: a pending change is discarded
    /// explicitly (completed recovery, uninstall), never voided by a counter.
    function _securityDelay(address account) internal view override returns (uint256 delay, uint32 epoch) {
        return (_configs[account].securityDelay, 0);
    }

    /// @dev Keeps this module's errors: none pending, or not ready yet (with the numbers).
    function _revertNotReady(address account, bytes32, uint48 readyAt) internal view override {
        if (readyAt == 0) revert GuardianRecoveryNoPendingGuardianChange(account);
        revert GuardianRecoveryGuardianChangeNotReady(account, readyAt, block.timestamp);
    }

    /// @dev This module's own events report its changes ({GuardianChangeProposed}, {GuardiansChanged},
    /// {GuardianChangeCancelled}); the shared ones are not emitted.
    function _changeEvent(ChangeEvent kind, address account, bytes32, uint48, uint32) internal override {
        if (kind == ChangeEvent.Cancelled) emit GuardianChangeCancelled(account);
    }

    /// @dev Drops a pending guardian change, if any (emits {GuardianChangeCancelled}).
    function _discardGuardianChange(address account) internal {
        if (_discardChange(account, _GUARDIAN_CHANGE)) delete _guardianChanges[account];
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/**
 * @title SecurityDelayed
 * @notice The one security-delay mechanism of Reins: a loosening change an account proposes waits the account's
 * security delay, then anyone may apply it; it dies with the epoch (session epoch, owner change, reinstall) it was
 * proposed in; the account may cancel it.
 * @dev A change is named by a `changeKey` the module chooses (a constant for a single slot of configuration, the
 * hash of the new value, or of the whole call) and stored under `(changeKey, account)`, the account innermost. The
 * module supplies the delay and the epoch through {_securityDelay}; the value of the change stays in the module
 * (commit to it in the key, or store it next to the key). Life of a change:
 *
 * ```
 * none --_proposeChange--> pending (readyAt = now + delay, epoch) --(now >= readyAt, same epoch) _applyChange--> none
 *                          pending --_cancelChange / _discardChange, or a new epoch (void for good)--> none
 * ```
 *
 * Invariants: a change applies at most once (it is deleted before the module acts on it); never before `readyAt`;
 * never in an epoch other than its own, even if the epoch later returns to the same number elsewhere (epochs only
 * grow). Proposing again under the same key restarts the delay. Modules keep their own error names by overriding
 * {_revertNotReady} and {_revertVoided}. Timestamps: the execution phase only (never ERC-4337 validation).
 */
abstract contract SecurityDelayed {
    /// @notice A change waiting for the security delay. `readyAt == 0` means none.
    struct DelayedChange {
        uint48 readyAt;
        uint32 epoch;
    }

    /// @notice What happened to a delayed change (see {_changeEvent}).
    enum ChangeEvent {
        Proposed,
        Applied,
        Cancelled
    }

    mapping(bytes32 changeKey => mapping(address account => DelayedChange)) private _delayedChanges;

    /// @notice `account` proposed change `changeKey`: anyone may apply it from `readyAt` on, in epoch `epoch`.
    event DelayedChangeProposed(address indexed account, bytes32 indexed changeKey, uint48 readyAt, uint32 epoch);
    /// @notice Change `changeKey` of `account` was applied.
    event DelayedChangeApplied(address indexed account, bytes32 indexed changeKey);
    /// @notice Change `changeKey` of `account` was cancelled (or discarded by the module) before it applied.
    event DelayedChangeCancelled(address indexed account, bytes32 indexed changeKey);

    /// @notice Change `changeKey` of `account` applies from `readyAt` on (0: none is pending); it is `now_`.
    error SecurityDelayNotReady(address account, bytes32 changeKey, uint48 readyAt, uint256 now_);
    /// @notice Change `changeKey` of `account` was proposed in epoch `proposed`; the account is in epoch `current`
    /// (all sessions revoked, owner recovered or module reinstalled since), which voids it.
    error SecurityDelayChangeVoided(address account, bytes32 changeKey, uint32 proposed, uint32 current);

    /// @dev The security delay (seconds) of `account` and its current epoch.
    function _securityDelay(address account) internal view virtual returns (uint256 delay, uint32 epoch);

    /// @dev Records change `changeKey` of `account` behind the security delay (restarting any pending one).
    function _proposeChange(address account, bytes32 changeKey) internal returns (uint48 readyAt) {
        (uint256 delay, uint32 epoch) = _securityDelay(account);
        readyAt = uint48(block.timestamp + delay);
        _delayedChanges[changeKey][account] = DelayedChange(readyAt, epoch);
        _changeEvent(ChangeEvent.Proposed, account, changeKey, readyAt, epoch);
    }

    /// @dev Consumes change `changeKey` of `account` (the module then makes it): reverts through
    /// {_revertNotReady} when none is pending or its delay has not passed, through {_revertVoided} when it belongs
    /// to an earlier epoch.
    function _applyChange(address account, bytes32 changeKey) internal {
        DelayedChange memory c = _delayedChanges[changeKey][account];
        if (c.readyAt == 0 || block.timestamp < c.readyAt) _revertNotReady(account, changeKey, c.readyAt);
        (, uint32 epoch) = _securityDelay(account);
        if (c.epoch != epoch) _revertVoided(account, changeKey, c.epoch, epoch);
        delete _delayedChanges[changeKey][account];
        _changeEvent(ChangeEvent.Applied, account, changeKey, c.readyAt, epoch);
    }

    /// @dev Cancels pending change `changeKey` of `account`; reverts through {_revertNotReady} (readyAt 0) if none.
    function _cancelChange(address account, bytes32 changeKey) internal {
        if (!_discardChange(account, changeKey)) _revertNotReady(account, changeKey, 0);
    }

    /// @dev Deletes change `changeKey` of `account` if one is pending (never reverts); returns whether one was.
    function _discardChange(address account, bytes32 changeKey) internal returns (bool pending) {
        DelayedChange memory c = _delayedChanges[changeKey][account];
        pending = c.readyAt != 0;
        if (pending) {
            delete _delayedChanges[changeKey][account];
            _changeEvent(ChangeEvent.Cancelled, account, changeKey, c.readyAt, c.epoch);
        }
    }

    /// @dev Change `changeKey` of `account` as stored (zeros if none), without checking its epoch.
    function _delayedChange(address account, bytes32 changeKey) internal view returns (DelayedChange memory) {
        return _delayedChanges[changeKey][account];
    }

    /// @dev When change `changeKey` of `account` may apply: 0 when none is pending or its epoch has passed.
    function _changeReadyAt(address account, bytes32 changeKey) internal view returns (uint48) {
        DelayedChange memory c = _delayedChanges[changeKey][account];
        if (c.readyAt == 0) return 0;
        (, uint32 epoch) = _securityDelay(account);
        return c.epoch == epoch ? c.readyAt : 0;
    }

    /// @dev Whether change `changeKey` of `account` is pending, past its delay and of the current epoch (for
    /// changes that take effect by maturing instead of being applied, e.g. a risk-engine envelope).
    function _changeMatured(address account, bytes32 changeKey) internal view returns (bool) {
        DelayedChange memory c = _delayedChanges[changeKey][account];
        if (c.readyAt == 0 || block.timestamp < c.readyAt) return false;
        (, uint32 epoch) = _securityDelay(account);
        return c.epoch == epoch;
    }

    /// @dev Reports that change `changeKey` of `account` (ready at `readyAt`, of epoch `epoch`) was proposed,
    /// applied or cancelled: {DelayedChangeProposed}, {DelayedChangeApplied}, {DelayedChangeCancelled}. Override
    /// when the module's own events already report its changes (and their logs are part of its interface).
    function _changeEvent(
        ChangeEvent kind,
        address account,
        bytes32 changeKey,
        uint48 readyAt,
        uint32 epoch
    ) internal virtual {
        if (kind == ChangeEvent.Proposed) emit DelayedChangeProposed(account, changeKey, readyAt, epoch);
        else if (kind == ChangeEvent.Applied) emit DelayedChangeApplied(account, changeKey);
        else emit DelayedChangeCancelled(account, changeKey);
    }

    /// @dev Reverts because change `changeKey` of `account` is not ready (`readyAt` 0: none is pending).
    /// Override to keep a module's own error; an override must revert.
    function _revertNotReady(address account, bytes32 changeKey, uint48 readyAt) internal view virtual {
        revert SecurityDelayNotReady(account, changeKey, readyAt, block.timestamp);
    }

    /// @dev Reverts because change `changeKey` of `account` belongs to epoch `proposed`, not `current`.
    /// Override to keep a module's own error; an override must revert.
    function _revertVoided(address account, bytes32 changeKey, uint32 proposed, uint32 current) internal view virtual {
        revert SecurityDelayChangeVoided(account, changeKey, proposed, current);
    }

    /// @dev For a limit where 0 means "off": raising it, or turning it off, loosens.
    function _loosensLimit(uint256 next, uint256 current) internal pure returns (bool) {
        return current != 0 && (next == 0 || next > current);
    }
}

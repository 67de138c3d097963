// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC7579Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {Execution} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {IReinsQueueGuard} from "../../interfaces/IReinsQueueGuard.sol";
import {CallPolicy} from "../../libraries/CallPolicy.sol";

/// @dev What the safety net reads from the guardian module: when the account's lock ends.
interface ILockSource {
    function lockedUntil(address account) external view returns (uint48);
}

/**
 * @title OwnerSafetyNet
 * @notice The **owner safety net** shared by the Reins root (owner) validators — `OwnerValidator` (ECDSA) and
 * `PasskeyValidator` (WebAuthn P-256) — for operators whose owner key is itself a hot key, as Argent did.
 * Behaviour is identical whatever the key type; only the signature check differs.
 * @dev While the net is on, an owner operation validates only if (1) the account is not locked by its
 * guardians — the lock end goes back as `validAfter`, so no TIMESTAMP is read — and (2) every call is one of:
 * `timelock.schedule` with this module as guard and at least `minDelay`; `timelock.cancel`; the guardian module's
 * `cancelRecovery`; or the single call `requestHookRemoval()` of the account. Everything else — transfers, module
 * changes, upgrades, turning the net off — waits in the timelock, and when it runs this module (as the queue guard,
 * installed as an executor) refuses while the account is locked. ERC-1271 signatures are refused while it is on
 * (permits and orders would bypass the delay); the inheriting validator applies that rule.
 *
 * Storage: `mapping(address account => SafetyNet)` (slots `keccak256(account ‖ p)` and `+1`), associated with the
 * account under ERC-7562; the lock is read from the guardian module's own account-keyed slot. The error names keep
 * the `OwnerValidator` prefix of the module they were first written for (clients and tests match them by name).
 *
 * Inheriting contracts provide {_requireOwner} (the account has an owner here) and may store the on/off flag
 * next to their key ({_safetyNetOn} / {_setSafetyNetFlag}), so that an owner operation with the net off reads no
 * extra slot; the default keeps it in the configuration (`lockSource != 0`).
 */
abstract contract OwnerSafetyNet is IReinsQueueGuard {
    /// @notice Safety-net configuration of an account.
    struct SafetyNet {
        address lockSource;
        address timelock;
        uint48 minDelay;
    }

    bytes4 private constant _REQUEST_HOOK_REMOVAL = bytes4(keccak256("requestHookRemoval()"));

    mapping(address account => SafetyNet) private _nets;

    /// @notice With the safety net on, call `index` must wait in the timelock (or is scheduled with too short a
    /// delay / another guard).
    error OwnerValidatorDelayRequired(uint256 index, address target, bytes4 selector);
    /// @notice The account is locked by its guardians until `until`.
    error OwnerValidatorLocked(address account, uint48 until);
    /// @notice Only the account's configured timelock may run queued owner operations.
    error OwnerValidatorUnauthorized(address caller);
    /// @notice Invalid safety-net configuration.
    error OwnerValidatorInvalidSafetyNet();

    /// @notice The owner safety net of `account` was turned on or off.
    event SafetyNetSet(address indexed account, bool enabled, SafetyNet config);

    /**
     * @notice Turn the owner safety net on for the calling account (tightening: at once). This module must also
     * be installed as an executor, and `timelock` must be installed.
     * @param config `lockSource` = the guardian module; `timelock` = the queue; `minDelay` = the least delay of an
     * owner operation (choose it longer than the guardians need to lock).
     */
    function enableSafetyNet(SafetyNet calldata config) external {
        _requireOwner(msg.sender);
        if (config.lockSource.code.length == 0 || config.timelock.code.length == 0 || config.minDelay == 0) {
            revert OwnerValidatorInvalidSafetyNet();
        }
        _nets[msg.sender] = config;
        _setSafetyNetFlag(msg.sender, true);
        emit SafetyNetSet(msg.sender, true, config);
    }

    /// @notice Turn the safety net off. While it is on, this call itself can only arrive through the timelock.
    function disableSafetyNet() external {
        _setSafetyNetFlag(msg.sender, false);
        emit SafetyNetSet(msg.sender, false, _nets[msg.sender]);
        delete _nets[msg.sender];
    }

    /// @notice The safety net of `account` (`enabled` false when off).
    /// @param account The smart account.
    /// @return enabled Whether the net is on.
    /// @return config Its configuration (zeros when off).
    function safetyNetOf(address account) external view returns (bool enabled, SafetyNet memory config) {
        return (_safetyNetOn(account), _nets[account]);
    }

    /// @inheritdoc IReinsQueueGuard
    function executeQueued(
        address account,
        bytes32,
        bytes32,
        bytes32 mode,
        bytes calldata executionCalldata,
        bool
    ) external returns (bytes[] memory) {
        SafetyNet memory net = _nets[account];
        if (msg.sender != net.timelock || net.timelock == address(0)) revert OwnerValidatorUnauthorized(msg.sender);
        uint48 until = ILockSource(net.lockSource).lockedUntil(account);
        if (until > block.timestamp) revert OwnerValidatorLocked(account, until);
        return IERC7579Execution(account).executeFromExecutor(mode, executionCalldata);
    }

    /**
     * @dev Validation data of an owner operation of `msg.sender` (the account) with the net on, `signed` telling
     * whether its signature is good: reverts if a call must wait in the timelock, otherwise packs the lock end as
     * `validAfter`.
     */
    function _validateWithSafetyNet(PackedUserOperation calldata userOp, bool signed) internal view returns (uint256) {
        SafetyNet memory net = _nets[msg.sender];
        // The one direct call allowed: the account's own delayed hook removal (a reverting hook must not lock the
        // owner out; the account makes it wait HOOK_REMOVAL_DELAY, and a guardian lock still blocks it below).
        if (userOp.callData.length != 4 || bytes4(userOp.callData) != _REQUEST_HOOK_REMOVAL) {
            _checkDelayed(net, userOp.callData);
        }
        uint48 lockedUntil = ILockSource(net.lockSource).lockedUntil(msg.sender);
        return ERC4337Utils.packValidationData(signed, lockedUntil, 0);
    }

    /// @dev Forget the safety net of `account` (on uninstall).
    function _clearSafetyNet(address account) internal {
        _setSafetyNetFlag(account, false);
        delete _nets[account];
    }

    /// @dev Whether the net of `account` is on. Default: a configuration is stored.
    function _safetyNetOn(address account) internal view virtual returns (bool) {
        return _nets[account].lockSource != address(0);
    }

    /// @dev Record the on/off flag where {_safetyNetOn} reads it. Default: nothing (the configuration is the flag).
    function _setSafetyNetFlag(address account, bool on) internal virtual {}

    /// @dev Revert unless `account` has an owner (key) in the inheriting validator.
    function _requireOwner(address account) internal view virtual;

    /// @dev Safety net: every call must be a timelock schedule (guard = this, delay ≥ minDelay) or a cancel.
    function _checkDelayed(SafetyNet memory net, bytes calldata callData) private view {
        (bytes32 mode, bytes calldata payload) = CallPolicy.decodeExecute(callData);
        (bool batch, bool ok) = CallPolicy.isBatch(mode, false);
        if (!ok) revert OwnerValidatorDelayRequired(0, address(0), bytes4(0));
        if (!batch) {
            (address target, uint256 value, bytes calldata data) = CallPolicy.decodeSingle(payload);
            _checkDelayedCall(net, 0, target, value, data);
        } else {
            Execution[] calldata calls = CallPolicy.decodeBatch(payload);
            for (uint256 i = 0; i < calls.length; ++i) {
                _checkDelayedCall(net, i, calls[i].target, calls[i].value, calls[i].callData);
            }
        }
    }

    function _checkDelayedCall(
        SafetyNet memory net,
        uint256 index,
        address target,
        uint256 value,
        bytes calldata data
    ) private view {
        bytes4 selector = data.length >= 4 ? bytes4(data[0:4]) : bytes4(0);
        if (value == 0) {
            if (target == net.timelock) {
                if (selector == _scheduleSelector()) {
                    // schedule(mode, calldata, delay, validFor, approval, guard, context): words 2 and 5
                    if (
                        uint256(CallPolicy.word(data, 2)) >= net.minDelay &&
                        address(uint160(uint256(CallPolicy.word(data, 5)))) == address(this)
                    ) return;
                } else if (selector == _cancelSelector()) {
                    return;
                }
            } else if (target == net.lockSource && selector == _cancelRecoverySelector()) {
                return;
            }
        }
        revert OwnerValidatorDelayRequired(index, target, selector);
    }

    function _scheduleSelector() private pure returns (bytes4) {
        return bytes4(keccak256("schedule(bytes32,bytes,uint48,uint48,bool,address,bytes32)"));
    }

    function _cancelSelector() private pure returns (bytes4) {
        return bytes4(keccak256("cancel(address,bytes32)"));
    }

    function _cancelRecoverySelector() private pure returns (bytes4) {
        return bytes4(keccak256("cancelRecovery()"));
    }
}

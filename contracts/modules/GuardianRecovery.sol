// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {
    IERC7579Module,
    IERC7579Execution,
    MODULE_TYPE_EXECUTOR,
    Execution
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {
    ERC7579Utils,
    Mode,
    CallType,
    ExecType,
    ModeSelector,
    ModePayload
} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {IReinsRecoverableRoot} from "./owner/IReinsRecoverableRoot.sol";
import {IReinsOwnerRoot, IReinsRootValidatorAccount, IReinsHookRemoval} from "./recovery/GuardianRecoveryStorage.sol";
import {GuardianChanges} from "./recovery/GuardianChanges.sol";

/**
 * @title GuardianRecovery
 * @notice ERC-7579 executor module: M-of-N guardians (EOAs or ERC-1271 contracts) replace a lost or stolen owner
 * key of a Reins account after a delay during which the owner can cancel. Guardians can also lock the account,
 * which takes the owner's right to cancel away until a recovery completes or the lock expires.
 *
 * @dev Parts (`modules/recovery/`): state, errors and events ({GuardianRecoveryStorage}), what guardians sign
 * ({GuardianApprovals}), guardian-set changes ({GuardianChanges}); this contract: install, recovery, lock.
 *
 * Flow: `proposeRecovery` (M guardian signatures) → `recoveryDelay` → `completeRecovery` (anyone), which has
 * the account make the calls its root validator names for the new owner ({IReinsRecoverableRoot-recoveryCalls})
 * and then the configured `onRecovery` calls. The new owner is an ECDSA address whatever the root: with an
 * `OwnerValidator` root that is `setOwner(newOwner)`; with a `PasskeyValidator` root the account installs
 * `OwnerValidator` with `newOwner`, makes it the root and uninstalls the passkey validator (the lost passkey then
 * signs nothing). A root without `recoveryCalls` gets `setOwner(newOwner)`, as before.
 *
 * Signatures: each element of `signatures` is `guardian (20 bytes) ‖ signature`, strictly increasing by guardian
 * address (so no guardian counts twice), each checked with `SignatureChecker` (ECDSA for EOAs, ERC-1271 for
 * contracts) against an EIP-712 digest of this module's domain (name "GuardianRecovery", version "1", chain id,
 * this address) that names the account and its current nonce.
 *
 * Invariants:
 * - The per-account nonce increases on every state transition (install, uninstall, propose, cancel, complete,
 *   lock, guardian change applied), so a signature is used at most once, and signatures collected for one state
 *   die with it. Reinstalling never revives a recovery, a guardian change or a signature of a former install.
 * - At most one pending recovery and at most one pending guardian change per account.
 * - `1 <= threshold <= guardians.length <= MAX_GUARDIANS`; guardians are non-zero and distinct.
 * - Guardian changes wait `securityDelay` and cannot be proposed or applied while the account is locked or a
 *   recovery is pending; completing a recovery discards a pending guardian change (it may be the thief's).
 * - While locked, the owner cannot cancel a recovery; M guardians can. The lock is lifted only by completing a
 *   recovery or by expiry. Proposing a recovery while locked extends the lock to cover the recovery delay.
 * - The lock outlives an uninstall (it expires on its own), so uninstalling the module does not lift it.
 *
 * Trust assumptions:
 * - The account's root validator names correct recovery calls ({IReinsRecoverableRoot}), or implements
 *   `setOwner(newOwner)` semantics (the caller's owner becomes `newOwner`). The root is the owner's own module, so
 *   it is trusted by the account anyway.
 * - A thief holding the owner key can, unless the account prevents it, uninstall this module, replace the root
 *   validator, or change it during the delay. Other Reins modules must read {isLocked} and refuse such owner actions
 *   (and owner outflows) while locked; this module only provides the state.
 * - `onRecovery` calls are set by the owner at install time and run after the owner change in "try" mode: a
 *   failing call is reported by the account (`ERC7579TryExecuteFail`) but cannot block the recovery.
 * - ERC-1271 guardians are trusted to approve only what they mean to: their approval is read when the
 *   signatures are submitted.
 */
contract GuardianRecovery is IERC7579Module, GuardianChanges {
    constructor() EIP712("GuardianRecovery", "1") {}

    // ------------------------------------------------------------------------------------------ ERC-7579

    /**
     * @notice Configure the calling account.
     * @param data `abi.encode(address[] guardians, uint8 threshold, uint32 recoveryDelay, uint32 securityDelay,
     * uint32 lockDuration, Call[] onRecovery)`.
     */
    function onInstall(bytes calldata data) external {
        address account = msg.sender;
        Config storage config = _configs[account];
        if (config.threshold != 0) revert GuardianRecoveryAlreadyInstalled(account);
        (
            address[] memory guardians,
            uint8 threshold,
            uint32 recoveryDelay,
            uint32 securityDelay,
            uint32 lockDuration,
            Call[] memory onRecovery
        ) = abi.decode(data, (address[], uint8, uint32, uint32, uint32, Call[]));
        if (recoveryDelay == 0 || securityDelay == 0 || lockDuration == 0) {
            revert GuardianRecoveryInvalidDelay(recoveryDelay, securityDelay, lockDuration);
        }
        if (onRecovery.length > MAX_RECOVERY_CALLS) {
            revert GuardianRecoveryTooManyRecoveryCalls(onRecovery.length, MAX_RECOVERY_CALLS);
        }
        config.recoveryDelay = recoveryDelay;
        config.securityDelay = securityDelay;
        config.lockDuration = lockDuration;
        for (uint256 i = 0; i < onRecovery.length; ++i) {
            if (onRecovery[i].target == address(0)) revert GuardianRecoveryInvalidRecoveryCall(i);
            config.onRecovery.push(onRecovery[i]);
        }
        ++_nonces[account]; // invalidates anything signed before this install
        emit RecoveryConfigured(account, recoveryDelay, securityDelay, lockDuration, onRecovery.length);
        _setGuardians(account, config, guardians, threshold);
    }

    /**
     * @notice Remove the calling account's configuration, pending recovery and pending guardian change, and bump
     * its nonce so that nothing revives on a later install. A lock stays until it expires.
     */
    function onUninstall(bytes calldata) external {
        address account = msg.sender;
        Config storage config = _configs[account];
        address[] storage guardians = config.guardians;
        for (uint256 i = 0; i < guardians.length; ++i) {
            delete _isGuardian[guardians[i]][account];
        }
        delete _configs[account];
        delete _recoveries[account];
        _discardGuardianChange(account);
        uint256 nonce = ++_nonces[account];
        emit RecoveryConfigCleared(account, nonce);
    }

    /// @notice ERC-7579 module type: executor only.
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_EXECUTOR;
    }

    /// @notice Whether `account` has a configuration here.
    function isInitialized(address account) external view returns (bool) {
        return _configs[account].threshold != 0;
    }

    // ------------------------------------------------------------------------------------------ recovery

    /**
     * @notice Start the recovery of `account` to `newOwner`, approved by at least `threshold` guardians over
     * {recoveryDigest}. Anyone may submit it. Completable from `now + recoveryDelay` on.
     * @param signatures `guardian (20 bytes) ‖ signature` each, strictly increasing by guardian address.
     */
    function proposeRecovery(address account, address newOwner, bytes[] calldata signatures) external {
        Config storage config = _installedConfig(account);
        if (newOwner == address(0)) revert GuardianRecoveryZeroOwner();
        PendingRecovery storage pending = _recoveries[account];
        if (pending.readyAt != 0) revert GuardianRecoveryPending(account, pending.newOwner, pending.readyAt);
        _checkSignatures(account, config, recoveryDigest(account, newOwner), signatures);

        uint256 nonce = _nonces[account]++;
        uint48 readyAt = uint48(block.timestamp) + config.recoveryDelay;
        pending.newOwner = newOwner;
        pending.readyAt = readyAt;
        emit RecoveryProposed(account, newOwner, nonce, readyAt);

        // A lock must not lapse before the recovery can complete, or the thief could cancel in the gap.
        if (_lockedUntil[account] > block.timestamp && _lockedUntil[account] < readyAt) {
            _lockedUntil[account] = readyAt;
            emit AccountLocked(account, readyAt);
        }
    }

    /// @notice The calling account (its owner) cancels its pending recovery. Refused while the account is locked.
    function cancelRecovery() external {
        address account = msg.sender;
        uint48 lockedUntil_ = _lockedUntil[account];
        if (lockedUntil_ > block.timestamp) revert GuardianRecoveryLocked(account, lockedUntil_);
        _cancelRecovery(account, false);
    }

    /**
     * @notice Guardians cancel the pending recovery of `account` (for example a mistaken one while locked), with
     * at least `threshold` signatures over {cancelRecoveryDigest}.
     */
    function cancelRecoveryByGuardians(address account, bytes[] calldata signatures) external {
        Config storage config = _installedConfig(account);
        _checkSignatures(account, config, cancelRecoveryDigest(account), signatures);
        _cancelRecovery(account, true);
    }

    /**
     * @notice Complete the pending recovery of `account` once its delay passed; anyone may call. The account makes
     * `newOwner` its owner (the root validator's {IReinsRecoverableRoot-recoveryCalls}, all-or-nothing), then makes
     * the `onRecovery` calls (in "try" mode). Lifts the lock and discards a pending guardian change.
     */
    function completeRecovery(address account) external {
        Config storage config = _installedConfig(account);
        PendingRecovery memory pending = _recoveries[account];
        if (pending.readyAt == 0) revert GuardianRecoveryNoPendingRecovery(account);
        if (block.timestamp < pending.readyAt) {
            revert GuardianRecoveryNotReady(account, pending.readyAt, block.timestamp);
        }

        delete _recoveries[account];
        ++_nonces[account];
        emit RecoveryCompleted(account, pending.newOwner);
        if (_lockedUntil[account] != 0) {
            delete _lockedUntil[account];
            emit AccountUnlocked(account);
        }
        _discardGuardianChange(account);

        _setNewOwner(account, pending.newOwner);

        Call[] storage calls = config.onRecovery;
        uint256 count = calls.length;
        if (count != 0) {
            Execution[] memory batch = new Execution[](count);
            for (uint256 i = 0; i < count; ++i) {
                batch[i] = Execution({target: calls[i].target, value: 0, callData: calls[i].data});
            }
            IERC7579Execution(account).executeFromExecutor(
                _mode(ERC7579Utils.CALLTYPE_BATCH, ERC7579Utils.EXECTYPE_TRY),
                ERC7579Utils.encodeBatch(batch)
            );
        }
    }

    /**
     * @notice When a ready recovery cannot complete because the account's hook reverts, start the account's delayed
     * hook removal (anyone may call; only with a recovery the guardians proposed and whose delay has passed).
     * After the account's hook-removal delay anyone completes it there, then {completeRecovery}.
     */
    function requestHookRemoval(address account) external {
        _installedConfig(account);
        PendingRecovery memory pending = _recoveries[account];
        if (pending.readyAt == 0) revert GuardianRecoveryNoPendingRecovery(account);
        if (block.timestamp < pending.readyAt) {
            revert GuardianRecoveryNotReady(account, pending.readyAt, block.timestamp);
        }
        IReinsHookRemoval(account).requestHookRemoval();
    }

    // ------------------------------------------------------------------------------------------ lock

    /**
     * @notice Guardians lock `account` for `lockDuration` with at least `threshold` signatures over {lockDigest}.
     * While locked the owner cannot cancel a recovery (and other modules refuse owner outflows). A lock never
     * shortens an existing one.
     */
    function lock(address account, bytes[] calldata signatures) external {
        Config storage config = _installedConfig(account);
        _checkSignatures(account, config, lockDigest(account), signatures);
        ++_nonces[account];
        uint48 until = uint48(block.timestamp) + config.lockDuration;
        if (until < _lockedUntil[account]) until = _lockedUntil[account];
        _lockedUntil[account] = until;
        emit AccountLocked(account, until);
    }

    /// @notice Whether `account` is locked by its guardians now.
    function isLocked(address account) public view returns (bool) {
        return _lockedUntil[account] > block.timestamp;
    }

    /// @notice When the lock of `account` ends (a past or zero value means unlocked).
    function lockedUntil(address account) external view returns (uint48) {
        return _lockedUntil[account];
    }

    // ------------------------------------------------------------------------------------------ getters

    /// @notice The guardians of `account`.
    function guardiansOf(address account) external view returns (address[] memory) {
        return _configs[account].guardians;
    }

    /// @notice How many guardian signatures `account` requires (zero when not installed).
    function thresholdOf(address account) external view returns (uint8) {
        return _configs[account].threshold;
    }

    /// @notice Whether `guardian` is a guardian of `account`.
    function isGuardian(address account, address guardian) external view returns (bool) {
        return _isGuardian[guardian][account];
    }

    /// @notice The delays of `account`, in seconds.
    function delaysOf(
        address account
    ) external view returns (uint32 recoveryDelay, uint32 securityDelay, uint32 lockDuration) {
        Config storage config = _configs[account];
        return (config.recoveryDelay, config.securityDelay, config.lockDuration);
    }

    /// @notice The calls the account makes after a recovery.
    function onRecoveryCallsOf(address account) external view returns (Call[] memory) {
        return _configs[account].onRecovery;
    }

    /// @notice The signature nonce of `account` (every digest commits to it).
    function nonceOf(address account) external view returns (uint256) {
        return _nonces[account];
    }

    /// @notice The pending recovery of `account`: new owner and the time it becomes completable (zeros if none).
    function pendingRecovery(address account) external view returns (address newOwner, uint48 readyAt) {
        PendingRecovery storage pending = _recoveries[account];
        return (pending.newOwner, pending.readyAt);
    }

    // ------------------------------------------------------------------------------------------ internals

    /// @dev Has `account` make `newOwner` its owner, as its root validator says (or `setOwner` on it).
    function _setNewOwner(address account, address newOwner) private {
        address rootValidator = IReinsRootValidatorAccount(account).rootValidator();
        try IReinsRecoverableRoot(rootValidator).recoveryCalls(account, newOwner) returns (Execution[] memory calls) {
            IERC7579Execution(account).executeFromExecutor(
                _mode(ERC7579Utils.CALLTYPE_BATCH, ERC7579Utils.EXECTYPE_DEFAULT),
                ERC7579Utils.encodeBatch(calls)
            );
        } catch {
            IERC7579Execution(account).executeFromExecutor(
                _mode(ERC7579Utils.CALLTYPE_SINGLE, ERC7579Utils.EXECTYPE_DEFAULT),
                abi.encodePacked(rootValidator, uint256(0), abi.encodeCall(IReinsOwnerRoot.setOwner, (newOwner)))
            );
        }
    }

    function _cancelRecovery(address account, bool byGuardians) private {
        PendingRecovery storage pending = _recoveries[account];
        if (pending.readyAt == 0) revert GuardianRecoveryNoPendingRecovery(account);
        address newOwner = pending.newOwner;
        delete _recoveries[account];
        ++_nonces[account];
        emit RecoveryCancelled(account, newOwner, byGuardians);
    }

    function _mode(CallType callType, ExecType execType) private pure returns (bytes32) {
        return Mode.unwrap(ERC7579Utils.encodeMode(callType, execType, ModeSelector.wrap(0), ModePayload.wrap(0)));
    }
}

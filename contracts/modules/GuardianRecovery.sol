// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
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
import {SecurityDelayed} from "./shared/SecurityDelayed.sol";

/// @dev A root validator without {IReinsRecoverableRoot} that keeps `OwnerValidator.setOwner` semantics.
interface IReinsOwnerRoot {
    function setOwner(address newOwner) external;
}

/// @notice The account's root validator, as far as this module needs it.
interface IReinsRootValidatorAccount {
    /// @notice The account's root (owner) validator.
    function rootValidator() external view returns (address);
}

/// @dev The account's delayed hook removal (see ReinsAccount).
interface IReinsHookRemoval {
    function requestHookRemoval() external;
}

/**
 * @title GuardianRecovery
 * @notice ERC-7579 executor module: M-of-N guardians (EOAs or ERC-1271 contracts) replace a lost or stolen owner
 * key of a Reins account after a delay during which the owner can cancel. Guardians can also lock the account,
 * which takes the owner's right to cancel away until a recovery completes or the lock expires.
 *
 * @dev Flow: `proposeRecovery` (M guardian signatures) → `recoveryDelay` → `completeRecovery` (anyone), which has
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
contract GuardianRecovery is IERC7579Module, EIP712, SecurityDelayed {
    /// @notice A call the account makes (with no value) after a recovery changed its owner.
    struct Call {
        address target;
        bytes data;
    }

    /// @dev A recovery waiting for its delay. `readyAt == 0` means none.
    struct PendingRecovery {
        address newOwner;
        uint48 readyAt;
    }

    /// @dev The guardian set a pending change installs; its delay is kept by {SecurityDelayed} under
    /// {_GUARDIAN_CHANGE}.
    struct PendingGuardianChange {
        address[] guardians;
        uint8 threshold;
    }

    /// @dev Per-account configuration. `threshold == 0` means not installed.
    struct Config {
        uint8 threshold;
        uint32 recoveryDelay;
        uint32 securityDelay;
        uint32 lockDuration;
        address[] guardians;
        Call[] onRecovery;
    }

    /// @notice Most guardians an account may have (bounds the gas of every signature check and set change).
    uint256 public constant MAX_GUARDIANS = 32;
    /// @notice Most `onRecovery` calls an account may configure.
    uint256 public constant MAX_RECOVERY_CALLS = 16;

    /// @notice EIP-712 type of a recovery approval.
    bytes32 public constant RECOVERY_TYPEHASH = keccak256("Recovery(address account,address newOwner,uint256 nonce)");
    /// @notice EIP-712 type of a lock approval.
    bytes32 public constant LOCK_TYPEHASH = keccak256("Lock(address account,uint256 nonce)");
    /// @notice EIP-712 type of a guardians' cancellation of a pending recovery.
    bytes32 public constant CANCEL_RECOVERY_TYPEHASH = keccak256("CancelRecovery(address account,uint256 nonce)");

    /// @dev The {SecurityDelayed} key of an account's pending guardian-set change (one per account).
    bytes32 private constant _GUARDIAN_CHANGE = keccak256("GuardianRecovery.guardianChange");

    mapping(address account => Config) private _configs;
    mapping(address guardian => mapping(address account => bool)) private _isGuardian;
    mapping(address account => uint256) private _nonces;
    mapping(address account => PendingRecovery) private _recoveries;
    mapping(address account => PendingGuardianChange) private _guardianChanges;
    mapping(address account => uint48) private _lockedUntil;

    /// @notice `onInstall` for an account that already has a configuration here.
    error GuardianRecoveryAlreadyInstalled(address account);
    /// @notice The account has no configuration here.
    error GuardianRecoveryNotInstalled(address account);
    /// @notice `threshold` is zero or above the number of guardians.
    error GuardianRecoveryInvalidThreshold(uint256 threshold, uint256 guardianCount);
    /// @notice More guardians than {MAX_GUARDIANS}.
    error GuardianRecoveryTooManyGuardians(uint256 count, uint256 max);
    /// @notice The guardian at `index` is zero or appears twice.
    error GuardianRecoveryInvalidGuardian(uint256 index, address guardian);
    /// @notice A delay or the lock duration is zero.
    error GuardianRecoveryInvalidDelay(uint256 recoveryDelay, uint256 securityDelay, uint256 lockDuration);
    /// @notice More `onRecovery` calls than {MAX_RECOVERY_CALLS}.
    error GuardianRecoveryTooManyRecoveryCalls(uint256 count, uint256 max);
    /// @notice The `onRecovery` call at `index` has a zero target.
    error GuardianRecoveryInvalidRecoveryCall(uint256 index);
    /// @notice The proposed new owner is zero.
    error GuardianRecoveryZeroOwner();
    /// @notice Fewer signatures than the threshold.
    error GuardianRecoveryInsufficientSignatures(uint256 given, uint256 threshold);
    /// @notice The signature at `index` is shorter than the 20-byte guardian prefix.
    error GuardianRecoveryMalformedSignature(uint256 index, uint256 length);
    /// @notice The signature at `index` is not strictly after the previous guardian (duplicate or unordered).
    error GuardianRecoveryUnorderedSignatures(uint256 index, address guardian, address previous);
    /// @notice The signer named at `index` is not a guardian of the account.
    error GuardianRecoveryNotGuardian(uint256 index, address signer);
    /// @notice The signature at `index` does not verify for its guardian.
    error GuardianRecoveryInvalidSignature(uint256 index, address guardian);
    /// @notice A recovery is already pending (to `newOwner`, ready at `readyAt`).
    error GuardianRecoveryPending(address account, address newOwner, uint256 readyAt);
    /// @notice No recovery is pending for the account.
    error GuardianRecoveryNoPendingRecovery(address account);
    /// @notice The recovery's delay has not passed yet.
    error GuardianRecoveryNotReady(address account, uint256 readyAt, uint256 now_);
    /// @notice The account is locked by its guardians until `lockedUntil`; the owner cannot do this.
    error GuardianRecoveryLocked(address account, uint256 lockedUntil);
    /// @notice No guardian change is pending for the account.
    error GuardianRecoveryNoPendingGuardianChange(address account);
    /// @notice The guardian change's security delay has not passed yet.
    error GuardianRecoveryGuardianChangeNotReady(address account, uint256 readyAt, uint256 now_);

    /// @notice The guardian set of `account` is now `guardians` with `threshold` (install or applied change).
    event GuardiansChanged(address indexed account, address[] guardians, uint8 threshold);
    /// @notice The module was configured for `account`.
    event RecoveryConfigured(
        address indexed account,
        uint32 recoveryDelay,
        uint32 securityDelay,
        uint32 lockDuration,
        uint256 onRecoveryCalls
    );
    /// @notice The module's configuration and pending operations for `account` were removed.
    event RecoveryConfigCleared(address indexed account, uint256 nonce);
    /// @notice Guardians proposed making `newOwner` the owner of `account` from `readyAt` on.
    event RecoveryProposed(address indexed account, address indexed newOwner, uint256 nonce, uint48 readyAt);
    /// @notice The pending recovery of `account` to `newOwner` was cancelled by the owner or by the guardians.
    event RecoveryCancelled(address indexed account, address indexed newOwner, bool byGuardians);
    /// @notice `newOwner` became the owner of `account`.
    event RecoveryCompleted(address indexed account, address indexed newOwner);
    /// @notice Guardians locked `account` until `lockedUntil`.
    event AccountLocked(address indexed account, uint48 lockedUntil);
    /// @notice The lock of `account` was lifted by a completed recovery.
    event AccountUnlocked(address indexed account);
    /// @notice `account` proposed a new guardian set, applicable from `readyAt` on.
    event GuardianChangeProposed(address indexed account, address[] guardians, uint8 threshold, uint48 readyAt);
    /// @notice The pending guardian change of `account` was cancelled (by the owner, or discarded by a recovery).
    event GuardianChangeCancelled(address indexed account);

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

    // ------------------------------------------------------------------------------------------ guardian changes

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

    /// @notice The pending guardian change of `account` (empty, zero, zero if none).
    function pendingGuardianChange(
        address account
    ) external view returns (address[] memory guardians, uint8 threshold, uint48 readyAt) {
        uint48 readyAt = _changeReadyAt(account, _GUARDIAN_CHANGE);
        if (readyAt == 0) return (new address[](0), 0, 0);
        PendingGuardianChange storage change = _guardianChanges[account];
        return (change.guardians, change.threshold, readyAt);
    }

    /// @notice The EIP-712 digest guardians sign to propose recovering `account` to `newOwner` now.
    function recoveryDigest(address account, address newOwner) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(RECOVERY_TYPEHASH, account, newOwner, _nonces[account])));
    }

    /// @notice The EIP-712 digest guardians sign to lock `account` now.
    function lockDigest(address account) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(LOCK_TYPEHASH, account, _nonces[account])));
    }

    /// @notice The EIP-712 digest guardians sign to cancel the pending recovery of `account`.
    function cancelRecoveryDigest(address account) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CANCEL_RECOVERY_TYPEHASH, account, _nonces[account])));
    }

    // ------------------------------------------------------------------------------------------ internals

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
    function _discardGuardianChange(address account) private {
        if (_discardChange(account, _GUARDIAN_CHANGE)) delete _guardianChanges[account];
    }


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

    /// @dev Checks `signatures` (`guardian ‖ signature`, strictly increasing guardians) against `digest`.
    function _checkSignatures(
        address account,
        Config storage config,
        bytes32 digest,
        bytes[] calldata signatures
    ) private view {
        uint256 threshold = config.threshold;
        if (signatures.length < threshold) revert GuardianRecoveryInsufficientSignatures(signatures.length, threshold);
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            bytes calldata entry = signatures[i];
            if (entry.length < 20) revert GuardianRecoveryMalformedSignature(i, entry.length);
            address guardian = address(bytes20(entry[0:20]));
            if (guardian <= previous) revert GuardianRecoveryUnorderedSignatures(i, guardian, previous);
            if (!_isGuardian[guardian][account]) revert GuardianRecoveryNotGuardian(i, guardian);
            if (!SignatureChecker.isValidSignatureNowCalldata(guardian, digest, entry[20:])) {
                revert GuardianRecoveryInvalidSignature(i, guardian);
            }
            previous = guardian;
        }
    }

    function _setGuardians(
        address account,
        Config storage config,
        address[] memory guardians,
        uint8 threshold
    ) private {
        _validateGuardians(guardians, threshold);
        for (uint256 i = 0; i < guardians.length; ++i) {
            _isGuardian[guardians[i]][account] = true;
        }
        config.guardians = guardians;
        config.threshold = threshold;
        emit GuardiansChanged(account, guardians, threshold);
    }

    /// @dev Threshold in `[1, n]`, `n <= MAX_GUARDIANS`, guardians non-zero and distinct (quadratic, n is small).
    function _validateGuardians(address[] memory guardians, uint8 threshold) private pure {
        uint256 n = guardians.length;
        if (n > MAX_GUARDIANS) revert GuardianRecoveryTooManyGuardians(n, MAX_GUARDIANS);
        if (threshold == 0 || threshold > n) revert GuardianRecoveryInvalidThreshold(threshold, n);
        for (uint256 i = 0; i < n; ++i) {
            if (guardians[i] == address(0)) revert GuardianRecoveryInvalidGuardian(i, guardians[i]);
            for (uint256 j = 0; j < i; ++j) {
                if (guardians[j] == guardians[i]) revert GuardianRecoveryInvalidGuardian(i, guardians[i]);
            }
        }
    }

    function _checkNoRecoveryOrLock(address account) private view {
        PendingRecovery storage pending = _recoveries[account];
        if (pending.readyAt != 0) revert GuardianRecoveryPending(account, pending.newOwner, pending.readyAt);
        uint48 lockedUntil_ = _lockedUntil[account];
        if (lockedUntil_ > block.timestamp) revert GuardianRecoveryLocked(account, lockedUntil_);
    }

    function _installedConfig(address account) private view returns (Config storage config) {
        config = _configs[account];
        if (config.threshold == 0) revert GuardianRecoveryNotInstalled(account);
    }

    function _mode(CallType callType, ExecType execType) private pure returns (bytes32) {
        return Mode.unwrap(ERC7579Utils.encodeMode(callType, execType, ModeSelector.wrap(0), ModePayload.wrap(0)));
    }
}

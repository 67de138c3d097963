// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// @dev A root validator without {IReinsRecoverableRoot} that keeps `OwnerValidator.setOwner` semantics.
interface IReinsOwnerRoot {
    function setOwner(address newOwner) external;
}

/// @notice The account's root validator, as far as GuardianRecovery needs it.
interface IReinsRootValidatorAccount {
    /// @notice The account's root (owner) validator.
    function rootValidator() external view returns (address);
}

/// @dev The account's delayed hook removal (see ReinsAccount).
interface IReinsHookRemoval {
    function requestHookRemoval() external;
}

/**
 * @title GuardianRecoveryStorage
 * @notice GuardianRecovery's state, errors and events, and the two state checks every entry point uses. See
 * {GuardianRecovery} for the flow and the invariants.
 */
abstract contract GuardianRecoveryStorage is EIP712 {
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

    mapping(address account => Config) internal _configs;
    mapping(address guardian => mapping(address account => bool)) internal _isGuardian;
    mapping(address account => uint256) internal _nonces;
    mapping(address account => PendingRecovery) internal _recoveries;
    mapping(address account => PendingGuardianChange) internal _guardianChanges;
    mapping(address account => uint48) internal _lockedUntil;

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

    /// @dev Refuses while a recovery is pending or the guardians' lock lasts.
    function _checkNoRecoveryOrLock(address account) internal view {
        PendingRecovery storage pending = _recoveries[account];
        if (pending.readyAt != 0) revert GuardianRecoveryPending(account, pending.newOwner, pending.readyAt);
        uint48 lockedUntil_ = _lockedUntil[account];
        if (lockedUntil_ > block.timestamp) revert GuardianRecoveryLocked(account, lockedUntil_);
    }

    /// @dev The configuration of `account`; reverts when the module is not installed there.
    function _installedConfig(address account) internal view returns (Config storage config) {
        config = _configs[account];
        if (config.threshold == 0) revert GuardianRecoveryNotInstalled(account);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {GuardianRecoveryStorage} from "./GuardianRecoveryStorage.sol";

/**
 * @title GuardianApprovals
 * @notice What guardians sign and how it is checked: EIP-712 digests of GuardianRecovery's domain that name the
 * account and its nonce, M-of-N signatures (`guardian ‖ signature`, strictly increasing guardians, ECDSA or
 * ERC-1271 through `SignatureChecker`), and the guardian-set rules.
 */
abstract contract GuardianApprovals is GuardianRecoveryStorage {
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

    /// @dev Checks `signatures` (`guardian ‖ signature`, strictly increasing guardians) against `digest`.
    function _checkSignatures(
        address account,
        Config storage config,
        bytes32 digest,
        bytes[] calldata signatures
    ) internal view {
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

    /// @dev Makes `guardians` with `threshold` the guardian set of `account` (after checking them).
    function _setGuardians(
        address account,
        Config storage config,
        address[] memory guardians,
        uint8 threshold
    ) internal {
        _validateGuardians(guardians, threshold);
        for (uint256 i = 0; i < guardians.length; ++i) {
            _isGuardian[guardians[i]][account] = true;
        }
        config.guardians = guardians;
        config.threshold = threshold;
        emit GuardiansChanged(account, guardians, threshold);
    }

    /// @dev Threshold in `[1, n]`, `n <= MAX_GUARDIANS`, guardians non-zero and distinct (quadratic, n is small).
    function _validateGuardians(address[] memory guardians, uint8 threshold) internal pure {
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
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IEntryPoint} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {AccountERC7579} from "@openzeppelin/contracts/account/extensions/draft-AccountERC7579.sol";
import {Mode} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {SignerECDSA} from "@openzeppelin/contracts/utils/cryptography/signers/SignerECDSA.sol";

/**
 * @title MockERC7579Account
 * @notice TEST MOCK, never deploy in production. A plain OpenZeppelin {AccountERC7579} (modules, ERC-7579
 * execution, ERC-4337 validation through validator modules or, failing that, an ECDSA owner signature) plus two
 * shortcuts so tests can act as the account without building UserOperations: {ownerExecute} and {ownerInstall} /
 * {ownerUninstall}, restricted to the owner.
 * @dev The entry point is chosen at construction (the project targets EntryPoint v0.8). Everything else is
 * OpenZeppelin's behaviour, unchanged, so the mock can serve as "another ERC-7579 account" in shared suites.
 */
contract MockERC7579Account is AccountERC7579, SignerECDSA {
    IEntryPoint private immutable _entryPoint;

    /// @notice The caller is not the owner.
    /// @param caller The caller.
    error MockERC7579AccountNotOwner(address caller);

    /// @param entryPoint_ The ERC-4337 entry point this account trusts.
    /// @param owner The ECDSA owner: signs UserOperations (when no validator is selected) and may call the shortcuts.
    constructor(IEntryPoint entryPoint_, address owner) SignerECDSA(owner) {
        _entryPoint = entryPoint_;
    }

    modifier onlyOwner() {
        if (msg.sender != signer()) revert MockERC7579AccountNotOwner(msg.sender);
        _;
    }

    /// @inheritdoc AccountERC7579
    function accountId() public view virtual override returns (string memory) {
        return "reins.MockERC7579Account.v0.1.0";
    }

    /// @notice The entry point given at construction.
    /// @return The entry point.
    function entryPoint() public view virtual override returns (IEntryPoint) {
        return _entryPoint;
    }

    /// @notice Owner shortcut for an ERC-7579 `execute` (as if through a UserOperation).
    /// @param mode The ERC-7579 execution mode.
    /// @param executionCalldata The ERC-7579 execution calldata.
    /// @return returnData The call results.
    function ownerExecute(
        bytes32 mode,
        bytes calldata executionCalldata
    ) external payable onlyOwner returns (bytes[] memory returnData) {
        return _execute(Mode.wrap(mode), executionCalldata);
    }

    /// @notice Owner shortcut for `installModule`.
    /// @param moduleTypeId The ERC-7579 module type.
    /// @param module The module.
    /// @param initData Data passed to the module's `onInstall` (fallback: selector-prefixed).
    function ownerInstall(uint256 moduleTypeId, address module, bytes calldata initData) external onlyOwner {
        _installModule(moduleTypeId, module, initData);
    }

    /// @notice Owner shortcut for `uninstallModule`.
    /// @param moduleTypeId The ERC-7579 module type.
    /// @param module The module.
    /// @param deInitData Data passed to the module's `onUninstall` (fallback: selector-prefixed).
    function ownerUninstall(uint256 moduleTypeId, address module, bytes calldata deInitData) external onlyOwner {
        _uninstallModule(moduleTypeId, module, deInitData);
    }

    /// @dev ECDSA owner signature (used when the UserOperation nonce key selects no installed validator).
    function _rawSignatureValidation(
        bytes32 hash,
        bytes calldata signature
    ) internal view virtual override(AccountERC7579, SignerECDSA) returns (bool) {
        return SignerECDSA._rawSignatureValidation(hash, signature);
    }
}

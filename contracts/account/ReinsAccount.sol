// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Account} from "@openzeppelin/contracts/account/Account.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {ERC7579Utils, Mode, CallType, ExecType} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {IEntryPoint, PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {
    IERC7579Validator,
    IERC7579Execution,
    IERC7579AccountConfig,
    MODULE_TYPE_EXECUTOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";
import {IReinsExecutionDelegate} from "../interfaces/IReinsExecutionDelegate.sol";
import {ReinsAccountModules} from "./base/ReinsAccountModules.sol";

/**
 * @title ReinsAccount
 * @notice ERC-4337 (EntryPoint v0.8) account that is an ERC-7579 modular account. A person (the owner, behind
 * the root validator) keeps full control; AI agents act through session validators that enforce scope and
 * budgets. Deployed behind {ReinsProxy} by {ReinsAccountFactory}; upgradeable (UUPS) only by itself.
 *
 * @dev Parts (`account/base/`): storage, errors, events and the hook modifier ({ReinsAccountStorage}); module
 * management and initialisation ({ReinsAccountModules}); this contract: validation, execution, ERC-1271, fallback,
 * upgrades.
 *
 * Design decisions and invariants:
 * - Validation: the validator is the top 20 bytes of the UserOperation's nonce key. Only an installed validator
 *   validates; any other key yields `SIG_VALIDATION_FAILED` (never a revert a bundler would blame us for).
 * - The root validator (the owner's) is installed implicitly, cannot be uninstalled, and is the only validator
 *   whose operations may use delegatecall, and only through `executeUserOp` (a transient flag opens the door for
 *   exactly that call). A non-zero root validator also marks the account as initialised.
 * - Operations validated by any other validator and wrapped in `executeUserOp` are handed to that validator
 *   ({IReinsExecutionDelegate}), which enforces its execution-phase policy and calls back `executeFromExecutor`.
 *   The session validator refuses operations that are not wrapped that way, so agent spend cannot skip it.
 * - One hook at most; it wraps `execute`, `executeFromExecutor`, module management, upgrades and the fallback.
 *   Uninstalling the hook itself is not wrapped, so a broken hook cannot lock the owner out.
 * - A module whose `onUninstall` reverts is removed anyway (the failure is reported in an event).
 * - Storage: one ERC-7201 namespace (`reins.storage.ReinsAccount`). OpenZeppelin's `AccountERC7579` keeps its
 *   module sets in unnamespaced slots and calls `onUninstall` without a fallback, which is why module
 *   management is written here while `Account`, `ERC7579Utils` and `UUPSUpgradeable` come from OpenZeppelin.
 */
contract ReinsAccount is ReinsAccountModules, IERC1271, IERC7579Execution, UUPSUpgradeable {
    using ERC7579Utils for *;
    using TransientSlot for *;

    constructor() {
        _storage().rootValidator = _LOCKED;
    }

    /**
     * @notice Initialise a fresh proxy: set the root validator and install the initial modules.
     * @dev Called by the factory in the same transaction that deploys the proxy, so it cannot be front-run.
     * @param rootValidator_ The owner's validator module (installed as a validator and made root).
     * @param rootValidatorData Its `onInstall` data (for example the owner address).
     * @param modules Further modules to install.
     */
    function initialize(
        address rootValidator_,
        bytes calldata rootValidatorData,
        ModuleInit[] calldata modules
    ) external virtual {
        _initialize(rootValidator_, rootValidatorData, modules);
    }

    /// @inheritdoc Account
    function entryPoint() public pure override returns (IEntryPoint) {
        return ERC4337Utils.ENTRYPOINT_V08;
    }

    /// @notice The root (owner) validator.
    function rootValidator() external view returns (address) {
        return _storage().rootValidator;
    }

    /// @notice The installed hook, or zero.
    function hook() external view returns (address) {
        return _storage().hook;
    }

    // ------------------------------------------------------------------------------------------ execution

    /// @inheritdoc IERC7579Execution
    function execute(bytes32 mode, bytes calldata executionCalldata) external payable onlyEntryPointOrSelf withHook {
        // The usual owner operation, one call that must succeed: made directly, without collecting return data
        // nobody reads (the result of `execute` is discarded).
        if (bytes2(mode) == bytes2(0)) {
            (address target, uint256 value, bytes calldata data) = executionCalldata.decodeSingle();
            if (!LowLevelCall.callNoReturn(target == address(0) ? address(this) : target, value, data)) {
                if (LowLevelCall.returnDataSize() == 0) revert Errors.FailedCall(); // as OpenZeppelin's execSingle
                LowLevelCall.bubbleRevert();
            }
        } else {
            _execute(mode, executionCalldata);
        }
    }

    /// @inheritdoc IERC7579Execution
    function executeFromExecutor(
        bytes32 mode,
        bytes calldata executionCalldata
    ) external payable withHook returns (bytes[] memory returnData) {
        if (!_isExecutor(_storage(), msg.sender))
            revert ReinsAccountUnauthorizedModule(MODULE_TYPE_EXECUTOR, msg.sender);
        return _execute(mode, executionCalldata);
    }

    /**
     * @notice EntryPoint v0.8 `IAccountExecute` entry: the execution phase of an operation whose `callData` is
     * `executeUserOp.selector ‖ abi.encodeCall(execute, (mode, executionCalldata))`.
     * @dev Root-validator operations run the inner `execute` as a self-call, with delegatecall allowed for exactly
     * that call. Operations of any other validator are handed to it ({IReinsExecutionDelegate}), so that the
     * policy which validated the operation also governs its execution. The hook wraps the inner `execute` or
     * `executeFromExecutor`.
     */
    function executeUserOp(PackedUserOperation calldata userOp, bytes32 /* userOpHash */) external onlyEntryPoint {
        address validator = _validatorOf(userOp.nonce);
        if (validator == _storage().rootValidator) {
            bytes calldata inner = userOp.callData[4:];
            if (inner.length < 4 || bytes4(inner) != this.execute.selector) {
                revert ReinsAccountInvalidUserOpCallData(inner.length < 4 ? bytes4(0) : bytes4(inner));
            }
            _DELEGATECALL_ALLOWED.asBoolean().tstore(true);
            bool success = LowLevelCall.callNoReturn(address(this), 0, inner);
            _DELEGATECALL_ALLOWED.asBoolean().tstore(false);
            if (!success) LowLevelCall.bubbleRevert();
        } else {
            // executeAuthorized(userOp, userOpHash) takes the arguments of this call: forward the EntryPoint's own
            // encoding instead of re-encoding the whole operation.
            bytes memory call = abi.encodePacked(IReinsExecutionDelegate.executeAuthorized.selector, msg.data[4:]);
            if (!LowLevelCall.callNoReturn(validator, 0, call)) LowLevelCall.bubbleRevert();
        }
    }

    // ------------------------------------------------------------------------------------------ modules

    /// @inheritdoc IERC7579AccountConfig
    function accountId() external pure virtual returns (string memory) {
        return "reins.account.0.1.0";
    }

    /// @inheritdoc IERC7579AccountConfig
    function supportsExecutionMode(bytes32 encodedMode) external pure returns (bool) {
        (CallType callType, ExecType execType, , ) = Mode.wrap(encodedMode).decodeMode();
        return
            (callType == ERC7579Utils.CALLTYPE_SINGLE ||
                callType == ERC7579Utils.CALLTYPE_BATCH ||
                callType == ERC7579Utils.CALLTYPE_DELEGATECALL) &&
            (execType == ERC7579Utils.EXECTYPE_DEFAULT || execType == ERC7579Utils.EXECTYPE_TRY);
    }

    // ------------------------------------------------------------------------------------------ signatures

    /**
     * @notice ERC-1271: `signature` is `validator (20 bytes) ‖ validator-specific signature`; only an installed
     * validator is asked. Anything else returns the failure value `0xffffffff`.
     */
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length >= 20) {
            address module = address(bytes20(signature[0:20]));
            if (_isValidator(_storage(), module)) {
                try IERC7579Validator(module).isValidSignatureWithSender(msg.sender, hash, signature[20:]) returns (
                    bytes4 magic
                ) {
                    return magic;
                } catch {}
            }
        }
        return bytes4(0xffffffff);
    }

    // ------------------------------------------------------------------------------------------ fallback

    /// @notice Routes unknown selectors to the installed fallback handler (ERC-2771 style: caller appended).
    fallback(bytes calldata) external payable withHook returns (bytes memory) {
        address handler = _storage().fallbacks[msg.sig];
        if (handler == address(0)) revert ERC7579Utils.ERC7579UnsupportedCallType(CallType.wrap(0x00));
        if (LowLevelCall.callNoReturn(handler, msg.value, abi.encodePacked(msg.data, msg.sender))) {
            return LowLevelCall.returnData();
        }
        LowLevelCall.bubbleRevert();
    }

    // ------------------------------------------------------------------------------------------ internals

    /// @inheritdoc Account
    function _validateUserOp(
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        bytes calldata /* signature */
    ) internal override returns (uint256) {
        address validator = _validatorOf(userOp.nonce);
        if (!_isValidator(_storage(), validator)) return ERC4337Utils.SIG_VALIDATION_FAILED;
        // `validateUserOp(userOp, userOpHash)` in its canonical encoding, built from the EntryPoint's own encoding of
        // the operation (a copy of its bytes: the tuple's inner offsets are relative to its start), not re-encoded.
        uint256 start;
        assembly ("memory-safe") {
            start := userOp
        }
        bytes memory call = abi.encodePacked(
            IERC7579Validator.validateUserOp.selector,
            uint256(0x40),
            userOpHash,
            msg.data[start:]
        );
        (bool success, bytes32 validationData, ) = LowLevelCall.callReturn64Bytes(validator, 0, call);
        if (!success) LowLevelCall.bubbleRevert();
        if (LowLevelCall.returnDataSize() < 32) revert ReinsAccountInvalidModule(validator);
        return uint256(validationData);
    }

    /// @dev Unused: every signature check goes through an installed validator module.
    function _rawSignatureValidation(bytes32, bytes calldata) internal pure override returns (bool) {
        return false;
    }

    function _execute(bytes32 mode, bytes calldata executionCalldata) private returns (bytes[] memory) {
        (CallType callType, ExecType execType, , ) = Mode.wrap(mode).decodeMode();
        if (callType == ERC7579Utils.CALLTYPE_SINGLE) return executionCalldata.execSingle(execType);
        if (callType == ERC7579Utils.CALLTYPE_BATCH) return executionCalldata.execBatch(execType);
        if (callType == ERC7579Utils.CALLTYPE_DELEGATECALL) {
            // Only an owner-validated executeUserOp self-call may delegatecall.
            if (msg.sender != address(this) || !_DELEGATECALL_ALLOWED.asBoolean().tload()) {
                revert ReinsAccountDelegatecallNotAllowed();
            }
            return executionCalldata.execDelegateCall(execType);
        }
        revert ERC7579Utils.ERC7579UnsupportedCallType(callType);
    }

    /// @dev Upgrades only through the account itself (owner operation) or the EntryPoint.
    function _authorizeUpgrade(address) internal view override onlyEntryPointOrSelf {}

    /// @inheritdoc UUPSUpgradeable
    function upgradeToAndCall(address newImplementation, bytes memory data) public payable virtual override withHook {
        super.upgradeToAndCall(newImplementation, data);
    }
}

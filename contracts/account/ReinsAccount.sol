// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Account} from "@openzeppelin/contracts/account/Account.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {ERC7579Utils, Mode, CallType, ExecType} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {IEntryPoint, PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {
    IERC7579Module,
    IERC7579Validator,
    IERC7579Hook,
    IERC7579Execution,
    IERC7579AccountConfig,
    IERC7579ModuleConfig,
    MODULE_TYPE_VALIDATOR,
    MODULE_TYPE_EXECUTOR,
    MODULE_TYPE_FALLBACK,
    MODULE_TYPE_HOOK
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {IReinsExecutionDelegate} from "../interfaces/IReinsExecutionDelegate.sol";

/**
 * @title ReinsAccount
 * @notice ERC-4337 (EntryPoint v0.8) account that is an ERC-7579 modular account. A person (the owner, behind
 * the root validator) keeps full control; AI agents act through session validators that enforce scope and
 * budgets. Deployed behind {ReinsProxy} by {ReinsAccountFactory}; upgradeable (UUPS) only by itself.
 *
 * @dev Design decisions and invariants:
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
contract ReinsAccount is
    Account,
    IERC1271,
    IERC7579Execution,
    IERC7579AccountConfig,
    IERC7579ModuleConfig,
    UUPSUpgradeable
{
    using ERC7579Utils for *;
    using TransientSlot for *;

    /// @custom:storage-location erc7201:reins.storage.ReinsAccount
    struct AccountStorage {
        address rootValidator;
        bool hasHook; // packed with rootValidator, which validation already read: no extra cold read per execution
        address hook;
        mapping(address module => bool) validators;
        mapping(address module => bool) executors;
        mapping(bytes4 selector => address) fallbacks;
        uint48 hookRemovalAt; // 0: none requested (see {requestHookRemoval})
    }

    /// @notice A module to install at initialisation.
    struct ModuleInit {
        uint256 moduleTypeId;
        address module;
        bytes initData;
    }

    // keccak256(abi.encode(uint256(keccak256("reins.storage.ReinsAccount")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_SLOT = 0xa2f5d9bbb6e14bd201a2136d34d8af1b938ae052c96388afc8bbcf2e0d5a2400;
    // keccak256(abi.encode(uint256(keccak256("reins.transient.delegatecallAllowed")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _DELEGATECALL_ALLOWED = 0x66806301c77e6fb84150e86bdc69beec64f4a9bf3a3d8935d91e344deee80e00;

    /// @dev Placeholder root validator written into the implementation's own storage so it can never be initialised.
    address private constant _LOCKED = address(1);

    /// @notice How long a requested hook removal waits ({requestHookRemoval}); longer than any owner safety-net delay
    /// a Reins client configures by default, so guardians can react to a thief who requests it.
    uint48 public constant HOOK_REMOVAL_DELAY = 3 days;

    /// @notice The account is already initialised (or is the implementation).
    error ReinsAccountAlreadyInitialized();
    /// @notice A module address was zero or has no code.
    error ReinsAccountInvalidModule(address module);
    /// @notice The root validator cannot be uninstalled; replace it with {setRootValidator} first.
    error ReinsAccountCannotRemoveRootValidator(address module);
    /// @notice Delegatecall execution was requested outside an owner-validated `executeUserOp`.
    error ReinsAccountDelegatecallNotAllowed();
    /// @notice `executeUserOp` was given call data that does not wrap `execute(bytes32,bytes)`.
    error ReinsAccountInvalidUserOpCallData(bytes4 selector);
    /// @notice The caller is not an installed module of the required type.
    error ReinsAccountUnauthorizedModule(uint256 moduleTypeId, address caller);

    /// @notice The root (owner) validator changed.
    event RootValidatorChanged(address indexed previous, address indexed current);
    /// @notice A module was uninstalled although its `onUninstall` reverted.
    event ModuleUninstallFailed(uint256 moduleTypeId, address indexed module, bytes reason);
    /// @notice Removal of `hook` was requested; anyone may complete it from `readyAt` (0: the request was cancelled).
    event HookRemovalRequested(address indexed hook, uint48 readyAt);

    /// @notice No hook removal was requested, or its delay has not passed (`readyAt`).
    error ReinsAccountHookRemovalNotReady(uint48 readyAt);

    /// @dev Runs the installed hook (if any) around the function body.
    modifier withHook() {
        AccountStorage storage $ = _storage();
        if (!$.hasHook) {
            _;
        } else {
            address hook = $.hook;
            bytes memory hookData = IERC7579Hook(hook).preCheck(msg.sender, _callValue(), msg.data);
            _;
            IERC7579Hook(hook).postCheck(hookData);
        }
    }

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
        _execute(mode, executionCalldata);
    }

    /// @inheritdoc IERC7579Execution
    function executeFromExecutor(
        bytes32 mode,
        bytes calldata executionCalldata
    ) external payable withHook returns (bytes[] memory returnData) {
        if (!_storage().executors[msg.sender]) revert ReinsAccountUnauthorizedModule(MODULE_TYPE_EXECUTOR, msg.sender);
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
    function executeUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external onlyEntryPoint {
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
            IReinsExecutionDelegate(validator).executeAuthorized(userOp, userOpHash);
        }
    }

    // ------------------------------------------------------------------------------------------ modules

    /// @inheritdoc IERC7579ModuleConfig
    function installModule(
        uint256 moduleTypeId,
        address module,
        bytes calldata initData
    ) external onlyEntryPointOrSelf withHook {
        _installModule(moduleTypeId, module, initData);
    }

    /// @inheritdoc IERC7579ModuleConfig
    function uninstallModule(
        uint256 moduleTypeId,
        address module,
        bytes calldata deInitData
    ) external onlyEntryPointOrSelf {
        if (moduleTypeId == MODULE_TYPE_HOOK && module == _storage().hook) {
            // Not wrapped by the hook: a hook that always reverts must still be removable.
            _uninstallModule(moduleTypeId, module, deInitData);
        } else {
            _uninstallWithHook(moduleTypeId, module, deInitData);
        }
    }

    /**
     * @notice Start the delayed removal of the installed hook, outside the hook: a hook that starts reverting wraps
     * every execution path (the owner safety net's scheduling, queued owner operations, guardian recovery), so it
     * must have a way out that it cannot block. Callable by the EntryPoint (an operation of any installed
     * validator; the owner safety net accepts exactly this call), the account itself, or an installed executor
     * (GuardianRecovery, once a recovery is ready). {completeHookRemoval} finishes it after {HOOK_REMOVAL_DELAY}.
     */
    function requestHookRemoval() external {
        AccountStorage storage $ = _storage();
        if (msg.sender != address(entryPoint()) && msg.sender != address(this) && !$.executors[msg.sender]) {
            revert ReinsAccountUnauthorizedModule(MODULE_TYPE_EXECUTOR, msg.sender);
        }
        if ($.hook == address(0)) revert ERC7579Utils.ERC7579UninstalledModule(MODULE_TYPE_HOOK, address(0));
        uint48 readyAt = uint48(block.timestamp) + HOOK_REMOVAL_DELAY;
        $.hookRemovalAt = readyAt;
        emit HookRemovalRequested($.hook, readyAt);
    }

    /// @notice Withdraw a hook removal request (the owner, through the hook like every other owner change).
    function cancelHookRemoval() external onlyEntryPointOrSelf withHook {
        AccountStorage storage $ = _storage();
        delete $.hookRemovalAt;
        emit HookRemovalRequested($.hook, 0);
    }

    /// @notice Remove the hook once a requested removal's delay has passed (anyone; not wrapped by the hook).
    function completeHookRemoval() external {
        AccountStorage storage $ = _storage();
        uint48 readyAt = $.hookRemovalAt;
        if (readyAt == 0 || block.timestamp < readyAt) revert ReinsAccountHookRemovalNotReady(readyAt);
        delete $.hookRemovalAt;
        _uninstallModule(MODULE_TYPE_HOOK, $.hook, msg.data[msg.data.length:]);
    }

    /**
     * @notice Make an installed validator the root (owner) validator. The previous root stays installed as an
     * ordinary validator and can then be uninstalled.
     */
    function setRootValidator(address validator) external onlyEntryPointOrSelf withHook {
        AccountStorage storage $ = _storage();
        if (!$.validators[validator]) revert ERC7579Utils.ERC7579UninstalledModule(MODULE_TYPE_VALIDATOR, validator);
        address previous = $.rootValidator;
        delete $.validators[validator];
        $.validators[previous] = true;
        $.rootValidator = validator;
        emit RootValidatorChanged(previous, validator);
    }

    /// @inheritdoc IERC7579ModuleConfig
    function isModuleInstalled(
        uint256 moduleTypeId,
        address module,
        bytes calldata additionalContext
    ) public view returns (bool) {
        AccountStorage storage $ = _storage();
        if (moduleTypeId == MODULE_TYPE_VALIDATOR) return _isValidator($, module);
        if (moduleTypeId == MODULE_TYPE_EXECUTOR) return $.executors[module];
        if (moduleTypeId == MODULE_TYPE_FALLBACK) {
            return additionalContext.length >= 4 && $.fallbacks[bytes4(additionalContext[0:4])] == module;
        }
        if (moduleTypeId == MODULE_TYPE_HOOK) return module != address(0) && $.hook == module;
        return false;
    }

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

    /// @inheritdoc IERC7579AccountConfig
    function supportsModule(uint256 moduleTypeId) public pure returns (bool) {
        return moduleTypeId >= MODULE_TYPE_VALIDATOR && moduleTypeId <= MODULE_TYPE_HOOK;
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

    /// @dev Set the root validator and install the initial modules, once.
    function _initialize(
        address rootValidator_,
        bytes calldata rootValidatorData,
        ModuleInit[] calldata modules
    ) internal {
        AccountStorage storage $ = _storage();
        if ($.rootValidator != address(0)) revert ReinsAccountAlreadyInitialized();
        if (rootValidator_.code.length == 0) revert ReinsAccountInvalidModule(rootValidator_);
        $.rootValidator = rootValidator_;
        IERC7579Module(rootValidator_).onInstall(rootValidatorData);
        emit ModuleInstalled(MODULE_TYPE_VALIDATOR, rootValidator_);
        emit RootValidatorChanged(address(0), rootValidator_);
        for (uint256 i = 0; i < modules.length; ++i) {
            _installModule(modules[i].moduleTypeId, modules[i].module, modules[i].initData);
        }
    }

    /// @dev Forget the root validator, then run its `onUninstall` (a revert is reported, not kept): the account is
    /// uninitialised afterwards and does nothing until initialised again.
    function _removeRootValidator() internal {
        AccountStorage storage $ = _storage();
        address root = $.rootValidator;
        if (root == address(0)) return;
        delete $.rootValidator;
        try IERC7579Module(root).onUninstall("") {} catch (bytes memory reason) {
            emit ModuleUninstallFailed(MODULE_TYPE_VALIDATOR, root, reason);
        }
        emit ModuleUninstalled(MODULE_TYPE_VALIDATOR, root);
        emit RootValidatorChanged(root, address(0));
    }

    /// @dev Whether the account has a root validator (is initialised).
    function _isInitialized() internal view returns (bool) {
        return _storage().rootValidator != address(0);
    }

    /// @inheritdoc Account
    function _validateUserOp(
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        bytes calldata /* signature */
    ) internal override returns (uint256) {
        address validator = _validatorOf(userOp.nonce);
        if (!_isValidator(_storage(), validator)) return ERC4337Utils.SIG_VALIDATION_FAILED;
        return IERC7579Validator(validator).validateUserOp(userOp, userOpHash);
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

    function _installModule(uint256 moduleTypeId, address module, bytes calldata initData) private {
        if (!supportsModule(moduleTypeId)) revert ERC7579Utils.ERC7579UnsupportedModuleType(moduleTypeId);
        if (module.code.length == 0) revert ReinsAccountInvalidModule(module);
        if (!IERC7579Module(module).isModuleType(moduleTypeId)) {
            revert ERC7579Utils.ERC7579MismatchedModuleTypeId(moduleTypeId, module);
        }
        AccountStorage storage $ = _storage();
        bytes calldata moduleData = initData;
        if (moduleTypeId == MODULE_TYPE_VALIDATOR) {
            if (_isValidator($, module)) revert ERC7579Utils.ERC7579AlreadyInstalledModule(moduleTypeId, module);
            $.validators[module] = true;
        } else if (moduleTypeId == MODULE_TYPE_EXECUTOR) {
            if ($.executors[module]) revert ERC7579Utils.ERC7579AlreadyInstalledModule(moduleTypeId, module);
            $.executors[module] = true;
        } else if (moduleTypeId == MODULE_TYPE_FALLBACK) {
            bytes4 selector = _fallbackSelector(initData);
            if ($.fallbacks[selector] != address(0)) {
                revert ERC7579Utils.ERC7579AlreadyInstalledModule(moduleTypeId, module);
            }
            _checkFallbackSelector(selector);
            $.fallbacks[selector] = module;
            moduleData = initData[4:];
        } else {
            if ($.hook != address(0)) revert ERC7579Utils.ERC7579AlreadyInstalledModule(moduleTypeId, $.hook);
            $.hook = module;
            $.hasHook = true;
        }
        IERC7579Module(module).onInstall(moduleData);
        emit ModuleInstalled(moduleTypeId, module);
    }

    function _uninstallWithHook(uint256 moduleTypeId, address module, bytes calldata deInitData) private withHook {
        _uninstallModule(moduleTypeId, module, deInitData);
    }

    function _uninstallModule(uint256 moduleTypeId, address module, bytes calldata deInitData) internal {
        if (!supportsModule(moduleTypeId)) revert ERC7579Utils.ERC7579UnsupportedModuleType(moduleTypeId);
        AccountStorage storage $ = _storage();
        bytes calldata moduleData = deInitData;
        if (moduleTypeId == MODULE_TYPE_VALIDATOR) {
            if (module == $.rootValidator) revert ReinsAccountCannotRemoveRootValidator(module);
            if (!$.validators[module]) revert ERC7579Utils.ERC7579UninstalledModule(moduleTypeId, module);
            delete $.validators[module];
        } else if (moduleTypeId == MODULE_TYPE_EXECUTOR) {
            if (!$.executors[module]) revert ERC7579Utils.ERC7579UninstalledModule(moduleTypeId, module);
            delete $.executors[module];
        } else if (moduleTypeId == MODULE_TYPE_FALLBACK) {
            bytes4 selector = _fallbackSelector(deInitData);
            if (module == address(0) || $.fallbacks[selector] != module) {
                revert ERC7579Utils.ERC7579UninstalledModule(moduleTypeId, module);
            }
            delete $.fallbacks[selector];
            moduleData = deInitData[4:];
        } else {
            if (module == address(0) || $.hook != module) {
                revert ERC7579Utils.ERC7579UninstalledModule(moduleTypeId, module);
            }
            delete $.hook;
            $.hasHook = false;
            delete $.hookRemovalAt;
        }
        // The module is already removed; a reverting onUninstall must not keep it (or lock the owner out).
        try IERC7579Module(module).onUninstall(moduleData) {} catch (bytes memory reason) {
            emit ModuleUninstallFailed(moduleTypeId, module, reason);
        }
        emit ModuleUninstalled(moduleTypeId, module);
    }

    /// @dev Selectors the account implements itself can never be routed to a fallback handler.
    function _checkFallbackSelector(bytes4 selector) private pure {
        if (
            selector == IERC7579Module.onInstall.selector ||
            selector == IERC7579Module.onUninstall.selector ||
            selector == bytes4(0)
        ) revert ERC7579Utils.ERC7579UnsupportedModuleType(MODULE_TYPE_FALLBACK);
    }

    function _fallbackSelector(bytes calldata data) private pure returns (bytes4) {
        if (data.length < 4) revert ERC7579Utils.ERC7579UnsupportedModuleType(MODULE_TYPE_FALLBACK);
        return bytes4(data[0:4]);
    }

    function _isValidator(AccountStorage storage $, address module) private view returns (bool) {
        return module != address(0) && (module == $.rootValidator || $.validators[module]);
    }

    /// @dev The validator named by a nonce: the top 20 bytes of its 192-bit key.
    function _validatorOf(uint256 nonce) private pure returns (address) {
        return address(uint160(nonce >> 96));
    }

    /// @dev Upgrades only through the account itself (owner operation) or the EntryPoint.
    function _authorizeUpgrade(address) internal view override onlyEntryPointOrSelf {}

    /// @inheritdoc UUPSUpgradeable
    function upgradeToAndCall(address newImplementation, bytes memory data) public payable virtual override withHook {
        super.upgradeToAndCall(newImplementation, data);
    }

    /// @dev `msg.value`, readable from the hook modifier in non-payable functions too.
    function _callValue() private view returns (uint256) {
        return msg.value;
    }

    function _storage() private pure returns (AccountStorage storage $) {
        assembly ("memory-safe") {
            $.slot := _STORAGE_SLOT
        }
    }
}

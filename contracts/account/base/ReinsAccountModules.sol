// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC7579Utils} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {
    IERC7579Module,
    IERC7579ModuleConfig,
    IERC7579AccountConfig,
    MODULE_TYPE_VALIDATOR,
    MODULE_TYPE_EXECUTOR,
    MODULE_TYPE_FALLBACK,
    MODULE_TYPE_HOOK
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {IReinsModuleTypes} from "../../interfaces/IReinsModuleTypes.sol";
import {ReinsAccountStorage} from "./ReinsAccountStorage.sol";

/**
 * @title ReinsAccountModules
 * @notice ERC-7579 module management of the Reins account: install and uninstall (a reverting `onUninstall` is
 * reported, not kept), the root validator, the hook and its delayed removal, and initialisation. See {ReinsAccount}.
 */
abstract contract ReinsAccountModules is
    ReinsAccountStorage,
    IERC7579ModuleConfig,
    IERC7579AccountConfig,
    IReinsModuleTypes
{
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
        if (msg.sender != address(entryPoint()) && msg.sender != address(this) && !_isExecutor($, msg.sender)) {
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
        uint256 types = $.moduleTypes[validator];
        if (types & _VALIDATOR_BIT == 0) revert ERC7579Utils.ERC7579UninstalledModule(MODULE_TYPE_VALIDATOR, validator);
        address previous = $.rootValidator;
        $.moduleTypes[validator] = types & ~_VALIDATOR_BIT;
        $.moduleTypes[previous] |= _VALIDATOR_BIT;
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
        if (moduleTypeId == MODULE_TYPE_EXECUTOR) return _isExecutor($, module);
        if (moduleTypeId == MODULE_TYPE_FALLBACK) {
            return additionalContext.length >= 4 && $.fallbacks[bytes4(additionalContext[0:4])] == module;
        }
        if (moduleTypeId == MODULE_TYPE_HOOK) return module != address(0) && $.hook == module;
        return false;
    }

    /// @inheritdoc IReinsModuleTypes
    function installedModuleTypes(address module) external view returns (uint256 types) {
        AccountStorage storage $ = _storage();
        if (module == address(0)) return 0;
        types = $.moduleTypes[module];
        if (module == $.rootValidator) types |= _VALIDATOR_BIT;
        if ($.hasHook && module == $.hook) types |= _HOOK_BIT;
    }

    /// @inheritdoc IERC7579AccountConfig
    function supportsModule(uint256 moduleTypeId) public pure returns (bool) {
        return moduleTypeId >= MODULE_TYPE_VALIDATOR && moduleTypeId <= MODULE_TYPE_HOOK;
    }

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

    function _installModule(uint256 moduleTypeId, address module, bytes calldata initData) internal {
        if (!supportsModule(moduleTypeId)) revert ERC7579Utils.ERC7579UnsupportedModuleType(moduleTypeId);
        if (module.code.length == 0) revert ReinsAccountInvalidModule(module);
        if (!IERC7579Module(module).isModuleType(moduleTypeId)) {
            revert ERC7579Utils.ERC7579MismatchedModuleTypeId(moduleTypeId, module);
        }
        AccountStorage storage $ = _storage();
        bytes calldata moduleData = initData;
        if (moduleTypeId == MODULE_TYPE_VALIDATOR) {
            if (_isValidator($, module)) revert ERC7579Utils.ERC7579AlreadyInstalledModule(moduleTypeId, module);
            $.moduleTypes[module] |= _VALIDATOR_BIT;
        } else if (moduleTypeId == MODULE_TYPE_EXECUTOR) {
            if (_isExecutor($, module)) revert ERC7579Utils.ERC7579AlreadyInstalledModule(moduleTypeId, module);
            $.moduleTypes[module] |= _EXECUTOR_BIT;
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
        _afterModuleInstalled(moduleTypeId, module, initData);
    }

    function _uninstallWithHook(uint256 moduleTypeId, address module, bytes calldata deInitData) internal withHook {
        _uninstallModule(moduleTypeId, module, deInitData);
    }

    function _uninstallModule(uint256 moduleTypeId, address module, bytes calldata deInitData) internal {
        if (!supportsModule(moduleTypeId)) revert ERC7579Utils.ERC7579UnsupportedModuleType(moduleTypeId);
        AccountStorage storage $ = _storage();
        bytes calldata moduleData = deInitData;
        if (moduleTypeId == MODULE_TYPE_VALIDATOR) {
            if (module == $.rootValidator) revert ReinsAccountCannotRemoveRootValidator(module);
            if ($.moduleTypes[module] & _VALIDATOR_BIT == 0) {
                revert ERC7579Utils.ERC7579UninstalledModule(moduleTypeId, module);
            }
            $.moduleTypes[module] &= ~_VALIDATOR_BIT;
        } else if (moduleTypeId == MODULE_TYPE_EXECUTOR) {
            if (!_isExecutor($, module)) revert ERC7579Utils.ERC7579UninstalledModule(moduleTypeId, module);
            $.moduleTypes[module] &= ~_EXECUTOR_BIT;
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
        _afterModuleUninstalled();
    }

    /// @dev Runs after every install of a module other than the root validator (`initData` as given to
    /// {installModule}: a fallback's starts with its selector). {ReinsAccount7702} counts them here.
    function _afterModuleInstalled(
        uint256 /* moduleTypeId */,
        address /* module */,
        bytes calldata /* initData */
    ) internal virtual {}

    /// @dev Runs after every uninstall of a module other than the root validator (the root's removal is
    /// {_removeRootValidator}, which does not call this).
    function _afterModuleUninstalled() internal virtual {}

    /// @dev Selectors the account implements itself can never be routed to a fallback handler.
    function _checkFallbackSelector(bytes4 selector) internal pure {
        if (
            selector == IERC7579Module.onInstall.selector ||
            selector == IERC7579Module.onUninstall.selector ||
            selector == bytes4(0)
        ) revert ERC7579Utils.ERC7579UnsupportedModuleType(MODULE_TYPE_FALLBACK);
    }

    function _fallbackSelector(bytes calldata data) internal pure returns (bytes4) {
        if (data.length < 4) revert ERC7579Utils.ERC7579UnsupportedModuleType(MODULE_TYPE_FALLBACK);
        return bytes4(data[0:4]);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Account} from "@openzeppelin/contracts/account/Account.sol";
import {
    IERC7579Hook,
    MODULE_TYPE_VALIDATOR,
    MODULE_TYPE_EXECUTOR,
    MODULE_TYPE_HOOK
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

/**
 * @title ReinsAccountStorage
 * @notice The Reins account's ERC-7201 storage, errors, events and the hook modifier. See {ReinsAccount}.
 */
abstract contract ReinsAccountStorage is Account {
    /// @custom:storage-location erc7201:reins.storage.ReinsAccount
    struct AccountStorage {
        address rootValidator;
        bool hasHook; // packed with rootValidator, which validation already read: no extra cold read per execution
        address hook;
        // Bit `1 << moduleTypeId` per installed type (validator, executor; the root validator and the hook live in
        // their own fields): one word answers every "installed as what" question ({installedModuleTypes}), and a
        // module installed as validator and executor (the session module) costs one new slot, not two.
        mapping(address module => uint256) moduleTypes;
        mapping(bytes4 selector => address) fallbacks;
        uint48 hookRemovalAt; // 0: none requested (see {requestHookRemoval})
    }

    uint256 internal constant _VALIDATOR_BIT = 1 << MODULE_TYPE_VALIDATOR;
    uint256 internal constant _EXECUTOR_BIT = 1 << MODULE_TYPE_EXECUTOR;
    uint256 internal constant _HOOK_BIT = 1 << MODULE_TYPE_HOOK;

    /// @notice A module to install at initialisation.
    struct ModuleInit {
        uint256 moduleTypeId;
        address module;
        bytes initData;
    }

    // keccak256(abi.encode(uint256(keccak256("reins.storage.ReinsAccount")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_SLOT = 0xa2f5d9bbb6e14bd201a2136d34d8af1b938ae052c96388afc8bbcf2e0d5a2400;
    // keccak256(abi.encode(uint256(keccak256("reins.transient.delegatecallAllowed")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant _DELEGATECALL_ALLOWED =
        0x66806301c77e6fb84150e86bdc69beec64f4a9bf3a3d8935d91e344deee80e00;

    /// @dev Placeholder root validator written into the implementation's own storage so it can never be initialised.
    address internal constant _LOCKED = address(1);

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

    function _isValidator(AccountStorage storage $, address module) internal view returns (bool) {
        return module != address(0) && (module == $.rootValidator || $.moduleTypes[module] & _VALIDATOR_BIT != 0);
    }

    function _isExecutor(AccountStorage storage $, address module) internal view returns (bool) {
        return $.moduleTypes[module] & _EXECUTOR_BIT != 0;
    }

    /// @dev The validator named by a nonce: the top 20 bytes of its 192-bit key.
    function _validatorOf(uint256 nonce) internal pure returns (address) {
        return address(uint160(nonce >> 96));
    }

    /// @dev `msg.value`, readable from the hook modifier in non-payable functions too.
    function _callValue() internal view returns (uint256) {
        return msg.value;
    }

    function _storage() internal pure returns (AccountStorage storage $) {
        assembly ("memory-safe") {
            $.slot := _STORAGE_SLOT
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MODULE_TYPE_FALLBACK, MODULE_TYPE_HOOK} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ReinsAccount} from "./ReinsAccount.sol";

/**
 * @title ReinsAccount7702
 * @notice The Reins account as an EIP-7702 delegate: an existing EOA delegates to this implementation and becomes a
 * Reins account at its own address, with the EOA's key as the owner (OwnerValidator, owner = the EOA). Sessions,
 * budgets, tiers, the timelock, the watchdog, the breaker and guardian recovery work exactly as on a proxy account:
 * they are the same code, and the EOA's storage holds the account's state.
 * @dev What differs, and why:
 * - **Initialisation cannot be front-run.** A delegated EOA has empty storage, so the plain {initialize} would
 *   belong to whoever calls it first. Here it accepts only the EOA itself as caller (a type-4 transaction the EOA
 *   sends to itself, delegation and initialisation in one), and {initializeWithSignature} accepts anyone who
 *   carries the EOA's EIP-712 signature of the exact configuration (the EntryPoint's 7702 `initCode` path, where
 *   the SenderCreator calls). A stranger gets {ReinsAccount7702InitializerNotSelf} or {ReinsAccount7702BadInitSignature}.
 *   Replaying a signed initialisation on an initialised account does nothing (the EntryPoint runs the 7702
 *   `initCode` on every operation that carries it), so a copied bundle cannot block the owner's first operation.
 * - **Upgrades belong to the delegation**: the EOA changes its code with a new EIP-7702 authorisation, not with
 *   UUPS; {upgradeToAndCall} reverts {ReinsAccount7702UpgradeThroughDelegation}.
 * - **The EOA key stays all-powerful**: EIP-7702 lets it send ordinary transactions and re-delegate at any time.
 *   Guardian recovery gives a lost key's account a new owner for operations; it cannot disarm a stolen EOA key.
 * - **Storage outlives the delegation.** EIP-7702 keeps storage and runs no code when the delegation changes, so
 *   delegating away and back to this implementation finds the account as it was, sessions included (no code can
 *   observe the round trip). Leaving Reins on purpose therefore first ends every session (uninstalling
 *   AgentSessions starts a new session epoch there), then clears the delegation: see `reins account downgrade-eoa`.
 * - **Leaving removes every module, or nothing.** A module left installed by {deinitialize} would be live again
 *   after a later re-upgrade (a validator key the owner thought gone could sign again). So the account counts its
 *   installed modules ({moduleCount}: every validator, executor, fallback handler and hook but the root validator)
 *   and {deinitialize} reverts {ReinsAccount7702ModulesRemain} unless the modules it was given bring the count to
 *   zero. Clients find them from the `ModuleInstalled` events (and {FallbackInstalled} for a handler's selector)
 *   and check each with `isModuleInstalled`. The count lives only here, off every operation's path: it is
 *   written on install and uninstall only, never read by validation or execution.
 */
contract ReinsAccount7702 is ReinsAccount, EIP712 {
    /// @notice EIP-712 type of the EOA's consent to an initialisation.
    bytes32 public constant INITIALIZE_TYPEHASH = keccak256(
        "Initialize(address implementation,address rootValidator,bytes rootValidatorData,bytes32 modulesHash,uint256 nonce)"
    );

    /// @notice A module {deinitialize} removes.
    struct ModuleRef {
        uint256 moduleTypeId;
        address module;
        bytes deInitData;
    }

    /// @custom:storage-location erc7201:reins.storage.ReinsAccount7702
    struct Account7702Storage {
        uint256 initNonce; // moves on with every {deinitialize}: a signed initialisation is good for one activation
        uint256 moduleCount; // installed modules other than the root validator (see {moduleCount})
    }

    // keccak256(abi.encode(uint256(keccak256("reins.storage.ReinsAccount7702")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_7702_SLOT = 0xcb22a67a304d40c92aae8c0dd31615714cf1a5bc76409d754bbac0b0dd196100;

    /// @dev This implementation's address, read in the EOA's context (the signature names the code it trusts).
    address private immutable _implementation = address(this);

    /// @notice {initialize} was called by someone other than the EOA itself.
    error ReinsAccount7702InitializerNotSelf(address caller);
    /// @notice The initialisation signature is not the EOA's signature of this configuration.
    error ReinsAccount7702BadInitSignature(address recovered, address account);
    /// @notice The account is not running as an EIP-7702 delegate of this implementation.
    error ReinsAccount7702NotDelegated(address account);
    /// @notice Upgrades of a delegated EOA are new EIP-7702 authorisations, not UUPS upgrades.
    error ReinsAccount7702UpgradeThroughDelegation();
    /// @notice Only the account itself (an owner operation's call, or the EOA's own transaction) may deinitialise.
    error ReinsAccount7702OnlySelf(address caller);

    /// @notice {deinitialize} was given too few modules: `remaining` are still installed (none was removed).
    error ReinsAccount7702ModulesRemain(uint256 remaining);

    /// @notice The account was deinitialised; a new initialisation needs a signature for `nextInitNonce`.
    event Deinitialized(uint256 nextInitNonce);
    /// @notice `handler` was installed for `selector` (`ModuleInstalled` names no selector; a downgrade needs it).
    event FallbackInstalled(address indexed handler, bytes4 selector);

    constructor() EIP712("Reins 7702 Account", "1") {}

    /**
     * @notice Initialise the delegated EOA; only the EOA itself may call (a type-4 transaction to itself).
     * @param rootValidator_ The owner's validator module (installed as a validator and made root).
     * @param rootValidatorData Its `onInstall` data (for OwnerValidator: the EOA's address).
     * @param modules Further modules to install.
     */
    function initialize(
        address rootValidator_,
        bytes calldata rootValidatorData,
        ModuleInit[] calldata modules
    ) external override {
        if (msg.sender != address(this)) revert ReinsAccount7702InitializerNotSelf(msg.sender);
        _requireDelegated();
        _initialize(rootValidator_, rootValidatorData, modules);
    }

    /**
     * @notice Initialise the delegated EOA with its EIP-712 consent ({initializeDigest}); anyone may submit it.
     * @dev On an already initialised account a valid call does nothing (the EntryPoint repeats the 7702 initCode).
     * No deadline: this runs in the validation phase, where ERC-7562 bans TIMESTAMP (the check caught it). A
     * signature is good for one activation: {deinitialize} moves {initNonce} on. An implementation that wiped
     * this storage could replay the last one, but any code the EOA delegates to controls the EOA anyway.
     * @param signature The EOA's 65-byte ECDSA signature of {initializeDigest}.
     */
    function initializeWithSignature(
        address rootValidator_,
        bytes calldata rootValidatorData,
        ModuleInit[] calldata modules,
        bytes calldata signature
    ) external {
        bytes32 digest = initializeDigest(rootValidator_, rootValidatorData, modules, initNonce());
        (address recovered, , ) = ECDSA.tryRecover(digest, signature);
        if (recovered != address(this)) revert ReinsAccount7702BadInitSignature(recovered, address(this));
        if (_isInitialized()) return;
        _requireDelegated();
        _initialize(rootValidator_, rootValidatorData, modules);
    }

    /**
     * @notice The EIP-712 digest the EOA signs to consent to an initialisation, in its own domain
     * ("Reins 7702 Account", version 1, this chain, verifyingContract = the EOA), naming this implementation and
     * the account's {initNonce}.
     */
    function initializeDigest(
        address rootValidator_,
        bytes calldata rootValidatorData,
        ModuleInit[] calldata modules,
        uint256 nonce
    ) public view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        INITIALIZE_TYPEHASH,
                        _implementation,
                        rootValidator_,
                        keccak256(rootValidatorData),
                        keccak256(abi.encode(modules)),
                        nonce
                    )
                )
            );
    }

    /**
     * @notice Leave Reins on purpose, before clearing or changing the delegation: uninstall `modules`, then the
     * root validator, and move {initNonce} on so no earlier initialisation signature works again. `modules` must
     * be every installed module ({moduleCount} of them; a fallback's `deInitData` starts with its selector), or
     * the call reverts {ReinsAccount7702ModulesRemain} and changes nothing. Uninstalling AgentSessions and the
     * timelock ends every session and queued request there for good.
     * @dev Only the account itself may call: an owner operation's call to the account, or the EOA's own
     * transaction to itself. Agent sessions can never call the account. The installed hook wraps the removal of
     * every other module, as it wraps `uninstallModule`; then the hook itself is removed outside it (a hook never
     * wraps its own removal). A hook that refuses stops the call: uninstall it first with `uninstallModule`, which
     * it does not wrap either.
     */
    function deinitialize(ModuleRef[] calldata modules) external {
        if (msg.sender != address(this)) revert ReinsAccount7702OnlySelf(msg.sender);
        uint256 hookAt = _uninstallAllButHook(modules);
        if (hookAt < modules.length) {
            _uninstallModule(MODULE_TYPE_HOOK, modules[hookAt].module, modules[hookAt].deInitData);
        }
        uint256 remaining = _storage7702().moduleCount;
        if (remaining != 0) revert ReinsAccount7702ModulesRemain(remaining);
        _removeRootValidator();
        uint256 next = ++_storage7702().initNonce;
        emit Deinitialized(next);
    }

    /// @notice The nonce the next initialisation signature must name.
    function initNonce() public view returns (uint256) {
        return _storage7702().initNonce;
    }

    /// @notice How many modules are installed besides the root validator (validators, executors, fallback
    /// handlers, the hook): what {deinitialize} must remove.
    function moduleCount() external view returns (uint256) {
        return _storage7702().moduleCount;
    }

    /// @notice The implementation the account's EIP-7702 delegation points to (zero when not delegated).
    function delegation() public view returns (address) {
        bytes memory code = address(this).code;
        if (code.length != 23 || code[0] != 0xef || code[1] != 0x01 || code[2] != 0x00) return address(0);
        return address(bytes20(_slice20(code)));
    }

    /// @inheritdoc ReinsAccount
    function accountId() external pure override returns (string memory) {
        return "reins.account.7702.0.1.0";
    }

    /// @notice Refused: a delegated EOA changes its code with a new EIP-7702 authorisation.
    function upgradeToAndCall(address, bytes memory) public payable override {
        revert ReinsAccount7702UpgradeThroughDelegation();
    }

    /// @dev Count every install; a fallback handler's also names its selector.
    function _afterModuleInstalled(uint256 moduleTypeId, address module, bytes calldata initData) internal override {
        ++_storage7702().moduleCount;
        if (moduleTypeId == MODULE_TYPE_FALLBACK) emit FallbackInstalled(module, bytes4(initData[0:4]));
    }

    /// @dev Count every uninstall (checked: an uncounted module, installed by other code, reverts its removal).
    function _afterModuleUninstalled() internal override {
        --_storage7702().moduleCount;
    }

    /// @dev {deinitialize}'s removals under the hook: every listed module but the installed hook, whose index it
    /// returns (`modules.length` when the list does not name it).
    function _uninstallAllButHook(ModuleRef[] calldata modules) private withHook returns (uint256 hookAt) {
        address installedHook = _storage().hook;
        hookAt = modules.length;
        for (uint256 i = 0; i < modules.length; ++i) {
            ModuleRef calldata m = modules[i];
            if (m.moduleTypeId == MODULE_TYPE_HOOK && installedHook != address(0) && m.module == installedHook) {
                hookAt = i;
            } else {
                _uninstallModule(m.moduleTypeId, m.module, m.deInitData);
            }
        }
    }

    /// @dev Initialisation runs only in a delegated EOA, never in the implementation or a proxy of it.
    function _requireDelegated() private view {
        if (delegation() != _implementation) revert ReinsAccount7702NotDelegated(address(this));
    }

    function _storage7702() private pure returns (Account7702Storage storage $) {
        assembly ("memory-safe") {
            $.slot := _STORAGE_7702_SLOT
        }
    }

    function _slice20(bytes memory code) private pure returns (bytes20 out) {
        assembly ("memory-safe") {
            out := mload(add(code, 35)) // 32 (length) + 3 (0xef0100)
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/**
 * @title IReinsModuleTypes
 * @notice One-call answer to "is this address installed on the account, and as what": a Reins account keeps the
 * validator and executor flags of a module in one storage word, so a module that must refuse every installed
 * module (the session module's forbidden targets) pays one call and one storage read instead of one
 * `isModuleInstalled` call per module type.
 */
interface IReinsModuleTypes {
    /**
     * @notice The ERC-7579 module types `module` is installed as, as a bitmap: bit `1 << moduleTypeId` is set for
     * each of validator (1, the root validator included), executor (2) and hook (4) it is installed as. Fallback
     * handlers are installed per selector and are not reported (ask `isModuleInstalled` with the selector).
     * @param module The address to look up.
     * @return types The bitmap (0: not installed as a validator, executor or hook).
     */
    function installedModuleTypes(address module) external view returns (uint256 types);
}

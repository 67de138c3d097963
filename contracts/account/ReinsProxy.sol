// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/**
 * @title ReinsProxy
 * @notice Creation code of the smallest practical ERC-1967 proxy (61 bytes of runtime code).
 * @dev Runtime: copy calldata, `DELEGATECALL` the implementation read from the ERC-1967 slot
 * `0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc`, and return or revert with its data.
 * Nothing else: no admin, no receive hook, so UUPS (upgrade through the implementation) is the only way to
 * change it. The constructor writes the implementation into the slot and returns the runtime.
 *
 * Runtime, annotated:
 *   36 3d 3d 37            CALLDATACOPY(0, 0, CALLDATASIZE)
 *   3d 3d 36 3d            push retSize=0, retOffset=0, argsSize=CALLDATASIZE, argsOffset=0
 *   7f <slot> 54 5a f4     DELEGATECALL(GAS, SLOAD(slot), ...)
 *   3d 6000 80 3e          RETURNDATACOPY(0, 0, RETURNDATASIZE)
 *   6038 57                JUMPI(0x38, success)
 *   3d 6000 fd             REVERT(0, RETURNDATASIZE)
 *   5b 3d 6000 f3          JUMPDEST RETURN(0, RETURNDATASIZE)
 * (`GAS` is immediately followed by `DELEGATECALL`, as ERC-7562 requires.)
 */
library ReinsProxy {
    /// @dev Creation code for a proxy to `implementation`: SSTORE the slot, then return the 61-byte runtime.
    function creationCode(address implementation) internal pure returns (bytes memory) {
        return
            abi.encodePacked(
                hex"73",
                implementation,
                hex"7f360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc55",
                hex"603d8060403d393df3",
                hex"363d3d373d3d363d7f360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc545af43d6000803e6038573d6000fd5b3d6000f3"
            );
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice ERC-777-style receive hook.
interface ITokensRecipient {
    /// @notice Called by {HookToken} after `amount` moved from `from` to the recipient.
    function tokensReceived(address operator, address from, uint256 amount) external;
}

/**
 * @title HookToken
 * @notice TEST MOCK. ERC-20 with an ERC-777-style hook: after every transfer to a contract, the token calls
 * `tokensReceived` on the recipient (a reverting hook reverts the transfer, as in ERC-777). The recipient therefore
 * runs code in the middle of the sender's execution and can try to re-enter it.
 */
contract HookToken is ERC20 {
    constructor() ERC20("Hook Token", "HOOK") {}

    /// @notice Mint `amount` to `to` (anyone; test-only; no hook).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @dev Transfers (not mints or burns) to contracts call the recipient's hook.
    function _update(address from, address to, uint256 amount) internal override {
        super._update(from, to, amount);
        if (from != address(0) && to != address(0) && to.code.length != 0) {
            ITokensRecipient(to).tokensReceived(msg.sender, from, amount);
        }
    }
}

/**
 * @title ReentrantRecipient
 * @notice TEST MOCK. A {HookToken} recipient that, from its hook, makes the calls it was armed with (for example
 * `timelock.execute`, `account.execute`, `account.executeFromExecutor`, `EntryPoint.handleOps`) and records whether
 * each succeeded. It never reverts itself, so the outer transfer goes through and only the re-entries are judged.
 */
contract ReentrantRecipient is ITokensRecipient {
    struct Attempt {
        address target;
        bytes data;
    }

    Attempt[] private _armed;
    /// @notice Result of each armed call in the last hook run.
    bool[] public succeeded;
    /// @notice Return (or revert) data of each armed call in the last hook run.
    bytes[] public results;
    /// @notice How many times the hook ran.
    uint256 public hookRuns;

    /// @notice Arm one more call for the next hook run.
    function arm(address target, bytes calldata data) external {
        _armed.push(Attempt(target, data));
    }

    /// @notice Forget the armed calls and results.
    function disarm() external {
        delete _armed;
        delete succeeded;
        delete results;
    }

    /// @notice Number of results recorded.
    function resultCount() external view returns (uint256) {
        return succeeded.length;
    }

    /// @inheritdoc ITokensRecipient
    function tokensReceived(address, address, uint256) external {
        ++hookRuns;
        delete succeeded;
        delete results;
        uint256 n = _armed.length;
        for (uint256 i = 0; i < n; ++i) {
            Attempt memory a = _armed[i];
            (bool ok, bytes memory ret) = a.target.call(a.data);
            succeeded.push(ok);
            results.push(ret);
        }
    }
}

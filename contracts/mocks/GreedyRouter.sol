// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice Test-only malicious router: asked to pull `amount`, it pulls ten times as much. Test-only.
contract GreedyRouter {
    /// @notice Pulls `amount * 10` of `token` from `from` (needs an allowance `from` granted earlier).
    function pull(address token, address from, uint256 amount) external {
        IERC20(token).transferFrom(from, address(this), amount * 10);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice ERC-20 with ERC-1363 `approveAndCall` / `transferAndCall` entry points (no receiver callback). Test-only.
contract MockERC1363 is ERC20 {
    constructor() ERC20("Payable Token", "P1363") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function approveAndCall(address spender, uint256 value) external returns (bool) {
        _approve(msg.sender, spender, value);
        return true;
    }

    function approveAndCall(address spender, uint256 value, bytes calldata) external returns (bool) {
        _approve(msg.sender, spender, value);
        return true;
    }

    function transferAndCall(address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value);
        return true;
    }
}

/// @notice Open-mint ERC-721. Test-only.
contract MockERC721 is ERC721 {
    constructor() ERC721("Test NFT", "TNFT") {}

    function mint(address to, uint256 id) external {
        _mint(to, id);
    }
}

/// @notice Open-mint ERC-1155. Test-only.
contract MockERC1155 is ERC1155 {
    constructor() ERC1155("") {}

    function mint(address to, uint256 id, uint256 amount) external {
        _mint(to, id, amount, "");
    }
}

/**
 * @notice A token that decodes its arguments like pre-0.5 Solidity: with `calldataload` and no length check, so
 * missing trailing bytes read as zero (a 67-byte `approve` of 2^256-1 becomes 2^256-256). Test-only.
 */
contract LaxToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    fallback() external {
        bytes4 sel = msg.sig;
        address who = address(uint160(uint256(_arg(0))));
        uint256 amount = uint256(_arg(1));
        if (sel == 0xa9059cbb) {
            balanceOf[msg.sender] -= amount;
            balanceOf[who] += amount;
        } else if (sel == 0x095ea7b3) {
            allowance[msg.sender][who] = amount;
        } else if (sel == 0x23b872dd) {
            address to = address(uint160(amount));
            uint256 value = uint256(_arg(2));
            allowance[who][msg.sender] -= value;
            balanceOf[who] -= value;
            balanceOf[to] += value;
        } else {
            revert();
        }
        assembly {
            mstore(0, 1)
            return(0, 32)
        }
    }

    function _arg(uint256 i) private pure returns (bytes32 v) {
        assembly {
            v := calldataload(add(4, mul(32, i)))
        }
    }
}

/// @notice A swap router in the shape of Uniswap v3's `exactInput`: pays `amountIn` of its token from the caller
/// to `recipient` (standing in for a swap's output). Test-only.
contract MockRouter {
    struct ExactInputParams {
        bytes path;
        address recipient;
        uint256 amountIn;
        uint256 amountOutMinimum;
    }

    IERC20 public immutable token;

    constructor(IERC20 token_) {
        token = token_;
    }

    function exactInput(ExactInputParams calldata params) external returns (uint256) {
        token.transferFrom(msg.sender, params.recipient, params.amountIn);
        return params.amountIn;
    }

    /// @notice Pulls `amount` of any `pulled` token from the caller (through an allowance the owner gave it).
    function swap(address pulled, uint256 amount, address recipient) external {
        IERC20(pulled).transferFrom(msg.sender, recipient, amount);
    }
}

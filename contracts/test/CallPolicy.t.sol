// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CallPolicy} from "../libraries/CallPolicy.sol";
import {CallPolicyHarness, DecodingTarget} from "../mocks/spend/CallPolicyHarness.sol";
import {TestBase} from "./utils/Vm.sol";

/**
 * @notice Fuzz tests of {CallPolicy-outflow}: whenever the policy accepts call data (canonical form) and the target
 * runs it, the target's ABI decoder and the policy read the same words: same recipient or spender, same amount, same
 * token, same `from`. Random call data is built around each interpreted selector with random words, random length
 * changes (short and over-long), and for trailing `bytes` random (often forged) offsets and lengths.
 */
contract CallPolicyTest is TestBase {
    address internal constant ACCOUNT = address(0xA11CE);

    CallPolicyHarness internal policy;
    DecodingTarget internal target;

    bytes4[8] internal selectors = [
        CallPolicy.TRANSFER,
        CallPolicy.APPROVE,
        CallPolicy.TRANSFER_FROM,
        CallPolicy.APPROVE_AND_CALL_DATA,
        CallPolicy.TRANSFER_FROM_AND_CALL_DATA,
        CallPolicy.PERMIT2_APPROVE,
        CallPolicy.PERMIT2_TRANSFER_FROM,
        CallPolicy.SAFE_TRANSFER_FROM_1155
    ];
    // head words (static) per selector; for the `bytes` ones the last head word is the offset
    uint8[8] internal headWords = [2, 2, 3, 3, 4, 4, 4, 5];
    bool[8] internal hasBytes = [false, false, false, true, true, false, false, true];

    function setUp() public {
        policy = new CallPolicyHarness();
        target = new DecodingTarget();
    }

    /// @notice Policy and decoder agree on every word the policy reads, for every interpreted selector.
    function testFuzz_policyAndDecoderAgree(
        uint8 which,
        bytes32[5] memory words,
        bool fromAccount,
        bool canonicalOffset,
        uint256 forgedOffset,
        uint16 bytesLength,
        int8 lengthDelta,
        bytes memory tail
    ) public {
        uint256 s = which % selectors.length;
        bytes memory data = _build(s, words, fromAccount, canonicalOffset, forgedOffset, bytesLength, tail);
        data = _adjust(data, lengthDelta);

        CallPolicy.Outflow memory o;
        try policy.outflow(ACCOUNT, address(target), data) returns (CallPolicy.Outflow memory out) {
            o = out;
        } catch {
            return; // refused: nothing runs
        }
        // Accepted: the length must be canonical.
        if (!hasBytes[s]) assertEq(data.length, 4 + 32 * uint256(headWords[s]), "accepted a non-canonical length");
        (bool ran, ) = address(target).call(data);
        if (!ran) return; // the target refused (dirty address bits, for example): nothing moved
        if (o.kind == CallPolicy.OutflowKind.None) {
            // only transferFrom-style calls from someone else report no outflow
            assertTrue(target.lastFrom() != ACCOUNT, "outflow of the account missed");
            return;
        }
        _eq(target.lastWho(), o.counterparty, "counterparty differs from the decoder's");
        assertEq(target.lastAmount(), o.amount, "amount differs from the decoder's");
        if (s == 5 || s == 6) _eq(target.lastToken(), o.token, "Permit2 token differs");
        else _eq(o.token, address(target), "token is not the target");
    }

    /// @notice A struct with a dynamic member: with its offset pinned to the canonical 0x20 (what the policy builder
    /// adds as an Equal condition), the recipient word a condition reads is the recipient the router decodes.
    function testFuzz_pinnedStructOffsetAgrees(
        bytes32 offset,
        bytes32[6] memory words,
        uint8 extraWords,
        bool pin
    ) public {
        if (pin) offset = bytes32(uint256(0x20));
        bytes memory data = abi.encodePacked(DecodingTarget.exactInput.selector, offset);
        for (uint256 i = 0; i < words.length; ++i) data = bytes.concat(data, words[i]);
        for (uint256 i = 0; i < extraWords % 8; ++i) data = bytes.concat(data, keccak256(abi.encode(i, words[0])));
        (bool ran, ) = address(target).call(data);
        if (!ran) return;
        bytes32 conditionWord = policy.word(_args(data), 2);
        if (uint256(offset) == 0x20) {
            _eq(target.lastWho(), address(uint160(uint256(conditionWord))), "pinned: recipient differs");
        }
    }

    function _eq(address a, address b, string memory message) private pure {
        assertTrue(a == b, message);
    }

    function _args(bytes memory data) private pure returns (bytes memory) {
        return data; // word() counts after the selector already
    }

    function _build(
        uint256 s,
        bytes32[5] memory words,
        bool fromAccount,
        bool canonicalOffset,
        uint256 forgedOffset,
        uint16 bytesLength,
        bytes memory tail
    ) private view returns (bytes memory data) {
        data = abi.encodePacked(selectors[s]);
        uint256 head = headWords[s];
        for (uint256 i = 0; i < head; ++i) {
            bytes32 w = words[i];
            if (i == 0 && fromAccount && (s == 2 || s == 4 || s == 6 || s == 7)) w = bytes32(uint256(uint160(ACCOUNT)));
            if (hasBytes[s] && i == head - 1) {
                w = canonicalOffset ? bytes32(32 * head) : bytes32(forgedOffset % 512);
            }
            data = bytes.concat(data, w);
        }
        if (hasBytes[s]) {
            uint256 len = bytesLength % 96;
            data = bytes.concat(data, bytes32(len));
            bytes memory content = new bytes(((len + 31) / 32) * 32);
            for (uint256 i = 0; i < content.length && i < tail.length; ++i) content[i] = tail[i];
            data = bytes.concat(data, content);
        }
    }

    function _adjust(bytes memory data, int8 delta) private pure returns (bytes memory) {
        int256 d = int256(delta) % 4; // mostly exact; sometimes 1-3 bytes short or long
        if (d == 0 || (d < 0 && uint256(-d) >= data.length)) return data;
        if (d > 0) return bytes.concat(data, new bytes(uint256(d)));
        bytes memory out = new bytes(data.length - uint256(-d));
        for (uint256 i = 0; i < out.length; ++i) out[i] = data[i];
        return out;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/**
 * @title MockAggregator
 * @notice TEST ONLY. A Chainlink-style price feed (`latestRoundData()`, `decimals()`) whose answer, update time
 * and decimals are set by anyone, and which can be made to misbehave: revert, burn all the gas it is given, or
 * return fewer bytes than the ABI promises.
 */
contract MockAggregator {
    /// @notice How the feed misbehaves.
    enum Mode {
        Normal,
        Revert,
        BurnGas,
        ShortReturn
    }

    /// @notice Decimals of the answer.
    uint8 public decimals;
    /// @notice Current misbehaviour.
    Mode public mode;
    int256 internal _answer;
    uint256 internal _updatedAt;
    uint80 internal _roundId;

    /// @notice Feed with `decimals_` decimals answering `answer_`, updated now.
    /// @param decimals_ Decimals of the answer.
    /// @param answer_ First answer.
    constructor(uint8 decimals_, int256 answer_) {
        decimals = decimals_;
        setAnswer(answer_);
    }

    /// @notice New round: `answer_`, updated now.
    /// @param answer_ The answer.
    function setAnswer(int256 answer_) public {
        setRound(answer_, block.timestamp);
    }

    /// @notice New round: `answer_`, updated at `updatedAt_`.
    /// @param answer_ The answer.
    /// @param updatedAt_ Its update time.
    function setRound(int256 answer_, uint256 updatedAt_) public {
        (_answer, _updatedAt) = (answer_, updatedAt_);
        ++_roundId;
    }

    /// @notice Sets the decimals.
    /// @param decimals_ The decimals.
    function setDecimals(uint8 decimals_) external {
        decimals = decimals_;
    }

    /// @notice Sets the misbehaviour of {latestRoundData}.
    /// @param mode_ The mode.
    function setMode(Mode mode_) external {
        mode = mode_;
    }

    /**
     * @notice The latest round, as Chainlink's AggregatorV3Interface (or a misbehaviour, see {setMode}).
     * @return roundId Round id.
     * @return answer The answer.
     * @return startedAt Same as `updatedAt`.
     * @return updatedAt Update time.
     * @return answeredInRound Same as `roundId`.
     */
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        Mode m = mode;
        if (m == Mode.Revert) revert("MockAggregator: down");
        if (m == Mode.BurnGas) {
            // Burns every unit of gas it is given.
            for (uint256 i; ; ++i) {
                roundId = uint80(i);
            }
        }
        if (m == Mode.ShortReturn) {
            int256 a = _answer;
            assembly ("memory-safe") {
                mstore(0, 1)
                mstore(0x20, a)
                return(0, 0x40)
            }
        }
        return (_roundId, _answer, _updatedAt, _updatedAt, _roundId);
    }
}

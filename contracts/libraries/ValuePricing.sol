// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/**
 * @title ValuePricing
 * @notice Values a token amount in a budget's unit (e.g. USD with 8 decimals) from a per-token price source: a
 * `Fixed` rate (a stablecoin 1:1 with a decimals conversion, or any fixed rate) or a Chainlink-style `Aggregator`
 * (`latestRoundData()` and `decimals()`), with a maximum staleness and sanity bounds per feed.
 *
 * @dev EXECUTION PHASE ONLY. {priceOf} and {valueOf} call the feed and read `block.timestamp`: both are banned in
 * ERC-4337 validation (ERC-7562 forbids the TIMESTAMP opcode and reads of another contract's storage). Never call
 * them from `validateUserOp`; the session module values spends in `executeAuthorized` / `executeQueued`.
 *
 * Model. A price `p` with `d` decimals means one whole token (`10^tokenDecimals` base units) is worth `p / 10^d`
 * whole units. The value of `amount` base units in unit base units is
 * `amount * p * 10^unitDecimals / 10^(tokenDecimals + d)`, ROUNDED UP (against the agent: a spend is never
 * valued below its exact value, and at most one unit base unit above it).
 *
 * Ranges. Token and unit decimals 0..24, price decimals 0..36, `amount <= 2^128`, prices below 2^128 (bounds are
 * `uint128`). Then `amount * p < 2^256` is exact and the scale factors are at most `10^60`: nothing overflows
 * except a value that itself does not fit 256 bits, reported as {PriceFailure.Overflow}.
 *
 * Failures are results, never reverts and never a free pass: the caller gets a {PriceFailure} and no value.
 * Decision (issue 19, "queue or refuse"): the session module turns every failure into the owner-approval tier
 * (queued, with the reason in the event), not a refusal. A broken or stale oracle then stops autonomous spending
 * at once, but the owner can still let a legitimate payment through with one approval (refusing would leave only
 * an owner operation, rebuilt by hand, during every oracle outage). An approved operation is owner-authorised
 * spend and is not charged to the agent's budgets, exactly like the per-token budgets' approval tier.
 *
 * The feed call. Each feed call gets at most {FEED_GAS} gas and its return data is copied only up to the words
 * read (a feed cannot grief the account with a huge return buffer), so a reverting, gas-burning or malformed feed
 * costs at most {FEED_GAS} and yields {PriceFailure.FeedReverted}. If the operation itself runs with too little gas
 * for the feed call, the result is the same failure (the operation is queued, never let through).
 */
library ValuePricing {
    /// @notice Kind of price source. `Unset` (the zero value) means the token has no source.
    enum Kind {
        Unset,
        Fixed,
        Aggregator
    }

    /// @notice Why a value could not be computed (`None`: it was).
    enum PriceFailure {
        None,
        NoSource, // the token has no price source (Kind.Unset)
        FeedReverted, // latestRoundData() or decimals() reverted, ran out of gas, or returned too few bytes
        BadDecimals, // token or unit decimals above 24, price decimals above 36
        ZeroPrice, // the feed answered 0
        NegativePrice, // the feed answered < 0
        Stale, // updatedAt is 0, in the future, or older than maxStaleness
        OutOfBounds, // the answer is outside [minPrice, maxPrice]
        AmountTooLarge, // amount above 2^128
        Overflow // the value does not fit 256 bits
    }

    /**
     * @notice A price source (3 storage slots when stored).
     * @dev `Fixed`: price `rate` with `rateDecimals` decimals (a stablecoin 1:1 with the unit: `rate = 1`,
     * `rateDecimals = 0`); `feed`, `maxStaleness` and the bounds are unused. `Aggregator`: the feed's answer and
     * `decimals()`, accepted only when `updatedAt` is at most `maxStaleness` seconds old and the answer lies in
     * `[minPrice, maxPrice]` (in the feed's decimals); `rate` and `rateDecimals` are unused.
     */
    struct Source {
        Kind kind;
        uint8 rateDecimals;
        uint32 maxStaleness;
        address feed;
        uint128 rate;
        uint128 minPrice;
        uint128 maxPrice;
    }

    /// @notice A source that can never yield a price: `field` names what is wrong (see {checkSource}).
    /// @param field 1 kind unset, 2 fixed rate zero, 3 decimals above 36, 4 feed not a contract,
    /// 5 maxStaleness zero, 6 minPrice zero, 7 minPrice above maxPrice.
    error ValuePricingInvalidSource(uint8 field);

    /// @notice Gas given to each feed call (`latestRoundData()`, `decimals()`); Chainlink proxies use ~15k.
    uint256 internal constant FEED_GAS = 50_000;

    /// @notice Largest token or unit decimals handled.
    uint256 internal constant MAX_DECIMALS = 24;

    /// @notice Largest price decimals handled.
    uint256 internal constant MAX_PRICE_DECIMALS = 36;

    /// @notice Largest amount handled (2^128).
    uint256 internal constant MAX_AMOUNT = 1 << 128;

    /**
     * @notice Reverts {ValuePricingInvalidSource} unless `src` can yield a price (configuration check, for the
     * setter of a source; reads no feed).
     * @param src The source.
     */
    function checkSource(Source memory src) internal view {
        if (src.kind == Kind.Unset) revert ValuePricingInvalidSource(1);
        if (src.kind == Kind.Fixed) {
            if (src.rate == 0) revert ValuePricingInvalidSource(2);
            if (src.rateDecimals > MAX_PRICE_DECIMALS) revert ValuePricingInvalidSource(3);
            return;
        }
        if (src.feed.code.length == 0) revert ValuePricingInvalidSource(4);
        if (src.maxStaleness == 0) revert ValuePricingInvalidSource(5);
        if (src.minPrice == 0) revert ValuePricingInvalidSource(6);
        if (src.minPrice > src.maxPrice) revert ValuePricingInvalidSource(7);
    }

    /**
     * @notice The current price of `src` (execution phase only).
     * @param src The source.
     * @return failure `None`, or why there is no price (then `price` and `priceDecimals` are 0).
     * @return price The price of one whole token in whole units, scaled by `10^priceDecimals` (< 2^128).
     * @return priceDecimals Decimals of `price` (<= 36).
     */
    function priceOf(
        Source memory src
    ) internal view returns (PriceFailure failure, uint256 price, uint256 priceDecimals) {
        if (src.kind == Kind.Unset) return (PriceFailure.NoSource, 0, 0);
        if (src.kind == Kind.Fixed) {
            if (src.rate == 0) return (PriceFailure.NoSource, 0, 0);
            if (src.rateDecimals > MAX_PRICE_DECIMALS) return (PriceFailure.BadDecimals, 0, 0);
            return (PriceFailure.None, src.rate, src.rateDecimals);
        }
        (bool ok, uint256 w1, uint256 w3) = _latestRound(src.feed);
        if (!ok) return (PriceFailure.FeedReverted, 0, 0);
        int256 answer = int256(w1);
        if (answer == 0) return (PriceFailure.ZeroPrice, 0, 0);
        if (answer < 0) return (PriceFailure.NegativePrice, 0, 0);
        // Also stale: a round never updated (0), a timestamp in the future, an unset maxStaleness.
        if (w3 == 0 || w3 > block.timestamp || block.timestamp - w3 > src.maxStaleness) {
            return (PriceFailure.Stale, 0, 0);
        }
        if (w1 < src.minPrice || w1 > src.maxPrice) return (PriceFailure.OutOfBounds, 0, 0);
        uint256 d;
        (ok, d) = _decimals(src.feed);
        if (!ok) return (PriceFailure.FeedReverted, 0, 0);
        if (d > MAX_PRICE_DECIMALS) return (PriceFailure.BadDecimals, 0, 0);
        return (PriceFailure.None, w1, d);
    }

    /**
     * @notice The value of `amount` base units of a token with `tokenDecimals`, in base units of a unit with
     * `unitDecimals`, at the current price of `src`, rounded up (execution phase only).
     * @param src The token's price source.
     * @param tokenDecimals The token's decimals (0..24).
     * @param amount Amount in token base units (<= 2^128).
     * @param unitDecimals The budget unit's decimals (0..24).
     * @return failure `None`, or why there is no value (then `value` is 0).
     * @return value The value, rounded up.
     */
    function valueOf(
        Source memory src,
        uint256 tokenDecimals,
        uint256 amount,
        uint256 unitDecimals
    ) internal view returns (PriceFailure failure, uint256 value) {
        uint256 price;
        uint256 priceDecimals;
        (failure, price, priceDecimals) = priceOf(src);
        if (failure != PriceFailure.None) return (failure, 0);
        return convert(amount, price, priceDecimals, tokenDecimals, unitDecimals);
    }

    /**
     * @notice The value of an operation's spend in several tokens: the sum of each non-zero amount's {valueOf}
     * (each rounded up). The first failure stops the sum (execution phase only).
     * @param sources Price source per token.
     * @param tokenDecimals Decimals per token.
     * @param amounts Amount per token (0: skipped, its source is not read).
     * @param unitDecimals The budget unit's decimals.
     * @return failure `None`, or the first token's failure (then `total` is 0).
     * @return failedIndex Index of the token that failed (0 when none did).
     * @return total The summed value.
     */
    function valueOfAll(
        Source[] memory sources,
        uint256[] memory tokenDecimals,
        uint256[] memory amounts,
        uint256 unitDecimals
    ) internal view returns (PriceFailure failure, uint256 failedIndex, uint256 total) {
        for (uint256 i; i < amounts.length; ++i) {
            if (amounts[i] == 0) continue;
            uint256 value;
            (failure, value) = valueOf(sources[i], tokenDecimals[i], amounts[i], unitDecimals);
            if (failure == PriceFailure.None) {
                bool ok;
                (ok, total) = Math.tryAdd(total, value);
                if (!ok) failure = PriceFailure.Overflow;
            }
            if (failure != PriceFailure.None) return (failure, i, 0);
        }
    }

    /**
     * @notice The arithmetic of {valueOf} for a known price: `ceil(amount * price * 10^unitDecimals /
     * 10^(tokenDecimals + priceDecimals))`.
     * @param amount Amount in token base units (<= 2^128).
     * @param price Price of one whole token in whole units, scaled by `10^priceDecimals` (< 2^128).
     * @param priceDecimals Decimals of `price` (0..36).
     * @param tokenDecimals The token's decimals (0..24).
     * @param unitDecimals The unit's decimals (0..24).
     * @return failure `None`, `BadDecimals`, `AmountTooLarge`, `OutOfBounds` (price >= 2^128) or `Overflow`.
     * @return value The value, rounded up (0 on failure).
     */
    function convert(
        uint256 amount,
        uint256 price,
        uint256 priceDecimals,
        uint256 tokenDecimals,
        uint256 unitDecimals
    ) internal pure returns (PriceFailure failure, uint256 value) {
        if (tokenDecimals > MAX_DECIMALS || unitDecimals > MAX_DECIMALS || priceDecimals > MAX_PRICE_DECIMALS) {
            return (PriceFailure.BadDecimals, 0);
        }
        if (amount > MAX_AMOUNT) return (PriceFailure.AmountTooLarge, 0);
        if (price > type(uint128).max) return (PriceFailure.OutOfBounds, 0);
        uint256 product = amount * price; // <= 2^128 * (2^128 - 1) < 2^256
        uint256 down = tokenDecimals + priceDecimals; // <= 60
        if (unitDecimals >= down) {
            bool ok;
            (ok, value) = Math.tryMul(product, 10 ** (unitDecimals - down));
            if (!ok) return (PriceFailure.Overflow, 0);
            return (PriceFailure.None, value);
        }
        return (PriceFailure.None, Math.ceilDiv(product, 10 ** (down - unitDecimals)));
    }

    /// @dev `latestRoundData()` with {FEED_GAS}: returns words 1 (answer) and 3 (updatedAt); `ok` is false if
    /// the call failed or returned fewer than 5 words. Only the first 5 words are copied.
    function _latestRound(address feed) private view returns (bool ok, uint256 answer, uint256 updatedAt) {
        bytes4 selector = 0xfeaf968c; // latestRoundData()
        uint256 gasLimit = FEED_GAS;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            ok := staticcall(gasLimit, feed, ptr, 4, ptr, 0xa0)
            ok := and(ok, gt(returndatasize(), 0x9f))
            answer := mload(add(ptr, 0x20))
            updatedAt := mload(add(ptr, 0x60))
        }
    }

    /// @dev `decimals()` with {FEED_GAS}: `ok` is false if the call failed or returned less than one word.
    function _decimals(address feed) private view returns (bool ok, uint256 d) {
        bytes4 selector = 0x313ce567; // decimals()
        uint256 gasLimit = FEED_GAS;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            ok := staticcall(gasLimit, feed, ptr, 4, ptr, 0x20)
            ok := and(ok, gt(returndatasize(), 0x1f))
            d := mload(ptr)
        }
    }
}

/// @notice A token's price for one operation ({ValuePriceCache}): `known` once it was read.
struct TokenPrice {
    bool known;
    ValuePricing.PriceFailure failure;
    uint256 price; // < 2^128
    uint256 priceDecimals; // <= 36
    uint256 tokenDecimals; // <= 24
}

/**
 * @title ValuePriceCache
 * @notice The prices an agent operation's value assessment read, kept in transient storage (EIP-1153) for the
 * charge of the same operation: each token is priced once per operation, and the operation's own calls cannot
 * move the price it is charged at.
 * @dev Keys. Every entry is keyed by account, session, operation number and token. The operation number is a
 * per-account transient counter: {nextOperation} (assessment) takes a fresh one, {retireOperation} (the charge of
 * an instant run) returns it and moves the counter past it, so an entry is read by at most one charge and never by
 * a later operation of the same transaction (another bundle entry, a queued run). Transient storage ends with the
 * transaction. A failure is kept too: a price that failed in assessment stays failed at charge.
 */
library ValuePriceCache {
    /// @dev Base of the per-account operation counters.
    bytes32 private constant _OP_SLOT = keccak256("reins.sessions.value.operation");
    /// @dev Base of the kept prices.
    bytes32 private constant _PRICE_SLOT = keccak256("reins.sessions.value.price");
    uint256 private constant _KNOWN = 1 << 255;

    /**
     * @notice Starts a valuation of `account`'s operation: a fresh operation number (never zero).
     * @param account The account.
     * @return op The operation number to {store} prices under.
     */
    function nextOperation(address account) internal returns (uint256 op) {
        bytes32 slot = _opSlot(account);
        assembly ("memory-safe") {
            op := add(tload(slot), 1)
            tstore(slot, op)
        }
    }

    /**
     * @notice Ends `account`'s current operation: returns its number (to {load} its prices once) and moves the
     * counter past it, so no later charge can read them.
     * @param account The account.
     * @return op The operation number (zero when none was assessed in this transaction).
     */
    function retireOperation(address account) internal returns (uint256 op) {
        bytes32 slot = _opSlot(account);
        assembly ("memory-safe") {
            op := tload(slot)
            if op {
                tstore(slot, add(op, 1))
            }
        }
    }

    /**
     * @notice Keeps `p` for `token` in operation `op` of `account`'s `sessionId`.
     * @param account The account.
     * @param sessionId The session.
     * @param op The operation number ({nextOperation}).
     * @param token The token.
     * @param p Its price (`price` < 2^128, decimals < 256).
     */
    function store(address account, bytes32 sessionId, uint256 op, address token, TokenPrice memory p) internal {
        bytes32 slot = _priceSlot(account, sessionId, op, token);
        uint256 word =
            _KNOWN | (uint256(p.failure) << 240) | (p.tokenDecimals << 232) | (p.priceDecimals << 224) | p.price;
        assembly ("memory-safe") {
            tstore(slot, word)
        }
    }

    /**
     * @notice Reads into `p` the price kept for `token` in operation `op`; false (and `p` untouched) when none.
     * @param account The account.
     * @param sessionId The session.
     * @param op The operation number.
     * @param token The token.
     * @param p Receives the price.
     * @return found Whether a price was kept.
     */
    function load(
        address account,
        bytes32 sessionId,
        uint256 op,
        address token,
        TokenPrice memory p
    ) internal view returns (bool found) {
        bytes32 slot = _priceSlot(account, sessionId, op, token);
        uint256 word;
        assembly ("memory-safe") {
            word := tload(slot)
        }
        if (word & _KNOWN == 0) return false;
        p.known = true;
        p.failure = ValuePricing.PriceFailure(uint8(word >> 240));
        p.tokenDecimals = uint8(word >> 232);
        p.priceDecimals = uint8(word >> 224);
        p.price = uint128(word);
        return true;
    }

    function _opSlot(address account) private pure returns (bytes32) {
        return keccak256(abi.encode(_OP_SLOT, account));
    }

    function _priceSlot(address account, bytes32 sessionId, uint256 op, address token) private pure returns (bytes32) {
        return keccak256(abi.encode(_PRICE_SLOT, account, sessionId, op, token));
    }
}

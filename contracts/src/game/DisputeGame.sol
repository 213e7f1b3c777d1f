// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Merkle} from "../lib/Merkle.sol";
import {IRegistry} from "../interfaces/IRegistry.sol";
import {IStepVerifier} from "../interfaces/IStepVerifier.sol";
import {ILevelLink} from "../interfaces/ILevelLink.sol";
import {INodeVmLink} from "../interfaces/INodeVmLink.sol";
import {IDisputeGame} from "../interfaces/IDisputeGame.sol";

/// @title DisputeGame
/// @notice Claims "model M maps inputs X to output Y" with a bond, and any number of bisection games
/// against each (docs/PROTOCOL.md §5).
///
/// A game is a sequence of levels. Level 0 bisects the model's nodes between the agreed graph
/// state 0 (computed here from the inputs) and the claimed final graph state; each level below
/// bisects a finer run that refines one transition of the level above, entered through that
/// level's ILevelLink (`links[level]`); the last level's single transition is decided by the
/// IStepVerifier. Deployed with links = [NodeVmLink], level 1 is the VM run of one node. To insert
/// a native phase (e.g. node → tile → VM), deploy with links = [node→tile link, tile→VM link]: the
/// game logic does not change.
///
/// Every open game has exactly one mover (claimant in Bisect/Descend, challenger in Respond/Step)
/// whose chess clock runs; when it runs out anyone may call `timeout` and the other side wins, so
/// no game can get stuck. A claim's raw inputs are always in an InputsPublished event (a claim on
/// unpublished inputs is refused), so anyone can recompute it. Payments are pull-based (`credit`, `withdraw`); the only external calls
/// before the withdrawal are STATICCALLs to the link and the verifier.
/// Windows and clocks are measured with block.timestamp: a proposer's few seconds of leeway are
/// irrelevant next to budgets of hours or days.
contract DisputeGame is IDisputeGame {
    IRegistry public immutable registry;
    IStepVerifier public immutable verifier;
    /// @notice Smallest claim bond and challenge bond (wei); a larger msg.value is the bond.
    uint256 public immutable minBond;
    uint256 public immutable challengerBond;
    /// @notice Seconds after posting during which a claim can be challenged.
    uint256 public immutable challengeWindow;
    /// @notice Seconds on each party's chess clock, per game.
    uint256 public immutable clockBudget;

    /// @notice links[l] refines a transition of level l into a run of level l + 1.
    ILevelLink[] public links;

    uint256 public claimCount;
    uint256 public gameCount;
    mapping(uint256 => Claim) internal _claims;
    mapping(uint256 => Game) internal _games;
    mapping(address => uint256) internal _credit;
    /// @dev keccak(modelId, graphState0) → inputs published (publishInputs).
    mapping(bytes32 => bool) internal _published;

    /// @notice Share of a rejected claim's bond that is burned, in basis points (§5.7).
    uint256 public constant BURN_BPS = 5000;
    /// @notice Wei burned from rejected claims' bonds: held here forever, owed to no one.
    uint256 public totalBurned;

    constructor(
        IRegistry registry_,
        IStepVerifier verifier_,
        ILevelLink[] memory links_,
        uint256 minBond_,
        uint256 challengerBond_,
        uint256 challengeWindow_,
        uint256 clockBudget_
    ) {
        if (
            address(registry_) == address(0) || address(verifier_) == address(0) || links_.length > 254
                || challengeWindow_ == 0 || challengeWindow_ > type(uint32).max || clockBudget_ == 0
                || clockBudget_ > type(uint32).max
        ) revert BadConfig();
        for (uint256 i; i < links_.length; ++i) {
            if (address(links_[i]) == address(0)) revert BadConfig();
            links.push(links_[i]);
        }
        registry = registry_;
        verifier = verifier_;
        minBond = minBond_;
        challengerBond = challengerBond_;
        challengeWindow = challengeWindow_;
        clockBudget = clockBudget_;
    }

    // =============================================================================================
    // Claims
    // =============================================================================================

    /// @notice Publishes raw input tensors for `modelId`: each exactly the registered byte length
    /// (int32 LE words, §1.2), their roots computed here. The InputsPublished event is where every
    /// party finds a claim's inputs (§5.8); repeating it is harmless.
    function publishInputs(uint256 modelId, bytes[] calldata inputs) external returns (bytes32 graphState0) {
        (graphState0,) = _publish(modelId, registry.model(modelId), inputs);
    }

    /// @notice Posts a claim with the input tensors given by their roots (§1.2); inputs with these
    /// roots must have been published for this model (publishInputs). The bond is msg.value.
    /// @param finalTableRoot the activation table root of the final graph state
    /// @param outputPath siblings of the model's output slot in that table (tableDepth of them)
    function postClaim(
        uint256 modelId,
        bytes32[] calldata inputRoots,
        bytes32 outputRoot,
        bytes32 finalGraphState,
        bytes32 finalTableRoot,
        bytes32[] calldata outputPath
    ) external payable returns (uint256 claimId) {
        IRegistry.Model memory m = registry.model(modelId);
        // Data availability: a claim whose inputs nobody can read cannot be checked by anyone, so
        // it could finalize unchallenged; only published inputs may be claimed on.
        bytes32 g0 = _graphState0(m, inputRoots);
        if (!_published[_pubKey(modelId, g0)]) revert InputsNotPublished();
        return _postClaim(modelId, m, inputRoots, g0, outputRoot, finalGraphState, finalTableRoot, outputPath);
    }

    /// @notice Publishes the raw inputs (as publishInputs) and posts a claim on them.
    function postClaimWithInputs(
        uint256 modelId,
        bytes[] calldata inputs,
        bytes32 outputRoot,
        bytes32 finalGraphState,
        bytes32 finalTableRoot,
        bytes32[] calldata outputPath
    ) external payable returns (uint256 claimId) {
        IRegistry.Model memory m = registry.model(modelId);
        (bytes32 g0, bytes32[] memory roots) = _publish(modelId, m, inputs);
        return _postClaim(modelId, m, roots, g0, outputRoot, finalGraphState, finalTableRoot, outputPath);
    }

    /// @dev Exact sizes close the gap of a shorter (or longer) tensor: its root would have another
    /// depth than the region the link places it in, so the initial VM state would have no preimage.
    function _publish(uint256 modelId, IRegistry.Model memory m, bytes[] calldata inputs)
        internal
        returns (bytes32 g0, bytes32[] memory roots)
    {
        uint256 n = m.inputBytes.length;
        if (inputs.length != n) revert InputCountMismatch(n);
        roots = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            if (inputs[i].length != m.inputBytes[i]) revert BadInputBytes(i);
            roots[i] = Merkle.bytesRootCalldata(inputs[i]);
        }
        g0 = _graphState0(m, roots);
        _published[_pubKey(modelId, g0)] = true;
        emit InputsPublished(g0, modelId, inputs);
    }

    /// @dev graphState0 commits to modelRoot, not to the model id: two models with the same
    /// weights and table depth share it, but not their input sizes.
    function _pubKey(uint256 modelId, bytes32 g0) internal pure returns (bytes32) {
        return keccak256(abi.encode(modelId, g0));
    }

    function _postClaim(
        uint256 modelId,
        IRegistry.Model memory m,
        bytes32[] memory inputRoots,
        bytes32 g0,
        bytes32 outputRoot,
        bytes32 finalGraphState,
        bytes32 finalTableRoot,
        bytes32[] calldata outputPath
    ) internal returns (uint256 claimId) {
        if (msg.value < minBond) revert BondTooSmall(minBond);
        if (Merkle.hashPair(m.modelRoot, finalTableRoot) != finalGraphState) revert FinalStateMismatch();
        if (outputPath.length != m.tableDepth) revert BadPathLength();
        if (Merkle.rootFromProofCalldata(outputRoot, m.outputSlot, outputPath) != finalTableRoot) {
            revert OutputNotInTable();
        }
        claimId = ++claimCount;
        uint256 deadline = block.timestamp + challengeWindow;
        Claim storage c = _claims[claimId];
        c.claimant = msg.sender;
        // Exact casts: timestamps and a window below 2^32 fit 64 bits; ids count from 1.
        // forge-lint: disable-next-line(unsafe-typecast)
        c.deadline = uint64(deadline);
        c.status = ClaimStatus.Pending;
        // forge-lint: disable-next-line(unsafe-typecast)
        c.modelId = uint64(modelId);
        c.bond = msg.value;
        c.graphState0 = g0;
        c.finalGraphState = finalGraphState;
        c.outputRoot = outputRoot;
        emit ClaimPosted(
            claimId,
            msg.sender,
            modelId,
            inputRoots,
            outputRoot,
            g0,
            finalGraphState,
            finalTableRoot,
            msg.value,
            deadline
        );
    }

    /// @notice keccak(modelRoot ‖ table root) with the inputs in slots 0 … nInputs − 1 and every
    /// other slot empty (§1.4).
    function computeGraphState0(uint256 modelId, bytes32[] calldata inputRoots)
        external
        view
        returns (bytes32)
    {
        return _graphState0(registry.model(modelId), inputRoots);
    }

    function _graphState0(IRegistry.Model memory m, bytes32[] memory inputRoots)
        internal
        pure
        returns (bytes32)
    {
        if (inputRoots.length != m.nInputs) revert InputCountMismatch(m.nInputs);
        bytes32 table = Merkle.leavesRoot(inputRoots);
        // The registry guarantees nInputs ≤ 2^tableDepth; the rest of the table is empty.
        for (uint256 d = Merkle.depthFor(inputRoots.length); d < m.tableDepth; ++d) {
            table = Merkle.hashPair(table, Merkle.zeroHash(d));
        }
        return Merkle.hashPair(m.modelRoot, table);
    }

    /// @notice Makes a claim valid: after its window, with no game open and none lost. The bond is
    /// credited back to the claimant.
    function finalize(uint256 claimId) external {
        Claim storage c = _claims[claimId];
        if (c.status == ClaimStatus.None) revert UnknownClaim();
        if (c.status != ClaimStatus.Pending) revert AlreadyResolved();
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < c.deadline) revert WindowOpen();
        if (c.openGames != 0) revert GamesOpen();
        c.status = ClaimStatus.Finalized;
        _credit[c.claimant] += c.bond;
        emit ClaimFinalized(claimId, c.claimant, c.outputRoot);
    }

    // =============================================================================================
    // Games
    // =============================================================================================

    /// @notice Opens a game against a pending claim within its window. Any number of games may be
    /// open on one claim; each is played independently and the claim stands only if all of them
    /// end for the claimant.
    function challenge(uint256 claimId) external payable returns (uint256 gameId) {
        Claim storage c = _claims[claimId];
        if (c.status == ClaimStatus.None) revert UnknownClaim();
        if (c.status != ClaimStatus.Pending) revert ClaimNotPending();
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= c.deadline) revert WindowClosed();
        if (msg.value < challengerBond) revert BondTooSmall(challengerBond);
        uint64 nNodes = registry.model(c.modelId).nNodes;
        c.openGames += 1;
        gameId = ++gameCount;
        Game storage g = _games[gameId];
        g.challenger = msg.sender;
        // Exact casts: a timestamp, ids counting from 1, nNodes < 2^32, clockBudget < 2^32.
        // forge-lint: disable-next-line(unsafe-typecast)
        g.lastMoveAt = uint64(block.timestamp);
        g.status = GameStatus.Open;
        g.claimant = c.claimant;
        // forge-lint: disable-next-line(unsafe-typecast)
        g.claimId = uint64(claimId);
        g.hi = nNodes;
        // forge-lint: disable-next-line(unsafe-typecast)
        g.claimantClock = uint64(clockBudget);
        // forge-lint: disable-next-line(unsafe-typecast)
        g.challengerClock = uint64(clockBudget);
        g.bond = msg.value;
        g.loRoot = c.graphState0;
        g.hiRoot = c.finalGraphState;
        g.context = bytes32(uint256(c.modelId));
        g.phase = _narrowed(g);
        emit GameStarted(
            gameId, claimId, msg.sender, msg.value, nNodes, c.graphState0, c.finalGraphState, clockBudget
        );
    }

    /// @notice Claimant: the root at mid = (lo + hi) / 2 of the current level.
    function bisect(uint256 gameId, bytes32 midRoot) external {
        Game storage g = _open(gameId);
        if (g.phase != Phase.Bisect) revert WrongPhase();
        if (msg.sender != g.claimant) revert NotYourTurn();
        _tick(g, true);
        g.midRoot = midRoot;
        g.phase = Phase.Respond;
        emit Bisected(gameId, g.level, g.lo, (uint256(g.lo) + g.hi) / 2, g.hi, midRoot);
    }

    /// @notice Challenger: agree (the dispute is in the upper half) or not (the lower half).
    function respond(uint256 gameId, bool agree) external {
        Game storage g = _open(gameId);
        if (g.phase != Phase.Respond) revert WrongPhase();
        if (msg.sender != g.challenger) revert NotYourTurn();
        _tick(g, false);
        // Exact: between two uint64s.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 mid = uint64((uint256(g.lo) + g.hi) / 2);
        if (agree) {
            g.lo = mid;
            g.loRoot = g.midRoot;
        } else {
            g.hi = mid;
            g.hiRoot = g.midRoot;
        }
        // midRoot is left as it is (it means something only in Respond): the next bisect then
        // overwrites a non-zero slot, which is cheaper than clearing it here.
        g.phase = _narrowed(g);
        emit Responded(gameId, g.level, agree, g.lo, g.hi);
    }

    /// @notice Claimant: refines the disputed transition lo → lo + 1 into a run of the next level
    /// through links[level]; `linkData` is whatever that link expects.
    function descend(uint256 gameId, bytes calldata linkData) external {
        _descend(gameId, linkData);
    }

    /// @notice `descend` at a level whose link is the NodeVmLink (level 0 as deployed), with its
    /// LinkData typed (abi-encoded here).
    function enterVm(uint256 gameId, INodeVmLink.LinkData calldata d) external {
        _descend(gameId, abi.encode(d));
    }

    function _descend(uint256 gameId, bytes memory linkData) internal {
        Game storage g = _open(gameId);
        if (g.phase != Phase.Descend) revert WrongPhase();
        if (msg.sender != g.claimant) revert NotYourTurn();
        _tick(g, true);
        uint256 parentIndex = g.lo;
        (bytes32 context, bytes32 startRoot, bytes32 endRoot, uint256 steps) =
            links[g.level].link(g.context, parentIndex, g.loRoot, g.hiRoot, linkData);
        if (steps == 0 || steps > type(uint64).max) revert BadStepCount();
        g.level += 1;
        g.lo = 0;
        // Exact: checked just above.
        // forge-lint: disable-next-line(unsafe-typecast)
        g.hi = uint64(steps);
        g.loRoot = startRoot;
        g.hiRoot = endRoot;
        g.context = context;
        g.phase = _narrowed(g);
        emit PhaseEntered(gameId, g.level, parentIndex, context, startRoot, endRoot, steps);
    }

    /// @notice Anyone, on the challenger's clock: a one-step proof from loRoot at the last level.
    /// If it yields hiRoot the claimant wins, otherwise the challenger. An invalid proof reverts
    /// in the verifier and changes nothing.
    function proveStep(uint256 gameId, bytes calldata proof) external {
        Game storage g = _open(gameId);
        if (g.phase != Phase.Step) revert WrongPhase();
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp - g.lastMoveAt > g.challengerClock) revert ClockExpired();
        bytes32 post = verifier.verifyStep(g.loRoot, proof);
        bool claimantWon = post == g.hiRoot;
        emit StepProven(gameId, g.lo, g.loRoot, post, claimantWon);
        _resolve(gameId, g, claimantWon);
    }

    /// @notice Anyone: ends a game whose mover's clock ran out; the other side wins.
    function timeout(uint256 gameId) external {
        Game storage g = _open(gameId);
        bool claimantMoves = _claimantMoves(g.phase);
        uint256 left = claimantMoves ? g.claimantClock : g.challengerClock;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp - g.lastMoveAt <= left) revert ClockNotExpired();
        emit Timeout(gameId, claimantMoves ? g.claimant : g.challenger);
        _resolve(gameId, g, !claimantMoves);
    }

    /// @notice Anyone: ends a game whose claim another game rejected; its challenger is credited its
    /// bond plus the claim's rewardShare (it was open at the rejection: it was right too).
    function voidGame(uint256 gameId) external {
        Game storage g = _games[gameId];
        if (g.status == GameStatus.None) revert UnknownGame();
        if (g.status != GameStatus.Open) revert AlreadyResolved();
        Claim storage c = _claims[g.claimId];
        if (c.status != ClaimStatus.Rejected) revert ClaimNotRejected();
        g.status = GameStatus.Void;
        c.openGames -= 1;
        uint256 paid = g.bond + c.rewardShare;
        _credit[g.challenger] += paid;
        emit GameVoided(gameId, g.claimId, g.challenger, paid);
    }

    /// @notice Sends the caller everything credited to it.
    function withdraw() external {
        uint256 amount = _credit[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        _credit[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    // =============================================================================================
    // Views
    // =============================================================================================

    function claimOf(uint256 claimId) external view returns (Claim memory) {
        return _claims[claimId];
    }

    function gameOf(uint256 gameId) external view returns (Game memory) {
        return _games[gameId];
    }

    /// @notice Who must move next in an open game (address(0) when it is not open).
    function mover(uint256 gameId) external view returns (address) {
        Game storage g = _games[gameId];
        if (g.status != GameStatus.Open) return address(0);
        return _claimantMoves(g.phase) ? g.claimant : g.challenger;
    }

    /// @notice Seconds left on both clocks now (the mover's is running).
    function clocks(uint256 gameId) external view returns (uint256 claimantLeft, uint256 challengerLeft) {
        Game storage g = _games[gameId];
        claimantLeft = g.claimantClock;
        challengerLeft = g.challengerClock;
        if (g.status != GameStatus.Open) return (claimantLeft, challengerLeft);
        uint256 elapsed = block.timestamp - g.lastMoveAt;
        if (_claimantMoves(g.phase)) claimantLeft = elapsed >= claimantLeft ? 0 : claimantLeft - elapsed;
        else challengerLeft = elapsed >= challengerLeft ? 0 : challengerLeft - elapsed;
    }

    function inputsPublished(uint256 modelId, bytes32 graphState0) external view returns (bool) {
        return _published[_pubKey(modelId, graphState0)];
    }

    function credit(address account) external view returns (uint256) {
        return _credit[account];
    }

    function isValid(uint256 claimId) external view returns (bool) {
        return _claims[claimId].status == ClaimStatus.Finalized;
    }

    /// @notice Number of levels: links.length + 1.
    function levels() external view returns (uint256) {
        return links.length + 1;
    }

    // =============================================================================================
    // Internals
    // =============================================================================================

    /// @dev The game, open and on a claim not yet rejected.
    function _open(uint256 gameId) internal view returns (Game storage g) {
        g = _games[gameId];
        if (g.status == GameStatus.None) revert UnknownGame();
        if (g.status != GameStatus.Open) revert AlreadyResolved();
        if (_claims[g.claimId].status == ClaimStatus.Rejected) revert ClaimAlreadyRejected();
    }

    function _claimantMoves(Phase p) internal pure returns (bool) {
        return p == Phase.Bisect || p == Phase.Descend;
    }

    /// @dev The phase after [lo, hi] changed: bisect while wider than one transition, then descend
    /// (a link below) or prove the step (last level).
    function _narrowed(Game storage g) internal view returns (Phase) {
        if (g.hi - g.lo > 1) return Phase.Bisect;
        return g.level < links.length ? Phase.Descend : Phase.Step;
    }

    /// @dev Charges the mover for the time since the last move; a move after its clock ran out
    /// is refused (the game is then decided by `timeout`).
    function _tick(Game storage g, bool claimantMoves) internal {
        uint256 elapsed = block.timestamp - g.lastMoveAt;
        if (claimantMoves) {
            if (elapsed > g.claimantClock) revert ClockExpired();
            // Exact: elapsed ≤ the clock, a uint64.
            // forge-lint: disable-next-line(unsafe-typecast)
            g.claimantClock -= uint64(elapsed);
        } else {
            if (elapsed > g.challengerClock) revert ClockExpired();
            // Exact: elapsed ≤ the clock, a uint64.
            // forge-lint: disable-next-line(unsafe-typecast)
            g.challengerClock -= uint64(elapsed);
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        g.lastMoveAt = uint64(block.timestamp);
    }

    /// @dev Single resolution of an open game. The claimant winning takes the challenger's bond.
    /// The challenger winning rejects the claim: its own bond comes back, BURN_BPS of the claim
    /// bond is burned and the rest split equally over every game open at this moment (this one
    /// included; the division's remainder is burned too), the others collecting through voidGame.
    /// Burning is what makes a lie cost its author: challengers are anonymous, so a liar can
    /// challenge its own claim with a sybil and win that game by staying silent; without the burn
    /// it would get its bond back and the honest challengers nothing. With it the liar loses at
    /// least half its bond however many sybil games it opens, and every honest challenger that
    /// was open at the rejection is paid more than its bond.
    function _resolve(uint256 gameId, Game storage g, bool claimantWon) internal {
        g.status = claimantWon ? GameStatus.ClaimantWon : GameStatus.ChallengerWon;
        uint256 claimId = g.claimId;
        Claim storage c = _claims[claimId];
        uint256 open = c.openGames;
        c.openGames -= 1;
        address winner;
        if (claimantWon) {
            winner = g.claimant;
            _credit[winner] += g.bond;
        } else {
            winner = g.challenger;
            c.status = ClaimStatus.Rejected;
            // forge-lint: disable-next-line(unsafe-typecast)
            c.rejectedBy = uint64(gameId);
            uint256 bond = c.bond;
            uint256 share = (bond - bond * BURN_BPS / 10_000) / open;
            uint256 burned = bond - share * open;
            c.rewardShare = share;
            totalBurned += burned;
            _credit[winner] += g.bond + share;
            emit ClaimRejected(claimId, gameId, winner, share, burned);
        }
        emit GameResolved(gameId, claimId, claimantWon, winner);
    }
}

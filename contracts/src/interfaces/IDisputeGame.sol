// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {INodeVmLink} from "./INodeVmLink.sol";

/// @title IDisputeGame
/// @notice Claims about a model's output and the bisection games that dispute them
/// (docs/PROTOCOL.md §5). Every external state change emits an event carrying what a watchtower
/// needs to follow the claim or game without reading storage.
interface IDisputeGame {
    enum ClaimStatus {
        None,
        /// @dev Posted; valid once the window has passed with no game open and none lost.
        Pending,
        /// @dev A challenger won a game on it; final.
        Rejected,
        /// @dev Valid; final.
        Finalized
    }

    enum GameStatus {
        None,
        Open,
        ClaimantWon,
        ChallengerWon,
        /// @dev Ended without a verdict because another game rejected the claim; the challenger got
        /// its bond back plus the claim's rewardShare.
        Void
    }

    /// @dev Whose move it is follows from the phase: Bisect and Descend are the claimant's, Respond
    /// and Step the challenger's (anyone may submit the step proof, on the challenger's clock).
    enum Phase {
        /// @dev hi − lo > 1: the claimant posts the root at mid = (lo + hi) / 2.
        Bisect,
        /// @dev The challenger agrees (lo = mid) or disagrees (hi = mid) with midRoot.
        Respond,
        /// @dev hi − lo = 1 at a level with a link below: the claimant refines transition lo.
        Descend,
        /// @dev hi − lo = 1 at the last level: a one-step proof from loRoot decides.
        Step
    }

    struct Claim {
        address claimant;
        uint64 deadline;
        ClaimStatus status;
        uint64 modelId;
        uint32 openGames;
        /// @dev The game that rejected it (0 if none).
        uint64 rejectedBy;
        uint256 bond;
        bytes32 graphState0;
        bytes32 finalGraphState;
        bytes32 outputRoot;
        /// @dev Once rejected: what each game open at the rejection earns on top of its bond.
        uint256 rewardShare;
    }

    /// @dev Invariant while open: loRoot is agreed by both parties, hiRoot is the claimant's and
    /// disputed by the challenger, lo < hi.
    struct Game {
        address challenger;
        uint64 lastMoveAt;
        uint8 level;
        Phase phase;
        GameStatus status;
        address claimant;
        uint64 claimId;
        uint64 lo;
        uint64 hi;
        /// @dev Seconds left on each chess clock as of lastMoveAt.
        uint64 claimantClock;
        uint64 challengerClock;
        uint256 bond;
        bytes32 loRoot;
        bytes32 hiRoot;
        /// @dev The claimant's root at (lo + hi) / 2; meaningful only while phase == Respond.
        bytes32 midRoot;
        /// @dev What the level's link knows about the run (level 0: bytes32(modelId)).
        bytes32 context;
    }

    // ---- events ----

    event ClaimPosted(
        uint256 indexed claimId,
        address indexed claimant,
        uint256 indexed modelId,
        bytes32[] inputRoots,
        bytes32 outputRoot,
        bytes32 graphState0,
        bytes32 finalGraphState,
        bytes32 finalTableRoot,
        uint256 bond,
        uint256 deadline
    );
    event GameStarted(
        uint256 indexed gameId,
        uint256 indexed claimId,
        address indexed challenger,
        uint256 bond,
        uint256 hi,
        bytes32 loRoot,
        bytes32 hiRoot,
        uint256 clock
    );
    event Bisected(
        uint256 indexed gameId, uint256 level, uint256 lo, uint256 mid, uint256 hi, bytes32 midRoot
    );
    event Responded(uint256 indexed gameId, uint256 level, bool agree, uint256 lo, uint256 hi);
    /// @dev Level `level` (≥ 1) entered from transition `parentIndex` of the level above.
    event PhaseEntered(
        uint256 indexed gameId,
        uint256 level,
        uint256 parentIndex,
        bytes32 context,
        bytes32 startRoot,
        bytes32 endRoot,
        uint256 steps
    );
    event StepProven(
        uint256 indexed gameId, uint256 index, bytes32 preRoot, bytes32 postRoot, bool claimantWon
    );
    event Timeout(uint256 indexed gameId, address indexed loser);
    event GameResolved(uint256 indexed gameId, uint256 indexed claimId, bool claimantWon, address winner);
    /// @dev `paid` = the challenger's bond + the claim's rewardShare.
    event GameVoided(
        uint256 indexed gameId, uint256 indexed claimId, address indexed challenger, uint256 paid
    );
    /// @dev `rewardShare` goes to every game open at this moment (the winner's included); `burned`
    /// stays in the contract forever.
    event ClaimRejected(
        uint256 indexed claimId,
        uint256 indexed gameId,
        address indexed challenger,
        uint256 rewardShare,
        uint256 burned
    );
    /// @dev The raw input tensors behind graphState0 for model `modelId` (data availability, §5.8).
    event InputsPublished(bytes32 indexed graphState0, uint256 indexed modelId, bytes[] inputs);
    event ClaimFinalized(uint256 indexed claimId, address indexed claimant, bytes32 outputRoot);
    event Withdrawn(address indexed account, uint256 amount);

    // ---- errors ----

    error BadConfig();
    error UnknownClaim();
    error UnknownGame();
    error BondTooSmall(uint256 need);
    error InputCountMismatch(uint256 need);
    /// @dev Raw input `i` is not the model's registered byte length for that input.
    error BadInputBytes(uint256 i);
    /// @dev postClaim (roots only) on inputs no one published for this model (publishInputs).
    error InputsNotPublished();
    error BadPathLength();
    /// @dev finalGraphState is not keccak(modelRoot ‖ finalTableRoot).
    error FinalStateMismatch();
    /// @dev outputRoot is not at the model's output slot of finalTableRoot.
    error OutputNotInTable();
    error WindowClosed();
    error WindowOpen();
    error ClaimNotPending();
    error GamesOpen();
    error AlreadyResolved();
    /// @dev The claim was rejected by another game: call voidGame.
    error ClaimAlreadyRejected();
    error ClaimNotRejected();
    error NotYourTurn();
    error WrongPhase();
    /// @dev The mover's clock ran out: only `timeout` is possible.
    error ClockExpired();
    error ClockNotExpired();
    /// @dev A link returned 0 steps or more than 2^64 − 1 (the NodeVmLink bounds it by maxSteps).
    error BadStepCount();
    error NothingToWithdraw();
    error TransferFailed();

    // ---- claims ----

    /// @notice Publishes raw input tensors (int32 LE words, exactly the model's inputBytes) in an
    /// InputsPublished event; returns their graph state 0. Anyone may call it, any number of times.
    function publishInputs(uint256 modelId, bytes[] calldata inputs) external returns (bytes32 graphState0);

    function postClaim(
        uint256 modelId,
        bytes32[] calldata inputRoots,
        bytes32 outputRoot,
        bytes32 finalGraphState,
        bytes32 finalTableRoot,
        bytes32[] calldata outputPath
    ) external payable returns (uint256 claimId);

    function postClaimWithInputs(
        uint256 modelId,
        bytes[] calldata inputs,
        bytes32 outputRoot,
        bytes32 finalGraphState,
        bytes32 finalTableRoot,
        bytes32[] calldata outputPath
    ) external payable returns (uint256 claimId);

    function finalize(uint256 claimId) external;

    // ---- games ----

    function challenge(uint256 claimId) external payable returns (uint256 gameId);

    function bisect(uint256 gameId, bytes32 midRoot) external;

    function respond(uint256 gameId, bool agree) external;

    function descend(uint256 gameId, bytes calldata linkData) external;

    function enterVm(uint256 gameId, INodeVmLink.LinkData calldata d) external;

    function proveStep(uint256 gameId, bytes calldata proof) external;

    function timeout(uint256 gameId) external;

    function voidGame(uint256 gameId) external;

    function withdraw() external;

    // ---- views ----

    function claimOf(uint256 claimId) external view returns (Claim memory);

    function gameOf(uint256 gameId) external view returns (Game memory);

    function mover(uint256 gameId) external view returns (address);

    function clocks(uint256 gameId) external view returns (uint256 claimantLeft, uint256 challengerLeft);

    function credit(address account) external view returns (uint256);

    function isValid(uint256 claimId) external view returns (bool);

    function levels() external view returns (uint256);

    /// @notice Whether inputs with this graph state 0 were published for model `modelId`.
    /// @dev Keyed by the model too: two models may share modelRoot and tableDepth but not input sizes.
    function inputsPublished(uint256 modelId, bytes32 graphState0) external view returns (bool);

    /// @notice Total wei burned from rejected claims' bonds (held by the contract forever).
    function totalBurned() external view returns (uint256);

    function computeGraphState0(uint256 modelId, bytes32[] calldata inputRoots)
        external
        view
        returns (bytes32);
}

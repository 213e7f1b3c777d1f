// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Merkle} from "../src/lib/Merkle.sol";
import {Registry} from "../src/game/Registry.sol";
import {DisputeGame} from "../src/game/DisputeGame.sol";
import {IDisputeGame} from "../src/interfaces/IDisputeGame.sol";
import {IRegistry} from "../src/interfaces/IRegistry.sol";
import {INodeVmLink} from "../src/interfaces/INodeVmLink.sol";
import {IStepVerifier} from "../src/interfaces/IStepVerifier.sol";
import {ILevelLink} from "../src/interfaces/ILevelLink.sol";

/// @notice A scripted world for unit tests of the game logic, with every commitment replaced by a
/// hash that is cheap to compute but still binding:
/// - the last level's transition is s → keccak(s) (MockStepVerifier, for the proof "ok");
/// - a link from level L starts the child run at keccak("start", L, pre) and accepts a child end F
///   only for post == endOf(L, F); at level 0 endOf is a real graph state keccak(model ‖ table)
///   with table = [input, keccak("out", F)] (tableDepth 1, output slot 1), so claims are well formed;
/// - a child run from `pre` is 1 + keccak("steps", L, pre) mod maxSteps transitions long.
library MockWorld {
    function startOf(uint256 level, bytes32 pre) internal pure returns (bytes32) {
        return keccak256(abi.encode("start", level, pre));
    }

    function outOf(bytes32 f) internal pure returns (bytes32) {
        return keccak256(abi.encode("out", f));
    }

    function endOf(uint256 level, bytes32 modelRoot, bytes32 inputRoot, bytes32 f)
        internal
        pure
        returns (bytes32)
    {
        if (level == 0) return Merkle.hashPair(modelRoot, Merkle.hashPair(inputRoot, outOf(f)));
        return keccak256(abi.encode("end", level, f));
    }
}

/// @notice Registers models that pass the registry's graph rules but exist only as mocks: `nNodes`
/// nodes that each read input slot 0; all but the last write nothing, the last writes the `nOut`
/// slots after the inputs (height 0). The output slot is the last slot.
library MockModels {
    uint256 internal constant ANY_STEPS = type(uint64).max;

    function register(
        Registry r,
        uint256 programId,
        bytes32 modelRoot,
        uint256 nNodes,
        uint256 nIn,
        uint256 nOut
    ) internal returns (uint256) {
        uint32[] memory sizes = new uint32[](nIn);
        for (uint256 i; i < nIn; ++i) {
            sizes[i] = 32;
        }
        return registerSized(r, programId, modelRoot, nNodes, sizes, nOut, ANY_STEPS);
    }

    /// @dev Through a helper contract: encoding the nested registerModel arguments takes more
    /// stack slots than a test contract (whose forge-std assembly disables via-IR's stack-to-memory
    /// mover) can always spare.
    function registerSized(
        Registry r,
        uint256 programId,
        bytes32 modelRoot,
        uint256 nNodes,
        uint32[] memory inputBytes,
        uint256 nOut,
        uint256 maxSteps
    ) internal returns (uint256) {
        return new MockRegistrar().register(r, programId, modelRoot, nNodes, inputBytes, nOut, maxSteps);
    }
}

contract MockRegistrar {
    function register(
        Registry r,
        uint256 programId,
        bytes32 modelRoot,
        uint256 nNodes,
        uint32[] memory inputBytes,
        uint256 nOut,
        uint256 maxSteps
    ) external returns (uint256) {
        return r.registerModel(
            _spec(programId, modelRoot, inputBytes, nOut, maxSteps), _nodes(nNodes, inputBytes, nOut)
        );
    }

    function _spec(
        uint256 programId,
        bytes32 modelRoot,
        uint32[] memory inputBytes,
        uint256 nOut,
        uint256 maxSteps
    ) internal pure returns (IRegistry.ModelSpec memory s) {
        uint256 nSlots = inputBytes.length + nOut;
        s.programId = programId;
        s.modelRoot = modelRoot;
        s.tableDepth = Merkle.depthFor(nSlots);
        s.inputBytes = inputBytes;
        s.outputSlot = nSlots - 1;
        s.maxSteps = maxSteps;
        s.manifestHash = keccak256("manifest");
        s.weightsURI = "ipfs://w";
    }

    function _nodes(uint256 nNodes, uint32[] memory inputBytes, uint256 nOut)
        internal
        pure
        returns (INodeVmLink.NodeDesc[] memory ns)
    {
        ns = new INodeVmLink.NodeDesc[](nNodes);
        for (uint256 k; k < nNodes; ++k) {
            INodeVmLink.NodeDesc memory n = ns[k];
            n.op = 1;
            n.inKinds = new uint256[](1);
            n.inIndex = new uint256[](1);
            n.inHeights = new uint256[](1);
            n.inHeights[0] = Merkle.byteDepth(inputBytes[0]);
            uint256 outs = k + 1 == nNodes ? nOut : 0;
            n.outSlots = new uint256[](outs);
            n.outHeights = new uint256[](outs);
            for (uint256 j; j < outs; ++j) {
                n.outSlots[j] = inputBytes.length + j;
            }
        }
    }
}

contract MockStepVerifier is IStepVerifier {
    error BadProof();

    function verifyStep(bytes32 preRoot, bytes calldata proof) external pure returns (bytes32) {
        if (keccak256(proof) != keccak256("ok")) revert BadProof();
        return keccak256(abi.encode(preRoot));
    }
}

/// @dev data = abi.encode(bytes32 childEnd, uint256 steps).
contract MockLink is ILevelLink {
    error LinkRejected();

    uint256 public immutable level;
    bytes32 public immutable modelRoot;
    bytes32 public immutable inputRoot;

    constructor(uint256 level_, bytes32 modelRoot_, bytes32 inputRoot_) {
        level = level_;
        modelRoot = modelRoot_;
        inputRoot = inputRoot_;
    }

    function link(bytes32 context, uint256 index, bytes32 preRoot, bytes32 postRoot, bytes calldata data)
        external
        view
        returns (bytes32, bytes32, bytes32, uint256)
    {
        (bytes32 f, uint256 steps) = abi.decode(data, (bytes32, uint256));
        if (postRoot != MockWorld.endOf(level, modelRoot, inputRoot, f)) revert LinkRejected();
        return (keccak256(abi.encode(context, index)), MockWorld.startOf(level, preRoot), f, steps);
    }
}

/// Every bond still locked in `game`: pending claims' bonds, open games' bonds, and for an open game
/// on a rejected claim the rewardShare it will be paid.
function lockedIn(DisputeGame game) view returns (uint256 sum) {
    for (uint256 c = 1; c <= game.claimCount(); ++c) {
        sum += _claimLocked(game, c);
    }
    for (uint256 i = 1; i <= game.gameCount(); ++i) {
        sum += _gameLocked(game, i);
    }
}

function _claimLocked(DisputeGame game, uint256 c) view returns (uint256) {
    IDisputeGame.Claim memory cl = game.claimOf(c);
    return cl.status == IDisputeGame.ClaimStatus.Pending ? cl.bond : 0;
}

function _gameLocked(DisputeGame game, uint256 i) view returns (uint256) {
    IDisputeGame.Game memory g = game.gameOf(i);
    if (g.status != IDisputeGame.GameStatus.Open) return 0;
    IDisputeGame.Claim memory cl = game.claimOf(g.claimId);
    return cl.status == IDisputeGame.ClaimStatus.Rejected ? g.bond + cl.rewardShare : g.bond;
}

abstract contract GameBase is Test {
    enum CKind {
        Honest,
        /// @dev Consistent lie: at level L the transition at index lie[L] (mod the level's length)
        /// is wrong; at the last level every root after that index is made up.
        Liar,
        /// @dev Made-up roots everywhere; cannot link.
        Garbage
    }

    enum XKind {
        Honest,
        AlwaysAgree,
        AlwaysDisagree,
        Random,
        /// @dev Level 0: agree iff mid ≤ steer; deeper: disagree.
        Steer
    }

    struct Script {
        CKind claimant;
        XKind challenger;
        /// @dev Moves a party makes before falling silent.
        uint256 claimantMoves;
        uint256 challengerMoves;
        /// @dev At the final step, the prover first submits an invalid proof (it reverts).
        bool badProofFirst;
        /// @dev At the final step the claimant submits the proof itself.
        bool claimantProves;
        uint256 seed;
        uint256 steer;
    }

    uint256 internal constant NEVER = type(uint256).max;
    uint256 internal constant MIN_BOND = 1 ether;
    uint256 internal constant CHALLENGER_BOND = 0.5 ether;
    uint256 internal constant WINDOW = 7 days;
    uint256 internal constant CLOCK = 1 days;
    uint256 internal constant DELAY = 1 hours;
    bytes32 internal constant MODEL = keccak256("model");
    bytes32 internal constant INPUT = keccak256("input");

    Registry internal registry;
    DisputeGame internal game;
    MockStepVerifier internal verifier;
    uint256 internal modelId;
    uint256 internal nNodes;
    uint256 internal maxSteps;
    uint256 internal lastLevel;
    uint256[4] internal lie;

    address internal claimant = makeAddr("claimant");
    address internal anyone = makeAddr("anyone");

    mapping(uint256 => Script) internal scripts;
    mapping(uint256 => bytes32[4]) internal levelStart;
    mapping(uint256 => uint256[4]) internal levelLen;
    mapping(uint256 => bool[4]) internal lying;

    function _deploy(uint256 levels_, uint256 nNodes_, uint256 maxSteps_) internal {
        nNodes = nNodes_;
        maxSteps = maxSteps_;
        lastLevel = levels_ - 1;
        registry = new Registry();
        verifier = new MockStepVerifier();
        uint256 programId = registry.registerProgram(keccak256("code"), 3, 5, keccak256("globals"));
        modelId = MockModels.register(registry, programId, MODEL, nNodes_, 1, 1);
        ILevelLink[] memory links = new ILevelLink[](levels_ - 1);
        for (uint256 l; l < links.length; ++l) {
            links[l] = new MockLink(l, MODEL, INPUT);
        }
        game = new DisputeGame(registry, verifier, links, MIN_BOND, CHALLENGER_BOND, WINDOW, CLOCK);
        // INPUT is the root of its own 32 bytes (one leaf): publish them once, so that claims
        // posted with the root alone are on available inputs.
        game.publishInputs(modelId, _inputBytes());
        vm.deal(claimant, 100 ether);
    }

    /// Advances time by `s` seconds (vm.getBlockTimestamp: block.timestamp may be cached under via-ir).
    function _wait(uint256 s) internal {
        vm.warp(vm.getBlockTimestamp() + s);
    }

    // ---------------------------------------------------------------------------------------------
    // The world: honest runs and the consistent liar's runs
    // ---------------------------------------------------------------------------------------------

    function _stepsOf(uint256 level, bytes32 pre) internal view returns (uint256) {
        return 1 + uint256(keccak256(abi.encode("steps", level, pre))) % maxSteps;
    }

    function _next(uint256 level, bytes32 s) internal view returns (bytes32) {
        if (level == lastLevel) return keccak256(abi.encode(s));
        bytes32 f = _run(level + 1, MockWorld.startOf(level, s), _stepsOf(level, s));
        return MockWorld.endOf(level, MODEL, INPUT, f);
    }

    function _run(uint256 level, bytes32 s, uint256 n) internal view returns (bytes32) {
        for (uint256 i; i < n; ++i) {
            s = _next(level, s);
        }
        return s;
    }

    /// Transition i (of a run of n) in the liar's world at a level where it lies.
    function _liarNext(uint256 level, bytes32 s, uint256 i, uint256 n) internal view returns (bytes32) {
        uint256 pos = lie[level] % n;
        if (level == lastLevel) {
            return i >= pos ? keccak256(abi.encode("fake", level, i + 1)) : keccak256(abi.encode(s));
        }
        if (i != pos) return _next(level, s);
        uint256 m = _stepsOf(level, s);
        return MockWorld.endOf(level, MODEL, INPUT, _liarRun(level + 1, MockWorld.startOf(level, s), m, m));
    }

    function _liarRun(uint256 level, bytes32 s, uint256 j, uint256 n) internal view returns (bytes32) {
        for (uint256 i; i < j; ++i) {
            s = _liarNext(level, s, i, n);
        }
        return s;
    }

    function _inputBytes() internal pure returns (bytes[] memory ins) {
        ins = new bytes[](1);
        ins[0] = abi.encodePacked(INPUT);
    }

    function _graphState0() internal pure returns (bytes32) {
        return Merkle.hashPair(MODEL, Merkle.hashPair(INPUT, bytes32(0)));
    }

    /// The child end F of the last node, as the (honest or lying) claimant computes it.
    function _lastNodeEnd(bool liar) internal view returns (bytes32) {
        bytes32 g0 = _graphState0();
        bytes32 pre = liar ? _liarRun(0, g0, nNodes - 1, nNodes) : _run(0, g0, nNodes - 1);
        uint256 m = _stepsOf(0, pre);
        bytes32 start = MockWorld.startOf(0, pre);
        if (liar && lie[0] % nNodes == nNodes - 1) return _liarRun(1, start, m, m);
        return _run(1, start, m);
    }

    // ---------------------------------------------------------------------------------------------
    // Claims
    // ---------------------------------------------------------------------------------------------

    function _post(CKind kind) internal returns (uint256 claimId) {
        bytes32 out = kind == CKind.Garbage
            ? keccak256("garbage output")
            : MockWorld.outOf(_lastNodeEnd(kind == CKind.Liar));
        claimId = _postOutput(out);
    }

    function _postOutput(bytes32 out) internal returns (uint256) {
        bytes32[] memory inputs = new bytes32[](1);
        inputs[0] = INPUT;
        bytes32[] memory path = new bytes32[](1);
        path[0] = INPUT;
        bytes32 table = Merkle.hashPair(INPUT, out);
        vm.prank(claimant);
        return
            game.postClaim{value: MIN_BOND}(modelId, inputs, out, Merkle.hashPair(MODEL, table), table, path);
    }

    function _challenge(uint256 claimId, string memory name, Script memory s)
        internal
        returns (uint256 gameId)
    {
        address who = makeAddr(name);
        vm.deal(who, 10 ether);
        vm.prank(who);
        gameId = game.challenge{value: CHALLENGER_BOND}(claimId);
        scripts[gameId] = s;
        IDisputeGame.Game memory g = game.gameOf(gameId);
        levelStart[gameId][0] = g.loRoot;
        levelLen[gameId][0] = g.hi;
        lying[gameId][0] = s.claimant == CKind.Liar;
    }

    function _script(CKind c, XKind x) internal pure returns (Script memory s) {
        s.claimant = c;
        s.challenger = x;
        s.claimantMoves = NEVER;
        s.challengerMoves = NEVER;
    }

    // ---------------------------------------------------------------------------------------------
    // The driver: plays every listed game to its end, one move per open game per round
    // ---------------------------------------------------------------------------------------------

    mapping(uint256 => uint256) internal claimantMovesMade;
    mapping(uint256 => uint256) internal challengerMovesMade;

    function _playAll(uint256[] memory ids) internal {
        for (uint256 round; round < 400; ++round) {
            _wait(DELAY);
            bool open;
            bool moved;
            for (uint256 i; i < ids.length; ++i) {
                IDisputeGame.Game memory g = game.gameOf(ids[i]);
                if (g.status != IDisputeGame.GameStatus.Open) continue;
                if (_rejected(g.claimId)) {
                    vm.prank(anyone);
                    game.voidGame(ids[i]);
                    continue;
                }
                open = true;
                (uint256 cl, uint256 xl) = game.clocks(ids[i]);
                if (cl == 0 || xl == 0) {
                    // The mover's clock is out (exactly 0 left still allows one move; wait 1 s).
                    _wait(1);
                    vm.prank(anyone);
                    game.timeout(ids[i]);
                    moved = true;
                    continue;
                }
                if (_move(ids[i], g)) moved = true;
            }
            if (!open) return;
            if (!moved) _wait(CLOCK);
        }
        revert("games did not end");
    }

    function _rejected(uint256 claimId) internal view returns (bool) {
        return game.claimOf(claimId).status == IDisputeGame.ClaimStatus.Rejected;
    }

    function _play(uint256 gameId) internal returns (IDisputeGame.GameStatus) {
        uint256[] memory ids = new uint256[](1);
        ids[0] = gameId;
        _playAll(ids);
        return game.gameOf(gameId).status;
    }

    function _move(uint256 id, IDisputeGame.Game memory g) internal returns (bool) {
        Script memory s = scripts[id];
        uint256 mid = (uint256(g.lo) + g.hi) / 2;
        if (g.phase == IDisputeGame.Phase.Bisect) {
            if (claimantMovesMade[id] >= s.claimantMoves) return false;
            claimantMovesMade[id]++;
            vm.prank(g.claimant);
            game.bisect(id, _claimantRoot(id, g.level, mid));
            return true;
        }
        if (g.phase == IDisputeGame.Phase.Respond) {
            if (challengerMovesMade[id] >= s.challengerMoves) return false;
            challengerMovesMade[id]++;
            vm.prank(g.challenger);
            game.respond(id, _answer(id, g, mid));
            return true;
        }
        if (g.phase == IDisputeGame.Phase.Descend) {
            if (claimantMovesMade[id] >= s.claimantMoves) return false;
            return _descend(id, g);
        }
        // Step: the challenger's move; the claimant may end it itself.
        if (s.claimantProves) {
            vm.prank(g.claimant);
            game.proveStep(id, "ok");
            return true;
        }
        if (challengerMovesMade[id] >= s.challengerMoves) return false;
        challengerMovesMade[id]++;
        if (s.badProofFirst) {
            vm.prank(g.challenger);
            vm.expectRevert(MockStepVerifier.BadProof.selector);
            game.proveStep(id, "bad");
            scripts[id].badProofFirst = false;
        }
        // Only an honest challenger submits the proof: a lying one knows it would lose.
        if (s.challenger != XKind.Honest) return false;
        vm.prank(g.challenger);
        game.proveStep(id, "ok");
        return true;
    }

    function _claimantRoot(uint256 id, uint256 level, uint256 j) internal view returns (bytes32) {
        Script memory s = scripts[id];
        if (s.claimant == CKind.Garbage) return keccak256(abi.encode("garbage", level, j));
        bytes32 start = levelStart[id][level];
        if (lying[id][level]) return _liarRun(level, start, j, levelLen[id][level]);
        return _run(level, start, j);
    }

    function _answer(uint256 id, IDisputeGame.Game memory g, uint256 mid) internal view returns (bool) {
        Script memory s = scripts[id];
        if (s.challenger == XKind.Honest) return g.midRoot == _run(g.level, levelStart[id][g.level], mid);
        if (s.challenger == XKind.AlwaysAgree) return true;
        if (s.challenger == XKind.AlwaysDisagree) return false;
        if (s.challenger == XKind.Random) {
            return uint256(keccak256(abi.encode(s.seed, id, g.level, g.lo, g.hi))) & 1 == 1;
        }
        return g.level == 0 && mid <= s.steer;
    }

    function _descend(uint256 id, IDisputeGame.Game memory g) internal returns (bool) {
        Script memory s = scripts[id];
        uint256 level = g.level;
        bytes32 pre = g.loRoot;
        uint256 m = _stepsOf(level, pre);
        bool childLies = lying[id][level] && g.lo == lie[level] % levelLen[id][level];
        bytes32 start = MockWorld.startOf(level, pre);
        bytes32 f = s.claimant == CKind.Garbage
            ? keccak256("garbage end")
            : childLies ? _liarRun(level + 1, start, m, m) : _run(level + 1, start, m);
        vm.prank(g.claimant);
        try game.descend(id, abi.encode(f, m)) {}
        catch {
            return false; // cannot link: silent from now on
        }
        claimantMovesMade[id]++;
        levelStart[id][level + 1] = start;
        levelLen[id][level + 1] = m;
        lying[id][level + 1] = childLies;
        return true;
    }

    /// ETH held by the game == every bond still locked (an open game on a rejected claim also
    /// holds its rewardShare) + everything credited and not withdrawn + everything burned.
    function _lockedPlusCredit(address[] memory accounts) internal view returns (uint256 sum) {
        sum = lockedIn(game) + game.totalBurned();
        for (uint256 i; i < accounts.length; ++i) {
            sum += game.credit(accounts[i]);
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Merkle} from "../src/lib/Merkle.sol";
import {Registry} from "../src/game/Registry.sol";
import {DisputeGame} from "../src/game/DisputeGame.sol";
import {IDisputeGame} from "../src/interfaces/IDisputeGame.sol";
import {ILevelLink} from "../src/interfaces/ILevelLink.sol";
import {MockModels, MockStepVerifier, lockedIn} from "./GameBase.t.sol";

/// @dev Accepts any transition: the child run goes from keccak(pre) to keccak(post) in
/// abi.decode(data, (uint256)) steps. Lets random play reach every phase.
contract AnyLink is ILevelLink {
    function link(bytes32 context, uint256 index, bytes32 preRoot, bytes32 postRoot, bytes calldata data)
        external
        pure
        returns (bytes32, bytes32, bytes32, uint256)
    {
        return (
            keccak256(abi.encode(context, index)),
            keccak256(abi.encode(preRoot)),
            keccak256(abi.encode(postRoot)),
            abi.decode(data, (uint256))
        );
    }
}

/// @dev Random but well-formed play: every action picks an existing claim or game and the party
/// whose move it is (or anyone), and may revert. Tracks every status a game ever had.
contract GameHandler is Test {
    DisputeGame public game;
    uint256 public modelId;
    bytes32 internal constant MODEL = keccak256("model");
    bytes32 internal constant INPUT = keccak256("input");

    address[] public actors;
    mapping(uint256 => IDisputeGame.GameStatus) public lastStatus;
    mapping(uint256 => IDisputeGame.ClaimStatus) public lastClaimStatus;
    uint256 public statusRegressions;
    uint256 public resolutions;
    uint256 public calls;
    /// Games that ended for their challenger (won, or voided after another game's win) with the
    /// challenger credited anything but bond + the claim's rewardShare.
    uint256 public payoutErrors;
    uint256 public rejectedPayouts;

    constructor(DisputeGame game_, uint256 modelId_) {
        game = game_;
        modelId = modelId_;
        for (uint256 i; i < 5; ++i) {
            address a = makeAddr(string.concat("actor", vm.toString(i)));
            actors.push(a);
            vm.deal(a, 1_000 ether);
        }
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _gameId(uint256 seed) internal view returns (uint256) {
        uint256 n = game.gameCount();
        return n == 0 ? 0 : 1 + seed % n;
    }

    function _claimId(uint256 seed) internal view returns (uint256) {
        uint256 n = game.claimCount();
        return n == 0 ? 0 : 1 + seed % n;
    }

    /// After every action: the game and claim it touched, if they had left Open/Pending, did not
    /// change again; a game that ended on a rejected claim paid its challenger bond + share.
    modifier tracked(uint256 gameId, uint256 claimId) {
        ++calls;
        IDisputeGame.Game memory before = game.gameOf(gameId);
        uint256 creditBefore = game.credit(before.challenger);
        _;
        IDisputeGame.Game memory afterwards = game.gameOf(gameId);
        if (
            before.status == IDisputeGame.GameStatus.Open
                && (afterwards.status == IDisputeGame.GameStatus.ChallengerWon
                    || afterwards.status == IDisputeGame.GameStatus.Void)
        ) {
            ++rejectedPayouts;
            uint256 paid = game.credit(before.challenger) - creditBefore;
            if (paid != before.bond + game.claimOf(before.claimId).rewardShare) ++payoutErrors;
        }
        if (gameId != 0) {
            IDisputeGame.GameStatus s = game.gameOf(gameId).status;
            IDisputeGame.GameStatus was = lastStatus[gameId];
            if (s != was) {
                if (was != IDisputeGame.GameStatus.None && was != IDisputeGame.GameStatus.Open) {
                    ++statusRegressions;
                }
                if (was == IDisputeGame.GameStatus.Open) ++resolutions;
                lastStatus[gameId] = s;
            }
            if (claimId == 0) claimId = game.gameOf(gameId).claimId;
        }
        if (claimId != 0) {
            IDisputeGame.ClaimStatus s = game.claimOf(claimId).status;
            IDisputeGame.ClaimStatus was = lastClaimStatus[claimId];
            if (s != was) {
                if (was != IDisputeGame.ClaimStatus.None && was != IDisputeGame.ClaimStatus.Pending) {
                    ++statusRegressions;
                }
                lastClaimStatus[claimId] = s;
            }
        }
    }

    function post(uint256 actorSeed, uint256 outSeed, uint256 extra)
        external
        tracked(0, game.claimCount() + 1)
    {
        bytes32 out = keccak256(abi.encode(outSeed));
        bytes32[] memory inputs = new bytes32[](1);
        inputs[0] = INPUT;
        bytes32[] memory path = new bytes32[](1);
        path[0] = INPUT;
        bytes32 table = Merkle.hashPair(INPUT, out);
        uint256 value = game.minBond() + bound(extra, 0, 1 ether);
        vm.prank(_actor(actorSeed));
        game.postClaim{value: value}(modelId, inputs, out, Merkle.hashPair(MODEL, table), table, path);
    }

    function challenge(uint256 actorSeed, uint256 claimSeed, uint256 extra)
        external
        tracked(game.gameCount() + 1, _claimId(claimSeed))
    {
        uint256 c = _claimId(claimSeed);
        uint256 value = game.challengerBond() + bound(extra, 0, 1 ether);
        vm.prank(_actor(actorSeed));
        try game.challenge{value: value}(c) {} catch {}
    }

    function bisect(uint256 gameSeed, bytes32 root) external tracked(_gameId(gameSeed), 0) {
        uint256 id = _gameId(gameSeed);
        vm.prank(game.gameOf(id).claimant);
        try game.bisect(id, root) {} catch {}
    }

    function respond(uint256 gameSeed, bool agree) external tracked(_gameId(gameSeed), 0) {
        uint256 id = _gameId(gameSeed);
        vm.prank(game.gameOf(id).challenger);
        try game.respond(id, agree) {} catch {}
    }

    function descend(uint256 gameSeed, uint256 steps) external tracked(_gameId(gameSeed), 0) {
        uint256 id = _gameId(gameSeed);
        vm.prank(game.gameOf(id).claimant);
        try game.descend(id, abi.encode(bound(steps, 0, 40))) {} catch {}
    }

    function proveStep(uint256 gameSeed, bool valid, uint256 actorSeed)
        external
        tracked(_gameId(gameSeed), 0)
    {
        uint256 id = _gameId(gameSeed);
        vm.prank(_actor(actorSeed));
        try game.proveStep(id, valid ? bytes("ok") : bytes("bad")) {} catch {}
    }

    function timeout(uint256 gameSeed, uint256 actorSeed) external tracked(_gameId(gameSeed), 0) {
        uint256 id = _gameId(gameSeed);
        vm.prank(_actor(actorSeed));
        try game.timeout(id) {} catch {}
    }

    function voidGame(uint256 gameSeed) external tracked(_gameId(gameSeed), 0) {
        try game.voidGame(_gameId(gameSeed)) {} catch {}
    }

    function finalize(uint256 claimSeed) external tracked(0, _claimId(claimSeed)) {
        try game.finalize(_claimId(claimSeed)) {} catch {}
    }

    function withdraw(uint256 actorSeed) external tracked(0, 0) {
        vm.prank(_actor(actorSeed));
        try game.withdraw() {} catch {}
    }

    function wait(uint256 secs) external tracked(0, 0) {
        vm.warp(vm.getBlockTimestamp() + bound(secs, 1, 2 days));
    }
}

/// @notice Invariants under random play: ETH is conserved (the contract holds exactly the locked
/// bonds plus the unwithdrawn credits), and no game or claim is resolved twice or reopened.
contract GameInvariantTest is Test {
    DisputeGame internal game;
    GameHandler internal handler;

    function setUp() public {
        Registry registry = new Registry();
        uint256 p = registry.registerProgram(keccak256("code"), 3, 5, keccak256("globals"));
        uint256 m = MockModels.register(registry, p, keccak256("model"), 5, 1, 1);
        ILevelLink[] memory links = new ILevelLink[](1);
        links[0] = new AnyLink();
        game = new DisputeGame(registry, new MockStepVerifier(), links, 1 ether, 0.5 ether, 3 days, 1 days);
        bytes[] memory ins = new bytes[](1);
        ins[0] = abi.encodePacked(keccak256("input"));
        game.publishInputs(m, ins);
        handler = new GameHandler(game, m);
        targetContract(address(handler));
    }

    function _credits() internal view returns (uint256 credits) {
        for (uint256 i; i < handler.actorCount(); ++i) {
            credits += game.credit(handler.actors(i));
        }
    }

    /// ETH is conserved: the contract holds exactly the locked bonds (with the shares owed to open
    /// games on rejected claims), the unwithdrawn credits and the burned wei.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 100
    function invariant_ethConserved() public view {
        assertEq(address(game).balance, lockedIn(game) + _credits() + game.totalBurned());
    }

    /// A rejected claim's bond: at least half burned, the rest split equally over the games open at
    /// the rejection (those that ended ChallengerWon, Void, or are still open to be voided), the
    /// remainder of the division burned; and every such game's challenger was paid bond + share.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 100
    function invariant_rejectedBondReachesChallengers() public view {
        assertEq(handler.payoutErrors(), 0);
        uint256 burned;
        for (uint256 c = 1; c <= game.claimCount(); ++c) {
            IDisputeGame.Claim memory cl = game.claimOf(c);
            if (cl.status != IDisputeGame.ClaimStatus.Rejected) continue;
            uint256 n;
            for (uint256 i = 1; i <= game.gameCount(); ++i) {
                IDisputeGame.Game memory g = game.gameOf(i);
                if (g.claimId == c && g.status != IDisputeGame.GameStatus.ClaimantWon) ++n;
            }
            assertGt(n, 0);
            assertEq(cl.rewardShare, (cl.bond - cl.bond * game.BURN_BPS() / 10_000) / n);
            burned += cl.bond - n * cl.rewardShare;
        }
        assertEq(game.totalBurned(), burned);
    }

    /// Nothing is stuck: from any state, every open game can be ended (timed out once its mover's
    /// clock ran out, or voided once its claim is rejected), then every pending claim finalized,
    /// and then everything but the burned wei withdrawn.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 100
    function invariant_nothingStuck() public {
        uint256 snap = vm.snapshotState();
        vm.warp(vm.getBlockTimestamp() + 3 days + 2 days + 1);
        for (uint256 i = 1; i <= game.gameCount(); ++i) {
            if (game.gameOf(i).status != IDisputeGame.GameStatus.Open) continue;
            if (game.claimOf(game.gameOf(i).claimId).status == IDisputeGame.ClaimStatus.Rejected) {
                game.voidGame(i);
            } else {
                game.timeout(i);
            }
        }
        // A timeout above may have rejected a claim whose earlier games were already ended.
        for (uint256 i = 1; i <= game.gameCount(); ++i) {
            if (game.gameOf(i).status == IDisputeGame.GameStatus.Open) game.voidGame(i);
        }
        for (uint256 c = 1; c <= game.claimCount(); ++c) {
            if (game.claimOf(c).status == IDisputeGame.ClaimStatus.Pending) game.finalize(c);
        }
        assertEq(address(game).balance, _credits() + game.totalBurned());
        for (uint256 i; i < handler.actorCount(); ++i) {
            address a = handler.actors(i);
            if (game.credit(a) == 0) continue;
            vm.prank(a);
            game.withdraw();
        }
        assertEq(address(game).balance, game.totalBurned());
        vm.revertToState(snap);
    }

    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 100
    function invariant_resolvedOnce() public view {
        assertEq(handler.statusRegressions(), 0);
        // Every claim's openGames matches its open games.
        uint256 nClaims = game.claimCount();
        uint256[] memory open = new uint256[](nClaims + 1);
        for (uint256 i = 1; i <= game.gameCount(); ++i) {
            IDisputeGame.Game memory g = game.gameOf(i);
            if (g.status == IDisputeGame.GameStatus.Open) ++open[g.claimId];
        }
        for (uint256 c = 1; c <= nClaims; ++c) {
            assertEq(game.claimOf(c).openGames, open[c]);
        }
    }

    /// The handler's moves do reach resolutions (a deterministic sequence).
    function test_handlerResolvesGames() public {
        handler.post(1, 2, 3);
        handler.challenge(2, 0, 0);
        handler.challenge(3, 0, 0);
        handler.bisect(0, keccak256("m"));
        handler.wait(2 days);
        handler.timeout(0, 0);
        handler.timeout(1, 0);
        assertEq(handler.resolutions(), 2);
        assertEq(uint8(game.claimOf(1).status), uint8(IDisputeGame.ClaimStatus.Rejected));
        // Only game 2 was open at the rejection: it gets the whole unburned half.
        IDisputeGame.Claim memory cl = game.claimOf(1);
        assertEq(cl.rewardShare, cl.bond - cl.bond / 2);
        assertEq(handler.rejectedPayouts(), 1);
        handler.withdraw(2);
        invariant_ethConserved();
        invariant_resolvedOnce();
        invariant_rejectedBondReachesChallengers();
        invariant_nothingStuck();
    }
}

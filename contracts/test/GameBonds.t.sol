// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GameBase} from "./GameBase.t.sol";
import {IDisputeGame} from "../src/interfaces/IDisputeGame.sol";

/// @notice The bond rule of docs/PROTOCOL.md §5.7: when a challenger wins, half the claim bond is
/// burned and the rest split equally over the games open at that moment; voided games collect
/// their share. Issue 8, finding 7.
contract GameBondsTest is GameBase {
    address internal sybil = makeAddr("sybil");
    address internal x0 = makeAddr("x0");
    address internal x1 = makeAddr("x1");
    address internal x2 = makeAddr("x2");
    address internal x3 = makeAddr("x3");

    function setUp() public {
        _deploy(2, 6, 12);
        vm.deal(sybil, 10 ether);
        vm.deal(x0, 10 ether);
        vm.deal(x1, 10 ether);
        vm.deal(x2, 10 ether);
        vm.deal(x3, 10 ether);
    }

    function _challengeAs(address who, uint256 claimId) internal returns (uint256 id) {
        vm.prank(who);
        id = game.challenge{value: CHALLENGER_BOND}(claimId);
    }

    /// Finding 7: a liar challenges its own false claim first (a sybil address) and stays silent as
    /// claimant in that game, so the sybil "wins" it while the honest challenger's game is still
    /// running. Before the fix the sybil got both bonds back and the honest challenger only its own
    /// bond: the lie cost nothing. Now the liar loses at least half its claim bond and the honest
    /// challenger is paid more than its bond.
    function test_selfChallengingLiar_losesHalfItsBond_honestChallengerGainsMore() public {
        uint256 c = _post(CKind.Garbage);
        uint256 own = _challengeAs(sybil, c);
        _wait(DELAY);
        uint256 honest = _challengeAs(x0, c);
        // The claimant's clock in its own game runs out first (it never moves there).
        _wait(CLOCK + 1 - DELAY);
        game.timeout(own);
        assertEq(uint8(game.claimOf(c).status), uint8(IDisputeGame.ClaimStatus.Rejected));
        game.voidGame(honest);

        uint256 liarIn = MIN_BOND + CHALLENGER_BOND;
        uint256 liarOut = game.credit(claimant) + game.credit(sybil);
        assertLe(liarOut + MIN_BOND / 2, liarIn, "the liar loses at least half its claim bond");
        assertGt(game.credit(x0), CHALLENGER_BOND, "the honest challenger gains");
        assertEq(game.credit(x0), game.credit(sybil), "every game open at the rejection is paid alike");
        assertEq(address(game).balance, liarOut + game.credit(x0) + game.totalBurned());
    }

    /// However many sybil games the liar opens, it recovers less than half its claim bond.
    function testFuzz_sybilGamesNeverRecoverHalfTheBond(uint8 nSybils) public {
        uint256 n = bound(nSybils, 1, 20);
        uint256 c = _post(CKind.Garbage);
        uint256 first = _challengeAs(sybil, c);
        vm.deal(sybil, 100 ether);
        for (uint256 i = 1; i < n; ++i) {
            _challengeAs(sybil, c);
        }
        _wait(DELAY);
        uint256 honest = _challengeAs(x0, c);
        _wait(CLOCK + 1 - DELAY);
        game.timeout(first);
        for (uint256 i = first + 1; i <= honest; ++i) {
            game.voidGame(i);
        }
        uint256 paidIn = MIN_BOND + n * CHALLENGER_BOND;
        assertLe(game.credit(sybil) + MIN_BOND / 2, paidIn);
        assertGt(game.credit(x0), CHALLENGER_BOND);
    }

    /// The split: a game that ended for the claimant before the rejection gets nothing more; the
    /// three games open at the rejection get (B − B/2) / 3 each, the remainder is burned too.
    function test_rejection_burnsHalf_splitsTheRestOverOpenGames() public {
        uint256 c = _post(CKind.Garbage);
        // Game A: the claimant bisects, the challenger stays silent and loses.
        uint256 a = _challengeAs(x0, c);
        vm.prank(claimant);
        game.bisect(a, keccak256("mid"));
        _wait(CLOCK + 1);
        game.timeout(a);
        assertEq(game.credit(claimant), CHALLENGER_BOND);
        // Games B, C, D: the claimant is silent; B is timed out first.
        uint256 b = _challengeAs(x1, c);
        uint256 cc = _challengeAs(x2, c);
        uint256 d = _challengeAs(x3, c);
        _wait(CLOCK + 1);
        uint256 share = (MIN_BOND - MIN_BOND / 2) / 3;
        uint256 burned = MIN_BOND - 3 * share;
        assertGt(burned, MIN_BOND / 2, "the division remainder is burned");
        vm.expectEmit(true, true, true, true, address(game));
        emit IDisputeGame.ClaimRejected(c, b, x1, share, burned);
        game.timeout(b);
        assertEq(game.claimOf(c).rewardShare, share);
        assertEq(game.totalBurned(), burned);
        assertEq(game.credit(x1), CHALLENGER_BOND + share);
        // The others cannot be timed out any more, only voided, and are paid the same.
        vm.expectRevert(IDisputeGame.ClaimAlreadyRejected.selector);
        game.timeout(cc);
        vm.expectEmit(true, true, true, true, address(game));
        emit IDisputeGame.GameVoided(cc, c, x2, CHALLENGER_BOND + share);
        game.voidGame(cc);
        game.voidGame(d);
        assertEq(game.credit(x2), CHALLENGER_BOND + share);
        assertEq(game.credit(x3), CHALLENGER_BOND + share);
        assertEq(game.credit(claimant), CHALLENGER_BOND, "the liar keeps only what it won before");
        assertEq(game.claimOf(c).openGames, 0);
        // Everything withdrawn, the contract holds exactly the burned wei.
        address[5] memory all = [claimant, x0, x1, x2, x3];
        for (uint256 i; i < all.length; ++i) {
            if (game.credit(all[i]) == 0) continue;
            vm.prank(all[i]);
            game.withdraw();
        }
        assertEq(address(game).balance, burned);
    }
}

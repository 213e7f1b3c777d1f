// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Script} from "forge-std/Script.sol";
import {console2} from "forge-std/console2.sol";
import {Registry} from "../src/game/Registry.sol";
import {NodeVmLink} from "../src/game/NodeVmLink.sol";
import {DisputeGame} from "../src/game/DisputeGame.sol";
import {InferenceRequests} from "../src/requests/InferenceRequests.sol";
import {IStepVerifier} from "../src/interfaces/IStepVerifier.sol";
import {ILevelLink} from "../src/interfaces/ILevelLink.sol";

/// @notice Deploys the onchain dispute game: the one-step verifier (OneStepProver, unless
/// OPML_VERIFIER names a deployed one), the Registry, the NodeVmLink (graph → VM) and the
/// DisputeGame with links = [NodeVmLink], and the InferenceRequests on that game.
///
///   npx forge script contracts/script/Deploy.s.sol --rpc-url $RPC_URL --broadcast --private-key $KEY
///
/// (or PRIVATE_KEY in the environment instead of --private-key). Parameters, from the environment,
/// with their defaults:
///   OPML_VERIFIER          address(0) → deploy OneStepProver
///   OPML_MIN_BOND          0.1 ether   claim bond (wei)
///   OPML_CHALLENGER_BOND   0.1 ether   challenge bond (wei)
///   OPML_CHALLENGE_WINDOW  7 days      seconds a claim can be challenged
///   OPML_CLOCK_BUDGET      2 days      seconds on each party's chess clock, per game
///   OPML_ANSWER_WINDOW     2 × window  seconds from a request to its answer deadline
contract Deploy is Script {
    struct Deployment {
        address verifier;
        Registry registry;
        NodeVmLink nodeLink;
        DisputeGame game;
        InferenceRequests requests;
    }

    function run() external returns (Deployment memory d) {
        address verifier = vm.envOr("OPML_VERIFIER", address(0));
        uint256 minBond = vm.envOr("OPML_MIN_BOND", uint256(0.1 ether));
        uint256 challengerBond = vm.envOr("OPML_CHALLENGER_BOND", uint256(0.1 ether));
        uint256 window = vm.envOr("OPML_CHALLENGE_WINDOW", uint256(7 days));
        uint256 clock = vm.envOr("OPML_CLOCK_BUDGET", uint256(2 days));
        uint256 answerWindow = vm.envOr("OPML_ANSWER_WINDOW", 2 * window);
        uint256 key = vm.envOr("PRIVATE_KEY", uint256(0));

        if (key != 0) vm.startBroadcast(key);
        else vm.startBroadcast();
        if (verifier == address(0)) verifier = vm.deployCode("OneStepProver.sol:OneStepProver");
        d.verifier = verifier;
        d.registry = new Registry();
        d.nodeLink = new NodeVmLink(d.registry);
        ILevelLink[] memory links = new ILevelLink[](1);
        links[0] = d.nodeLink;
        d.game = new DisputeGame(
            d.registry, IStepVerifier(verifier), links, minBond, challengerBond, window, clock
        );
        d.requests = new InferenceRequests(d.game, answerWindow);
        vm.stopBroadcast();

        console2.log("OneStepProver", d.verifier);
        console2.log("Registry     ", address(d.registry));
        console2.log("NodeVmLink   ", address(d.nodeLink));
        console2.log("DisputeGame  ", address(d.game));
        console2.log("Requests     ", address(d.requests));
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Deploy} from "../script/Deploy.s.sol";
import {MockStepVerifier} from "./GameBase.t.sol";

/// @notice The deployment script wires everything and reads its parameters from the environment.
contract GameDeployTest is Test {
    /// One test, not two: the environment is shared by tests running in parallel.
    function test_deploy() public {
        // Parameters from the environment, with a given verifier.
        address v = address(new MockStepVerifier());
        vm.setEnv("OPML_VERIFIER", vm.toString(v));
        vm.setEnv("OPML_MIN_BOND", "123");
        vm.setEnv("OPML_CHALLENGER_BOND", "45");
        vm.setEnv("OPML_CHALLENGE_WINDOW", "3600");
        vm.setEnv("OPML_CLOCK_BUDGET", "600");
        Deploy.Deployment memory d = new Deploy().run();
        assertEq(d.verifier, v);
        assertEq(address(d.game.verifier()), v);
        assertEq(address(d.game.registry()), address(d.registry));
        assertEq(address(d.nodeLink.registry()), address(d.registry));
        assertEq(address(d.game.links(0)), address(d.nodeLink));
        assertEq(d.game.levels(), 2);
        assertEq(d.game.minBond(), 123);
        assertEq(d.game.challengerBond(), 45);
        assertEq(d.game.challengeWindow(), 3600);
        assertEq(d.game.clockBudget(), 600);

        // With no verifier given, the script deploys OneStepProver (when it is built).
        vm.setEnv("OPML_VERIFIER", vm.toString(address(0)));
        try vm.getCode("OneStepProver.sol:OneStepProver") {}
        catch {
            return;
        }
        d = new Deploy().run();
        assertGt(d.verifier.code.length, 0);
        assertEq(address(d.game.verifier()), d.verifier);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {console2} from "forge-std/console2.sol";
import {OneStepProver} from "../src/step/OneStepProver.sol";

/// @notice The Solidity one-step verifier against step proofs written by vm/prove.ts and checked by
/// the TypeScript reference verifier (contracts/test/vectors/steps.json, parallel arrays): every
/// vector gives its post root, any mutated byte makes it revert or give another root, and the
/// execution gas per instruction family stays within budget.
/// Set STEP_VECTORS to another file name in contracts/test/vectors to run other vectors.
contract StepVectorsTest is Test {
    struct Vectors {
        string[] names;
        uint256[] ops;
        string[] families;
        bytes32[] preRoots;
        bytes[] proofs;
        bytes32[] postRoots;
    }

    /// @dev Gas budget per family (execution gas of verifyStep, as vm.lastCallGas reports it).
    uint256 internal constant MEDIAN_BUDGET = 40_000;
    uint256 internal constant WORST_BUDGET = 150_000;

    OneStepProver internal prover;

    function setUp() public {
        prover = new OneStepProver();
    }

    function _path() internal view returns (string memory) {
        return string.concat(
            vm.projectRoot(), "/contracts/test/vectors/", vm.envOr("STEP_VECTORS", string("steps.json"))
        );
    }

    /// Reads every array (each cheatcode copies the whole file into memory, so tests call this once).
    function _vectors() internal view returns (Vectors memory v) {
        string memory json = vm.readFile(_path());
        v.names = vm.parseJsonStringArray(json, ".names");
        v.ops = vm.parseJsonUintArray(json, ".ops");
        v.families = vm.parseJsonStringArray(json, ".families");
        v.preRoots = vm.parseJsonBytes32Array(json, ".preRoots");
        v.proofs = vm.parseJsonBytesArray(json, ".proofs");
        v.postRoots = vm.parseJsonBytes32Array(json, ".postRoots");
        uint256 n = v.names.length;
        require(n > 0, "no step vectors");
        require(
            v.ops.length == n && v.families.length == n && v.preRoots.length == n && v.proofs.length == n
                && v.postRoots.length == n,
            "step vectors: arrays of different lengths"
        );
    }

    function test_vectors_allVerify() public view {
        Vectors memory v = _vectors();
        uint256 failures;
        for (uint256 i; i < v.names.length; ++i) {
            string memory what = string.concat("vector #", vm.toString(i), " ", v.names[i]);
            try prover.verifyStep(v.preRoots[i], v.proofs[i]) returns (bytes32 post) {
                if (post != v.postRoots[i]) {
                    ++failures;
                    console2.log("WRONG POST ROOT:", what);
                    console2.logBytes32(post);
                }
            } catch (bytes memory err) {
                ++failures;
                console2.log("REVERTED:", what);
                console2.logBytes(err);
            }
        }
        console2.log("step vectors checked:", v.names.length);
        assertEq(failures, 0, "step vectors that do not verify to their post root (see the log)");
    }

    /// @dev Every byte of a proof is bound to the pre-state root (state words, code path, stack hash,
    /// leaf paths, frame chain) or fixed by the format (counts, no trailing bytes), so changing one
    /// must make the verifier revert or, at worst, yield a root other than the honest post root.
    function testFuzz_mutatedProofRevertsOrDiffers(uint256 index, uint256 pos, uint8 mask) public view {
        string memory json = vm.readFile(_path());
        uint256 n = vm.parseJsonStringArray(json, ".families").length;
        index = _bound(index, 0, n - 1);
        string memory idx = string.concat("[", vm.toString(index), "]");
        bytes32 pre = vm.parseJsonBytes32(json, string.concat(".preRoots", idx));
        bytes memory proof = vm.parseJsonBytes(json, string.concat(".proofs", idx));
        bytes32 post = vm.parseJsonBytes32(json, string.concat(".postRoots", idx));
        pos = _bound(pos, 0, proof.length - 1);
        proof[pos] ^= bytes1(uint8(_bound(mask, 1, 255)));
        try prover.verifyStep(pre, proof) returns (bytes32 got) {
            assertTrue(got != post, string.concat("mutated proof still verifies: ", vm.toString(index)));
        } catch {}
    }

    /// @dev Dropping the last byte or appending one must revert.
    function testFuzz_truncatedOrExtendedProofReverts(uint256 index, uint8 extra) public {
        string memory json = vm.readFile(_path());
        uint256 n = vm.parseJsonStringArray(json, ".families").length;
        index = _bound(index, 0, n - 1);
        string memory idx = string.concat("[", vm.toString(index), "]");
        bytes32 pre = vm.parseJsonBytes32(json, string.concat(".preRoots", idx));
        bytes memory proof = vm.parseJsonBytes(json, string.concat(".proofs", idx));
        bytes memory cut = new bytes(proof.length - 1);
        for (uint256 i; i < cut.length; ++i) {
            cut[i] = proof[i];
        }
        vm.expectRevert();
        prover.verifyStep(pre, cut);
        vm.expectRevert();
        prover.verifyStep(pre, bytes.concat(proof, bytes1(extra)));
    }

    /// @dev Execution gas of verifyStep per vector, grouped by family: median and worst, logged
    /// (run with -vv) and held to the budget.
    function test_gas_perFamily() public {
        Vectors memory v = _vectors();
        uint256 n = v.names.length;
        string[] memory fams = new string[](n);
        uint256 nFams;
        uint256[] memory gas = new uint256[](n);
        uint256[] memory famOf = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            bytes32 post = prover.verifyStep(v.preRoots[i], v.proofs[i]);
            gas[i] = vm.lastCallGas().gasTotalUsed;
            assertEq(post, v.postRoots[i], v.names[i]);
            uint256 f;
            while (f < nFams && keccak256(bytes(fams[f])) != keccak256(bytes(v.families[i]))) ++f;
            if (f == nFams) fams[nFams++] = v.families[i];
            famOf[i] = f;
        }
        for (uint256 f; f < nFams; ++f) {
            uint256 count;
            for (uint256 i; i < n; ++i) {
                if (famOf[i] == f) ++count;
            }
            uint256[] memory g = new uint256[](count);
            uint256 worst;
            string memory worstName;
            count = 0;
            for (uint256 i; i < n; ++i) {
                if (famOf[i] != f) continue;
                g[count++] = gas[i];
                if (gas[i] > worst) (worst, worstName) = (gas[i], v.names[i]);
            }
            g = vm.sort(g);
            uint256 median = g.length % 2 == 1 ? g[g.length / 2] : (g[g.length / 2 - 1] + g[g.length / 2]) / 2;
            console2.log(
                string.concat(
                    "verifyStep gas [",
                    fams[f],
                    "] n=",
                    vm.toString(g.length),
                    " min=",
                    vm.toString(g[0]),
                    " median=",
                    vm.toString(median),
                    " worst=",
                    vm.toString(worst),
                    " (",
                    worstName,
                    ")"
                )
            );
            assertLe(median, MEDIAN_BUDGET, string.concat("median gas of family ", fams[f]));
            assertLe(worst, WORST_BUDGET, string.concat("worst gas of family ", fams[f]));
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Merkle} from "../src/lib/Merkle.sol";
import {OneStepProver} from "../src/step/OneStepProver.sol";
import {StepNumeric} from "../src/step/StepNumeric.sol";
import {
    State,
    Truncated,
    TrailingBytes,
    PreStateMismatch,
    PcOutsideCode,
    InstructionNotInCode,
    UnknownOpcode,
    WrongStackCount,
    StackMismatch,
    LocalIndexOutOfRange,
    GlobalIndexOutOfRange,
    LocalsMismatch,
    GlobalsMismatch,
    WrongLeafCount,
    LeafMismatch,
    FrameMismatch,
    OperandNotI32
} from "../src/step/StepState.sol";

/// @notice The one-step verifier on hand-built one-instruction programs: each custom error for the
/// defect it names, edge semantics the vectors may not reach, and every numeric op against a naive
/// reference written with Solidity's own i32/i64 types (fuzzed, through the whole verifier).
/// @dev A program here is one instruction at pc 0 with codeDepth 0, so the code root is its leaf.
contract StepUnitTest is Test {
    OneStepProver internal prover;

    bytes32 internal constant REST = keccak256("the stack below the popped values");
    uint256 internal constant HALT = 0xffffffff;
    uint256 internal constant M32 = 0xffffffff;
    uint256 internal constant M64 = 0xffffffffffffffff;

    function setUp() public {
        prover = new OneStepProver();
    }

    // ---------------------------------------------------------------------------------------------
    // Builders
    // ---------------------------------------------------------------------------------------------

    function _leaf(uint256 op, uint256 arg) internal pure returns (bytes32) {
        return bytes32((op << 240) | (arg << 176));
    }

    function _push(bytes32 h, uint256 v) internal pure returns (bytes32) {
        return keccak256(abi.encode(h, v));
    }

    function _chain(bytes32 h, uint256[] memory vals) internal pure returns (bytes32) {
        for (uint256 i; i < vals.length; ++i) {
            h = _push(h, vals[i]);
        }
        return h;
    }

    function _vals(uint256 a) internal pure returns (uint256[] memory v) {
        v = new uint256[](1);
        v[0] = a;
    }

    function _vals(uint256 a, uint256 b) internal pure returns (uint256[] memory v) {
        v = new uint256[](2);
        (v[0], v[1]) = (a, b);
    }

    function _vals(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory v) {
        v = new uint256[](3);
        (v[0], v[1], v[2]) = (a, b, c);
    }

    /// A running entry frame about to execute (op, arg), with `vals` on top of REST, one page of
    /// zero memory, zero locals and globals.
    function _state(uint256 op, uint256 arg, uint256[] memory vals) internal pure returns (State memory s) {
        s.stackHash = _chain(REST, vals);
        s.localsRoot = Merkle.zeroHash(8);
        s.returnPc = HALT;
        s.globalsRoot = Merkle.zeroHash(4);
        s.memoryRoot = Merkle.zeroHash(27);
        s.memoryPages = 1;
        s.codeRoot = _leaf(op, arg);
    }

    function _root(State memory s) internal pure returns (bytes32) {
        return keccak256(abi.encode(s));
    }

    function _stackSection(uint256[] memory vals) internal pure returns (bytes memory b) {
        b = abi.encodePacked(uint8(vals.length));
        for (uint256 i; i < vals.length; ++i) {
            b = bytes.concat(b, bytes8(uint64(vals[i])));
        }
        b = bytes.concat(b, REST);
    }

    function _proof(State memory s, uint256 op, uint256 arg, uint256[] memory vals, bytes memory witness)
        internal
        pure
        returns (bytes memory)
    {
        // Opcodes are 16 bits and immediates 64 bits, as in a code leaf.
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes memory ins = abi.encodePacked(uint16(op), uint64(arg));
        return bytes.concat(abi.encode(s), ins, _stackSection(vals), witness);
    }

    /// Path of any leaf of an all-zero tree of `depth`.
    function _zeroPath(uint256 depth) internal pure returns (bytes memory p) {
        for (uint256 d; d < depth; ++d) {
            p = bytes.concat(p, Merkle.zeroHash(d));
        }
    }

    /// Verifies a one-instruction program and returns the post root.
    function _run(uint256 op, uint256 arg, uint256[] memory vals, bytes memory witness)
        internal
        view
        returns (bytes32)
    {
        State memory s = _state(op, arg, vals);
        return prover.verifyStep(_root(s), _proof(s, op, arg, vals, witness));
    }

    function _expectRevert(bytes memory err, uint256 op, uint256 arg, uint256[] memory vals, bytes memory w)
        internal
    {
        State memory s = _state(op, arg, vals);
        bytes memory proof = _proof(s, op, arg, vals, w);
        vm.expectRevert(err);
        prover.verifyStep(_root(s), proof);
    }

    /// The post root of the one-instruction program when it pushes `v` (or nothing) over REST.
    function _after(uint256 op, uint256 arg, uint256[] memory vals, bool pushes, uint256 v)
        internal
        pure
        returns (bytes32)
    {
        State memory s = _state(op, arg, vals);
        s.pc = 1;
        s.stackHash = pushes ? _push(REST, v) : REST;
        return _root(s);
    }

    function _trapped(uint256 op, uint256 arg, uint256[] memory vals) internal pure returns (bytes32) {
        State memory s = _state(op, arg, vals);
        s.status = 2;
        return _root(s);
    }

    // ---------------------------------------------------------------------------------------------
    // The common part: pre-state, code, stack
    // ---------------------------------------------------------------------------------------------

    function test_stoppedMachineStaysAsItIs() public {
        for (uint256 status = 1; status <= 3; ++status) {
            State memory s = _state(0x01, 0, new uint256[](0));
            s.status = status;
            bytes memory proof = abi.encode(s);
            assertEq(prover.verifyStep(_root(s), proof), _root(s));
            vm.expectRevert(TrailingBytes.selector);
            prover.verifyStep(_root(s), bytes.concat(proof, hex"00"));
        }
    }

    function test_preStateMismatch() public {
        State memory s = _state(0x01, 0, new uint256[](0));
        bytes memory proof = _proof(s, 0x01, 0, new uint256[](0), "");
        vm.expectRevert(PreStateMismatch.selector);
        prover.verifyStep(bytes32(uint256(_root(s)) ^ 1), proof);
    }

    function test_truncatedAnywhere() public {
        State memory s = _state(0x6a, 0, _vals(1, 2));
        bytes memory proof = _proof(s, 0x6a, 0, _vals(1, 2), "");
        assertEq(prover.verifyStep(_root(s), proof), _after(0x6a, 0, _vals(1, 2), true, 3));
        for (uint256 len; len < proof.length; ++len) {
            bytes memory cut = new bytes(len);
            for (uint256 i; i < len; ++i) {
                cut[i] = proof[i];
            }
            vm.expectRevert(Truncated.selector);
            prover.verifyStep(_root(s), cut);
        }
        vm.expectRevert(TrailingBytes.selector);
        prover.verifyStep(_root(s), bytes.concat(proof, hex"00"));
    }

    function test_pcOutsideCode() public {
        State memory s = _state(0x01, 0, new uint256[](0));
        s.pc = 1;
        bytes memory proof = _proof(s, 0x01, 0, new uint256[](0), "");
        vm.expectRevert(abi.encodeWithSelector(PcOutsideCode.selector, 1, 0));
        prover.verifyStep(_root(s), proof);
    }

    function test_instructionNotInCode() public {
        State memory s = _state(0x41, 7, new uint256[](0));
        bytes memory proof = _proof(s, 0x41, 8, new uint256[](0), "");
        vm.expectRevert(abi.encodeWithSelector(InstructionNotInCode.selector, 0));
        prover.verifyStep(_root(s), proof);
        // With a real code path: pc 2 of a depth-2 tree.
        s.codeDepth = 2;
        s.pc = 2;
        bytes32 l0 = _leaf(0x01, 0);
        bytes32 l1 = _leaf(0x1a, 0);
        bytes32 l3 = _leaf(0x0f, 0);
        s.codeRoot = Merkle.hashPair(Merkle.hashPair(l0, l1), Merkle.hashPair(_leaf(0x41, 7), l3));
        bytes memory head = bytes.concat(abi.encode(s), bytes2(uint16(0x41)), bytes8(uint64(7)));
        bytes memory tail = _stackSection(new uint256[](0));
        State memory post = _state(0x41, 7, new uint256[](0));
        (post.codeDepth, post.codeRoot, post.pc, post.stackHash) = (2, s.codeRoot, 3, _push(REST, 7));
        assertEq(
            prover.verifyStep(_root(s), bytes.concat(head, l3, Merkle.hashPair(l0, l1), tail)), _root(post)
        );
        vm.expectRevert(abi.encodeWithSelector(InstructionNotInCode.selector, 2));
        prover.verifyStep(_root(s), bytes.concat(head, Merkle.hashPair(l0, l1), l3, tail));
    }

    function test_unknownOpcodes() public {
        // Structured control, br/br_if/br_table, call_indirect, typed select, table ops, float
        // loads/stores, float numeric ops, ops past 0xc4, unused internal opcodes.
        uint16[18] memory ops = [
            0x02,
            0x04,
            0x0b,
            0x0c,
            0x0e,
            0x11,
            0x1c,
            0x25,
            0x2a,
            0x2b,
            0x38,
            0x39,
            0x5b,
            0x8b,
            0xa8,
            0xc5,
            0x8004,
            0xffff
        ];
        for (uint256 i; i < ops.length; ++i) {
            _expectRevert(
                abi.encodeWithSelector(UnknownOpcode.selector, ops[i]), ops[i], 0, new uint256[](0), ""
            );
        }
    }

    function test_wrongStackCountAndMismatch() public {
        State memory s = _state(0x6a, 0, _vals(1, 2));
        bytes memory proof = _proof(s, 0x6a, 0, _vals(2), "");
        vm.expectRevert(abi.encodeWithSelector(WrongStackCount.selector, 2, 1));
        prover.verifyStep(_root(s), proof);
        proof = _proof(s, 0x6a, 0, _vals(1, 3), "");
        vm.expectRevert(StackMismatch.selector);
        prover.verifyStep(_root(s), proof);
    }

    // ---------------------------------------------------------------------------------------------
    // Families: errors and edge semantics
    // ---------------------------------------------------------------------------------------------

    function test_variables_errors() public {
        uint256[] memory none = new uint256[](0);
        _expectRevert(abi.encodeWithSelector(LocalIndexOutOfRange.selector, 256), 0x20, 256, none, "");
        _expectRevert(abi.encodeWithSelector(GlobalIndexOutOfRange.selector, 16), 0x23, 16, none, "");
        _expectRevert(
            abi.encodeWithSelector(GlobalIndexOutOfRange.selector, 1 << 63), 0x24, 1 << 63, _vals(1), ""
        );
        bytes memory wrong = bytes.concat(bytes8(uint64(1)), _zeroPath(8));
        _expectRevert(abi.encodeWithSelector(LocalsMismatch.selector, 255), 0x20, 255, none, wrong);
        wrong = bytes.concat(bytes8(uint64(1)), _zeroPath(4));
        _expectRevert(abi.encodeWithSelector(GlobalsMismatch.selector, 15), 0x23, 15, none, wrong);
        // local.tee 255 of a zero locals tree.
        bytes memory w = bytes.concat(bytes8(0), _zeroPath(8));
        State memory s = _state(0x22, 255, _vals(M64));
        bytes32 slot = bytes32(M64);
        for (uint256 d; d < 8; ++d) {
            slot = Merkle.hashPair(Merkle.zeroHash(d), slot);
        }
        s.pc = 1;
        s.localsRoot = slot;
        assertEq(_run(0x22, 255, _vals(M64), w), _root(s));
    }

    function test_memory_errorsAndTrap() public {
        uint256[] memory addr = _vals(65533);
        bytes memory leaf = bytes.concat(bytes32(0), _zeroPath(27));
        // In bounds (65533 + 2 <= 65536) in one leaf; a leaf that is not the memory's.
        _expectRevert(
            abi.encodeWithSelector(LeafMismatch.selector, 2047),
            0x2f,
            0,
            addr,
            bytes.concat(hex"01", bytes32(uint256(1)), _zeroPath(27))
        );
        _expectRevert(abi.encodeWithSelector(WrongLeafCount.selector, 1, 0), 0x2f, 0, addr, hex"00");
        assertEq(_run(0x2f, 0, addr, bytes.concat(hex"01", leaf)), _after(0x2f, 0, addr, true, 0));
        // 65533 + 4 > 65536: out of bounds, no leaf allowed.
        _expectRevert(
            abi.encodeWithSelector(WrongLeafCount.selector, 0, 1), 0x28, 0, addr, bytes.concat(hex"01", leaf)
        );
        assertEq(_run(0x28, 0, addr, hex"00"), _trapped(0x28, 0, addr));
        // The effective address is address + offset without wrapping at 2^32.
        assertEq(_run(0x2d, M32, _vals(1), hex"00"), _trapped(0x2d, M32, _vals(1)));
        // An access straddling leaves 0|1 needs two.
        _expectRevert(
            abi.encodeWithSelector(WrongLeafCount.selector, 2, 1),
            0x28,
            0,
            _vals(30),
            bytes.concat(hex"01", leaf)
        );
    }

    function test_memory_growAgainstTheMaximum() public {
        // pages 1, max 3: +2 succeeds, +3 fails, and a 64-bit maximum is honoured as is.
        State memory s = _state(0x40, 3, _vals(2));
        (s.pc, s.stackHash, s.memoryPages) = (1, _push(REST, 1), 3);
        assertEq(_run(0x40, 3, _vals(2), ""), _root(s));
        assertEq(_run(0x40, 3, _vals(3), ""), _after(0x40, 3, _vals(3), true, M32));
        assertEq(_run(0x40, 0, _vals(0), ""), _after(0x40, 0, _vals(0), true, M32));
        s = _state(0x40, M64, _vals(M32));
        (s.pc, s.stackHash, s.memoryPages) = (1, _push(REST, 1), 1 + M32);
        assertEq(_run(0x40, M64, _vals(M32), ""), _root(s));
    }

    function test_control_selectAndBranches() public {
        // select looks at the low 32 bits of its condition.
        assertEq(_run(0x1b, 0, _vals(5, 6, 1 << 32), ""), _after(0x1b, 0, _vals(5, 6, 1 << 32), true, 6));
        assertEq(_run(0x1b, 0, _vals(5, 6, 2), ""), _after(0x1b, 0, _vals(5, 6, 2), true, 5));
        // BR_TABLE clamps the index to the default entry n.
        State memory s = _state(0x8003, 3, _vals(M32));
        (s.pc, s.stackHash) = (4, REST);
        assertEq(_run(0x8003, 3, _vals(M32), ""), _root(s));
        // BR target=9 drop=2 keep=1: [a b c] -> [c].
        uint256 br = 9 | (2 << 32) | (1 << 48);
        s = _state(0x8000, br, _vals(1, 2, 3));
        (s.pc, s.stackHash) = (9, _push(REST, 3));
        assertEq(_run(0x8000, br, _vals(1, 2, 3), ""), _root(s));
        // BR_IF not taken keeps the body, pops the condition.
        s = _state(0x8001, br, _vals4(1, 2, 3, 0));
        (s.pc, s.stackHash) = (1, _chain(REST, _vals(1, 2, 3)));
        assertEq(_run(0x8001, br, _vals4(1, 2, 3, 0), ""), _root(s));
        // A BR_IF whose drop + keep would need 256 values cannot be proven.
        uint256 wide = 9 | (200 << 32) | (55 << 48);
        _expectRevert(
            abi.encodeWithSelector(WrongStackCount.selector, 256, 0), 0x8001, wide, new uint256[](0), ""
        );
        // unreachable traps.
        assertEq(_run(0x00, 0, new uint256[](0), ""), _trapped(0x00, 0, new uint256[](0)));
    }

    function _vals4(uint256 a, uint256 b, uint256 c, uint256 d) internal pure returns (uint256[] memory v) {
        v = new uint256[](4);
        (v[0], v[1], v[2], v[3]) = (a, b, c, d);
    }

    function test_calls_callReturnAndDepth() public {
        // call entry=40 nParams=2: the frame is pushed, locals hold the arguments.
        uint256 arg = 40 | (2 << 32) | (5 << 40) | (1 << 56);
        State memory pre = _state(0x10, arg, _vals(7, 8));
        State memory s = _state(0x10, arg, _vals(7, 8));
        bytes32 record = keccak256(abi.encode(REST, pre.localsRoot, HALT));
        s.frameStackHash = Merkle.hashPair(0, record);
        s.frameDepth = 1;
        s.localsRoot =
            Merkle.hashPair(Merkle.hashPair(bytes32(uint256(7)), bytes32(uint256(8))), Merkle.zeroHash(1));
        for (uint256 d = 2; d < 8; ++d) {
            s.localsRoot = Merkle.hashPair(s.localsRoot, Merkle.zeroHash(d));
        }
        (s.returnPc, s.stackHash, s.pc) = (1, 0, 40);
        assertEq(_run(0x10, arg, _vals(7, 8), ""), _root(s));

        // At depth 1023 a call traps.
        pre.frameDepth = 1023;
        bytes memory proof = _proof(pre, 0x10, arg, _vals(7, 8), "");
        State memory t = _state(0x10, arg, _vals(7, 8));
        (t.frameDepth, t.status) = (1023, 2);
        assertEq(prover.verifyStep(_root(pre), proof), _root(t));

        // return 1 from that frame: the caller's record comes back, the result on its stack.
        State memory inCallee = _state(0x0f, 1, _vals(99));
        (inCallee.frameStackHash, inCallee.frameDepth, inCallee.returnPc) = (s.frameStackHash, 1, 1);
        bytes memory w = bytes.concat(REST, pre.localsRoot, hex"ffffffff", bytes32(0)); // caller returns to HALT
        proof = _proof(inCallee, 0x0f, 1, _vals(99), w);
        State memory back = _state(0x0f, 1, _vals(99));
        (back.pc, back.stackHash) = (1, _push(REST, 99));
        assertEq(prover.verifyStep(_root(inCallee), proof), _root(back));
        // A wrong caller return pc does not match the frame stack.
        w = bytes.concat(REST, pre.localsRoot, bytes4(uint32(2)), bytes32(0));
        proof = _proof(inCallee, 0x0f, 1, _vals(99), w);
        vm.expectRevert(FrameMismatch.selector);
        prover.verifyStep(_root(inCallee), proof);

        // return from the entry frame finishes: status 1, pc HALT, the result on an empty stack.
        State memory fin = _state(0x0f, 1, _vals(99));
        (fin.status, fin.pc, fin.stackHash) = (1, HALT, _push(0, 99));
        assertEq(_run(0x0f, 1, _vals(99), ""), _root(fin));
    }

    // ---------------------------------------------------------------------------------------------
    // Numeric: every op against a naive reference, directly and through the whole verifier
    // ---------------------------------------------------------------------------------------------

    /// The integer numeric opcodes: 0x45–0x5a, 0x67–0x8a, wrap, extend_i32_s/u, 0xc0–0xc4.
    function _numericOp(uint256 seed) internal pure returns (uint256 op) {
        uint256 k = seed % 66;
        if (k < 22) return 0x45 + k;
        if (k < 58) return 0x67 + (k - 22);
        if (k < 61) return [uint256(0xa7), 0xac, 0xad][k - 58];
        return 0xc0 + (k - 61);
    }

    function _operandIs64(uint256 op) internal pure returns (bool) {
        return (op >= 0x50 && op <= 0x5a) || (op >= 0x79 && op <= 0x8a) || op == 0xa7 || op >= 0xc2;
    }

    function _isUnary(uint256 op) internal pure returns (bool) {
        return op == 0x45 || op == 0x50 || (op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7b)
            || op == 0xa7 || op == 0xac || op == 0xad || op >= 0xc0;
    }

    /// Edge values half of the time, else the raw fuzz input; reduced to the operand width.
    function _operand(uint256 raw, bool is64) internal pure returns (uint256 v) {
        uint64[14] memory edges = [
            uint64(0),
            1,
            2,
            31,
            32,
            63,
            64,
            0x7f,
            0x80,
            0x7fffffff,
            0x80000000,
            0xffffffff,
            0x7fffffffffffffff,
            0x8000000000000000
        ];
        v = raw & 1 == 0 ? edges[(raw >> 1) % edges.length] : raw >> 1;
        if ((raw >> 200) & 1 == 1) v = is64 ? M64 - (v & 0xff) : M32 - (v & 0xff); // near the top
        v &= is64 ? M64 : M32;
    }

    function testFuzz_numericMatchesNaiveReference(uint256 opSeed, uint256 rawA, uint256 rawB) public pure {
        uint256 op = _numericOp(opSeed);
        bool is64 = _operandIs64(op);
        uint256 a = _operand(rawA, is64);
        uint256 b = _isUnary(op) ? 0 : _operand(rawB, is64);
        (bool trapped, uint256 r) = StepNumeric.eval(op, a, b);
        (bool refTrapped, uint256 ref) = _reference(op, a, b);
        assertEq(trapped, refTrapped, "trap");
        if (!trapped) assertEq(r, ref, "result");
    }

    function testFuzz_numericStepThroughVerifier(uint256 opSeed, uint256 rawA, uint256 rawB) public view {
        uint256 op = _numericOp(opSeed);
        bool is64 = _operandIs64(op);
        uint256 a = _operand(rawA, is64);
        uint256[] memory vals = _isUnary(op) ? _vals(a) : _vals(a, _operand(rawB, is64));
        (bool trapped, uint256 ref) = _reference(op, a, vals.length == 2 ? vals[1] : 0);
        bytes32 want = trapped ? _trapped(op, 0, vals) : _after(op, 0, vals, true, ref);
        assertEq(_run(op, 0, vals, ""), want);
    }

    function test_numeric_i32OperandWithHighBitsIsRejected() public {
        _expectRevert(
            abi.encodeWithSelector(OperandNotI32.selector, 1 << 32, 1), 0x6a, 0, _vals(1 << 32, 1), ""
        );
        _expectRevert(abi.encodeWithSelector(OperandNotI32.selector, 1 << 40, 0), 0xac, 0, _vals(1 << 40), "");
        // i32.wrap_i64 takes an i64.
        assertEq(_run(0xa7, 0, _vals(M64), ""), _after(0xa7, 0, _vals(M64), true, M32));
    }

    function test_numeric_traps() public view {
        uint256[4] memory divs = [uint256(0x6d), 0x6e, 0x6f, 0x70];
        for (uint256 i; i < 4; ++i) {
            assertEq(_run(divs[i], 0, _vals(5, 0), ""), _trapped(divs[i], 0, _vals(5, 0)));
            assertEq(_run(divs[i] + 18, 0, _vals(5, 0), ""), _trapped(divs[i] + 18, 0, _vals(5, 0)));
        }
        uint256 min64 = 1 << 63;
        assertEq(_run(0x6d, 0, _vals(1 << 31, M32), ""), _trapped(0x6d, 0, _vals(1 << 31, M32)));
        assertEq(_run(0x7f, 0, _vals(min64, M64), ""), _trapped(0x7f, 0, _vals(min64, M64)));
        assertEq(_run(0x6f, 0, _vals(1 << 31, M32), ""), _after(0x6f, 0, _vals(1 << 31, M32), true, 0));
        assertEq(_run(0x81, 0, _vals(min64, M64), ""), _after(0x81, 0, _vals(min64, M64), true, 0));
    }

    // forge-lint: disable-start(unsafe-typecast)

    /// WASM semantics with Solidity's fixed-width types: uintN arithmetic wraps in `unchecked`,
    /// intN division truncates toward zero, % takes the dividend's sign, >> on intN is arithmetic
    /// and a shift by the width or more gives 0.
    function _reference(uint256 op, uint256 a, uint256 b) internal pure returns (bool, uint256) {
        if (op == 0x45) return (false, _b(uint32(a) == 0));
        if (op >= 0x46 && op <= 0x4f) return (false, _b(_cmp32(op - 0x46, uint32(a), uint32(b))));
        if (op == 0x50) return (false, _b(uint64(a) == 0));
        if (op >= 0x51 && op <= 0x5a) return (false, _b(_cmp64(op - 0x51, uint64(a), uint64(b))));
        if (op >= 0x67 && op <= 0x78) return _arith32(op - 0x67, uint32(a), uint32(b));
        if (op >= 0x79 && op <= 0x8a) return _arith64(op - 0x79, uint64(a), uint64(b));
        if (op == 0xa7) return (false, uint32(a));
        if (op == 0xac) return (false, uint64(int64(int32(uint32(a)))));
        if (op == 0xad) return (false, uint32(a));
        if (op == 0xc0) return (false, uint32(int32(int8(uint8(a)))));
        if (op == 0xc1) return (false, uint32(int32(int16(uint16(a)))));
        if (op == 0xc2) return (false, uint64(int64(int8(uint8(a)))));
        if (op == 0xc3) return (false, uint64(int64(int16(uint16(a)))));
        if (op == 0xc4) return (false, uint64(int64(int32(uint32(a)))));
        revert("reference: not a numeric op");
    }

    function _b(bool c) internal pure returns (uint256) {
        return c ? 1 : 0;
    }

    function _cmp32(uint256 k, uint32 x, uint32 y) internal pure returns (bool) {
        int32 sx = int32(x);
        int32 sy = int32(y);
        if (k == 0) return x == y;
        if (k == 1) return x != y;
        if (k == 2) return sx < sy;
        if (k == 3) return x < y;
        if (k == 4) return sx > sy;
        if (k == 5) return x > y;
        if (k == 6) return sx <= sy;
        if (k == 7) return x <= y;
        if (k == 8) return sx >= sy;
        return x >= y;
    }

    function _cmp64(uint256 k, uint64 x, uint64 y) internal pure returns (bool) {
        int64 sx = int64(x);
        int64 sy = int64(y);
        if (k == 0) return x == y;
        if (k == 1) return x != y;
        if (k == 2) return sx < sy;
        if (k == 3) return x < y;
        if (k == 4) return sx > sy;
        if (k == 5) return x > y;
        if (k == 6) return sx <= sy;
        if (k == 7) return x <= y;
        if (k == 8) return sx >= sy;
        return x >= y;
    }

    function _arith32(uint256 k, uint32 x, uint32 y) internal pure returns (bool, uint256) {
        unchecked {
            if (k == 0) {
                uint256 n;
                while (n < 32 && (x >> (31 - n)) & 1 == 0) ++n;
                return (false, n);
            }
            if (k == 1) {
                uint256 n;
                while (n < 32 && (x >> n) & 1 == 0) ++n;
                return (false, n);
            }
            if (k == 2) {
                uint256 n;
                for (uint256 i; i < 32; ++i) {
                    n += (x >> i) & 1;
                }
                return (false, n);
            }
            if (k == 3) return (false, x + y);
            if (k == 4) return (false, x - y);
            if (k == 5) return (false, x * y);
            if (k >= 6 && k <= 9 && y == 0) return (true, 0);
            if (k == 6) {
                if (int32(x) == type(int32).min && int32(y) == -1) return (true, 0);
                return (false, uint32(int32(x) / int32(y)));
            }
            if (k == 7) return (false, x / y);
            if (k == 8) return (false, int32(y) == -1 ? 0 : uint32(int32(x) % int32(y)));
            if (k == 9) return (false, x % y);
            if (k == 10) return (false, x & y);
            if (k == 11) return (false, x | y);
            if (k == 12) return (false, x ^ y);
            uint32 c = y % 32;
            if (k == 13) return (false, x << c);
            if (k == 14) return (false, uint32(int32(x) >> c));
            if (k == 15) return (false, x >> c);
            if (k == 16) return (false, (x << c) | (x >> (32 - c)));
            return (false, (x >> c) | (x << (32 - c)));
        }
    }

    function _arith64(uint256 k, uint64 x, uint64 y) internal pure returns (bool, uint256) {
        unchecked {
            if (k == 0) {
                uint256 n;
                while (n < 64 && (x >> (63 - n)) & 1 == 0) ++n;
                return (false, n);
            }
            if (k == 1) {
                uint256 n;
                while (n < 64 && (x >> n) & 1 == 0) ++n;
                return (false, n);
            }
            if (k == 2) {
                uint256 n;
                for (uint256 i; i < 64; ++i) {
                    n += (x >> i) & 1;
                }
                return (false, n);
            }
            if (k == 3) return (false, x + y);
            if (k == 4) return (false, x - y);
            if (k == 5) return (false, x * y);
            if (k >= 6 && k <= 9 && y == 0) return (true, 0);
            if (k == 6) {
                if (int64(x) == type(int64).min && int64(y) == -1) return (true, 0);
                return (false, uint64(int64(x) / int64(y)));
            }
            if (k == 7) return (false, x / y);
            if (k == 8) return (false, int64(y) == -1 ? 0 : uint64(int64(x) % int64(y)));
            if (k == 9) return (false, x % y);
            if (k == 10) return (false, x & y);
            if (k == 11) return (false, x | y);
            if (k == 12) return (false, x ^ y);
            uint64 c = y % 64;
            if (k == 13) return (false, x << c);
            if (k == 14) return (false, uint64(int64(x) >> c));
            if (k == 15) return (false, x >> c);
            if (k == 16) return (false, (x << c) | (x >> (64 - c)));
            return (false, (x >> c) | (x << (64 - c)));
        }
    }

    // forge-lint: disable-end(unsafe-typecast)
}

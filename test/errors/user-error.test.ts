// errors/: the one hierarchy. Every error a user can cause is a UserError (the CLI prints one line
// and exits 1); a programming error stays a plain Error (the CLI prints the stack and exits 2).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RETRY_DELAY_MS, TxError, withRetry } from "../../chain/clients.js";
import { ExecError } from "../../dnn/src/engine.js";
import { NonFiniteError } from "../../dnn/src/fixed.js";
import { InputError, type KernelNode, PackageError } from "../../dnn/src/package.js";
import { RpcError, reportError, UsageError, UserError } from "../../errors/index.js";
import { GraphError } from "../../game/registry.js";
import { UsageError as SessionUsageError } from "../../game/session.js";
import { StepRangeError } from "../../game/trace.js";
import { LieError, parseLie } from "../../submitter/lies.js";
import { VmMismatchError } from "../../tools/commands/infer.js";
import { ConvertError } from "../../tools/convert/onnx.js";
import { TrapError } from "../../vm/i64.js";
import { LoadError } from "../../vm/loader.js";
import { VmError } from "../../vm/machine.js";
import { WasmDecodeError } from "../../vm/wasm/decode.js";

describe("UserError", () => {
  it("is the base of every error a user can cause, each with its kind and name", () => {
    const node = { name: "conv1", onnxOp: "Conv", op: 1 } as unknown as KernelNode;
    const cases: [UserError, string, string][] = [
      [
        new ConvertError("m.onnx: unsupported op 'X'", { file: "m.onnx", op: "X" }),
        "convert",
        "ConvertError",
      ],
      [new PackageError("d: not a model package"), "package", "PackageError"],
      [new InputError("x.json: invalid JSON"), "input", "InputError"],
      [new NonFiniteError("x: element 0 is NaN"), "number", "NonFiniteError"],
      [new ExecError(3, node, 1), "exec", "ExecError"],
      [new GraphError("node 0: reads slot 3"), "graph", "GraphError"],
      [new UsageError("--model-id 'x'"), "usage", "UsageError"],
      [new StepRangeError("--node 99"), "step", "StepRangeError"],
      [new LieError("--lie 'x'"), "lie", "LieError"],
      [new VmMismatchError("node 1: the VM trapped"), "vm", "VmMismatchError"],
      [new TxError("register: reverted BadModel", "BadModel"), "tx", "TxError"],
      [new RpcError("http://x: eth_chainId: still failing"), "rpc", "RpcError"],
      [new LoadError("f.wasm: bad"), "wasm", "LoadError"],
      [new WasmDecodeError("f.wasm: bad", 7), "wasm", "WasmDecodeError"],
    ];
    for (const [e, kind, name] of cases) {
      expect(e, name).toBeInstanceOf(UserError);
      expect(e).toBeInstanceOf(Error);
      expect(e.kind).toBe(kind);
      expect(e.name).toBe(name);
      expect(reportError(e)).toEqual({ exitCode: 1, text: `opml: ${e.message}` });
    }
    expect(SessionUsageError).toBe(UsageError);
  });

  it("carries its culprit as typed fields", () => {
    const node = { name: "conv1", onnxOp: "Conv", op: 1 } as unknown as KernelNode;
    expect(new ExecError(3, node, 1).culprit).toEqual({ node: 3, nodeName: "conv1", op: "Conv" });
    expect(new TxError("register: reverted BadModel", "BadModel").culprit).toEqual({ op: "register" });
    expect(() => parseLie("bogus")).toThrow(LieError);
    try {
      parseLie("bogus");
    } catch (e) {
      expect((e as LieError).culprit).toEqual({ arg: "--lie" });
    }
  });

  it("is not the base of programming errors", () => {
    for (const e of [new VmError("program exports no function 'x'"), new TrapError("integer divide by zero")])
      expect(e).not.toBeInstanceOf(UserError);
  });
});

describe("reportError (what the CLI prints and its exit status)", () => {
  it("a user error is one line and exit 1, even when its message has line breaks", () => {
    const r = reportError(new UsageError("first\n  second"));
    expect(r).toEqual({ exitCode: 1, text: "opml: first; second" });
  });

  it("a bug is 'internal error' with the stack and exit 2", () => {
    const bug = (): never => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')");
    };
    let caught: unknown;
    try {
      bug();
    } catch (e) {
      caught = e;
    }
    const r = reportError(caught);
    expect(r.exitCode).toBe(2);
    expect(r.text).toMatch(/^opml: internal error: TypeError: Cannot read properties of undefined/);
    expect(r.text).toContain("    at ");
    expect(reportError(new RangeError("depth 99")).exitCode).toBe(2);
    expect(reportError(new SyntaxError("Unexpected token")).exitCode).toBe(2);
    expect(reportError("a string").text).toBe("opml: internal error: a string");
  });
});

describe("an RPC that stays unreachable", () => {
  const saved = RETRY_DELAY_MS.first;
  beforeAll(() => {
    RETRY_DELAY_MS.first = 1;
  });
  afterAll(() => {
    RETRY_DELAY_MS.first = saved;
  });
  it("ends the retries with an RpcError (a user error naming the call)", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const p = withRetry(() => Promise.reject(refused), "http://127.0.0.1:1: eth_chainId", 3);
    await expect(p).rejects.toBeInstanceOf(RpcError);
    await expect(p).rejects.toThrow(/^http:\/\/127\.0\.0\.1:1: eth_chainId: still failing after 3 attempts/);
  });
});

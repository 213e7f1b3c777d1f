#!/usr/bin/env python3
"""Export a PyTorch model to ONNX for the opML toolkit (and optionally convert it right away).

Usage (from the repository root; needs a Python with torch, e.g. Debian's /usr/bin/python3):

    # a Python file + class name, optionally with a state_dict
    /usr/bin/python3 tools/torch/export_torch.py --module models/net.py:Net --weights net.pth \\
        --input-shape 1,1,28,28 -o model.onnx

    # a whole pickled module (torch.save(model, ...)) or a TorchScript archive (torch.jit.save)
    /usr/bin/python3 tools/torch/export_torch.py --pt model.pt --input-shape 1,8,32 --opset 17 \\
        -o model.onnx --convert out/model

What it does:
  1. loads the module (`--module FILE.py:Class` instantiated with `--kwargs` JSON, then `--weights`
     loaded with load_state_dict(strict=True); or `--pt`, tried as TorchScript first, then torch.load);
  2. calls model.eval() (running BatchNorm statistics, no dropout);
  3. exports with torch.onnx.export: static shapes (no dynamic axes), one float32 input named "input",
     outputs named "output" (then "output1", "output2", ... if the model returns several tensors),
     do_constant_folding=True;
  4. runs onnx.checker on the result (if the `onnx` package is importable) and prints an op histogram;
  5. with `--convert DIR`, runs `npx --no opml convert model.onnx -o DIR` (in this repository's root,
     with absolute paths) and exits with its exit code.

By default torch's eval-mode export fuses BatchNorm into the preceding Conv. Pass --keep-batchnorm to
keep BatchNormalization as separate ONNX nodes (the converter folds them itself; the numbers are the same).
That mode exports eval-mode Dropout as Identity nodes; this script removes them afterwards.

Exit codes: 0 ok, 2 bad arguments / missing files, 1 load or export failure, otherwise the exit code of
the `opml convert` step.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import shlex
import subprocess
import sys
from typing import NoReturn

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(msg: str, code: int = 2) -> NoReturn:
    print(f"export_torch: error: {msg}", file=sys.stderr)
    sys.exit(code)


def parse_shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in text.replace("x", ",").split(",") if d.strip() != "")
    except ValueError:
        fail(f"--input-shape {text!r}: expected comma-separated positive integers, e.g. 1,1,28,28")
    if not dims or any(d <= 0 for d in dims):
        fail(f"--input-shape {text!r}: expected comma-separated positive integers, e.g. 1,1,28,28")
    return dims


def load_from_file(spec: str, kwargs: dict, weights: str | None, torch):  # noqa: ANN001
    path, sep, cls_name = spec.rpartition(":")
    if not sep or not path or not cls_name:
        fail(f"--module {spec!r}: expected PATH/TO/FILE.py:ClassName")
    if not os.path.isfile(path):
        fail(f"--module: file not found: {path}")
    mod_dir = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, mod_dir)  # allow sibling imports from the model file
    mod_name = os.path.splitext(os.path.basename(path))[0]
    spec_obj = importlib.util.spec_from_file_location(mod_name, path)
    if spec_obj is None or spec_obj.loader is None:
        fail(f"--module: cannot import {path} (is it a .py file?)")
    module = importlib.util.module_from_spec(spec_obj)
    sys.modules[mod_name] = module
    try:
        spec_obj.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001
        fail(f"--module: importing {path} failed: {type(e).__name__}: {e}", 1)
    cls = getattr(module, cls_name, None)
    if cls is None:
        fail(f"--module: {path} has no attribute {cls_name!r}")
    try:
        model = cls(**kwargs)
    except Exception as e:  # noqa: BLE001
        fail(f"--module: {cls_name}(**{kwargs}) failed: {type(e).__name__}: {e}", 1)
    if not isinstance(model, torch.nn.Module):
        fail(f"--module: {cls_name}(...) returned {type(model).__name__}, not a torch.nn.Module")
    if weights:
        state = torch.load(weights, map_location="cpu")
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]  # common checkpoint layout
        if isinstance(state, torch.nn.Module):
            state = state.state_dict()
        if not isinstance(state, dict):
            fail(f"--weights {weights}: expected a state_dict, got {type(state).__name__}")
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as e:
            fail(f"--weights {weights}: state_dict does not match {cls_name}:\n{e}", 1)
    return model


def load_pt(path: str, torch):  # noqa: ANN001
    try:
        return torch.jit.load(path, map_location="cpu")  # TorchScript archive
    except Exception:  # noqa: BLE001 - not TorchScript; fall back to a pickled module
        pass
    try:
        obj = torch.load(path, map_location="cpu")
    except (ModuleNotFoundError, AttributeError) as e:
        fail(f"--pt {path}: the pickled model's class cannot be imported ({e}); pass --pythonpath DIR "
             "pointing at the code that defines it, or export with --module FILE.py:Class --weights", 1)
    except Exception as e:  # noqa: BLE001
        fail(f"--pt {path}: neither a TorchScript archive nor a torch.save'd object: {type(e).__name__}: {e}", 1)
    if isinstance(obj, torch.nn.Module):
        return obj
    if isinstance(obj, dict):
        fail(f"--pt {path}: contains a state_dict/checkpoint dict, not a module; "
             "use --module FILE.py:Class --weights " + path)
    fail(f"--pt {path}: contains {type(obj).__name__}, not a torch.nn.Module")


def drop_identities(model) -> int:  # noqa: ANN001
    """Removes Identity nodes (PRESERVE-mode export leaves eval-mode Dropout as Identity). Returns count."""
    graph = model.graph
    outputs = {o.name for o in graph.output}
    rename: dict[str, str] = {}
    keep = []
    for node in graph.node:
        if node.op_type == "Identity" and node.output[0] not in outputs:
            rename[node.output[0]] = rename.get(node.input[0], node.input[0])
        else:
            keep.append(node)
    if not rename:
        return 0
    for node in keep:
        for i, name in enumerate(node.input):
            if name in rename:
                node.input[i] = rename[name]
    del graph.node[:]
    graph.node.extend(keep)
    return len(rename)


def main() -> None:
    ap = argparse.ArgumentParser(
        prog="export_torch.py",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--module", metavar="FILE.py:Class", help="Python file and nn.Module class to instantiate")
    src.add_argument("--pt", metavar="MODEL.pt", help="pickled nn.Module (torch.save) or TorchScript archive")
    ap.add_argument("--weights", metavar="STATE.pth", help="state_dict to load into --module's model")
    ap.add_argument("--kwargs", default="{}", metavar="JSON", help="constructor keyword args for --module")
    ap.add_argument("--input-shape", required=True, metavar="N,C,H,W", help="static input shape, e.g. 1,1,28,28")
    ap.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    ap.add_argument("-o", "--output", required=True, metavar="MODEL.onnx", help="ONNX file to write")
    ap.add_argument("--keep-batchnorm", action="store_true",
                    help="keep BatchNormalization nodes instead of letting torch fuse them into Conv")
    ap.add_argument("--pythonpath", action="append", default=[], metavar="DIR",
                    help="extra import path (repeatable), e.g. where a pickled --pt model's class is defined")
    ap.add_argument("--convert", metavar="DIR", help="then run `opml convert MODEL.onnx -o DIR` and exit with its code")
    ap.add_argument("--opml", default="npx --no opml", metavar="CMD",
                    help="command used for --convert, run in the toolkit's repository root "
                         "(default: 'npx --no opml'; --no stops npx from fetching an unrelated registry package)")
    args = ap.parse_args()

    # Validate cheap things before importing torch (slow) so bad invocations fail fast.
    shape = parse_shape(args.input_shape)
    if args.weights and not args.module:
        fail("--weights only applies to --module (a --pt file already contains its weights)")
    if args.weights and not os.path.isfile(args.weights):
        fail(f"--weights: file not found: {args.weights}")
    if args.pt and not os.path.isfile(args.pt):
        fail(f"--pt: file not found: {args.pt}")
    if args.module and args.module.rpartition(":")[0] and not os.path.isfile(args.module.rpartition(":")[0]):
        fail(f"--module: file not found: {args.module.rpartition(':')[0]}")
    try:
        kwargs = json.loads(args.kwargs)
    except json.JSONDecodeError as e:
        fail(f"--kwargs: invalid JSON: {e}")
    if not isinstance(kwargs, dict):
        fail("--kwargs: expected a JSON object, e.g. '{\"hidden\": 64}'")
    if not 7 <= args.opset <= 17:
        fail(f"--opset {args.opset}: this torch.onnx exporter supports opsets 7..17")
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        fail(f"-o: directory does not exist: {out_dir}")

    # Pickled modules (--pt) and --module files import their classes by module name: make the current
    # directory, the model file's directory and any --pythonpath entries importable.
    for d in [os.getcwd(), os.path.dirname(os.path.abspath(args.pt or "."))] + args.pythonpath:
        if not os.path.isdir(d):
            fail(f"--pythonpath: not a directory: {d}")
        sys.path.insert(0, os.path.abspath(d))

    try:
        import torch
    except ImportError:
        fail(f"cannot import torch with {sys.executable}; use a Python that has it (e.g. /usr/bin/python3)")

    model = load_from_file(args.module, kwargs, args.weights, torch) if args.module else load_pt(args.pt, torch)
    model.eval()
    dummy = torch.zeros(shape, dtype=torch.float32)

    with torch.no_grad():
        try:
            sample = model(dummy)
        except Exception as e:  # noqa: BLE001
            fail(f"model forward on an input of shape {list(shape)} failed: {type(e).__name__}: {e}", 1)
    n_out = len(sample) if isinstance(sample, (tuple, list)) else 1
    output_names = ["output"] + [f"output{i}" for i in range(1, n_out)]

    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*constant folding be turned off.*")
        warnings.filterwarnings("ignore", message=".*skipping _decide_input_format.*")  # TorchScript inputs
        try:
            torch.onnx.export(
                model,
                dummy,
                args.output,
                input_names=["input"],
                output_names=output_names,
                opset_version=args.opset,
                do_constant_folding=True,
                export_params=True,
                training=torch.onnx.TrainingMode.PRESERVE if args.keep_batchnorm else torch.onnx.TrainingMode.EVAL,
            )
        except Exception as e:  # noqa: BLE001
            fail(f"torch.onnx.export failed: {type(e).__name__}: {e}", 1)

    try:
        import onnx
    except ImportError:
        onnx = None
    if onnx is not None:
        m = onnx.load(args.output)
        if drop_identities(m):
            onnx.save(m, args.output)
        try:
            onnx.checker.check_model(m, full_check=True)
        except Exception as e:  # noqa: BLE001
            fail(f"onnx.checker rejected {args.output}: {e}", 1)
        hist = dict(sorted(collections.Counter(n.op_type for n in m.graph.node).items()))
        print(f"wrote {args.output} (opset {args.opset}, {os.path.getsize(args.output)} bytes); ops: {hist}")
    else:
        print(f"wrote {args.output} (opset {args.opset}); `onnx` not installed, skipped checker")

    if args.convert:
        cmd = shlex.split(args.opml) + ["convert", os.path.abspath(args.output), "-o", os.path.abspath(args.convert)]
        print(f"+ (cd {shlex.quote(REPO)} && {' '.join(shlex.quote(c) for c in cmd)})", flush=True)
        try:
            rc = subprocess.call(cmd, cwd=REPO)
        except FileNotFoundError:
            fail(f"--convert: command not found: {cmd[0]}", 127)
        if rc < 0:  # killed by a signal
            rc = 128 - rc
        if rc != 0:
            print(f"export_torch: `opml convert` exited with code {rc}", file=sys.stderr)
        sys.exit(rc)


if __name__ == "__main__":
    main()

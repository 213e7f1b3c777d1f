#!/usr/bin/env python3
"""Export the model zoo: real torchvision / torch.nn architectures with random seeded weights.

Usage (from the repository root; Debian's torch 1.13 + torchvision 0.14: /usr/bin/python3):

    /usr/bin/python3 tools/torch/zoo.py --list                      # the zoo as JSON lines
    /usr/bin/python3 tools/torch/zoo.py --committed -o fixtures/zoo # rewrite the committed fixtures
    /usr/bin/python3 tools/torch/zoo.py --script -o /work/scale/zoo # the big ones, never committed
    /usr/bin/python3 tools/torch/zoo.py --models vit_tiny,lstm -o DIR

For each model NAME it writes DIR/NAME.onnx, DIR/NAME.input.json (the toolkit's input format,
{"shape":[…],"data":[…]}, what `opml infer --input` reads) and adds a row to DIR/zoo.json (source,
parameter count, opset, input shape, kind: classifier | segmentation | sequence | separation, for
tools/zoo.ts).

Pretrained weights cannot be downloaded here, so weights are torch's own random init under
torch.manual_seed(a per-model seed). BatchNorm running statistics are then calibrated on seeded
random batches (a few train-mode forwards with momentum=None, i.e. the plain average) so the eval-mode
activations stay O(1) like a trained net's: with the init's mean 0 / var 1 a deep random ResNet's
activations grow by orders of magnitude, which no trained model does. Determinism: fixed seeds, two
threads, torch.use_deterministic_algorithms(True); inputs are multiples of 2^-8 (exact in float32 and
in Q16.16, so onnxruntime and the converter see the same numbers).

All exports: static shapes, batch 1, one float32 input "input", one output "output",
do_constant_folding=True, torch's eval-mode export (BatchNorm folded into Conv where torch does it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zlib
from dataclasses import dataclass
from typing import Callable

# Committed under fixtures/zoo/ (each ≤ 5 MB, ≈ 12 MB together); the rest is built on demand only.
# Input sizes are small because a CONV kernel has no split yet (tools/convert/lower/split.ts): every
# Conv must fit the default step budget of 2^26 as one node (SqueezeNet at 64×64 already does not).
COMMITTED = [
    "squeezenet1_1",
    "shufflenet_v2_x0_5",
    "mobilenet_v3_small_w05",
    "vit_tiny",
    "lraspp_mobilenet_v3_small_w05",
    "lstm",
    "gru_bidir",
    "conv_tasnet_tiny",
]
SCRIPT = [
    "resnet18",
    "mobilenet_v3_small",
    "efficientnet_b0",
    "lraspp_mobilenet_v3_large",
    "deeplabv3_mobilenet_v3_large",
    "fcn_resnet50",
]


@dataclass
class Spec:
    source: str
    kind: str  # classifier | segmentation | sequence | separation (waveforms: no argmax)
    shape: tuple[int, ...]
    opset: int
    build: Callable[[], "object"]


def specs() -> dict[str, Spec]:
    import torch
    import torchvision
    from torch import nn
    from torchvision.models import segmentation as seg
    from torchvision.models._utils import IntermediateLayerGetter

    tv = torchvision.models

    class Seq(nn.Module):
        """A 2-layer recurrent tagger: [1, T, F] → per-step logits [1, T, classes]."""

        def __init__(self, cell: type, bidirectional: bool) -> None:
            super().__init__()
            self.rnn = cell(16, 32, num_layers=2, batch_first=True, bidirectional=bidirectional)
            self.head = nn.Linear(64 if bidirectional else 32, 10)

        def forward(self, x):  # noqa: ANN001, ANN201
            y, _ = self.rnn(x)
            return self.head(y)

    class TasBlock(nn.Module):
        """Conv-TasNet's 1-D conv block: 1x1 → PReLU → gLN → depthwise dilated → PReLU → gLN → 1x1, residual."""

        def __init__(self, b: int, h: int, dilation: int) -> None:
            super().__init__()
            self.net = nn.Sequential(
                nn.Conv1d(b, h, 1),
                nn.PReLU(),
                nn.GroupNorm(1, h),
                nn.Conv1d(h, h, 3, padding=dilation, dilation=dilation, groups=h),
                nn.PReLU(),
                nn.GroupNorm(1, h),
                nn.Conv1d(h, b, 1),
            )

        def forward(self, x):  # noqa: ANN001, ANN201
            return x + self.net(x)

    class TasNet(nn.Module):
        """Encoder Conv1d(1,N,L,stride L/2) → gLN → separator (dilated blocks) → sigmoid masks → ConvTranspose1d decoder."""

        def __init__(self, n: int = 32, l: int = 16, b: int = 16, h: int = 32, spk: int = 2) -> None:
            super().__init__()
            self.n, self.spk = n, spk
            self.encoder = nn.Conv1d(1, n, l, stride=l // 2, bias=False)
            self.norm = nn.GroupNorm(1, n)
            self.bottleneck = nn.Conv1d(n, b, 1)
            self.blocks = nn.Sequential(*[TasBlock(b, h, 2**i) for i in range(4)])
            self.mask = nn.Conv1d(b, spk * n, 1)
            self.decoder = nn.ConvTranspose1d(n, 1, l, stride=l // 2, bias=False)

        def forward(self, x):  # noqa: ANN001, ANN201
            w = torch.relu(self.encoder(x))  # [1, N, K]
            m = torch.sigmoid(self.mask(self.blocks(self.bottleneck(self.norm(w)))))
            m = m.view(self.spk, self.n, -1)  # batch 1: one row per speaker
            return self.decoder(w * m)  # [spk, 1, T]

    def lraspp_small() -> nn.Module:
        # torchvision's LR-ASPP head on a half-width MobileNetV3-Small backbone: the same wiring as
        # lraspp_mobilenet_v3_large (low = the last stride-8 stage, high = the last feature map).
        backbone = tv.mobilenet_v3_small(width_mult=0.5).features
        stages = [0] + [i for i, b in enumerate(backbone) if getattr(b, "_is_cn", False)] + [len(backbone) - 1]
        low, high = stages[-4], stages[-1]
        body = IntermediateLayerGetter(backbone, return_layers={str(low): "low", str(high): "high"})
        return seg.lraspp.LRASPP(body, backbone[low].out_channels, backbone[high].out_channels, 21, 64)

    def vit_tiny() -> nn.Module:
        m = tv.VisionTransformer(
            image_size=64, patch_size=8, num_layers=4, num_heads=4, hidden_dim=128, mlp_dim=256, num_classes=100
        )
        # torchvision zero-inits the head (for fine-tuning): every logit would be 0. Draw it like a Linear.
        nn.init.normal_(m.heads.head.weight, std=128**-0.5)
        return m

    img = lambda s: (1, 3, s, s)  # noqa: E731
    return {
        "squeezenet1_1": Spec("torchvision squeezenet1_1(num_classes=100)", "classifier", img(56), 13,
                              lambda: tv.squeezenet1_1(num_classes=100)),
        "shufflenet_v2_x0_5": Spec("torchvision shufflenet_v2_x0_5(num_classes=100)", "classifier", img(96), 13,
                                   lambda: tv.shufflenet_v2_x0_5(num_classes=100)),
        "mobilenet_v3_small_w05": Spec("torchvision mobilenet_v3_small(width_mult=0.5, num_classes=100)",
                                       "classifier", img(96), 14,
                                       lambda: tv.mobilenet_v3_small(width_mult=0.5, num_classes=100)),
        "vit_tiny": Spec("torchvision VisionTransformer(64, patch 8, 4 layers, 4 heads, d 128, mlp 256, 100 classes)",
                         "classifier", img(64), 17, vit_tiny),
        "lraspp_mobilenet_v3_small_w05": Spec("torchvision LRASPP head on mobilenet_v3_small(width_mult=0.5), 21 classes",
                                              "segmentation", img(128), 13, lraspp_small),
        "lstm": Spec("torch.nn.LSTM(16, 32, num_layers=2, batch_first) + Linear(32, 10)", "sequence",
                     (1, 12, 16), 14, lambda: Seq(nn.LSTM, False)),
        "gru_bidir": Spec("torch.nn.GRU(16, 32, num_layers=2, batch_first, bidirectional) + Linear(64, 10)",
                          "sequence", (1, 12, 16), 14, lambda: Seq(nn.GRU, True)),
        "conv_tasnet_tiny": Spec("Conv-TasNet-like: Conv1d encoder, 4 dilated depthwise blocks (PReLU, gLN), "
                                 "ConvTranspose1d decoder, 2 sources", "separation", (1, 1, 1024), 13, TasNet),
        "resnet18": Spec("torchvision resnet18()", "classifier", img(224), 13, lambda: tv.resnet18()),
        "mobilenet_v3_small": Spec("torchvision mobilenet_v3_small()", "classifier", img(224), 14,
                                   lambda: tv.mobilenet_v3_small()),
        "efficientnet_b0": Spec("torchvision efficientnet_b0()", "classifier", img(224), 13,
                                lambda: tv.efficientnet_b0()),
        "lraspp_mobilenet_v3_large": Spec("torchvision lraspp_mobilenet_v3_large(weights_backbone=None)",
                                          "segmentation", img(128), 13,
                                          lambda: seg.lraspp_mobilenet_v3_large(weights_backbone=None)),
        "deeplabv3_mobilenet_v3_large": Spec("torchvision deeplabv3_mobilenet_v3_large(weights_backbone=None)",
                                             "segmentation", img(128), 13,
                                             lambda: seg.deeplabv3_mobilenet_v3_large(weights_backbone=None)),
        "fcn_resnet50": Spec("torchvision fcn_resnet50(weights_backbone=None)", "segmentation", img(128), 13,
                             lambda: seg.fcn_resnet50(weights_backbone=None)),
    }


def export(name: str, spec: Spec, out_dir: str) -> dict:
    import torch
    from torch import nn

    seed = zlib.crc32(name.encode())
    torch.manual_seed(seed)
    model = spec.build()
    model.eval()

    class Wrap(nn.Module):
        def __init__(self, m: nn.Module) -> None:
            super().__init__()
            self.m = m

        def forward(self, x):  # noqa: ANN001, ANN201
            y = self.m(x)
            return y["out"] if isinstance(y, dict) else y

    model = Wrap(model)
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    g = torch.Generator().manual_seed(seed + 1)
    if bns:
        # Calibrate BN statistics (see the module doc): cumulative average over 4 seeded batches of 4,
        # dropout off (train() would also enable it, so set BN layers alone to train mode).
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
            m.train()
        with torch.no_grad():
            for _ in range(4):
                model(torch.randn((4,) + spec.shape[1:], generator=g))
        model.eval()
    x = torch.round(torch.randn(spec.shape, generator=g) * 256) / 256
    params = sum(p.numel() for p in model.parameters())
    onnx_file = os.path.join(out_dir, f"{name}.onnx")
    with torch.no_grad():
        ref = model(x)
    # Not under no_grad: with grad enabled nn.MultiheadAttention skips its fused fast path
    # (aten::_native_multi_head_attention, which torch 1.13 cannot export) and traces plain ops.
    torch.onnx.export(model, (x,), onnx_file, opset_version=spec.opset, input_names=["input"],
                      output_names=["output"], do_constant_folding=True)
    import onnx

    m = onnx.load(onnx_file)
    onnx.checker.check_model(m)
    ops: dict[str, int] = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    with open(os.path.join(out_dir, f"{name}.input.json"), "w") as f:
        json.dump({"shape": list(spec.shape), "data": [float(v) for v in x.flatten().tolist()]}, f,
                  separators=(",", ":"))
    return {
        "name": name,
        "source": spec.source,
        "kind": spec.kind,
        "params": params,
        "opset": spec.opset,
        "input": list(spec.shape),
        "output": list(ref.shape),
        "bytes": os.path.getsize(onnx_file),
        "ops": dict(sorted(ops.items())),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", action="store_true", help="print the zoo (name, committed, kind) as JSON lines")
    ap.add_argument("--committed", action="store_true", help="the models committed under fixtures/zoo")
    ap.add_argument("--script", action="store_true", help="the models built on demand only")
    ap.add_argument("--models", help="comma-separated names")
    ap.add_argument("-o", "--out", help="output directory")
    args = ap.parse_args()
    if args.list:
        for n in COMMITTED + SCRIPT:
            print(json.dumps({"name": n, "committed": n in COMMITTED}))
        return
    names = (COMMITTED if args.committed else []) + (SCRIPT if args.script else [])
    names += [n for n in (args.models or "").split(",") if n]
    if not names or not args.out:
        print("zoo: error: give -o DIR and --committed, --script or --models", file=sys.stderr)
        sys.exit(2)
    unknown = [n for n in names if n not in COMMITTED + SCRIPT]
    if unknown:
        print(f"zoo: error: unknown model {unknown[0]!r} (models: {', '.join(COMMITTED + SCRIPT)})", file=sys.stderr)
        sys.exit(2)

    import torch

    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    index_file = os.path.join(args.out, "zoo.json")
    index = {}
    if os.path.exists(index_file):
        with open(index_file) as f:
            index = {r["name"]: r for r in json.load(f)}
    table = specs()
    failed = 0
    for n in names:
        try:
            row = export(n, table[n], args.out)
        except Exception as e:  # one model's export failure must not stop the others
            failed += 1
            print(f"zoo: {n}: export failed: {type(e).__name__}: {str(e).splitlines()[0]}", file=sys.stderr)
            continue
        index[n] = row
        print(f"zoo: {n}: {row['params']:,} params, {row['bytes'] / 1e6:.2f} MB, opset {row['opset']}, "
              f"{row['input']} → {row['output']}", file=sys.stderr)
        with open(index_file, "w") as f:
            json.dump([index[k] for k in sorted(index)], f, indent=1)
            f.write("\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

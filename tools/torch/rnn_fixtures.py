#!/usr/bin/env python3
"""Export tiny torch recurrent models (nn.LSTM / nn.GRU / nn.RNN, batch_first, bidirectional, 2 layers)
with torch.onnx.export at opsets 13 and 17, the way typical models are exported, for
test/tools/convert/rnn.test.ts. Needs a Python with torch (Debian's /usr/bin/python3 has 1.13).

    /usr/bin/python3 tools/torch/rnn_fixtures.py OUT_DIR [--hidden 8 --seq 5 ...]

Weights come from torch.manual_seed(0), so a re-run writes the same files. Each model returns
(output, h_n) (LSTM: output, h_n, c_n). The fixtures committed under fixtures/rnn/ use the defaults
(a few KB each); pass a bigger --hidden/--seq to produce scale models elsewhere (e.g. /work/scale/rnn).
"""

import argparse
import os

import torch
from torch import nn


class Wrap(nn.Module):
    def __init__(self, cell: nn.Module, with_h0: bool):
        super().__init__()
        self.cell = cell
        self.with_h0 = with_h0

    def forward(self, x, *state):
        out = self.cell(x, *state) if state else self.cell(x)
        y, h = out
        if isinstance(h, tuple):
            return (y, h[0], h[1])
        return (y, h)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--hidden", type=int, default=8)
    ap.add_argument("--input", type=int, default=4)
    ap.add_argument("--seq", type=int, default=5)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--opsets", default="13,17")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for kind in ("LSTM", "GRU", "RNN"):
        for opset in [int(o) for o in a.opsets.split(",")]:
            torch.manual_seed(0)
            cell = getattr(nn, kind)(a.input, a.hidden, num_layers=2, batch_first=True, bidirectional=True)
            m = Wrap(cell, False).eval()
            x = torch.randn(a.batch, a.seq, a.input)
            names = ["output", "h_n"] + (["c_n"] if kind == "LSTM" else [])
            f = os.path.join(a.out, f"{kind.lower()}_bi2_bf_op{opset}.onnx")
            torch.onnx.export(m, (x,), f, opset_version=opset, input_names=["input"], output_names=names,
                              do_constant_folding=True)
            print(f, os.path.getsize(f))


if __name__ == "__main__":
    main()

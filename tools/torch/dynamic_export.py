#!/usr/bin/env python3
"""Export a tiny transformer block with dynamic batch and sequence axes (test fixture).

Usage (from the repository root, Debian's torch: /usr/bin/python3):

    /usr/bin/python3 tools/torch/dynamic_export.py -o fixtures/dynamic/dynamic_block.onnx

torch.onnx.export with dynamic_axes writes the shape arithmetic of the forward pass into the
graph instead of constants: Shape/Gather/Unsqueeze/Concat for view() sizes, Range for
arange(seq), Expand to the batch, ConstantOfShape for zeros(), Equal/Where/LessOrEqual for the
padding and causal masks. `opml convert --input-shape ids=B,S` must fold all of it
(test/tools/convert/dynamic-export.test.ts). The graph input is token ids (int64, [batch, seq]),
the output logits [batch, seq, vocab]; weights are random (torch.manual_seed(0)).
"""

from __future__ import annotations

import argparse
import math

import torch
from torch import nn

VOCAB, D, HEADS, MAX_LEN = 32, 16, 2, 64


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(VOCAB, D)
        self.pos = nn.Embedding(MAX_LEN, D)
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)
        self.ln1 = nn.LayerNorm(D)
        self.ln2 = nn.LayerNorm(D)
        self.ff = nn.Sequential(nn.Linear(D, 2 * D), nn.GELU(), nn.Linear(2 * D, D))
        self.head = nn.Linear(D, VOCAB)
        self.cls = nn.Parameter(torch.randn(1, 1, D) * 0.1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        b, s = ids.shape
        pos = torch.arange(s, device=ids.device)  # Range over a dim of the input
        x = self.tok(ids) + self.pos(pos)[None]
        x = x + self.cls.expand(b, s, -1)  # Expand to the (dynamic) batch and sequence
        x = x + torch.zeros(b, s, D)  # ConstantOfShape
        h = self.ln1(x)
        q, k, v = self.qkv(h).split(D, dim=-1)
        dh = D // HEADS
        q = q.view(b, s, HEADS, dh).transpose(1, 2)  # Shape/Gather/Unsqueeze/Concat → Reshape
        k = k.view(b, s, HEADS, dh).transpose(1, 2)
        v = v.view(b, s, HEADS, dh).transpose(1, 2)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
        causal = pos[None, :] <= pos[:, None]  # a mask from comparisons of positions
        pad = (ids == 0)[:, None, None, :]  # runtime: Equal on the data
        att = att.masked_fill(~causal, float("-inf"))
        eye = torch.eye(s) > 0.5  # EyeLike (a float eye: onnxruntime has no bool one)
        att = torch.where(pad & ~eye, torch.full_like(att, -1e4), att)
        att = att.softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, s, D)
        x = x + self.proj(y)
        x = x + self.ff(self.ln2(x))
        return self.head(x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--opset", type=int, default=14)
    a = ap.parse_args()
    torch.manual_seed(0)
    m = Block().eval()
    ids = torch.randint(1, VOCAB, (2, 5))
    torch.onnx.export(
        m,
        (ids,),
        a.out,
        input_names=["ids"],
        output_names=["logits"],
        dynamic_axes={"ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}},
        opset_version=a.opset,
    )


if __name__ == "__main__":
    main()

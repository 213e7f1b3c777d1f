#!/usr/bin/env python3
"""Build a nanoGPT-style decoder with random seeded weights and export it to ONNX (scale tests).

Usage (from the repository root, Debian's torch: /usr/bin/python3):

    /usr/bin/python3 tools/torch/nanogpt.py --size s -o /tmp/gpt-s.onnx [--input /tmp/gpt-s.json]
    /usr/bin/python3 tools/torch/nanogpt.py --layers 2 --d 64 --heads 2 --vocab 512 --ctx 16 -o x.onnx

Sizes (parameters with the tied embedding counted once):
    s  ≈ 5 M   (4 layers,  d=256, 4 heads,  vocab 4096,  context 32)
    m  ≈ 34 M  (8 layers,  d=512, 8 heads,  vocab 8192,  context 64)
    l  ≈ 124 M (12 layers, d=768, 12 heads, vocab 50257, context 64: GPT-2 small's shape)

The model is written the way nanoGPT writes it, because that is what users export: a causal mask
buffer applied with `masked_fill(mask == 0, float('-inf'))`, GELU (erf form), LayerNorm, a tied
lm_head. The graph input is the token ids (int64, shape [1, ctx]); the output is the logits
[1, ctx, vocab]. Weights are drawn with torch.manual_seed(--seed), scaled like GPT-2's init
(std 0.02), so activations stay in a realistic range.

With --input FILE, also writes a token-id input JSON for `opml infer` / `opml demo`:
{"shape":[1,ctx],"data":[...]} with ids drawn from the same seed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

SIZES = {
    "s": dict(layers=4, d=256, heads=4, vocab=4096, ctx=32),
    "m": dict(layers=8, d=512, heads=8, vocab=8192, ctx=64),
    "l": dict(layers=12, d=768, heads=12, vocab=50257, ctx=64),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES))
    for k in ("layers", "d", "heads", "vocab", "ctx"):
        ap.add_argument(f"--{k}", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--input", help="also write a token-id input JSON here")
    args = ap.parse_args()
    cfg = dict(SIZES[args.size]) if args.size else {}
    for k in ("layers", "d", "heads", "vocab", "ctx"):
        v = getattr(args, k)
        if v is not None:
            cfg[k] = v
    missing = [k for k in ("layers", "d", "heads", "vocab", "ctx") if k not in cfg]
    if missing:
        print(f"nanogpt: error: give --size or all of --{', --'.join(missing)}", file=sys.stderr)
        sys.exit(2)
    if cfg["d"] % cfg["heads"]:
        print(f"nanogpt: error: --d {cfg['d']} is not a multiple of --heads {cfg['heads']}", file=sys.stderr)
        sys.exit(2)

    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(args.seed)

    class SelfAttention(nn.Module):
        def __init__(self, d: int, heads: int, ctx: int) -> None:
            super().__init__()
            self.c_attn = nn.Linear(d, 3 * d)
            self.c_proj = nn.Linear(d, d)
            self.heads = heads
            self.d = d
            self.register_buffer("bias", torch.tril(torch.ones(ctx, ctx)).view(1, 1, ctx, ctx))

        def forward(self, x):  # noqa: ANN001, ANN201
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.d, dim=2)
            hs = C // self.heads
            k = k.view(B, T, self.heads, hs).transpose(1, 2)
            q = q.view(B, T, self.heads, hs).transpose(1, 2)
            v = v.view(B, T, self.heads, hs).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class Block(nn.Module):
        def __init__(self, d: int, heads: int, ctx: int) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(d)
            self.attn = SelfAttention(d, heads, ctx)
            self.ln_2 = nn.LayerNorm(d)
            self.c_fc = nn.Linear(d, 4 * d)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * d, d)

        def forward(self, x):  # noqa: ANN001, ANN201
            x = x + self.attn(self.ln_1(x))
            return x + self.c_proj(self.gelu(self.c_fc(self.ln_2(x))))

    class GPT(nn.Module):
        def __init__(self, layers: int, d: int, heads: int, vocab: int, ctx: int) -> None:
            super().__init__()
            self.wte = nn.Embedding(vocab, d)
            self.wpe = nn.Embedding(ctx, d)
            self.h = nn.ModuleList([Block(d, heads, ctx) for _ in range(layers)])
            self.ln_f = nn.LayerNorm(d)
            self.lm_head = nn.Linear(d, vocab, bias=False)
            self.wte.weight = self.lm_head.weight  # tied, as in nanoGPT
            for name, p in self.named_parameters():
                if name.endswith("weight") and p.dim() == 2:
                    nn.init.normal_(p, mean=0.0, std=0.02)
                elif name.endswith("bias"):
                    nn.init.normal_(p, mean=0.0, std=0.01)

        def forward(self, idx):  # noqa: ANN001, ANN201
            T = idx.size(1)
            pos = torch.arange(0, T, dtype=torch.long).unsqueeze(0)
            x = self.wte(idx) + self.wpe(pos)
            for block in self.h:
                x = block(x)
            return self.lm_head(self.ln_f(x))

    model = GPT(**cfg).eval()
    n_params = sum(p.numel() for p in model.parameters())
    ids = torch.randint(0, cfg["vocab"], (1, cfg["ctx"]), dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids,),
            args.output,
            input_names=["input"],
            output_names=["output"],
            opset_version=args.opset,
            do_constant_folding=True,
        )
    if args.input:
        with open(args.input, "w") as f:
            json.dump({"shape": [1, cfg["ctx"]], "data": ids.flatten().tolist()}, f)
    print(json.dumps({"output": args.output, "params": n_params, **cfg}))


if __name__ == "__main__":
    main()

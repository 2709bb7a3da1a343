#!/usr/bin/env python3
"""PyTorch anchor for `maan bench train`: the same one-stream MAAN training step in PyTorch.

Model (paper section 2.4 / 3.1): attention FC D x 256, LeakyReLU(0.01), FC 256 x 1, sigmoid;
MAA by the batched closed form (Gauss-Legendre quadrature with ceil(T/2) nodes, the same
formula as `maa_core::marginalized_weights`); classifier FC D x C; mean binary cross-entropy on
the logits; Adam, learning rate 5e-4. Batch 16, T = 20, D = 1024, C = 20 by default.

An iteration is: pick a batch (from 64 pre-generated random batches already on the device),
forward, loss, backward, Adam step, and `loss.item()` (a device sync), as in `maan bench
train`. 30 warm-up iterations, then the timed ones.

Usage (numbers only mean something beside `maan bench train` run on the same machine):

    python3 crates/maan-model/benches/pytorch_anchor.py --device cpu --threads 2
    python3 crates/maan-model/benches/pytorch_anchor.py --device cuda
    python3 crates/maan-model/benches/pytorch_anchor.py --device cuda --fused
    python3 crates/maan-model/benches/pytorch_anchor.py --device cuda --fused --compile default
    python3 crates/maan-model/benches/pytorch_anchor.py --device cuda --fused --compile reduce-overhead

`--fused` uses `torch.optim.Adam(fused=True)` (one kernel for all parameters, CUDA only);
`--compile MODE` wraps forward + loss in `torch.compile(mode=MODE)` ("reduce-overhead" also
replays CUDA graphs); compilation happens in the warm-up and is reported as `warmup_seconds`.

It prints one line of JSON.
"""
import argparse
import json
import math
import time

import numpy as np
import torch
from torch import nn


def gauss_legendre_01(g):
    nodes, weights = np.polynomial.legendre.leggauss(g)
    return (nodes + 1.0) / 2.0, weights / 2.0


class MaaWeights(nn.Module):
    """lambda_i = p_i * sum_g w_g * prod_{k != i} (1 - p_k + p_k u_g)."""

    def __init__(self, time_steps):
        super().__init__()
        u, w = gauss_legendre_01(math.ceil(time_steps / 2))
        self.register_buffer("um1", torch.tensor(u - 1.0, dtype=torch.float32))
        self.register_buffer("w", torch.tensor(w, dtype=torch.float32))

    def forward(self, p):  # p [B, T]
        logs = torch.log1p(p.unsqueeze(-1) * self.um1)  # [B, T, G]
        total = logs.sum(dim=1, keepdim=True)
        context = (torch.exp(total - logs) * self.w).sum(dim=-1)
        return p * context


class Stream(nn.Module):
    def __init__(self, dim, classes, hidden, time_steps):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.LeakyReLU(0.01)
        self.fc2 = nn.Linear(hidden, 1)
        self.classifier = nn.Linear(dim, classes)
        self.maa = MaaWeights(time_steps)

    def forward(self, x):  # x [B, T, D]
        p = torch.sigmoid(self.fc2(self.act(self.fc1(x)))).squeeze(-1)
        lam = self.maa(p)
        pooled = torch.bmm(lam.unsqueeze(1), x).squeeze(1)
        return self.classifier(pooled)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave)")
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--segments", type=int, default=20)
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--classes", type=int, default=20)
    ap.add_argument("--fused", action="store_true", help="torch.optim.Adam(fused=True)")
    ap.add_argument(
        "--compile",
        default="none",
        choices=["none", "default", "reduce-overhead", "max-autotune-no-cudagraphs"],
        help="torch.compile mode of forward + loss",
    )
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dev = torch.device(args.device)
    model = Stream(args.dim, args.classes, 256, args.segments).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4, fused=args.fused or None)
    loss_fn = nn.BCEWithLogitsLoss()

    def forward_loss(x, y):
        return loss_fn(model(x), y)

    if args.compile != "none":
        forward_loss = torch.compile(forward_loss, mode=args.compile)
    xs = torch.randn(64, args.batch_size, args.segments, args.dim, device=dev)
    ys = (torch.rand(64, args.batch_size, args.classes, device=dev) < 0.1).float()

    def step(i):
        x, y = xs[i % 64], ys[i % 64]
        opt.zero_grad(set_to_none=True)
        loss = forward_loss(x, y)
        loss.backward()
        opt.step()
        return loss.item()

    warm_start = time.perf_counter()
    for i in range(args.warmup):
        step(i)
    warmup_seconds = time.perf_counter() - warm_start
    start = time.perf_counter()
    for i in range(args.iterations):
        step(args.warmup + i)
    secs = time.perf_counter() - start
    print(
        json.dumps(
            {
                "framework": f"pytorch {torch.__version__}",
                "device": args.device,
                "threads": torch.get_num_threads(),
                "batch_size": args.batch_size,
                "segments": args.segments,
                "dim": args.dim,
                "classes": args.classes,
                "iterations": args.iterations,
                "fused_adam": bool(args.fused),
                "compile": args.compile,
                "warmup_seconds": warmup_seconds,
                "iterations_per_second": args.iterations / secs,
                "ms_per_iteration": 1e3 * secs / args.iterations,
            }
        )
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PyTorch eager reference of vwn's bench-small configs (issue #16), for side-by-side timing.

Same model and training step as `vwn bench` (packages/cli/src/bench/harness.ts): bytes (V = 256),
D = 256, 4 layers, 4 heads, T = 256, batch 8; pre-norm RMSNorm blocks with RoPE causal attention
and a SwiGLU FFN (F = 688) or an 8-expert top-2 MoE (expert hidden 344, Switch balance loss);
VWN variants use the over-width embedding (V × D'), dynamic GHC (PAPER.md §5) around every sublayer
and the over-width head (GroupNorm of r groups, W_reduce, RMSNorm, unembedding). One step =
forward, cross-entropy, backward, global-norm clipping (1.0) and AdamW (β = 0.9/0.95, wd 0.1).
Written the way a PyTorch user would (eager ops, einsum/bmm), no torch.compile (PyTorch 1.13).

    python3 bench/pytorch/reference.py --config bench-small-r4 --steps 5 [--threads 2] [--json]

Prints the median step time of `--steps` timed steps after one warm-up step.
Not part of any package; see bench/README.md.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

V, D, L, HEADS, T, BATCH, FFN = 256, 256, 4, 4, 256, 8, 688
CONFIGS = {
    "bench-small": dict(vwn=None, moe=False),
    "bench-small-r2": dict(vwn=(4, 8), moe=False),
    "bench-small-r4": dict(vwn=(8, 32), moe=False),
    "bench-small-moe": dict(vwn=None, moe=True),
    "bench-small-moe-r2": dict(vwn=(4, 8), moe=True),
    "bench-small-moe-r4": dict(vwn=(8, 32), moe=True),
}


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.gain


def rope_tables(t, hd, base=10000.0):
    inv = base ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    ang = torch.arange(t, dtype=torch.float32)[:, None] * inv[None, :]
    ang = torch.cat([ang, ang], -1)
    return ang.cos(), ang.sin()


def rotate_half(x):
    a, b = x.chunk(2, -1)
    return torch.cat([-b, a], -1)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = RMSNorm(D)
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(D, D, bias=False) for _ in range(4))
        cos, sin = rope_tables(T, D // HEADS)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.register_buffer("mask", torch.full((T, T), float("-inf")).triu(1), persistent=False)

    def forward(self, x):  # x: [B·T, D]
        b, hd = x.shape[0] // T, D // HEADS
        h = self.norm(x)
        heads = lambda w: w(h).view(b, T, HEADS, hd).transpose(1, 2)  # [B, H, T, hd]
        rope = lambda u: u * self.cos + rotate_half(u) * self.sin
        q, k, v = rope(heads(self.wq)), rope(heads(self.wk)), heads(self.wv)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + self.mask, -1)
        return self.wo((att @ v).transpose(1, 2).reshape(b * T, D))


class SwiGLU(nn.Module):
    def __init__(self, hidden=FFN, norm=True):
        super().__init__()
        self.norm = RMSNorm(D) if norm else nn.Identity()
        self.w1, self.w3 = nn.Linear(D, hidden, bias=False), nn.Linear(D, hidden, bias=False)
        self.w2 = nn.Linear(hidden, D, bias=False)

    def forward(self, x):
        h = self.norm(x)
        return self.w2(F.silu(self.w1(h)) * self.w3(h))


class MoE(nn.Module):
    """8 experts, top-2 (softmax router, renormalized top-k gates), dropless, Switch balance loss."""

    def __init__(self, experts=8, top_k=2):
        super().__init__()
        self.norm = RMSNorm(D)
        self.router = nn.Linear(D, experts, bias=False)
        self.experts = nn.ModuleList(SwiGLU(round(FFN / top_k), norm=False) for _ in range(experts))
        self.k = top_k
        self.aux = torch.zeros(())

    def forward(self, x):
        h = self.norm(x)
        probs = torch.softmax(self.router(h), -1)
        gate, idx = probs.topk(self.k, -1)
        gate = gate / gate.sum(-1, keepdim=True)
        out = torch.zeros_like(h)
        E = len(self.experts)
        frac = torch.zeros(E)
        for e, expert in enumerate(self.experts):
            tok, slot = (idx == e).nonzero(as_tuple=True)
            frac[e] = tok.numel() / (h.shape[0] * self.k)
            if tok.numel():
                out.index_add_(0, tok, expert(h[tok]) * gate[tok, slot, None])
        self.aux = 0.01 * E * (frac.detach() * probs.mean(0)).sum()
        return out


class DGHC(nn.Module):
    """Dynamic GHC around one sublayer (PAPER.md §5), state H' [N, n, d_b]."""

    def __init__(self, m, n):
        super().__init__()
        db = D // m
        self.m, self.n, self.db, self.tau = m, n, db, math.sqrt(db)
        read = torch.zeros(n, m)
        read[:m] = torch.eye(m)
        write = torch.zeros(m, n)
        for j in range(n):
            write[j % m, j] = 1
        self.read, self.carry, self.write = nn.Parameter(read), nn.Parameter(torch.eye(n)), nn.Parameter(write)
        self.w = nn.Parameter(torch.zeros(db, 2 * m + n))
        self.scale_alpha = nn.Parameter(torch.ones(n, m + n))
        self.scale_beta = nn.Parameter(torch.ones(m, n))
        self.norm = RMSNorm(db)

    def forward(self, h, sublayer):
        m, n = self.m, self.n
        c = torch.tanh(self.norm(h) @ self.w / self.tau)  # [N, n, 2m+n]
        a = self.scale_alpha * c[..., : m + n] + torch.cat([self.read, self.carry], 1)  # A(H'): [N, n, m+n]
        bt = self.scale_beta.t() * c[..., m + n :] + self.write.t()  # B(H')ᵀ: [N, n, m]
        y = a.transpose(1, 2) @ h  # [N, m+n, d_b]
        z = sublayer(y[:, :m].reshape(-1, D)).view(-1, m, self.db)
        return bt @ z + y[:, m:]


class Model(nn.Module):
    def __init__(self, vwn, moe):
        super().__init__()
        self.vwn = vwn
        wide = D if vwn is None else vwn[1] * D // vwn[0]
        self.embed = nn.Embedding(V, wide)
        self.mixers = nn.ModuleList(Attention() for _ in range(L))
        self.ffns = nn.ModuleList((MoE() if moe else SwiGLU()) for _ in range(L))
        if vwn:
            self.conns = nn.ModuleList(DGHC(*vwn) for _ in range(2 * L))
            self.group_gain = nn.Parameter(torch.ones(wide))
            self.reduce = nn.Linear(wide, D, bias=False)
        self.norm = RMSNorm(D)
        self.unembed = nn.Linear(D, V, bias=False)

    def forward(self, ids, targets):
        h = self.embed(ids.reshape(-1))  # [N, D']
        subs = [s for pair in zip(self.mixers, self.ffns) for s in pair]
        if self.vwn:
            m, n = self.vwn
            h = h.view(-1, n, D // m)
            for conn, sub in zip(self.conns, subs):
                h = conn(h, sub)
            r = n // m
            h = F.layer_norm(h.reshape(-1, r, D), (D,), eps=1e-6).reshape(-1, r * D) * self.group_gain
            h = self.reduce(h)
        else:
            for sub in subs:
                h = h + sub(h)
        loss = F.cross_entropy(self.unembed(self.norm(h)), targets.reshape(-1))
        return loss + sum(f.aux for f in self.ffns if isinstance(f, MoE))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", default="bench-small", choices=sorted(CONFIGS))
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own = cores)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = Model(**CONFIGS[a.config])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    rows = torch.randint(0, V, (BATCH, T + 1))
    ids, targets = rows[:, :-1], rows[:, 1:]
    times = []
    for step in range(a.steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(ids, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step > 0:
            times.append((time.perf_counter() - t0) * 1000)
    res = {
        "config": a.config,
        "stepMsMedian": statistics.median(times),
        "stepMs": times,
        "params": sum(q.numel() for q in model.parameters()),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "loss": float(loss),
    }
    print(json.dumps(res) if a.json else f"{a.config}: {res['stepMsMedian']:.0f} ms/step (torch {res['torch']}, {res['threads']} threads)")


if __name__ == "__main__":
    main()

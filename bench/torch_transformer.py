"""Adam steps/s of the bench transformer in PyTorch on one CPU thread: the model of
bench/transformer_bench.json (width 64, 4 heads, depth 2, context 16, batch 16, the
character corpus), at any width, beside `examples/bench_transformer.rs` (ours, native)
and `bench/wasm_train.mjs` (ours, the page's wasm build).

    python bench/torch_transformer.py [WIDTH] [STEPS] [matched|sdpa]

What matches the engine (`src/transformer/`, defaults of `TransformerConfig`):
- the model: one-hot characters (61) and one-hot positions, each times its embedding
  matrix (std 1); 2 pre-LN blocks (layer norm with a gain, no bias, eps 1e-5) of causal
  4-head self-attention (`W_qkv [3N x N]`, `W_o [N x N]`) and a GELU MLP (exact erf,
  `F = 4N`); residual branches `x += beta (L0/L)^alpha branch` (1 here: alpha 0,
  beta 1); a final layer norm and a readout; next-character cross-entropy averaged over
  the B T positions;
- muP as the engine sets it (base width 32, base head size 8): logits `sqrt(8)/dh`,
  readout multiplier `32/N`, zero query rows and zero readout at initialisation, Adam
  rate and epsilon `32/N` for W_qkv, W_1, W_2 and `32/Da` for W_o;
- Adam (beta 0.9, 0.999, eps 1e-8, rate 0.01) with a linear warmup over 5 % of the steps
  then a linear decay, set per step for each tensor;
- the work per step: a fresh batch of B windows of T + 1 characters at random offsets in
  the first 90 % of the same corpus (data/coriolanus), its one-hot inputs, the forward
  pass, the loss, the backward pass, the Adam update; the loss is read back only after
  the timed steps (ours reads it at the first and last step, outside its timed window).

What differs: the random windows (torch's generator, not the engine's streams: same
shapes and FLOPs, other text), the initial weights (same distributions), and the kernels
(torch's MKL / oneDNN products, its fused layer norm, GELU and cross-entropy, and its
default CPU Adam, one tensor at a time). Attention:
- `matched` (default) computes it as ours does: `S = scale Q K^T`, the causal mask,
  softmax, `P V`, as plain batched products and a softmax;
- `sdpa` uses torch's `F.scaled_dot_product_attention(is_causal=True)` (its fused CPU
  kernel, which keeps no `[T x T]` probabilities for the backward pass).

Timed in thread CPU time (torch runs its ops on this thread with one thread) after 5
untimed warm-up steps, like bench/torch_train.py.
"""
import gzip
import math
import pathlib
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
width = int(sys.argv[1]) if len(sys.argv) > 1 else 64
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 300
variant = sys.argv[3] if len(sys.argv) > 3 else "matched"
assert variant in ("matched", "sdpa"), variant

# the shape of bench/transformer_bench.json, the rest the engine's defaults
heads, depth, context, batch = 4, 2, 16, 16
mlp_ratio, embed_std, base_width, base_head_dim = 4, 1.0, 32, 8
lr0, betas, eps0, warmup = 0.01, (0.9, 0.999), 1e-8, 0.05
n, t, b = width, context, batch
dh = n // heads
da = heads * dh
ff = mlp_ratio * n
rows = b * t

root = pathlib.Path(__file__).resolve().parent.parent
text = gzip.open(root / "data/coriolanus/coriolanus.txt.gz", "rt", encoding="utf-8").read()
alphabet = sorted(set(text))
ids = torch.tensor([alphabet.index(c) for c in text], dtype=torch.long)
vocab = len(alphabet)
split = len(ids) * 9 // 10

torch.manual_seed(0)
m_width = n / base_width
attn_scale = math.sqrt(base_head_dim) / dh  # muP
residual = 1.0  # beta (L0/L)^alpha with alpha = 0
readout_mult = 1.0 / m_width
params = []  # (tensor, muP factor of its Adam rate and epsilon)


def param(shape, std, rate=1.0, zero_rows=0, ones=False):
    w = torch.ones(shape) if ones else torch.randn(shape) * std
    if zero_rows:
        w[:zero_rows] = 0.0
    w.requires_grad_()
    params.append((w, rate))
    return w


w_emb = param((vocab, n), embed_std)
pos = param((t, n), embed_std)
blocks = []
for _ in range(depth):
    blocks.append(dict(
        g1=param((n,), 0, ones=True),
        qkv=param((3 * da, n), 1 / math.sqrt(n), rate=1 / m_width, zero_rows=da),
        out=param((n, da), 1 / math.sqrt(da), rate=base_width / da),
        g2=param((n,), 0, ones=True),
        fc1=param((ff, n), 1 / math.sqrt(n), rate=1 / m_width),
        fc2=param((n, ff), 1 / math.sqrt(ff), rate=1 / m_width),
    ))
g_f = param((n,), 0, ones=True)
w_out = param((vocab, n), 0.0)
# one group per tensor: muP's rate and epsilon factor (the same number for each tensor)
opt = torch.optim.Adam(
    [{"params": [w], "lr": lr0 * k, "eps": eps0 * k, "k": k} for w, k in params], betas=betas
)
upos = torch.eye(t).repeat(b, 1)  # [B T x T] one-hot positions, as the engine's Upos
causal = torch.ones(t, t, dtype=torch.bool).tril()
offsets = torch.arange(t + 1)


warm = 5
total = warm + steps


def schedule(step):
    """The engine's warmup (5 %) then linear decay to 0 (`TfOptimizer::schedule`), over
    the warm-up and the timed steps."""
    w = round(warmup * total)
    return (step + 1) / w if step < w else (total - step) / max(total - w, 1)


def attention(qkv):
    q, k, v = qkv.view(b, t, 3, heads, dh).permute(2, 0, 3, 1, 4)  # [B H T dh] each
    if variant == "sdpa":
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=attn_scale)
    else:
        s = (q @ k.transpose(-2, -1)) * attn_scale
        o = torch.softmax(s.masked_fill(~causal, -math.inf), dim=-1) @ v
    return o.transpose(1, 2).reshape(rows, da)


def step(i):
    start = torch.randint(0, split - t, (b,))
    window = ids[start[:, None] + offsets]  # [B x T+1]
    u = F.one_hot(window[:, :t].reshape(-1), vocab).float()  # [B T x V]
    target = window[:, 1:].reshape(-1)
    x = torch.addmm(u @ w_emb, upos, pos)
    for bl in blocks:
        y = F.layer_norm(x, (n,), bl["g1"], None, 1e-5)
        att = attention(y @ bl["qkv"].T)
        x = torch.addmm(x, att, bl["out"].T, alpha=residual)
        y = F.layer_norm(x, (n,), bl["g2"], None, 1e-5)
        x = torch.addmm(x, F.gelu(y @ bl["fc1"].T), bl["fc2"].T, alpha=residual)
    f = (F.layer_norm(x, (n,), g_f, None, 1e-5) @ w_out.T) * readout_mult
    loss = F.cross_entropy(f, target)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    s = schedule(i)
    for g in opt.param_groups:
        g["lr"] = lr0 * g["k"] * s
    opt.step()
    return loss


for i in range(warm):
    step(i)
c = time.thread_time()
for i in range(warm, total):
    loss = step(i)
s = time.thread_time() - c
print(f"# torch {torch.__version__} threads {torch.get_num_threads()} {variant} final loss {loss.item():.4f}")
print(f"torch_transformer_width{width}[{variant}] {steps / s:.1f} steps/s")

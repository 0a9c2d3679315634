"""Independent check of the transformer engine: the forward pass (numpy, float64) and
one Adam step (gradients by central differences of that float64 forward) on the weights
and batch that `bench/transformer_dump.rs` wrote. No autograd, no engine code.

    cargo run --release --example transformer_dump -- /tmp/tf.json mup layer 0.5
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy
    /tmp/venv/bin/python bench/transformer_check.py /tmp/tf.json [stride]

The scales (attention, residual, readout, per-tensor Adam rates and epsilons) are
recomputed here from the exponent table in docs/transformer.md, not read from the dump.
Prints the largest absolute differences; exits 1 if any is above 1e-5.
"""

import json
import math
import sys

import numpy as np

NORM_EPS = 1e-5


def table(model, param):
    """Scales and per-tensor Adam (rate, eps) factors from docs/transformer.md."""
    n, h, depth = model["width"], model["heads"], model["depth"]
    dh = model["head_dim"] or n // h
    da, a = h * dh, model["alpha"]
    mup = param["kind"] == "mup"
    m = n / model["base_width"]
    r = depth / model["base_depth"]
    dlr, deps = (r ** (a - 1), r ** (-a)) if a > 0 else (1.0, 1.0)
    k = 1 / m if mup else 1.0
    k_o = model["base_width"] / da if mup else 1.0
    rates = {
        "Embedding": (1.0, 1.0), "Position": (1.0, 1.0), "FinalGain": (1.0, 1.0),
        "Readout": (1.0, 1.0), "BlockGain": (dlr, deps), "Qkv": (k * dlr, k * deps),
        "AttnOut": (k_o * dlr, k_o * deps), "Fc1": (k * dlr, k * deps),
        "Fc2": (k * dlr, k * deps),
    }
    scale = math.sqrt(model["base_head_dim"]) / dh if mup else 1 / math.sqrt(dh)
    residual = model["beta"] * (model["base_depth"] / depth) ** a
    readout = model["base_width"] / n if mup else 1.0
    return dh, da, scale, residual, readout, rates


_erf = np.vectorize(math.erf)


def forward(d, w):
    """Mean loss over the positions with a target, and the logits; `w` the tensors in
    the dump's order."""
    model, param = d["model"], d["param"]
    n, h, t, b = model["width"], model["heads"], model["context"], d["batch"]
    dh, da, scale, res, ro, _ = table(model, param)
    it = iter(zip(d["specs"], w))

    def take(group):
        s, x = next(it)
        assert s["group"] == group, (s["group"], group)
        return x

    def norm(x, gain):
        if model["norm"] == "none":
            return x
        if model["norm"] == "layer":
            x = x - x.mean(-1, keepdims=True)
        return gain * x / np.sqrt((x * x).mean(-1, keepdims=True) + NORM_EPS)

    tokens = np.array(d["tokens"]).reshape(b, t)
    w_emb, pos = take("Embedding"), take("Position")
    x = w_emb[tokens] + pos[None, :, :]  # [b t n]: one-hot embedding, multiplier 1
    causal = np.tril(np.ones((t, t), dtype=bool))
    has_gain = model["norm"] != "none"
    heads = lambda z: z.reshape(b, t, h, dh).transpose(0, 2, 1, 3)  # [b h t dh]
    for _ in range(model["depth"]):
        g1 = take("BlockGain") if has_gain else None
        qkv = norm(x, g1) @ take("Qkv").T  # [b t 3Da]: q, k, v, each head dh wide
        q, k, v = heads(qkv[..., :da]), heads(qkv[..., da:2 * da]), heads(qkv[..., 2 * da:])
        s = np.where(causal, scale * q @ k.transpose(0, 1, 3, 2), -np.inf)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        o = (p @ v).transpose(0, 2, 1, 3).reshape(b, t, da)
        x = x + res * (o @ take("AttnOut").T)
        g2 = take("BlockGain") if has_gain else None
        hpre = norm(x, g2) @ take("Fc1").T
        x = x + res * ((hpre * 0.5 * (1 + _erf(hpre / math.sqrt(2)))) @ take("Fc2").T)
    gf = take("FinalGain") if has_gain else None
    f = (ro * (norm(x, gf) @ take("Readout").T)).reshape(b * t, -1)  # [B T x C]
    tgt = np.array(d["targets"]).astype(int)
    rows = np.nonzero(tgt >= 0)[0]
    mx = f.max(-1, keepdims=True)
    lse = np.log(np.exp(f - mx).sum(-1)) + mx[:, 0]
    loss = (lse[rows] - f[rows, tgt[rows]]).sum() / d["count"]
    return loss, f


def shaped(d, key):
    return [np.array(v, dtype=np.float64).reshape(s["rows"], s["cols"])
            for v, s in zip(d[key], d["specs"])]


def main():
    d = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tf.json"))
    w = shaped(d, "params")
    for i, s in enumerate(d["specs"]):
        if s["group"] in ("BlockGain", "FinalGain"):
            w[i] = w[i][0]
    worst = {}
    loss, f = forward(d, w)
    worst["loss"] = abs(loss - d["loss"])
    worst["logits"] = float(np.abs(f.ravel() - np.array(d["logits"])).max())
    print(f"loss: engine {d['loss']:.8f}, numpy {loss:.8f}")
    # gradients by central differences of the float64 forward (h = 1e-6 relative):
    # truncation ~h^2, rounding ~1e-16/h, both far below the 1e-5 checked
    stride = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    _, _, _, _, _, rates = table(d["model"], d["param"])
    a = d["adam"]
    gmax, smax, checked = 0.0, 0.0, 0
    for i, s in enumerate(d["specs"]):
        flat = w[i].reshape(-1)
        lr, ep = rates[s["group"]]
        want_g, want_w = np.array(d["grads"][i]), np.array(d["stepped"][i])
        for j in range(0, flat.size, stride):
            x0 = flat[j]
            hh = 1e-6 * max(1.0, abs(x0))
            flat[j] = x0 + hh
            lp, _ = forward(d, w)
            flat[j] = x0 - hh
            lm, _ = forward(d, w)
            flat[j] = x0
            g = (lp - lm) / (2 * hh)
            gmax = max(gmax, abs(g - want_g[j]))
            # first Adam step, bias-corrected: m_hat = g, v_hat = g^2
            step = x0 - a["lr"] * lr * g / (abs(g) + a["eps"] * ep)
            smax = max(smax, abs(step - want_w[j]))
            checked += 1
    worst["grads"], worst["stepped"] = gmax, smax
    print(f"{checked} gradient entries checked")
    for k, v in worst.items():
        print(f"max |engine - reference| {k}: {v:.2e}")
    sys.exit(0 if all(v <= 1e-5 for v in worst.values()) else 1)


if __name__ == "__main__":
    main()

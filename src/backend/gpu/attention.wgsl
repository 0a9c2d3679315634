// Multi-head causal self-attention, forward, for G sequences of T positions and H heads
// of size dh (Da = H dh):
//   S[i, j] = scale q_i . k_j (j <= i),   P[i, :] = softmax(S[i, :]),   o_i = sum_j P[i, j] v_j.
// Shapes: qkv [G x T x 3 Da] (query | key | value blocks; head h at columns h dh.. of each),
//   probs [G x H x T x T] (zero above the diagonal), out [G x T x Da].
// Tiling: one workgroup of 64 invocations per (sequence g, head h), 2-D grid over G H;
//   invocation li takes the rows i = li, li + 64, ...; the scores are written to probs and
//   normalised in place (no workgroup memory, any T).

struct Params {
    n: u32,          // G H
    t: u32,
    heads: u32,
    head_dim: u32,
    scale: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let gh = wg.y * nwg.x + wg.x;
    if (gh >= p.n) {
        return;
    }
    let t = p.t;
    let dh = p.head_dim;
    let da = p.heads * dh;
    let row = 3u * da;
    let g = gh / p.heads;
    let h = gh % p.heads;
    let pbase = gh * t * t;
    for (var i = li; i < t; i += 64u) {
        let qo = (g * t + i) * row + h * dh;
        var mx = -3.0e38;
        for (var j = 0u; j <= i; j++) {
            let ko = (g * t + j) * row + da + h * dh;
            var s = 0.0;
            for (var c = 0u; c < dh; c++) {
                s = fma(qkv[qo + c], qkv[ko + c], s);
            }
            s = p.scale * s;
            probs[pbase + i * t + j] = s;
            mx = max(mx, s);
        }
        var sum = 0.0;
        for (var j = 0u; j <= i; j++) {
            let e = exp(probs[pbase + i * t + j] - mx);
            probs[pbase + i * t + j] = e;
            sum += e;
        }
        let inv = 1.0 / sum;
        for (var j = 0u; j < t; j++) {
            if (j <= i) {
                probs[pbase + i * t + j] *= inv;
            } else {
                probs[pbase + i * t + j] = 0.0;
            }
        }
        let oo = (g * t + i) * da + h * dh;
        for (var c = 0u; c < dh; c++) {
            var acc = 0.0;
            for (var j = 0u; j <= i; j++) {
                acc = fma(probs[pbase + i * t + j], qkv[(g * t + j) * row + 2u * da + h * dh + c], acc);
            }
            out[oo + c] = acc;
        }
    }
}

// Multi-head causal self-attention, backward: from dout = dL/dO to dqkv = dL/d(qkv)
// (overwritten), with ds = dL/dS as scratch:
//   dP[i, j] = dO_i . v_j,   dS[i, j] = P[i, j] (dP[i, j] - sum_k P[i, k] dP[i, k]),
//   dq_i = scale sum_j dS[i, j] k_j,  dk_j = scale sum_i dS[i, j] q_i,  dv_j = sum_i P[i, j] dO_i.
// Shapes: qkv, dqkv [G x T x 3 Da]; probs, ds [G x H x T x T]; dout [G x T x Da].
// Tiling: one workgroup of 64 invocations per (sequence, head), 2-D grid over G H. Phase 1:
//   invocation li writes rows i = li, li + 64, ... of ds; a storage barrier; phase 2: the same
//   invocation writes dq of row i and dk, dv of position j = i (disjoint outputs, no atomics).

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
@group(0) @binding(2) var<storage, read> probs: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> ds: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;

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
    // phase 1: dS row by row
    for (var i = li; i < t; i += 64u) {
        let oo = (g * t + i) * da + h * dh;
        var sum = 0.0;
        for (var j = 0u; j <= i; j++) {
            let vo = (g * t + j) * row + 2u * da + h * dh;
            var d = 0.0;
            for (var c = 0u; c < dh; c++) {
                d = fma(dout[oo + c], qkv[vo + c], d);
            }
            ds[pbase + i * t + j] = d;
            sum = fma(probs[pbase + i * t + j], d, sum);
        }
        for (var j = 0u; j < t; j++) {
            if (j <= i) {
                ds[pbase + i * t + j] = probs[pbase + i * t + j] * (ds[pbase + i * t + j] - sum);
            } else {
                ds[pbase + i * t + j] = 0.0;
            }
        }
    }
    storageBarrier();
    // phase 2: dq of row i, dk and dv of position i
    for (var i = li; i < t; i += 64u) {
        let base = (g * t + i) * row + h * dh;
        for (var c = 0u; c < dh; c++) {
            var dq = 0.0;
            for (var j = 0u; j <= i; j++) {
                dq = fma(ds[pbase + i * t + j], qkv[(g * t + j) * row + da + h * dh + c], dq);
            }
            var dk = 0.0;
            var dv = 0.0;
            for (var r = i; r < t; r++) {
                dk = fma(ds[pbase + r * t + i], qkv[(g * t + r) * row + h * dh + c], dk);
                dv = fma(probs[pbase + r * t + i], dout[(g * t + r) * da + h * dh + c], dv);
            }
            dqkv[base + c] = p.scale * dq;
            dqkv[base + da + c] = p.scale * dk;
            dqkv[base + 2u * da + c] = dv;
        }
    }
}

// Layer norm (kind 0) or RMS norm (kind 1) of rows of `width` numbers, one gain row per
// ensemble member (member e owns rows e R .. (e+1) R, R = rows_per_member):
//   layer: xhat = (x - mean x) rstd,  rstd = 1 / sqrt(mean (x - mean x)^2 + eps)
//   rms:   xhat = x rstd,             rstd = 1 / sqrt(mean x^2 + eps)
//   y = gain[e] o xhat.
// Shapes: x, y, xhat [rows x width]; gain [E x width]; rstd [rows].
// Tiling: one workgroup of 64 invocations per row (2-D grid over rows); two tree
//   reductions in workgroup memory (64 f32).

struct Params {
    rows: u32,
    width: u32,
    rows_per_member: u32,
    kind: u32,
    eps: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gain: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> xhat: array<f32>;
@group(0) @binding(5) var<storage, read_write> rstd: array<f32>;

var<workgroup> red: array<f32, 64>;

fn total(v: f32, li: u32) -> f32 {
    red[li] = v;
    workgroupBarrier();
    for (var half = 32u; half > 0u; half /= 2u) {
        if (li < half) {
            red[li] += red[li + half];
        }
        workgroupBarrier();
    }
    let s = red[0];
    workgroupBarrier();
    return s;
}

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let r = wg.y * nwg.x + wg.x;
    if (r >= p.rows) {
        return;
    }
    let w = p.width;
    let base = r * w;
    var s = 0.0;
    for (var c = li; c < w; c += 64u) {
        s += x[base + c];
    }
    var mean = total(s, li) / f32(w);
    if (p.kind == 1u) {
        mean = 0.0;
    }
    var q = 0.0;
    for (var c = li; c < w; c += 64u) {
        let d = x[base + c] - mean;
        q = fma(d, d, q);
    }
    let rs = 1.0 / sqrt(total(q, li) / f32(w) + p.eps);
    let gbase = (r / p.rows_per_member) * w;
    for (var c = li; c < w; c += 64u) {
        let xh = (x[base + c] - mean) * rs;
        xhat[base + c] = xh;
        y[base + c] = gain[gbase + c] * xh;
    }
    if (li == 0u) {
        rstd[r] = rs;
    }
}

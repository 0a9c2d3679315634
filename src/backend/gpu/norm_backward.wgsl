// Layer norm (kind 0) or RMS norm (kind 1), backward to the input: with u = gain[e] o dy,
//   layer: dx += rstd (u - mean u - xhat mean(u o xhat))
//   rms:   dx += rstd (u - xhat mean(u o xhat))
// (accumulated: in a pre-norm block the residual stream's gradient arrives in dx first).
// Shapes: dy, xhat, dx [rows x width]; rstd [rows]; gain [E x width].
// Tiling: one workgroup of 64 invocations per row (2-D grid); two tree reductions in
//   workgroup memory (64 f32). The gain's gradient is norm_gain.wgsl.

struct Params {
    rows: u32,
    width: u32,
    rows_per_member: u32,
    kind: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> xhat: array<f32>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read> gain: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

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
    let gbase = (r / p.rows_per_member) * w;
    var su = 0.0;
    var sux = 0.0;
    for (var c = li; c < w; c += 64u) {
        let u = gain[gbase + c] * dy[base + c];
        su += u;
        sux = fma(u, xhat[base + c], sux);
    }
    var mean_u = total(su, li) / f32(w);
    let mean_ux = total(sux, li) / f32(w);
    if (p.kind == 1u) {
        mean_u = 0.0;
    }
    let rs = rstd[r];
    for (var c = li; c < w; c += 64u) {
        let u = gain[gbase + c] * dy[base + c];
        dx[base + c] += rs * (u - mean_u - xhat[base + c] * mean_ux);
    }
}

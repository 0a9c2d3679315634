// y[i] += rate[e] x[i] with one rate per ensemble member: element i belongs to member
// e = i / per (gradient descent on an ensemble whose members step at different rates).
// Shapes: x, y flat [E x per]; rate [E]. Tiling: 256 invocations, one element each, 2-D
// grid (x = min(groups, 65535), y = ceil(groups / x)).

struct Params {
    n: u32,
    per: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rate: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i < p.n) {
        y[i] = fma(rate[i / p.per], x[i], y[i]);
    }
}

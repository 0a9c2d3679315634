// y[i] *= x[i],  i < n  (backprop through phi': dL/dh = dL/dphi * phi'(h)).
// Shapes: x, y flat [n]. Tiling: 256 invocations, one element each, 2-D grid.

struct Params {
    n: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i < p.n) {
        y[i] = y[i] * x[i];
    }
}

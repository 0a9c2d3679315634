// Fused activation and derivative:  phi[i] = act(h[i]),  dphi[i] = act'(h[i]),  i < n.
//
// Shapes: h, phi, dphi are flat [n] (any batch layout).
// Tiling: 256 invocations per workgroup, one element each; the grid is 2-D
//   (x = min(groups, 65535), y = ceil(groups / x)) so n may exceed 65535 * 256.
// act: the codes of act.wgsl (concatenated before this file), whose act_pair this
//   applies.

struct Params {
    n: u32,
    act: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read_write> phi: array<f32>;
@group(0) @binding(3) var<storage, read_write> dphi: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i >= p.n) {
        return;
    }
    let r = act_pair(p.act, h[i]);
    phi[i] = r.x;
    dphi[i] = r.y;
}

// Langevin step with weight decay:  w = (1 - decay) w - lr g + noise_scale xi.
// xi are standard normals drawn on the host from the per-seed streams (so the GPU and CPU
// see the same noise). Shapes: g, xi, w flat [n]. Tiling: 256 invocations, 2-D grid.

struct Params {
    n: u32,
    decay: f32,
    lr: f32,
    noise_scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> xi: array<f32>;
@group(0) @binding(3) var<storage, read_write> w: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i < p.n) {
        w[i] = (1.0 - p.decay) * w[i] - p.lr * g[i] + p.noise_scale * xi[i];
    }
}

// Adam with one learning rate per ensemble member (bias corrections folded into lr and eps
// by the caller); element i belongs to member e = i / per:
//   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  w -= lr member_lr[e] m / (sqrt(v) + eps).
// Shapes: g, m, v, w flat [E x per]; member_lr [E]. Tiling: 256 invocations, one element
//   each, 2-D grid.

struct Params {
    n: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    per: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> member_lr: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> w: array<f32>;

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
    let gi = g[i];
    let mi = p.beta1 * m[i] + (1.0 - p.beta1) * gi;
    let vi = p.beta2 * v[i] + (1.0 - p.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] - p.lr * member_lr[i / p.per] * mi / (sqrt(vi) + p.eps);
}

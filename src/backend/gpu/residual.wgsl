// Output residual of the squared loss:
//   e[s, i] = scale (f[s, i] - f0[s, i] - y[i]),   s < S, i < ny,  n = S * ny.
// f0 is skipped when has_f0 = 0 (uncentred networks); y [ny] is broadcast over seeds.
// Shapes: f, f0, e flat [S x ny]; y [ny]. Tiling: 256 invocations, one element each, 2-D grid.

struct Params {
    n: u32,
    ny: u32,
    has_f0: u32,
    scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> f: array<f32>;
@group(0) @binding(2) var<storage, read> f0: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> e: array<f32>;

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
    var c = 0.0;
    if (p.has_f0 == 1u) {
        c = f0[i];
    }
    e[i] = p.scale * (f[i] - c - y[i % p.ny]);
}

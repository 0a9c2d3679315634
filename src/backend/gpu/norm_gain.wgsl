// Gradient of a norm's gain: dgain[e, c] = sum over member e's rows r of dy[r, c] xhat[r, c]
// (overwritten).
// Shapes: dy, xhat [E R x width]; dgain [E x width].
// Tiling: 256 invocations, one (e, c) each, summing its R rows; 2-D grid over E width.

struct Params {
    n: u32,          // E width
    width: u32,
    rows_per_member: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> xhat: array<f32>;
@group(0) @binding(3) var<storage, read_write> dgain: array<f32>;

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
    let e = i / p.width;
    let c = i % p.width;
    var acc = 0.0;
    for (var r = e * p.rows_per_member; r < (e + 1u) * p.rows_per_member; r++) {
        acc = fma(dy[r * p.width + c], xhat[r * p.width + c], acc);
    }
    dgain[i] = acc;
}

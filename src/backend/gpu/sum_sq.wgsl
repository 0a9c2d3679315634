// Batched reduction:  out[s] = sum_i x[s * len + i]^2,  s < batch (e.g. the loss
// 2P L_s = |f_s - y|^2 of every seed from the residuals, read back as S numbers).
// Shapes: x [batch x len], out [batch].
// Tiling: one workgroup of 256 invocations per s; each sums a strided slice, then a tree
//   reduction in workgroup memory (256 f32 = 1 KiB). Dispatch: (batch, 1, 1).

struct Params {
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> part: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let base = wg.x * p.len;
    var acc = 0.0;
    for (var i = li; i < p.len; i += 256u) {
        let v = x[base + i];
        acc = fma(v, v, acc);
    }
    part[li] = acc;
    workgroupBarrier();
    for (var half = 128u; half > 0u; half /= 2u) {
        if (li < half) {
            part[li] += part[li + half];
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        out[wg.x] = part[0];
    }
}

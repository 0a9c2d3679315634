// Per-row loss of sequence outputs and scale times its gradient, for rows of C outputs
// whose targets (R rows, shared by the E ensemble members: row r uses target r mod R) are
//   kind 0, cross-entropy: one class id per row (as f32; negative: no target)
//     loss = log sum_k exp z_k - z_t,   dz = scale (softmax(z) - onehot(t));
//   kind 1, squared: C + 1 numbers per row, a weight w then y
//     loss = w |z - y|^2 / 2,           dz = scale w (z - y).
// Rows without a target get loss 0 and dz = 0.
// Shapes: logits, dlogits [rows x C]; targets [R x 1] or [R x (C + 1)]; loss [rows].
// Tiling: one workgroup of 64 invocations per row (2-D grid); tree reductions in
//   workgroup memory (64 f32).

struct Params {
    rows: u32,
    classes: u32,
    rows_per_member: u32,
    kind: u32,
    scale: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;

var<workgroup> red: array<f32, 64>;

fn reduce_sum(v: f32, li: u32) -> f32 {
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

fn reduce_max(v: f32, li: u32) -> f32 {
    red[li] = v;
    workgroupBarrier();
    for (var half = 32u; half > 0u; half /= 2u) {
        if (li < half) {
            red[li] = max(red[li], red[li + half]);
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
    let c = p.classes;
    let base = r * c;
    let tr = r % p.rows_per_member;
    if (p.kind == 0u) {
        let tgt = targets[tr];
        var mx = -3.0e38;
        for (var k = li; k < c; k += 64u) {
            mx = max(mx, logits[base + k]);
        }
        mx = reduce_max(mx, li);
        var s = 0.0;
        for (var k = li; k < c; k += 64u) {
            s += exp(logits[base + k] - mx);
        }
        s = reduce_sum(s, li);
        if (tgt < 0.0) {
            for (var k = li; k < c; k += 64u) {
                dlogits[base + k] = 0.0;
            }
            if (li == 0u) {
                loss[r] = 0.0;
            }
            return;
        }
        let t = u32(tgt);
        for (var k = li; k < c; k += 64u) {
            var d = exp(logits[base + k] - mx) / s;
            if (k == t) {
                d -= 1.0;
            }
            dlogits[base + k] = p.scale * d;
        }
        if (li == 0u) {
            loss[r] = log(s) + mx - logits[base + t];
        }
    } else {
        let tb = tr * (c + 1u);
        let w = targets[tb];
        var q = 0.0;
        for (var k = li; k < c; k += 64u) {
            let d = logits[base + k] - targets[tb + 1u + k];
            dlogits[base + k] = p.scale * w * d;
            q = fma(d, d, q);
        }
        q = reduce_sum(q, li);
        if (li == 0u) {
            loss[r] = 0.5 * w * q;
        }
    }
}

// Batched, tiled SGEMM:  C[s] = alpha op(A[s]) op(B[s]) + beta C[s]   for s < batch.
//
// Shapes (row-major):  op(A) [m x k], op(B) [k x n], C [m x n].
//   trans_a = 1: A is stored [k x m];  trans_b = 1: B is stored [n x k].
//   Matrix s of each operand starts at s * stride (stride 0 broadcasts one matrix).
//
// Tiling:  one workgroup computes a 64 x 64 tile of C; its 8 x 8 = 64 invocations each own
//   8 x 8 outputs, interleaved (rows ty + 8r, cols tx + 8c) so neighbouring invocations
//   read neighbouring shared-memory words and write neighbouring columns of C.
//   K advances in slabs of 16: A-slab [64 x 16] and B-slab [16 x 64] are staged in
//   workgroup memory (2 x 1024 f32 = 8 KiB, within the 16 KiB default limit).
//   Edges: loads outside [m x k] / [k x n] read 0, stores outside [m x n] are skipped,
//   so any m, n, k work (no host-side padding).
//   Staging: each invocation moves groups of 4 consecutive stored words (coalesced across
//   the workgroup); groups wholly inside the matrix skip the per-element bounds checks.
//
// Dispatch: (ceil(n / 64), ceil(m / 64), batch).

struct Params {
    m: u32,
    n: u32,
    k: u32,
    trans_a: u32,
    trans_b: u32,
    stride_a: u32,
    stride_b: u32,
    stride_c: u32,
    alpha: f32,
    beta: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const TILE: u32 = 64u;
const SLAB: u32 = 16u;
const THREADS: u32 = 64u;

// a_slab[kk * 64 + i] = op(A)[row0 + i, k0 + kk];  b_slab[kk * 64 + j] = op(B)[k0 + kk, col0 + j]
var<workgroup> a_slab: array<f32, 1024>;
var<workgroup> b_slab: array<f32, 1024>;

fn a_at(base: u32, i: u32, l: u32) -> f32 {
    if (i >= p.m || l >= p.k) {
        return 0.0;
    }
    if (p.trans_a == 1u) {
        return a[base + l * p.m + i];
    }
    return a[base + i * p.k + l];
}

fn b_at(base: u32, l: u32, j: u32) -> f32 {
    if (l >= p.k || j >= p.n) {
        return 0.0;
    }
    if (p.trans_b == 1u) {
        return b[base + j * p.k + l];
    }
    return b[base + l * p.n + j];
}

// Stage the A slab. Each invocation moves 4 groups of 4 consecutive stored elements.
fn load_a(base: u32, row0: u32, k0: u32, li: u32) {
    for (var e = 0u; e < 4u; e++) {
        let q = e * THREADS + li;  // 0..255: which group of 4
        if (p.trans_a == 1u) {
            // stored [k x m]: 4 consecutive i at fixed l
            let l = q / 16u;
            let i = (q % 16u) * 4u;
            let gi = row0 + i;
            let gl = k0 + l;
            if (gi + 3u < p.m && gl < p.k) {
                let o = base + gl * p.m + gi;
                a_slab[l * TILE + i] = a[o];
                a_slab[l * TILE + i + 1u] = a[o + 1u];
                a_slab[l * TILE + i + 2u] = a[o + 2u];
                a_slab[l * TILE + i + 3u] = a[o + 3u];
            } else {
                for (var r = 0u; r < 4u; r++) {
                    a_slab[l * TILE + i + r] = a_at(base, gi + r, gl);
                }
            }
        } else {
            // stored [m x k]: 4 consecutive l at fixed i
            let i = q / 4u;
            let l = (q % 4u) * 4u;
            let gi = row0 + i;
            let gl = k0 + l;
            for (var r = 0u; r < 4u; r++) {
                a_slab[(l + r) * TILE + i] = a_at(base, gi, gl + r);
            }
        }
    }
}

fn load_b(base: u32, col0: u32, k0: u32, li: u32) {
    for (var e = 0u; e < 4u; e++) {
        let q = e * THREADS + li;
        if (p.trans_b == 1u) {
            // stored [n x k]: 4 consecutive l at fixed j
            let j = q / 4u;
            let l = (q % 4u) * 4u;
            let gj = col0 + j;
            let gl = k0 + l;
            for (var r = 0u; r < 4u; r++) {
                b_slab[(l + r) * TILE + j] = b_at(base, gl + r, gj);
            }
        } else {
            // stored [k x n]: 4 consecutive j at fixed l
            let l = q / 16u;
            let j = (q % 16u) * 4u;
            let gj = col0 + j;
            let gl = k0 + l;
            if (gj + 3u < p.n && gl < p.k) {
                let o = base + gl * p.n + gj;
                b_slab[l * TILE + j] = b[o];
                b_slab[l * TILE + j + 1u] = b[o + 1u];
                b_slab[l * TILE + j + 2u] = b[o + 2u];
                b_slab[l * TILE + j + 3u] = b[o + 3u];
            } else {
                for (var r = 0u; r < 4u; r++) {
                    b_slab[l * TILE + j + r] = b_at(base, gl, gj + r);
                }
            }
        }
    }
}

@compute @workgroup_size(8, 8, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let s = wg.z;
    let row0 = wg.y * TILE;
    let col0 = wg.x * TILE;
    let base_a = s * p.stride_a;
    let base_b = s * p.stride_b;
    let base_c = s * p.stride_c;
    let tx = lid.x;
    let ty = lid.y;

    var acc: array<f32, 64>;
    for (var z = 0u; z < 64u; z++) {
        acc[z] = 0.0;
    }
    var ar: array<f32, 8>;
    var br: array<f32, 8>;

    for (var k0 = 0u; k0 < p.k; k0 += SLAB) {
        load_a(base_a, row0, k0, li);
        load_b(base_b, col0, k0, li);
        workgroupBarrier();
        for (var kk = 0u; kk < SLAB; kk++) {
            for (var r = 0u; r < 8u; r++) {
                ar[r] = a_slab[kk * TILE + ty + 8u * r];
                br[r] = b_slab[kk * TILE + tx + 8u * r];
            }
            for (var r = 0u; r < 8u; r++) {
                for (var q = 0u; q < 8u; q++) {
                    acc[r * 8u + q] = fma(ar[r], br[q], acc[r * 8u + q]);
                }
            }
        }
        workgroupBarrier();
    }

    for (var r = 0u; r < 8u; r++) {
        let i = row0 + ty + 8u * r;
        if (i >= p.m) {
            continue;
        }
        for (var q = 0u; q < 8u; q++) {
            let j = col0 + tx + 8u * q;
            if (j >= p.n) {
                continue;
            }
            let o = base_c + i * p.n + j;
            var v = p.alpha * acc[r * 8u + q];
            // beta = 0 never reads C (it may hold anything, even NaN)
            if (p.beta != 0.0) {
                v += p.beta * c[o];
            }
            c[o] = v;
        }
    }
}

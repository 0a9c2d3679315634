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
//   the workgroup).
//
// Variants: this file is the common part; the operand bindings and the staging functions
//   load_a / load_b come from one of
//     matmul_a_scalar.wgsl | matmul_a_vec4.wgsl   and   matmul_b_scalar.wgsl | matmul_b_vec4.wgsl
//   concatenated after it (kernels.rs builds the four pipelines). The vec4 files read each
//   group of 4 with one 16-byte load (A bound as array<vec4<f32>>); ops.rs picks them when
//   the operand's stored row length and batch stride are multiples of 4 (then a group is
//   either wholly inside the matrix or wholly outside: no partial groups, no per-element
//   checks). Otherwise the scalar files load word by word, with bounds checks at the edges.
//
// Epilogue (applied to each stored element v of C, as the CPU kernels do in registers):
//   epilogue 0: none;  1: e0 = phi = act(v), e1 = dphi = act'(v) (act.wgsl's codes, the
//   values activate.wgsl gives from the stored h);  2: C = v * e0 (backpropagation through
//   phi': the values of mul.wgsl after the product). Bindings 4 and 5 are the backend's
//   stand-ins when unused. One launch instead of two per layer and direction.
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
    epilogue: u32,
    act: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// binding 1: a, binding 2: b (declared by the variant files)
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> e0: array<f32>;
@group(0) @binding(5) var<storage, read_write> e1: array<f32>;

const TILE: u32 = 64u;
const SLAB: u32 = 16u;
const THREADS: u32 = 64u;

// a_slab[kk * 64 + i] = op(A)[row0 + i, k0 + kk];  b_slab[kk * 64 + j] = op(B)[k0 + kk, col0 + j]
var<workgroup> a_slab: array<f32, 1024>;
var<workgroup> b_slab: array<f32, 1024>;

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
            if (p.epilogue == 2u) {
                v = v * e0[o];
            }
            c[o] = v;
            if (p.epilogue == 1u) {
                let r = act_pair(p.act, v);
                e0[o] = r.x;
                e1[o] = r.y;
            }
        }
    }
}

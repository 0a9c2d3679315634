// matmul.wgsl variant part: B bound as vec4 (host guarantees: the stored row length,
// k if trans_b else n, and stride_b are multiples of 4). A group of 4 stored words
// starts at a multiple of 4 in its row, so it lies wholly inside or wholly outside B.

@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;

// Stage the B slab. Each invocation moves 4 groups of 4 consecutive stored elements,
// one 16-byte load each.
fn load_b(base: u32, col0: u32, k0: u32, li: u32) {
    for (var e = 0u; e < 4u; e++) {
        let q = e * THREADS + li;
        if (p.trans_b == 1u) {
            // stored [n x k]: 4 consecutive l at fixed j
            let j = q / 4u;
            let l = (q % 4u) * 4u;
            let gj = col0 + j;
            let gl = k0 + l;
            var v = vec4<f32>(0.0);
            if (gj < p.n && gl < p.k) {
                v = b[(base + gj * p.k + gl) / 4u];
            }
            b_slab[l * TILE + j] = v.x;
            b_slab[(l + 1u) * TILE + j] = v.y;
            b_slab[(l + 2u) * TILE + j] = v.z;
            b_slab[(l + 3u) * TILE + j] = v.w;
        } else {
            // stored [k x n]: 4 consecutive j at fixed l
            let l = q / 16u;
            let j = (q % 16u) * 4u;
            let gj = col0 + j;
            let gl = k0 + l;
            var v = vec4<f32>(0.0);
            if (gj < p.n && gl < p.k) {
                v = b[(base + gl * p.n + gj) / 4u];
            }
            let o = l * TILE + j;
            b_slab[o] = v.x;
            b_slab[o + 1u] = v.y;
            b_slab[o + 2u] = v.z;
            b_slab[o + 3u] = v.w;
        }
    }
}

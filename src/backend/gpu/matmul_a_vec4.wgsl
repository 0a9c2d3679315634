// matmul.wgsl variant part: A bound as vec4 (host guarantees: the stored row length,
// m if trans_a else k, and stride_a are multiples of 4). A group of 4 stored words
// starts at a multiple of 4 in its row, so it lies wholly inside or wholly outside A.

@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;

// Stage the A slab. Each invocation moves 4 groups of 4 consecutive stored elements,
// one 16-byte load each.
fn load_a(base: u32, row0: u32, k0: u32, li: u32) {
    for (var e = 0u; e < 4u; e++) {
        let q = e * THREADS + li;  // 0..255: which group of 4
        if (p.trans_a == 1u) {
            // stored [k x m]: 4 consecutive i at fixed l
            let l = q / 16u;
            let i = (q % 16u) * 4u;
            let gi = row0 + i;
            let gl = k0 + l;
            var v = vec4<f32>(0.0);
            if (gi < p.m && gl < p.k) {
                v = a[(base + gl * p.m + gi) / 4u];
            }
            let o = l * TILE + i;
            a_slab[o] = v.x;
            a_slab[o + 1u] = v.y;
            a_slab[o + 2u] = v.z;
            a_slab[o + 3u] = v.w;
        } else {
            // stored [m x k]: 4 consecutive l at fixed i
            let i = q / 4u;
            let l = (q % 4u) * 4u;
            let gi = row0 + i;
            let gl = k0 + l;
            var v = vec4<f32>(0.0);
            if (gi < p.m && gl < p.k) {
                v = a[(base + gi * p.k + gl) / 4u];
            }
            a_slab[l * TILE + i] = v.x;
            a_slab[(l + 1u) * TILE + i] = v.y;
            a_slab[(l + 2u) * TILE + i] = v.z;
            a_slab[(l + 3u) * TILE + i] = v.w;
        }
    }
}

// matmul.wgsl variant part: A bound as scalars (any shape, any offset).

@group(0) @binding(1) var<storage, read> a: array<f32>;

fn a_at(base: u32, i: u32, l: u32) -> f32 {
    if (i >= p.m || l >= p.k) {
        return 0.0;
    }
    if (p.trans_a == 1u) {
        return a[base + l * p.m + i];
    }
    return a[base + i * p.k + l];
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

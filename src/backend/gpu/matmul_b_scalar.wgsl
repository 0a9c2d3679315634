// matmul.wgsl variant part: B bound as scalars (any shape, any offset).

@group(0) @binding(2) var<storage, read> b: array<f32>;

fn b_at(base: u32, l: u32, j: u32) -> f32 {
    if (l >= p.k || j >= p.n) {
        return 0.0;
    }
    if (p.trans_b == 1u) {
        return b[base + j * p.k + l];
    }
    return b[base + l * p.n + j];
}

// Stage the B slab. Each invocation moves 4 groups of 4 consecutive stored elements.
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

//! The three large products of one training step (P = 256, width N: forward
//! `h = phi W^T`, weight gradient `dW = dh^T phi`, backward `dphi = dh W`), the native CPU
//! kernel (`sgemm_x86`) against `matrixmultiply`, interleaved so that both see the same
//! machine load. GFLOP/s, best of 8, thread CPU time.
//! Usage: bench_shapes [widths...]   (default: 64 1024)

#[path = "common/mod.rs"]
mod common;

#[cfg(target_arch = "x86_64")]
fn main() {
    use common::cpu_seconds;
    use scaling_playground::backend::sgemm_x86::{Epilogue, detect, sgemm_batch};
    use scaling_playground::packed_gemm::View;

    let Some(isa) = detect() else {
        println!("# this CPU has neither AVX-512 nor AVX2 + FMA");
        return;
    };
    let mut widths: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if widths.is_empty() {
        widths = vec![64, 1024];
    }
    let p = 256;
    for width in widths {
        for (name, m, n, k, ta, tb) in [
            ("h=phi.W^T", p, width, width, false, true),
            ("dW=dh^T.phi", width, width, p, true, false),
            ("dphi=dh.W", p, width, width, false, false),
        ] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7919) % 1000) as f32 * 1e-3)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 104_729) % 1000) as f32 * 1e-3)
                .collect();
            let mut c = vec![0.0f32; m * n];
            let (rsa, csa) = if ta { (1, m) } else { (k, 1) };
            let (rsb, csb) = if tb { (1, k) } else { (n, 1) };
            let mut best = [f64::INFINITY; 2];
            for _ in 0..8 {
                let t = cpu_seconds();
                let av = View {
                    data: &a,
                    rs: rsa,
                    cs: csa,
                };
                let bv = View {
                    data: &b,
                    rs: rsb,
                    cs: csb,
                };
                sgemm_batch(
                    isa,
                    1,
                    (m, n, k),
                    1.0,
                    (av, 0),
                    (bv, 0),
                    0.0,
                    (&mut c, 0),
                    Epilogue::None,
                );
                best[0] = best[0].min(cpu_seconds() - t);
                let t = cpu_seconds();
                // SAFETY: a, b and c hold exactly the extents these strides address.
                unsafe {
                    matrixmultiply::sgemm(
                        m,
                        k,
                        n,
                        1.0,
                        a.as_ptr(),
                        rsa as isize,
                        csa as isize,
                        b.as_ptr(),
                        rsb as isize,
                        csb as isize,
                        0.0,
                        c.as_mut_ptr(),
                        n as isize,
                        1,
                    )
                };
                best[1] = best[1].min(cpu_seconds() - t);
            }
            let gf = |s: f64| 2.0 * (m * n * k) as f64 / s / 1e9;
            println!(
                "width{width} {name:12} ours_{isa:?} {:6.1}  matrixmultiply {:6.1} GFLOP/s",
                gf(best[0]),
                gf(best[1])
            );
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    println!("# bench_shapes measures the x86-64 kernels only");
}

//! SGEMM n^3 on one thread: `matrixmultiply` against our packed kernel
//! (`backend::sgemm`, the wasm simd128 code compiled natively), and the WGSL kernel when
//! a GPU is present. Prints `name gflops` lines for bench/run.sh.
//! Usage: bench_sgemm [n] [reps]

use scaling_playground::backend::sgemm::{View, sgemm};
use scaling_playground::backend::{Device, Gemm, Gpu, GpuOptions};
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(512);
    let reps = args.get(1).copied().unwrap_or(10);
    let a: Vec<f32> = (0..n * n)
        .map(|i| ((i * 7919) % 1000) as f32 * 1e-3)
        .collect();
    let b: Vec<f32> = (0..n * n)
        .map(|i| ((i * 104_729) % 1000) as f32 * 1e-3)
        .collect();
    let mut c = vec![0.0f32; n * n];
    let flops = 2.0 * (n * n * n) as f64;
    let time = |f: &mut dyn FnMut()| {
        f();
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        t.elapsed().as_secs_f64() / reps as f64
    };
    let s = time(&mut || unsafe {
        matrixmultiply::sgemm(
            n,
            n,
            n,
            1.0,
            a.as_ptr(),
            n as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    });
    println!("matrixmultiply {:.2}", flops / s / 1e9);
    let av = View {
        data: &a,
        rs: n,
        cs: 1,
    };
    let bv = View {
        data: &b,
        rs: n,
        cs: 1,
    };
    let s = time(&mut || sgemm(n, n, n, 1.0, av, bv, 0.0, &mut c, n));
    println!("ours_portable {:.2}", flops / s / 1e9);
    match Gpu::acquire(&GpuOptions {
        allow_software: true,
        ..Default::default()
    }) {
        Ok(g) => {
            let name = g.name().replace(' ', "_");
            let dev = Device::Gpu(g);
            let (ta, tb) = (dev.upload(&a), dev.upload(&b));
            let mut tc = dev.zeros(n * n);
            let g = Gemm::new(1, n, n, n);
            let s = time(&mut || {
                dev.gemm(&g, &ta, &tb, &mut tc);
                let _ = dev.download(&tc).len();
            });
            println!("wgsl[{name}] {:.2}", flops / s / 1e9);
        }
        Err(e) => println!("# no gpu: {e}"),
    }
}

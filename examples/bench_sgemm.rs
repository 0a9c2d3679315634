//! SGEMM n^3 on one thread: `matrixmultiply` against our packed kernel
//! (`packed_gemm`, the wasm simd128 code compiled natively), and the WGSL kernel when
//! a GPU is present. Prints `name gflops` lines for bench/run.sh (best of `reps`, in
//! thread CPU time, so that other jobs on a shared machine do not count; the GPU in wall
//! time). On x86-64 it also prints the core's measured clock and the throughput ceilings
//! of 128-bit multiply+add, 128-bit FMA and 512-bit FMA (`# roofline` lines), the
//! numbers bench/README.md's roofline argument uses.
//! Usage: bench_sgemm [n] [reps]

use scaling_playground::backend::{Device, Gemm, Gpu, GpuOptions};
use scaling_playground::packed_gemm::{View, sgemm};
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

use common::cpu_seconds;

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
    let time_with = |clock: fn() -> f64, f: &mut dyn FnMut()| {
        f();
        let mut best = f64::INFINITY;
        for _ in 0..reps {
            let t = clock();
            f();
            best = best.min(clock() - t);
        }
        best
    };
    let time = |f: &mut dyn FnMut()| time_with(cpu_seconds, f);
    #[cfg(target_arch = "x86_64")]
    roofline::print();
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
    // The native CPU backend's kernel (AVX-512 or AVX2 + FMA, picked at run time), in
    // the layouts of the training step: A row-major, A transposed, B transposed.
    #[cfg(target_arch = "x86_64")]
    if let Some(isa) = scaling_playground::backend::sgemm_x86::detect() {
        for (name, ta, tb) in [
            ("", false, false),
            ("_at", true, false),
            ("_bt", false, true),
        ] {
            let s = time(&mut || {
                let at = if ta { (1, n) } else { (n, 1) };
                let bt = if tb { (1, n) } else { (n, 1) };
                scaling_playground::backend::sgemm_x86::sgemm_batch(
                    isa,
                    1,
                    (n, n, n),
                    1.0,
                    (
                        View {
                            data: &a,
                            rs: at.0,
                            cs: at.1,
                        },
                        0,
                    ),
                    (
                        View {
                            data: &b,
                            rs: bt.0,
                            cs: bt.1,
                        },
                        0,
                    ),
                    0.0,
                    (&mut c, 0),
                    scaling_playground::backend::sgemm_x86::Epilogue::None,
                )
            });
            println!("ours_{isa:?}{name} {:.2}", flops / s / 1e9);
        }
    }
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
            let wall = || {
                static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
                START.get_or_init(Instant::now).elapsed().as_secs_f64()
            };
            let s = time_with(wall, &mut || {
                dev.gemm(&g, &ta, &tb, &mut tc);
                let _ = dev.download(&tc).len();
            });
            println!("wgsl[{name}] {:.2}", flops / s / 1e9);
        }
        Err(e) => println!("# no gpu: {e}"),
    }
}

/// Throughput probes in inline assembly: 12 independent register-only operations per
/// loop trip, best of 10 runs in thread CPU time.
#[cfg(target_arch = "x86_64")]
mod roofline {
    use super::cpu_seconds;
    use std::arch::asm;

    /// Operations (instructions, or dependent adds) per second of `f(trips)`.
    fn rate(ops_per_trip: f64, f: unsafe fn(u64)) -> f64 {
        let trips = 20_000_000u64;
        let mut best = 0.0f64;
        for _ in 0..10 {
            let t = cpu_seconds();
            // SAFETY: callers only pass probes whose features were detected.
            unsafe { f(trips) };
            best = best.max(ops_per_trip * trips as f64 / (cpu_seconds() - t));
        }
        best
    }

    /// 12 dependent integer adds per trip: one per cycle, so trips * 12 / s = the clock.
    unsafe fn dependent_adds(n: u64) {
        // SAFETY: register-only arithmetic.
        unsafe {
            asm!("2:",
                "add {x}, {y}", "add {x}, {y}", "add {x}, {y}", "add {x}, {y}",
                "add {x}, {y}", "add {x}, {y}", "add {x}, {y}", "add {x}, {y}",
                "add {x}, {y}", "add {x}, {y}", "add {x}, {y}", "add {x}, {y}",
                "dec {n}", "jnz 2b",
                x = inout(reg) 0u64 => _, y = in(reg) 1u64, n = inout(reg) n => _,
                options(nomem, nostack));
        }
    }

    /// Six 128-bit multiplies and six 128-bit adds per trip (what simd128 compiles to).
    #[target_feature(enable = "avx")]
    unsafe fn mul_add_xmm(n: u64) {
        // SAFETY: register-only arithmetic; avx checked by the caller.
        unsafe {
            asm!("2:",
                "vmulps xmm0, xmm12, xmm13", "vaddps xmm1, xmm12, xmm13",
                "vmulps xmm2, xmm12, xmm13", "vaddps xmm3, xmm12, xmm13",
                "vmulps xmm4, xmm12, xmm13", "vaddps xmm5, xmm12, xmm13",
                "vmulps xmm6, xmm12, xmm13", "vaddps xmm7, xmm12, xmm13",
                "vmulps xmm8, xmm12, xmm13", "vaddps xmm9, xmm12, xmm13",
                "vmulps xmm10, xmm12, xmm13", "vaddps xmm11, xmm12, xmm13",
                "dec {n}", "jnz 2b",
                n = inout(reg) n => _,
                out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
                out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
                options(nomem, nostack));
        }
    }

    /// Twelve 128-bit FMAs on 12 accumulators per trip (relaxed-simd's `relaxed_madd`).
    #[target_feature(enable = "fma")]
    unsafe fn fma_xmm(n: u64) {
        // SAFETY: register-only arithmetic; fma checked by the caller.
        unsafe {
            asm!("2:",
                "vfmadd231ps xmm0, xmm12, xmm13", "vfmadd231ps xmm1, xmm12, xmm13",
                "vfmadd231ps xmm2, xmm12, xmm13", "vfmadd231ps xmm3, xmm12, xmm13",
                "vfmadd231ps xmm4, xmm12, xmm13", "vfmadd231ps xmm5, xmm12, xmm13",
                "vfmadd231ps xmm6, xmm12, xmm13", "vfmadd231ps xmm7, xmm12, xmm13",
                "vfmadd231ps xmm8, xmm12, xmm13", "vfmadd231ps xmm9, xmm12, xmm13",
                "vfmadd231ps xmm10, xmm12, xmm13", "vfmadd231ps xmm11, xmm12, xmm13",
                "dec {n}", "jnz 2b",
                n = inout(reg) n => _,
                out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
                out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
                options(nomem, nostack));
        }
    }

    /// Twelve 512-bit FMAs per trip (what OpenBLAS's SkylakeX kernel issues).
    #[target_feature(enable = "avx512f")]
    unsafe fn fma_zmm(n: u64) {
        // SAFETY: register-only arithmetic; avx512f checked by the caller.
        unsafe {
            asm!("2:",
                "vfmadd231ps zmm0, zmm12, zmm13", "vfmadd231ps zmm1, zmm12, zmm13",
                "vfmadd231ps zmm2, zmm12, zmm13", "vfmadd231ps zmm3, zmm12, zmm13",
                "vfmadd231ps zmm4, zmm12, zmm13", "vfmadd231ps zmm5, zmm12, zmm13",
                "vfmadd231ps zmm6, zmm12, zmm13", "vfmadd231ps zmm7, zmm12, zmm13",
                "vfmadd231ps zmm8, zmm12, zmm13", "vfmadd231ps zmm9, zmm12, zmm13",
                "vfmadd231ps zmm10, zmm12, zmm13", "vfmadd231ps zmm11, zmm12, zmm13",
                "dec {n}", "jnz 2b",
                n = inout(reg) n => _,
                out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _,
                out("zmm4") _, out("zmm5") _, out("zmm6") _, out("zmm7") _,
                out("zmm8") _, out("zmm9") _, out("zmm10") _, out("zmm11") _,
                options(nomem, nostack));
        }
    }

    pub fn print() {
        let ghz = rate(12.0, dependent_adds) / 1e9;
        println!("# roofline clock {ghz:.2} GHz (dependent integer adds)");
        if is_x86_feature_detected!("avx") {
            let g = rate(12.0, mul_add_xmm) / 1e9;
            println!(
                "# roofline simd128_mul_add {:.1} GFLOP/s ({:.1} flop/cycle; 4 flops per op)",
                4.0 * g,
                4.0 * g / ghz
            );
        }
        if is_x86_feature_detected!("fma") {
            let g = rate(12.0, fma_xmm) / 1e9;
            println!(
                "# roofline fma_128bit {:.1} GFLOP/s ({:.1} flop/cycle)",
                8.0 * g,
                8.0 * g / ghz
            );
        }
        if is_x86_feature_detected!("avx512f") {
            let g = rate(12.0, fma_zmm) / 1e9;
            println!(
                "# roofline fma_512bit {:.1} GFLOP/s ({:.1} flop/cycle)",
                32.0 * g,
                32.0 * g / ghz
            );
        }
    }
}

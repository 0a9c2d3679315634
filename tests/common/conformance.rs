//! The backend conformance cases, shared by the native suite (`tests/backend/kernels.rs`,
//! Vulkan: Mesa lavapipe in CI) and the browser suite (`tests/webgpu_conformance.rs`,
//! WebGPU: SwiftShader in headless Chromium). Every case runs an op on the CPU oracle and
//! on the device under test with the same inputs and compares all outputs (f32, relative
//! tolerance 1e-4; shapes include non-multiples of the 64 x 64 GPU tile). The bodies are
//! async because the browser can only read GPU buffers back asynchronously; the native
//! driver blocks on them.
#![allow(dead_code)]

use scaling_playground::backend::{AdamStep, Device, DeviceKind, Gemm, Gpu, Tensor};
use scaling_playground::config::{
    Activation, Arch, ModelConfig, ObserveConfig, OptimizerConfig, Parameterization, TrainConfig,
};
use scaling_playground::data::DataConfig;
use scaling_playground::nn::train::train_on_async;
use scaling_playground::progress::Silent;

pub const TOL: f32 = 1e-4;

/// Deterministic pseudo-random values in [-1, 1).
pub fn values(n: usize, salt: u32) -> Vec<f32> {
    let mut s = 0x9e37_79b9u32 ^ salt.wrapping_mul(0x85eb_ca6b);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

/// `|got - want| <= TOL (|want| + mean |want|)` elementwise: relative error, with the
/// tensor's mean magnitude as the floor for entries that cancel to near zero.
pub fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mean = want.iter().map(|x| x.abs()).sum::<f32>() / want.len().max(1) as f32;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = TOL * (w.abs() + mean);
        assert!(
            (g - w).abs() <= tol,
            "{what}[{i}]: got {g}, want {w} (tolerance {tol})"
        );
    }
}

/// Run `op` on `d` with `inputs` uploaded; read every tensor back.
async fn outputs(
    d: &Device,
    inputs: &[Vec<f32>],
    op: &impl Fn(&Device, &mut [Tensor]),
) -> Vec<Vec<f32>> {
    let mut ts: Vec<Tensor> = inputs.iter().map(|v| d.upload(v)).collect();
    op(d, &mut ts);
    let mut out = Vec::with_capacity(ts.len());
    for t in &ts {
        out.push(d.download_async(t).await);
    }
    out
}

/// Run `op` on the CPU and on `dev` with the same inputs; compare every output tensor.
async fn check(dev: &Device, what: &str, inputs: &[Vec<f32>], op: impl Fn(&Device, &mut [Tensor])) {
    let want = outputs(&Device::Cpu, inputs, &op).await;
    let got = outputs(dev, inputs, &op).await;
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_close(g, w, &format!("{} {what} tensor {k}", dev.name()));
    }
    assert!(dev.lost().is_none(), "{what}: {:?}", dev.lost());
}

/// Batched GEMM in every transpose, broadcast and alpha/beta form on tiny, ragged and
/// tile-multiple shapes. Returns the number of cases compared.
pub async fn gemm_cases(dev: &Device) -> usize {
    let mut cases = 0;
    // (batch, m, n, k): tiny, ragged around the 64-tile and 16-slab, exact multiples;
    // then multiples of 4 that are not multiples of the tile or slab (vec4 loads of both
    // operands, with whole 4-groups outside the edges) and shapes where only one
    // operand's stored rows allow vec4 loads (mixed variants, per transpose).
    let shapes = [
        (1, 1, 1, 1),
        (3, 5, 7, 3),
        (2, 65, 70, 33),
        (1, 130, 17, 129),
        (2, 64, 64, 64),
        (1, 3, 129, 0),
        (2, 68, 36, 20),
        (1, 12, 132, 8),
        (2, 33, 64, 48),
        (1, 72, 30, 17),
    ];
    {
        for &(batch, m, n, k) in &shapes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for (bcast, alpha, beta) in [(0, 1.0, 0.0), (1, 0.5, 1.0), (2, -1.5, 0.25)] {
                    let mut g = Gemm::new(batch, m, n, k).alpha(alpha).beta(beta);
                    g.trans_a = ta;
                    g.trans_b = tb;
                    if bcast == 1 {
                        g = g.broadcast_a();
                    } else if bcast == 2 {
                        g = g.broadcast_b();
                    }
                    let la = if g.stride_a == 0 { 1 } else { batch } * m * k;
                    let lb = if g.stride_b == 0 { 1 } else { batch } * k * n;
                    let inputs = [values(la, 1), values(lb, 2), values(batch * m * n, 3)];
                    check(dev, &format!("gemm {g:?}"), &inputs, |d, t| {
                        let (ab, c) = t.split_at_mut(2);
                        d.gemm(&g, &ab[0], &ab[1], &mut c[0]);
                    })
                    .await;
                    cases += 1;
                }
            }
        }
    }
    // Products with the activation or the multiply applied as they are written (fused
    // on the native CPU and in the GPU's matmul): ragged, training-step and narrow
    // shapes, and the outer product (k = 1) of backpropagation from a scalar output;
    // beta = 1 as in a ResNet layer.
    let fused = [
        (Gemm::new(2, 65, 70, 33).tb().alpha(0.5), Activation::Relu),
        (Gemm::new(1, 256, 64, 64).tb().beta(1.0), Activation::Relu),
        (Gemm::new(2, 64, 16, 40).ta().alpha(-1.5), Activation::Tanh),
        (Gemm::new(2, 256, 64, 1).alpha(0.5), Activation::Relu),
    ];
    for (g, act) in fused {
        let (la, lb, lc) = (
            g.batch * g.m * g.k,
            g.batch * g.k * g.n,
            g.batch * g.m * g.n,
        );
        let inputs = [
            values(la, 22),
            values(lb, 23),
            values(lc, 24),
            values(lc, 25),
        ];
        let with_dphi = [&inputs[..], &[vec![0.0; lc]]].concat();
        check(
            dev,
            &format!("gemm_activate {act:?} {g:?}"),
            &with_dphi,
            |d, t| {
                let (ab, rest) = t.split_at_mut(2);
                let (h, rest) = rest.split_at_mut(1);
                let (phi, dphi) = rest.split_at_mut(1);
                d.gemm_activate(
                    &g,
                    &ab[0],
                    &ab[1],
                    act,
                    &mut h[0],
                    &mut phi[0],
                    &mut dphi[0],
                );
            },
        )
        .await;
        check(dev, &format!("gemm_mul {g:?}"), &inputs, |d, t| {
            let (ab, rest) = t.split_at_mut(2);
            let (c, x) = rest.split_at_mut(1);
            d.gemm_mul(&g, &ab[0], &ab[1], &x[0], &mut c[0]);
        })
        .await;
        cases += 2;
    }
    cases
}

/// Every other op (activations, axpy, mul, residual, Adam, Langevin, sum of squares,
/// copy and write). Returns the number of cases compared.
pub async fn elementwise_cases(dev: &Device) -> usize {
    let mut cases = 0;
    let n = 1000; // not a multiple of the 256-wide workgroup
    {
        for act in Activation::ALL {
            // inputs spread over [-6, 6] to reach the tails of erf and tanh
            let h: Vec<f32> = values(n, 4).iter().map(|x| 6.0 * x).collect();
            check(
                dev,
                &format!("activate {act:?}"),
                &[h, vec![0.0; n], vec![0.0; n]],
                |d, t| {
                    let (h, rest) = t.split_at_mut(1);
                    let (phi, dphi) = rest.split_at_mut(1);
                    d.activate(act, &h[0], &mut phi[0], &mut dphi[0]);
                },
            )
            .await;
            cases += 1;
        }
        check(dev, "axpy", &[values(n, 5), values(n, 6)], |d, t| {
            let (x, y) = t.split_at_mut(1);
            d.axpy(-0.75, &x[0], &mut y[0]);
        })
        .await;
        cases += 1;
        // 1000 = 4 members x 250 (not a multiple of the workgroup)
        let rates = vec![-0.75, 0.5, 0.0, -2.0];
        check(
            dev,
            "axpy_members",
            &[rates, values(n, 5), values(n, 6)],
            |d, t| {
                let (r, rest) = t.split_at_mut(1);
                let (x, y) = rest.split_at_mut(1);
                d.axpy_members(&r[0], &x[0], &mut y[0]);
            },
        )
        .await;
        cases += 1;
        check(dev, "mul_assign", &[values(n, 7), values(n, 8)], |d, t| {
            let (x, y) = t.split_at_mut(1);
            d.mul_assign(&x[0], &mut y[0]);
        })
        .await;
        cases += 1;
        // residual: 3 seeds x 37 outputs, with and without centring
        let (s, ny) = (3, 37);
        let ins = [
            values(s * ny, 9),
            values(s * ny, 10),
            values(ny, 11),
            vec![0.0; s * ny],
        ];
        for centred in [false, true] {
            check(dev, &format!("residual centred={centred}"), &ins, |d, t| {
                let (inp, e) = t.split_at_mut(3);
                let f0 = centred.then_some(&inp[1]);
                d.residual(&inp[0], f0, &inp[2], 0.125, &mut e[0]);
            })
            .await;
            cases += 1;
        }
        let st = AdamStep {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        };
        let v0: Vec<f32> = values(n, 14).iter().map(|x| x * x).collect();
        check(
            dev,
            "adam",
            &[values(n, 12), values(n, 13), v0, values(n, 15)],
            |d, t| {
                let (g, rest) = t.split_at_mut(1);
                let (m, rest) = rest.split_at_mut(1);
                let (v, w) = rest.split_at_mut(1);
                // two steps, so the moments are read back after being written
                d.adam(&st, &g[0], &mut m[0], &mut v[0], &mut w[0]);
                d.adam(&st, &g[0], &mut m[0], &mut v[0], &mut w[0]);
            },
        )
        .await;
        cases += 1;
        check(
            dev,
            "langevin",
            &[values(n, 16), values(n, 17), values(n, 18)],
            |d, t| {
                let (g, rest) = t.split_at_mut(1);
                let (xi, w) = rest.split_at_mut(1);
                d.langevin(0.01, 0.1, 0.05, &g[0], &xi[0], &mut w[0]);
            },
        )
        .await;
        cases += 1;
        check(
            dev,
            "sum_sq",
            &[values(5 * 777, 19), vec![0.0; 5]],
            |d, t| {
                let (x, out) = t.split_at_mut(1);
                d.sum_sq(&x[0], &mut out[0]);
            },
        )
        .await;
        cases += 1;
        check(
            dev,
            "copy + write",
            &[values(n, 20), values(n, 21)],
            |d, t| {
                let (a, b) = t.split_at_mut(1);
                d.copy(&a[0], &mut b[0]);
                d.axpy(2.0, &a[0], &mut b[0]);
                d.write(&mut a[0], &vec![1.5; n]);
                d.axpy(1.0, &b[0], &mut a[0]);
            },
        )
        .await;
        cases += 1;
    }
    cases
}

/// An ensemble's product in one batched call equals each member's product alone, bit
/// for bit, on `dev` itself (no oracle: the same device both ways), and on a GPU is one
/// kernel launch: plain, fused with an activation (ReLU, tanh) and fused with a multiply; 1 and 3 members; widths that
/// are not multiples of any tile (17, 65, 130: past the x86 kernels' 128 columns); every
/// transpose; a shared A (the data X in the first layer) or B (X in its weight
/// gradient); and the thin shapes (`k = 1`, `n = 1`, `m = 1`). Returns the number of
/// cases compared.
pub async fn batch_equals_members(dev: &Device) -> usize {
    let shapes = [
        (1, 33, 17, 16),
        (3, 33, 17, 16),
        (3, 70, 65, 17),
        (3, 19, 130, 33),
        (3, 17, 17, 70),
        (3, 40, 65, 1),
        (3, 40, 1, 65),
        (3, 1, 65, 40),
    ];
    let mut cases = 0;
    for &(batch, m, n, k) in &shapes {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            for share in 0..3 {
                let mut g = Gemm::new(batch, m, n, k).alpha(0.75).beta(0.5);
                g.trans_a = ta;
                g.trans_b = tb;
                if share == 1 {
                    g = g.broadcast_a();
                } else if share == 2 {
                    g = g.broadcast_b();
                }
                for fused in 0..4 {
                    check_members(dev, &g, fused).await;
                    cases += 1;
                }
            }
        }
    }
    cases
}

/// One case of [`batch_equals_members`]: `fused` 0 = gemm, 1 = gemm_activate ReLU,
/// 2 = gemm_activate tanh, 3 = gemm_mul.
async fn check_members(dev: &Device, g: &Gemm, fused: u32) {
    let (mk, kn, mn) = (g.m * g.k, g.k * g.n, g.m * g.n);
    let count = |stride: usize| if stride == 0 { 1 } else { g.batch };
    let a = values(count(g.stride_a) * mk, 61);
    let b = values(count(g.stride_b) * kn, 62);
    let c = values(g.batch * mn, 63);
    let x = values(g.batch * mn, 64);
    let run = |g: &Gemm, inputs: [&[f32]; 4]| {
        let mut t: Vec<Tensor> = inputs.iter().map(|v| dev.upload(v)).collect();
        let mut phi = dev.zeros(inputs[2].len());
        let mut dphi = dev.zeros(inputs[2].len());
        let (ab, rest) = t.split_at_mut(2);
        let (c, x) = rest.split_at_mut(1);
        match fused {
            0 => dev.gemm(g, &ab[0], &ab[1], &mut c[0]),
            1 | 2 => {
                let act = if fused == 1 {
                    Activation::Relu
                } else {
                    Activation::Tanh
                };
                dev.gemm_activate(g, &ab[0], &ab[1], act, &mut c[0], &mut phi, &mut dphi)
            }
            _ => dev.gemm_mul(g, &ab[0], &ab[1], &x[0], &mut c[0]),
        }
        [t.swap_remove(2), phi, dphi]
    };
    let launched = |d: &Device| match d {
        Device::Gpu(gpu) => gpu.kernel_launches(),
        Device::Cpu => 0,
    };
    let before = launched(dev);
    let batched = run(g, [&a, &b, &c, &x]);
    if matches!(dev, Device::Gpu(_)) {
        // the whole ensemble's product, fused epilogue included, is one dispatch
        assert_eq!(
            launched(dev) - before,
            1,
            "{g:?} fused {fused}: kernels launched"
        );
    }
    let mut got = vec![];
    for t in &batched {
        got.push(dev.download_async(t).await);
    }
    for s in 0..g.batch {
        let one = Gemm { batch: 1, ..*g };
        let a_s = &a[s * g.stride_a..s * g.stride_a + mk];
        let b_s = &b[s * g.stride_b..s * g.stride_b + kn];
        let span = s * mn..(s + 1) * mn;
        let alone = run(&one, [a_s, b_s, &c[span.clone()], &x[span.clone()]]);
        for (i, t) in alone.iter().enumerate() {
            let want = dev.download_async(t).await;
            assert!(
                got[i][span.clone()] == want[..],
                "{}: {g:?} fused {fused}: member {s} of the batch differs from it alone \
                 (output {i})",
                dev.name()
            );
        }
    }
    assert!(dev.lost().is_none(), "{g:?}: {:?}", dev.lost());
}

/// A training step launches the same kernels whatever the number of seeds: every
/// product, activation, update and divergence check runs once for the whole ensemble
/// (one dispatch with the seeds as its batch dimension), never once per seed. Counts
/// the kernels of a whole run (30 steps, 7 records) with 1 and with 3 seeds.
pub async fn launches_do_not_grow_with_seeds(g: &Gpu) {
    let mut counts = vec![];
    for seeds in [1, 3] {
        let mut cfg = small_run(OptimizerConfig::Gd { lr: 0.5 }, Arch::Resnet);
        cfg.seeds = seeds;
        let data = cfg.data.load().unwrap();
        let before = g.kernel_launches();
        let r = train_on_async(Device::Gpu(g.clone()), &cfg, &data, &Silent)
            .await
            .unwrap();
        assert_eq!(r.backend.device, DeviceKind::Gpu, "{:?}", r.backend);
        counts.push(g.kernel_launches() - before);
    }
    // at least the 4 products and updates of each of 30 steps
    assert!(counts[0] >= 30 * 8, "kernels launched: {counts:?}");
    assert_eq!(counts[0], counts[1], "kernels of a run with 1 and 3 seeds");
}

/// Many training runs in a row on one device leave no tensors and no cached bind groups
/// behind (a cached bind group holds its buffers alive): the device's memory does not
/// grow with the number of runs.
pub async fn repeated_runs_keep_memory_flat(g: &Gpu) {
    let cfg = small_run(OptimizerConfig::Gd { lr: 0.5 }, Arch::Mlp);
    let data = cfg.data.load().unwrap();
    let (buffers, groups) = (g.live_buffers(), g.cached_bind_groups());
    for run in 0..4 {
        let r = train_on_async(Device::Gpu(g.clone()), &cfg, &data, &Silent)
            .await
            .unwrap();
        assert_eq!(r.backend.device, DeviceKind::Gpu, "{:?}", r.backend);
        assert_eq!(
            (g.live_buffers(), g.cached_bind_groups()),
            (buffers, groups),
            "after run {run}: (live buffers, cached bind groups) grew from before the runs"
        );
    }
}

pub fn small_run(optimizer: OptimizerConfig, arch: Arch) -> TrainConfig {
    TrainConfig {
        data: DataConfig::Teacher {
            teacher: Default::default(),
            dim: 16,
            train: 40,
            test: 10,
            noise: 0.0,
            seed: 3,
        },
        model: ModelConfig {
            arch,
            width: 96,
            depth: 3,
            activation: Activation::Tanh,
            beta: 1.0,
            centered: true,
        },
        param: Parameterization::Mup { gamma0: 1.0 },
        optimizer,
        steps: 30,
        seeds: 2,
        seed: 7,
        observe: ObserveConfig {
            every: 5,
            ..Default::default()
        },
    }
}

pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

/// A GD MLP and an Adam ResNet train to the same loss curves (train and test, every
/// record, every seed) on the CPU and on `g`, within 1e-4 relative.
pub async fn training_parity(g: &Gpu) {
    let adam = OptimizerConfig::Adam {
        lr: 0.02,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        mup_scaling: true,
    };
    let runs = [
        small_run(OptimizerConfig::Gd { lr: 0.5 }, Arch::Mlp),
        small_run(adam, Arch::Resnet),
    ];
    for cfg in runs {
        let data = cfg.data.load().unwrap();
        let cpu = train_on_async(Device::Cpu, &cfg, &data, &Silent)
            .await
            .unwrap();
        let gpu = train_on_async(Device::Gpu(g.clone()), &cfg, &data, &Silent)
            .await
            .unwrap();
        assert_eq!(gpu.backend.device, DeviceKind::Gpu, "{:?}", gpu.backend);
        assert_eq!(cpu.steps, gpu.steps);
        let (first, last) = (&cpu.train_loss[0][0], &cpu.train_loss.last().unwrap()[0]);
        assert!(last < first, "the run should learn: {first} -> {last}");
        for (rc, rg) in cpu.train_loss.iter().zip(&gpu.train_loss) {
            for (lc, lg) in rc.iter().zip(rg) {
                assert!(
                    rel(*lg, *lc) < 1e-4,
                    "{:?}: cpu {lc} gpu {lg}",
                    cfg.optimizer
                );
            }
        }
        for (rc, rg) in cpu.test_loss.iter().zip(&gpu.test_loss) {
            for (lc, lg) in rc.iter().zip(rg) {
                assert!(rel(*lg, *lc) < 1e-4, "test loss: cpu {lc} gpu {lg}");
            }
        }
    }
}

/// A device lost mid-run (simulated after `ops` kernels) ends on the CPU with the CPU's
/// numbers, and the result says so.
pub async fn device_loss_falls_back(g: &Gpu) {
    let cfg = small_run(OptimizerConfig::Gd { lr: 0.5 }, Arch::Mlp);
    let data = cfg.data.load().unwrap();
    // a step of this depth-3 MLP is ~16 kernels: lose the device around step 6
    g.simulate_loss_after(100);
    let res = train_on_async(Device::Gpu(g.clone()), &cfg, &data, &Silent)
        .await
        .unwrap();
    assert!(g.lost().is_some());
    assert_eq!(res.backend.device, DeviceKind::Cpu, "{:?}", res.backend);
    assert!(
        res.backend
            .fallback
            .as_deref()
            .is_some_and(|w| w.contains("simulated")),
        "{:?}",
        res.backend
    );
    let cpu = train_on_async(Device::Cpu, &cfg, &data, &Silent)
        .await
        .unwrap();
    assert_eq!(res.steps, cpu.steps);
    assert_eq!(res.train_loss, cpu.train_loss);
}

/// The transformer's ops (attention and its backward, layer and RMS norm and theirs, the
/// two sequence losses, Adam with a rate per member) on ragged shapes: causal rows of
/// 1..T keys, heads of odd size, rows wider than the 64-wide workgroups, targets without
/// a loss. Returns the number of cases compared.
pub async fn seq_cases(dev: &Device) -> usize {
    use scaling_playground::backend::{Attention, LossKind, Norm, NormKind, SeqLoss};
    let mut cases = 0;
    for (groups, t, heads, head_dim) in [(3, 5, 2, 3), (2, 70, 3, 4), (1, 16, 4, 8)] {
        let a = Attention {
            groups,
            t,
            heads,
            head_dim,
            scale: 0.6,
        };
        let qkv: Vec<f32> = values(a.qkv_len(), 40).iter().map(|x| 2.0 * x).collect();
        let ins = [qkv, vec![0.0; a.probs_len()], vec![0.0; a.out_len()]];
        check(dev, &format!("attention {a:?}"), &ins, |d, t| {
            let (q, rest) = t.split_at_mut(1);
            let (p, o) = rest.split_at_mut(1);
            d.attention(&a, &q[0], &mut p[0], &mut o[0]);
        })
        .await;
        let ins = [
            ins[0].clone(),
            vec![0.0; a.probs_len()],
            vec![0.0; a.out_len()],
            values(a.out_len(), 41),
            vec![0.0; a.probs_len()],
            vec![0.0; a.qkv_len()],
        ];
        check(dev, &format!("attention_backward {a:?}"), &ins, |d, t| {
            let (q, rest) = t.split_at_mut(1);
            let (p, rest) = rest.split_at_mut(1);
            let (o, rest) = rest.split_at_mut(1);
            let (dout, rest) = rest.split_at_mut(1);
            let (ds, dq) = rest.split_at_mut(1);
            d.attention(&a, &q[0], &mut p[0], &mut o[0]);
            d.attention_backward(&a, &q[0], &p[0], &dout[0], &mut ds[0], &mut dq[0]);
        })
        .await;
        cases += 2;
    }
    for kind in [NormKind::Layer, NormKind::Rms] {
        for (rows, width, per) in [(6, 5, 3), (8, 130, 4)] {
            let n = Norm {
                kind,
                rows,
                width,
                rows_per_member: per,
                eps: 1e-5,
            };
            let members = rows / per;
            let x: Vec<f32> = values(rows * width, 42)
                .iter()
                .map(|v| 3.0 * v + 0.5)
                .collect();
            let gain: Vec<f32> = values(members * width, 43)
                .iter()
                .map(|v| 1.0 + 0.5 * v)
                .collect();
            let ins = [
                x,
                gain,
                vec![0.0; rows * width],
                vec![0.0; rows * width],
                vec![0.0; rows],
                values(rows * width, 44),
                values(rows * width, 45),
                vec![0.0; members * width],
            ];
            check(dev, &format!("norm + backward {n:?}"), &ins, |d, t| {
                let (x, rest) = t.split_at_mut(1);
                let (g, rest) = rest.split_at_mut(1);
                let (y, rest) = rest.split_at_mut(1);
                let (xh, rest) = rest.split_at_mut(1);
                let (rs, rest) = rest.split_at_mut(1);
                let (dy, rest) = rest.split_at_mut(1);
                let (dx, dg) = rest.split_at_mut(1);
                d.norm(&n, &x[0], &g[0], &mut y[0], &mut xh[0], &mut rs[0]);
                d.norm_backward(&n, &dy[0], &xh[0], &rs[0], &g[0], &mut dx[0], &mut dg[0]);
            })
            .await;
            cases += 1;
        }
    }
    for (kind, classes) in [
        (LossKind::CrossEntropy, 7),
        (LossKind::CrossEntropy, 97),
        (LossKind::Squared, 1),
        (LossKind::Squared, 3),
    ] {
        let (rows, per) = (12, 4);
        let l = SeqLoss {
            kind,
            rows,
            classes,
            rows_per_member: per,
        };
        let targets: Vec<f32> = match kind {
            LossKind::CrossEntropy => vec![0.0, (classes - 1) as f32, -1.0, 2.0],
            LossKind::Squared => (0..per)
                .flat_map(|r| {
                    let w = if r == 2 { 0.0 } else { 1.0 };
                    std::iter::once(w).chain(values(classes, 46 + r as u32))
                })
                .collect(),
        };
        let logits: Vec<f32> = values(rows * classes, 47).iter().map(|v| 4.0 * v).collect();
        let ins = [logits, targets, vec![0.0; rows * classes], vec![0.0; rows]];
        check(dev, &format!("seq_loss {l:?}"), &ins, |d, t| {
            let (z, rest) = t.split_at_mut(1);
            let (tg, rest) = rest.split_at_mut(1);
            let (dz, loss) = rest.split_at_mut(1);
            d.seq_loss(&l, &z[0], &tg[0], 0.25, &mut dz[0], &mut loss[0]);
        })
        .await;
        cases += 1;
    }
    let st = AdamStep {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
    let n = 3 * 333;
    let v0: Vec<f32> = values(n, 50).iter().map(|x| x * x).collect();
    let ins = [
        vec![1.0, 0.25, 4.0],
        values(n, 51),
        values(n, 52),
        v0,
        values(n, 53),
    ];
    check(dev, "adam_members", &ins, |d, t| {
        let (lr, rest) = t.split_at_mut(1);
        let (g, rest) = rest.split_at_mut(1);
        let (m, rest) = rest.split_at_mut(1);
        let (v, w) = rest.split_at_mut(1);
        d.adam_members(&st, &lr[0], &g[0], &mut m[0], &mut v[0], &mut w[0]);
        d.adam_members(&st, &lr[0], &g[0], &mut m[0], &mut v[0], &mut w[0]);
    })
    .await;
    cases + 1
}

/// Transformers (corpus under SP with layer norm; in-context regression under CompleteP
/// with RMS norm), two learning rates times two seeds as one batched ensemble, train to
/// the same loss curves, scores and attention maps on the CPU and on `g`, within 1e-4.
pub async fn transformer_parity(g: &Gpu) {
    use scaling_playground::transformer::config::{
        NormChoice, TfParam, TransformerConfig, TransformerModel,
    };
    use scaling_playground::transformer::{RunOptions, SeqTask, train_members_on};
    let base = TransformerConfig {
        model: TransformerModel {
            width: 32,
            heads: 4,
            depth: 2,
            context: 12,
            ..Default::default()
        },
        batch: 4,
        steps: 20,
        seeds: 2,
        ..Default::default()
    };
    let mut icl = base.clone();
    icl.task = SeqTask::InContextRegression { dim: 4, noise: 0.0 };
    icl.param = TfParam::mup();
    icl.model.norm = NormChoice::Rms;
    icl.model.alpha = 1.0;
    icl.model.depth = 3;
    let mut sp = base;
    sp.param = TfParam::Sp;
    for cfg in [sp, icl] {
        let lrs = [0.003, 0.01];
        let o = RunOptions::default();
        let cpu = train_members_on(Device::Cpu, &cfg, &lrs, &o, &Silent)
            .await
            .unwrap();
        let gpu = train_members_on(Device::Gpu(g.clone()), &cfg, &lrs, &o, &Silent)
            .await
            .unwrap();
        assert_eq!(gpu.backend.device, DeviceKind::Gpu, "{:?}", gpu.backend);
        assert_eq!(cpu.steps, gpu.steps);
        // the weights move: the fixed test sequences' loss changes (the corpus run learns)
        let (first, last) = (cpu.test_loss[0][0], cpu.test_loss.last().unwrap()[0]);
        assert!((last - first).abs() > 1e-3 * first, "{first} -> {last}");
        if matches!(cfg.task, SeqTask::Corpus {}) {
            assert!(
                last < 0.9 * first,
                "the corpus run should learn: {first} -> {last}"
            );
        }
        let mut worst: f64 = 0.0;
        for (rc, rg) in cpu
            .train_loss
            .iter()
            .zip(&gpu.train_loss)
            .chain(cpu.test_loss.iter().zip(&gpu.test_loss))
        {
            for (lc, lg) in rc.iter().zip(rg) {
                worst = worst.max(rel(*lg, *lc));
            }
        }
        for (sc, sg) in cpu.score.iter().zip(&gpu.score) {
            worst = worst.max(rel(sg.unwrap(), sc.unwrap()));
        }
        println!(
            "transformer {:?}: CPU/GPU loss curves agree to {worst:.2e} relative",
            cfg.task
        );
        assert!(worst < 1e-4, "{:?}: worst relative gap {worst}", cfg.task);
        for (lc, lg) in cpu.attention.iter().zip(&gpu.attention) {
            let flat = |m: &Vec<Vec<Vec<f64>>>| {
                m.iter()
                    .flatten()
                    .flatten()
                    .map(|&v| v as f32)
                    .collect::<Vec<_>>()
            };
            assert_close(&flat(&lg.maps), &flat(&lc.maps), "attention maps");
        }
    }
}

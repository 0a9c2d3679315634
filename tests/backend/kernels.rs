//! One conformance suite for every backend, native driver: the cases of
//! `tests/common/conformance.rs` run on every device available here against the CPU
//! backend as oracle (f32, relative tolerance 1e-4; shapes include non-multiples of the
//! 64 x 64 GPU tile). Without a GPU adapter the GPU cases print why and pass. Natively in
//! CI the GPU is Mesa lavapipe (software Vulkan); the browser driver of the same cases is
//! `tests/webgpu_conformance.rs`.
#![cfg(not(target_arch = "wasm32"))]

use crate::common::gpu;
use crate::conformance;
use pollster::block_on;
use scaling_playground::backend::{Device, DeviceChoice, Gpu, GpuOptions, select};

/// Every non-CPU device available here.
fn devices() -> Vec<Device> {
    gpu("the GPU conformance cases")
        .into_iter()
        .map(Device::Gpu)
        .collect()
}

#[test]
fn gemm_matches_cpu_for_all_transposes_strides_and_ragged_shapes() {
    for dev in devices() {
        assert_eq!(block_on(conformance::gemm_cases(&dev)), 128);
    }
}

#[test]
fn a_batched_product_equals_each_member_alone_on_every_device() {
    for dev in [Device::Cpu].into_iter().chain(devices()) {
        assert_eq!(block_on(conformance::batch_equals_members(&dev)), 384);
    }
}

#[test]
fn a_training_step_launches_the_same_kernels_for_any_number_of_seeds() {
    let Some(g) = gpu("the GPU conformance cases") else {
        return;
    };
    block_on(conformance::launches_do_not_grow_with_seeds(&g));
}

#[test]
fn elementwise_ops_match_cpu() {
    for dev in devices() {
        assert_eq!(block_on(conformance::elementwise_cases(&dev)), 14);
    }
}

#[test]
fn transformer_ops_match_cpu() {
    for dev in devices() {
        assert_eq!(block_on(conformance::seq_cases(&dev)), 15);
    }
}

#[test]
fn transformer_training_agrees_on_cpu_and_gpu() {
    let Some(g) = gpu("the GPU conformance cases") else {
        return;
    };
    block_on(conformance::transformer_parity(&g));
}

#[test]
fn training_loss_curves_agree_on_cpu_and_gpu() {
    let Some(g) = gpu("the GPU conformance cases") else {
        return;
    };
    block_on(conformance::training_parity(&g));
}

#[test]
fn many_runs_in_a_row_keep_no_buffers_or_bind_groups() {
    let Some(g) = gpu("the GPU conformance cases") else {
        return;
    };
    block_on(conformance::repeated_runs_keep_memory_flat(&g));
}

#[test]
fn simulated_device_loss_mid_run_falls_back_to_cpu_and_completes() {
    let Some(g) = gpu("the GPU conformance cases") else {
        return;
    };
    block_on(conformance::device_loss_falls_back(&g));
}

#[test]
fn the_blocking_readback_is_the_async_one_polled() {
    let Some(g) = gpu("the GPU conformance cases") else {
        return;
    };
    let dev = Device::Gpu(g);
    let v = conformance::values(1000, 30);
    let t = dev.upload(&v);
    assert_eq!(dev.download(&t), v);
    assert_eq!(block_on(dev.download_async(&t)), v);
}

#[test]
fn broken_shader_and_forced_cpu_choices_end_on_the_cpu() {
    if gpu("the GPU conformance cases").is_some() {
        let e = Gpu::acquire(&GpuOptions {
            allow_software: true,
            break_shader: true,
        })
        .unwrap_err();
        assert!(e.contains("shader"), "{e}");
    }
    let s = select::select(DeviceChoice::Cpu, 1e12);
    assert!(matches!(s.device, Device::Cpu) && s.fallback.is_none());
    // small problems stay on the CPU under Auto
    let s = select::select(DeviceChoice::Auto, 1e3);
    assert!(matches!(s.device, Device::Cpu));
}

#[test]
fn sweep_cells_train_on_the_gpu_when_asked_with_the_cpu_numbers() {
    use scaling_playground::backend::DeviceKind;
    use scaling_playground::experiments::TransferConfig;
    use scaling_playground::kind::Sweep;
    use scaling_playground::run::{RunConfig, RunOutput};
    let Some(g) = gpu("the GPU sweep cells") else {
        return;
    };
    // the rates of a width train as one ensemble (a group), diverging members dropped
    let mut t = TransferConfig {
        widths: vec![32, 48],
        lrs: vec![0.0625, 0.25, 16.0],
        ..Default::default()
    };
    t.base.steps = 10;
    assert_eq!(t.groups().len(), 4, "{:?}", t.groups());
    let cfg = RunConfig::Transfer(t);
    let progress = scaling_playground::progress::Silent;
    let cells = |out: RunOutput| match out {
        RunOutput::Shard(s) => s.cells,
        other => panic!("not a shard: {other:?}"),
    };
    let cpu = cells(cfg.run_shard(0, 1, &progress).unwrap());
    let on_gpu = block_on(cfg.run_shard_async(0, 1, DeviceChoice::Gpu, Ok(&g), &progress));
    let on_gpu = cells(on_gpu.unwrap());
    // Auto refuses the software adapter (and these small problems): the CPU, unasked
    let auto = block_on(cfg.run_shard_async(0, 1, DeviceChoice::Auto, Ok(&g), &progress));
    let auto = cells(auto.unwrap());
    assert_eq!(
        auto, cpu,
        "Auto on a software adapter runs the cells on the CPU"
    );
    assert_eq!(on_gpu.len(), cpu.len());
    let finite = |c: &&scaling_playground::run::IndexedCell| {
        serde_json::to_value(&c.result).unwrap()["final_loss"].is_number()
    };
    assert!(
        cpu.iter().filter(finite).count() >= cpu.len() / 2,
        "{cpu:?}"
    );
    let diverged = |c: &&scaling_playground::run::IndexedCell| {
        serde_json::to_value(&c.result).unwrap()["diverged"] == true
    };
    assert!(cpu.iter().any(|c| diverged(&c)), "{cpu:?}");
    for (c, gc) in cpu.iter().zip(&on_gpu) {
        assert_eq!(gc.backend.device, DeviceKind::Gpu, "{:?}", gc.backend);
        let (a, b) = (
            serde_json::to_value(&c.result).unwrap(),
            serde_json::to_value(&gc.result).unwrap(),
        );
        assert_eq!(a["diverged"], b["diverged"], "cell {}", c.index);
        for key in ["final_loss", "final_test_loss"] {
            match (a[key].as_f64(), b[key].as_f64()) {
                (Some(x), Some(y)) => {
                    assert!(
                        (x - y).abs() <= 1e-4 * x.abs(),
                        "cell {}: {key} cpu {x} gpu {y}",
                        c.index
                    )
                }
                (x, y) => assert_eq!(x, y, "cell {}: {key} ({a} vs {b})", c.index),
            }
        }
    }
}

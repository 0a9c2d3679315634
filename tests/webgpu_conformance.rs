//! The backend conformance suite in the browser: the cases of `tests/common/conformance.rs`
//! on the page's WebGPU device against the CPU oracle, in headless Chromium with
//! `--enable-unsafe-webgpu` (SwiftShader), run by `make test-webgpu`
//! (wasm-bindgen-test-runner over chromedriver, flags in `webdriver.json`).
//!
//! A browser without a WebGPU adapter FAILS these tests, saying why: this suite exists to
//! prove the WebGPU path, and a silent pass would prove nothing. Natively this file is empty.
#![cfg(target_arch = "wasm32")]

#[path = "common/conformance.rs"]
mod conformance;

use scaling_playground::backend::{Device, Gpu, GpuOptions};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The browser's WebGPU device (software adapters accepted), or a panic that says why.
async fn gpu() -> Gpu {
    let opts = GpuOptions {
        allow_software: true,
        ..Default::default()
    };
    match Gpu::acquire_async(&opts).await {
        Ok(g) => {
            web_sys::console::log_1(&format!("WebGPU conformance on {}", g.name()).into());
            g
        }
        Err(e) => panic!(
            "no usable WebGPU device in this browser: {e}. Chromium needs \
             --enable-unsafe-webgpu (see webdriver.json) to offer its SwiftShader adapter \
             headless; without it navigator.gpu.requestAdapter() returns null"
        ),
    }
}

#[wasm_bindgen_test]
async fn adapter_is_webgpu() {
    let g = gpu().await;
    assert!(g.name().contains("BrowserWebGpu"), "{}", g.name());
    let dev = Device::Gpu(g.clone());
    let v = conformance::values(300, 40);
    let t = dev.upload(&v);
    assert_eq!(dev.download_async(&t).await, v);
    assert!(dev.lost().is_none());
}

#[wasm_bindgen_test]
async fn gemm_matches_cpu_for_all_transposes_strides_and_ragged_shapes() {
    let dev = Device::Gpu(gpu().await);
    assert_eq!(conformance::gemm_cases(&dev).await, 128);
}

/// The batched products on the page's CPU path (the simd128 kernel) and on WebGPU.
#[wasm_bindgen_test]
async fn a_batched_product_equals_each_member_alone_on_every_device() {
    for dev in [Device::Cpu, Device::Gpu(gpu().await)] {
        assert_eq!(conformance::batch_equals_members(&dev).await, 384);
    }
}

#[wasm_bindgen_test]
async fn elementwise_ops_match_cpu() {
    let dev = Device::Gpu(gpu().await);
    assert_eq!(conformance::elementwise_cases(&dev).await, 14);
}

#[wasm_bindgen_test]
async fn transformer_ops_match_cpu() {
    let dev = Device::Gpu(gpu().await);
    assert_eq!(conformance::seq_cases(&dev).await, 15);
}

#[wasm_bindgen_test]
async fn transformer_training_agrees_on_cpu_and_gpu() {
    conformance::transformer_parity(&gpu().await).await;
}

#[wasm_bindgen_test]
async fn training_loss_curves_agree_on_cpu_and_gpu() {
    conformance::training_parity(&gpu().await).await;
}

#[wasm_bindgen_test]
async fn simulated_device_loss_mid_run_falls_back_to_cpu_and_completes() {
    conformance::device_loss_falls_back(&gpu().await).await;
}

#[wasm_bindgen_test]
async fn many_runs_in_a_row_keep_no_buffers_or_bind_groups() {
    conformance::repeated_runs_keep_memory_flat(&gpu().await).await;
}

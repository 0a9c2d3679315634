//! Choosing the device: one policy ([`decide`]) for training runs, the DMFT's products
//! and the page: the GPU when a hardware adapter exists and the work is large enough to
//! gain, the CPU otherwise, with a user override. Every way of not getting the GPU that
//! was asked for (no adapter, shaders that fail to compile, a lost device) ends on the
//! CPU with the reason in the typed [`BackendReport`] the results carry.

use super::{Device, Gpu};
use serde::{Deserialize, Serialize};

/// What the user asked for.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// GPU for large problems on a hardware adapter, else CPU.
    #[default]
    Auto,
    Cpu,
    /// GPU whenever any adapter exists (software adapters included), whatever the size.
    Gpu,
}

impl DeviceChoice {
    /// The override from the environment variable [`DEVICE_ENV`] (`cpu`, `gpu`, `auto`).
    pub fn from_env() -> Option<DeviceChoice> {
        let v = std::env::var(DEVICE_ENV).ok()?;
        serde_json::from_value(serde_json::Value::String(v.trim().to_lowercase())).ok()
    }
}

/// Environment variable that overrides the automatic choice.
pub const DEVICE_ENV: &str = "SCALING_PLAYGROUND_DEVICE";

/// Below this many floating-point operations per training step, `Auto` stays on the CPU.
///
/// A GPU step pays a fixed cost for every kernel launch and barrier (a GD step launches
/// 4 kernels per layer, 16 at depth 3) that the CPU does not; below the break-even the CPU's
/// products finish first. The value (2^25) is an estimate from launch costs and CPU
/// product rates, not a measured crossover: bench/README.md ("What the code's
/// constants rest on") gives the estimate and how to measure it.
pub const GPU_MIN_FLOPS_PER_STEP: f64 = 33_554_432.0;

/// Where a computation ran, as data: the report results carry (`TrainResult::backend`,
/// `DmftResult::backend`) and the page and CLI put into words. Never a message to parse.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct BackendReport {
    /// The device that ran the work.
    pub device: DeviceKind,
    /// The GPU adapter as the platform names it ("llvmpipe (LLVM 15.0.7, 256 bits)",
    /// "NVIDIA H200"), when the GPU ran the work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    /// The GPU API ("Vulkan", "BrowserWebGpu"), when the GPU ran the work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// A software adapter (lavapipe, SwiftShader): correct, never faster than the CPU.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub software: bool,
    /// Why a GPU that was asked for (or that started the work) did not finish it: no
    /// adapter, kernels that failed to compile, a device lost mid-run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// The number of workers one run was split over by hidden units (the page's CPU
    /// workers, [`crate::nn::split`]); absent for a run on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<usize>,
}

/// CPU or GPU.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    #[default]
    Cpu,
    Gpu,
}

impl BackendReport {
    /// The report of work done on `device`.
    pub fn of(device: &Device) -> Self {
        match device {
            Device::Cpu => BackendReport::default(),
            Device::Gpu(g) => BackendReport {
                device: DeviceKind::Gpu,
                adapter: Some(g.adapter_name()),
                api: Some(g.api_name()),
                software: g.is_software(),
                fallback: None,
                split: None,
            },
        }
    }

    /// Work done on the CPU with nothing asked for refused (the default report).
    pub fn is_cpu(&self) -> bool {
        self == &BackendReport::default()
    }

    /// Work done on the CPU because the GPU could not be used, and why.
    pub fn fell_back(why: impl Into<String>) -> Self {
        BackendReport {
            fallback: Some(why.into()),
            ..Default::default()
        }
    }
}

impl<'de> Deserialize<'de> for BackendReport {
    /// The typed object; older result files wrote a string (`"cpu"`, `"gpu: <adapter>
    /// (<api>)"`, `"cpu (fallback to cpu: <why>)"`), read as its device with the rest
    /// kept as `fallback` or `adapter`.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Typed {
            device: DeviceKind,
            #[serde(default)]
            adapter: Option<String>,
            #[serde(default)]
            api: Option<String>,
            #[serde(default)]
            software: bool,
            #[serde(default)]
            fallback: Option<String>,
            #[serde(default)]
            split: Option<usize>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Typed(Typed),
            Legacy(String),
        }
        Ok(match Wire::deserialize(d)? {
            Wire::Typed(t) => BackendReport {
                device: t.device,
                adapter: t.adapter,
                api: t.api,
                software: t.software,
                fallback: t.fallback,
                split: t.split,
            },
            Wire::Legacy(s) if s.starts_with("gpu") => BackendReport {
                device: DeviceKind::Gpu,
                adapter: Some(
                    s.trim_start_matches("gpu")
                        .trim_start_matches(':')
                        .trim()
                        .into(),
                ),
                ..Default::default()
            },
            Wire::Legacy(s) => BackendReport {
                fallback: (s.trim() != "cpu").then(|| s.trim_start_matches("cpu").trim().into()),
                ..Default::default()
            },
        })
    }
}

/// The one device policy, for training, the DMFT's products and the page alike: given
/// what was asked for, the work between two host synchronisations, and the GPU on
/// offer (or why there is none), run on the GPU or on the CPU, and if the GPU was
/// asked for and not used, why.
///
/// - `cpu`: the CPU.
/// - `gpu`: the GPU whenever one works (a software adapter too), else the CPU with the
///   reason.
/// - `auto`: the GPU only on a hardware adapter and for work of at least
///   [`GPU_MIN_FLOPS_PER_STEP`] per synchronisation; else the CPU, silently (nothing was
///   asked that did not happen).
///
/// `can_wait` is false where the caller cannot wait for a GPU readback (the DMFT solver
/// in the browser, whose readbacks must be awaited): the CPU then.
pub fn decide(
    choice: DeviceChoice,
    flops_per_sync: f64,
    gpu: Result<&Gpu, &str>,
    can_wait: bool,
) -> (bool, Option<String>) {
    let usable = match gpu {
        Ok(g) => match g.lost() {
            None => Ok(g),
            Some(why) => Err(why),
        },
        Err(e) => Err(e.to_string()),
    };
    match (choice, usable) {
        (DeviceChoice::Cpu, _) => (false, None),
        (DeviceChoice::Gpu, _) if !can_wait => (
            false,
            Some(
                "this computation cannot wait for GPU readbacks here (the browser's DMFT solver)"
                    .into(),
            ),
        ),
        (DeviceChoice::Gpu, Ok(_)) => (true, None),
        (DeviceChoice::Gpu, Err(why)) => (false, Some(why)),
        (DeviceChoice::Auto, Ok(g)) => (
            can_wait && !g.is_software() && flops_per_sync >= GPU_MIN_FLOPS_PER_STEP,
            None,
        ),
        (DeviceChoice::Auto, Err(_)) => (false, None),
    }
}

/// A chosen device and, when it is not what was asked for, why.
#[derive(Clone, Debug)]
pub struct Selection {
    pub device: Device,
    /// Why the GPU asked for is not used (None when nothing asked for was refused).
    pub fallback: Option<String>,
}

impl Selection {
    /// The report of work done on the selected device.
    pub fn report(&self) -> BackendReport {
        BackendReport {
            fallback: self.fallback.clone(),
            ..BackendReport::of(&self.device)
        }
    }
}

/// Pick a device for work of `flops_per_step` between synchronisations ([`decide`]);
/// `choice` may be overridden by the environment. A GPU is acquired once per process
/// and shared; it is only acquired when the policy could use it.
pub fn select(choice: DeviceChoice, flops_per_step: f64) -> Selection {
    let choice = DeviceChoice::from_env().unwrap_or(choice);
    let can_wait = cfg!(not(target_arch = "wasm32"));
    let gpu = if might_use_gpu(choice, flops_per_step, can_wait) {
        shared_gpu()
    } else {
        Err("not acquired".into())
    };
    choose(
        choice,
        flops_per_step,
        gpu.as_ref().map_err(String::as_str),
        can_wait,
    )
}

/// Whether [`decide`] could pick a GPU for `choice` and this work: only then is one worth
/// acquiring.
pub fn might_use_gpu(choice: DeviceChoice, flops_per_sync: f64, can_wait: bool) -> bool {
    match choice {
        DeviceChoice::Cpu => false,
        DeviceChoice::Auto => can_wait && flops_per_sync >= GPU_MIN_FLOPS_PER_STEP,
        DeviceChoice::Gpu => can_wait,
    }
}

/// The device [`decide`] picks among the CPU and `gpu` (or why there is none), and why
/// not a GPU that was asked for.
pub fn choose(
    choice: DeviceChoice,
    flops_per_sync: f64,
    gpu: Result<&Gpu, &str>,
    can_wait: bool,
) -> Selection {
    let (use_gpu, fallback) = decide(choice, flops_per_sync, gpu, can_wait);
    let device = match gpu {
        Ok(g) if use_gpu => Device::Gpu(g.clone()),
        _ => Device::Cpu,
    };
    Selection { device, fallback }
}

/// The process-wide GPU (software adapters included; `select` filters), or why not.
#[cfg(not(target_arch = "wasm32"))]
fn shared_gpu() -> Result<Gpu, String> {
    use std::sync::OnceLock;
    static GPU: OnceLock<Result<Gpu, String>> = OnceLock::new();
    GPU.get_or_init(|| {
        Gpu::acquire(&super::GpuOptions {
            allow_software: true,
            ..Default::default()
        })
    })
    .clone()
}

#[cfg(target_arch = "wasm32")]
fn shared_gpu() -> Result<Gpu, String> {
    Err("in the browser the GPU is acquired asynchronously by the worker".into())
}

/// Rough flops of one full-batch training step of an ensemble: forward, backward and
/// weight gradient are three products per layer, 2 flops per multiply-add.
pub fn train_step_flops(
    seeds: usize,
    points: usize,
    dim: usize,
    width: usize,
    depth: usize,
) -> f64 {
    let per_point = (dim * width + depth.saturating_sub(1) * width * width + width) as f64;
    6.0 * seeds as f64 * points as f64 * per_point
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flops_count_three_products_per_layer() {
        // one seed, one point, D = 2, N = 3, depth 2: 2*3 + 1*3*3 + 3 = 18 multiply-adds
        assert_eq!(train_step_flops(1, 1, 2, 3, 2), 6.0 * 18.0);
        assert_eq!(train_step_flops(4, 10, 2, 3, 2), 40.0 * 6.0 * 18.0);
    }

    #[test]
    fn choices_parse_from_lowercase_names() {
        for (s, c) in [
            ("auto", DeviceChoice::Auto),
            ("cpu", DeviceChoice::Cpu),
            ("gpu", DeviceChoice::Gpu),
        ] {
            let parsed: DeviceChoice = serde_json::from_str(&format!("\"{s}\"")).unwrap();
            assert_eq!(parsed, c);
        }
        assert!(serde_json::from_str::<DeviceChoice>("\"tpu\"").is_err());
    }
}

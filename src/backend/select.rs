//! Choosing the device for a run: the GPU when a hardware adapter exists and the problem
//! is large enough to gain, the CPU otherwise, with a user override. Every way of not
//! getting the GPU that was asked for (no adapter, shaders that fail to compile) ends on
//! the CPU with a `note` saying why, which the engine puts into its results.

use super::{Device, Gpu, GpuOptions};
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
/// A GPU step pays a fixed cost for every kernel launch and barrier (a step launches
/// about 8 kernels per layer) that the CPU does not; below the break-even the CPU's
/// products finish first. The value (2^25) is an estimate from launch costs and CPU
/// product rates, not a measured crossover: bench/README.md ("What the code's
/// constants rest on") gives the estimate and how to measure it.
pub const GPU_MIN_FLOPS_PER_STEP: f64 = 33_554_432.0;

/// A chosen device and, when it is not what was asked for, why.
#[derive(Clone, Debug)]
pub struct Selection {
    pub device: Device,
    pub note: Option<String>,
}

impl Selection {
    fn cpu(note: Option<String>) -> Self {
        Selection {
            device: Device::Cpu,
            note,
        }
    }
}

/// Pick a device for work of `flops_per_step`; `choice` may be overridden by the
/// environment. A GPU is acquired once per process and shared.
pub fn select(choice: DeviceChoice, flops_per_step: f64) -> Selection {
    let choice = DeviceChoice::from_env().unwrap_or(choice);
    match choice {
        DeviceChoice::Cpu => Selection::cpu(None),
        DeviceChoice::Auto if flops_per_step < GPU_MIN_FLOPS_PER_STEP => Selection::cpu(None),
        DeviceChoice::Auto => match shared_gpu() {
            // A software adapter is never faster than the CPU backend: stay quiet on CPU.
            Ok(g) if !g.is_software() && g.lost().is_none() => Selection {
                device: Device::Gpu(g),
                note: None,
            },
            _ => Selection::cpu(None),
        },
        DeviceChoice::Gpu => match shared_gpu() {
            Ok(g) if g.lost().is_none() => Selection {
                device: Device::Gpu(g),
                note: None,
            },
            Ok(g) => Selection::cpu(Some(format!(
                "fallback to cpu: {}",
                g.lost().unwrap_or_default()
            ))),
            Err(e) => Selection::cpu(Some(format!("fallback to cpu: {e}"))),
        },
    }
}

/// The process-wide GPU (software adapters included; `select` filters), or why not.
#[cfg(not(target_arch = "wasm32"))]
fn shared_gpu() -> Result<Gpu, String> {
    use std::sync::OnceLock;
    static GPU: OnceLock<Result<Gpu, String>> = OnceLock::new();
    GPU.get_or_init(|| {
        Gpu::acquire(&GpuOptions {
            allow_software: true,
            ..Default::default()
        })
    })
    .clone()
}

#[cfg(target_arch = "wasm32")]
fn shared_gpu() -> Result<Gpu, String> {
    Gpu::acquire(&GpuOptions::default())
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

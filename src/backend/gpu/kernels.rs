//! The compute pipelines, one per `.wgsl` file beside this one (the matmul: one per
//! combination of its scalar / vec4 operand loaders, see `matmul.wgsl`; the matmul and
//! the activation kernel each with `act.wgsl`'s activations before them), compiled once
//! per device.

/// Each kernel of the backend; the discriminant indexes [`Kernels::pipelines`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Kernel {
    /// Scalar loads of A and B (any shape).
    Matmul,
    /// vec4 loads of A, scalar loads of B.
    MatmulA4,
    /// Scalar loads of A, vec4 loads of B.
    MatmulB4,
    /// vec4 loads of A and B.
    MatmulA4B4,
    Activate,
    Axpy,
    Mul,
    Residual,
    Adam,
    Langevin,
    SumSq,
    Attention,
    AttentionBackward,
    Norm,
    NormBackward,
    NormGain,
    SeqLoss,
    AdamMembers,
    AxpyMembers,
}

impl Kernel {
    pub(super) const ALL: [Kernel; 19] = [
        Kernel::Matmul,
        Kernel::MatmulA4,
        Kernel::MatmulB4,
        Kernel::MatmulA4B4,
        Kernel::Activate,
        Kernel::Axpy,
        Kernel::Mul,
        Kernel::Residual,
        Kernel::Adam,
        Kernel::Langevin,
        Kernel::SumSq,
        Kernel::Attention,
        Kernel::AttentionBackward,
        Kernel::Norm,
        Kernel::NormBackward,
        Kernel::NormGain,
        Kernel::SeqLoss,
        Kernel::AdamMembers,
        Kernel::AxpyMembers,
    ];

    /// The WGSL of this kernel: its files in order, joined when the pipeline is built
    /// (each file is stored once in the binary, however many kernels share it, and
    /// without its comments: build.rs).
    fn source(self) -> String {
        macro_rules! wgsl {
            ($file:literal) => {
                include_str!(concat!(env!("OUT_DIR"), "/wgsl/", $file))
            };
        }
        const ACT: &str = wgsl!("act.wgsl");
        const MATMUL: &str = wgsl!("matmul.wgsl");
        const A_SCALAR: &str = wgsl!("matmul_a_scalar.wgsl");
        const A_VEC4: &str = wgsl!("matmul_a_vec4.wgsl");
        const B_SCALAR: &str = wgsl!("matmul_b_scalar.wgsl");
        const B_VEC4: &str = wgsl!("matmul_b_vec4.wgsl");
        let parts: &[&str] = match self {
            Kernel::Matmul => &[ACT, MATMUL, A_SCALAR, B_SCALAR],
            Kernel::MatmulA4 => &[ACT, MATMUL, A_VEC4, B_SCALAR],
            Kernel::MatmulB4 => &[ACT, MATMUL, A_SCALAR, B_VEC4],
            Kernel::MatmulA4B4 => &[ACT, MATMUL, A_VEC4, B_VEC4],
            Kernel::Activate => &[ACT, wgsl!("activate.wgsl")],
            Kernel::Axpy => &[wgsl!("axpy.wgsl")],
            Kernel::Mul => &[wgsl!("mul.wgsl")],
            Kernel::Residual => &[wgsl!("residual.wgsl")],
            Kernel::Adam => &[wgsl!("adam.wgsl")],
            Kernel::Langevin => &[wgsl!("langevin.wgsl")],
            Kernel::SumSq => &[wgsl!("sum_sq.wgsl")],
            Kernel::Attention => &[wgsl!("attention.wgsl")],
            Kernel::AttentionBackward => &[wgsl!("attention_backward.wgsl")],
            Kernel::Norm => &[wgsl!("norm.wgsl")],
            Kernel::NormBackward => &[wgsl!("norm_backward.wgsl")],
            Kernel::NormGain => &[wgsl!("norm_gain.wgsl")],
            Kernel::SeqLoss => &[wgsl!("seq_loss.wgsl")],
            Kernel::AdamMembers => &[wgsl!("adam_members.wgsl")],
            Kernel::AxpyMembers => &[wgsl!("axpy_members.wgsl")],
        };
        parts.concat()
    }

    /// Invocations per workgroup of the elementwise kernels (1-D, 2-D grid).
    pub(super) const ELEMENTWISE_GROUP: u32 = 256;
}

/// Pipelines of all kernels.
pub(super) struct Kernels {
    pipelines: Vec<wgpu::ComputePipeline>,
}

impl Kernels {
    /// Compile every kernel. `break_shader` swaps in invalid WGSL (a test hook for the
    /// compile-failure fallback). Errors are caught in an error scope and returned.
    pub(super) async fn compile(device: &wgpu::Device, break_shader: bool) -> Result<Self, String> {
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipelines = Kernel::ALL
            .iter()
            .map(|&k| {
                let src = if break_shader && k == Kernel::Matmul {
                    "@compute @workgroup_size(1) fn main() { let x: f32 = undefined_name; }".into()
                } else {
                    k.source()
                };
                let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(&format!("{k:?}")),
                    source: wgpu::ShaderSource::Wgsl(src.into()),
                });
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(&format!("{k:?}")),
                    layout: None,
                    module: &module,
                    entry_point: Some("main"),
                    compilation_options: Default::default(),
                    cache: None,
                })
            })
            .collect();
        match scope.pop().await {
            Some(e) => Err(format!("shader compilation failed: {e}")),
            None => Ok(Kernels { pipelines }),
        }
    }

    pub(super) fn pipeline(&self, k: Kernel) -> &wgpu::ComputePipeline {
        &self.pipelines[k as usize]
    }
}

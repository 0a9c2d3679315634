//! The transformer's ops on the GPU (shapes in [`crate::backend::seq`]): each records one
//! or two kernel launches, see the `.wgsl` headers.

use super::kernels::Kernel;
use super::{Gpu, GpuBuffer, f, grid};
use crate::backend::AdamStep;
use crate::backend::seq::{Attention, LossKind, Norm, NormKind, SeqLoss};

fn u(x: usize) -> u32 {
    u32::try_from(x).expect("GPU tensor dimension exceeds u32")
}

/// A 2-D grid of `n` workgroups (one per row, or per sequence and head).
fn groups(n: usize) -> [u32; 3] {
    let n = u(n);
    let x = n.min(65535);
    [x, if x == 0 { 0 } else { n.div_ceil(x) }, 1]
}

fn norm_code(k: NormKind) -> u32 {
    match k {
        NormKind::Layer => 0,
        NormKind::Rms => 1,
    }
}

impl Gpu {
    pub fn attention(
        &self,
        a: &Attention,
        qkv: &GpuBuffer,
        probs: &mut GpuBuffer,
        out: &mut GpuBuffer,
    ) {
        let n = a.groups * a.heads;
        let params = [
            u(n),
            u(a.t),
            u(a.heads),
            u(a.head_dim),
            f(a.scale),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        self.launch(Kernel::Attention, params, &[qkv, probs, out], groups(n));
    }

    pub fn attention_backward(
        &self,
        a: &Attention,
        qkv: &GpuBuffer,
        probs: &GpuBuffer,
        dout: &GpuBuffer,
        ds: &mut GpuBuffer,
        dqkv: &mut GpuBuffer,
    ) {
        let n = a.groups * a.heads;
        let params = [
            u(n),
            u(a.t),
            u(a.heads),
            u(a.head_dim),
            f(a.scale),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        let bufs: [&GpuBuffer; 5] = [qkv, probs, dout, ds, dqkv];
        self.launch(Kernel::AttentionBackward, params, &bufs, groups(n));
    }

    pub fn norm(
        &self,
        n: &Norm,
        x: &GpuBuffer,
        gain: &GpuBuffer,
        y: &mut GpuBuffer,
        xhat: &mut GpuBuffer,
        rstd: &mut GpuBuffer,
    ) {
        let params = [
            u(n.rows),
            u(n.width),
            u(n.rows_per_member),
            norm_code(n.kind),
            f(n.eps),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        let bufs: [&GpuBuffer; 5] = [x, gain, y, xhat, rstd];
        self.launch(Kernel::Norm, params, &bufs, groups(n.rows));
    }

    #[allow(clippy::too_many_arguments)]
    pub fn norm_backward(
        &self,
        n: &Norm,
        dy: &GpuBuffer,
        xhat: &GpuBuffer,
        rstd: &GpuBuffer,
        gain: &GpuBuffer,
        dx: &mut GpuBuffer,
        dgain: &mut GpuBuffer,
    ) {
        let params = [
            u(n.rows),
            u(n.width),
            u(n.rows_per_member),
            norm_code(n.kind),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        let bufs: [&GpuBuffer; 5] = [dy, xhat, rstd, gain, dx];
        self.launch(Kernel::NormBackward, params, &bufs, groups(n.rows));
        let members = n.rows / n.rows_per_member.max(1);
        let count = members * n.width;
        let params = [
            u(count),
            u(n.width),
            u(n.rows_per_member),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        self.launch(Kernel::NormGain, params, &[dy, xhat, dgain], grid(count));
    }

    pub fn seq_loss(
        &self,
        l: &SeqLoss,
        logits: &GpuBuffer,
        targets: &GpuBuffer,
        scale: f32,
        dlogits: &mut GpuBuffer,
        loss: &mut GpuBuffer,
    ) {
        let kind = match l.kind {
            LossKind::CrossEntropy => 0,
            LossKind::Squared => 1,
        };
        let params = [
            u(l.rows),
            u(l.classes),
            u(l.rows_per_member),
            kind,
            f(scale),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        let bufs: [&GpuBuffer; 4] = [logits, targets, dlogits, loss];
        self.launch(Kernel::SeqLoss, params, &bufs, groups(l.rows));
    }

    pub fn adam_members(
        &self,
        s: &AdamStep,
        member_lr: &GpuBuffer,
        g: &GpuBuffer,
        m: &mut GpuBuffer,
        v: &mut GpuBuffer,
        w: &mut GpuBuffer,
    ) {
        let n = w.len;
        let per = n / member_lr.len.max(1);
        let params = [
            u(n),
            f(s.lr),
            f(s.beta1),
            f(s.beta2),
            f(s.eps),
            u(per.max(1)),
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        let bufs: [&GpuBuffer; 5] = [member_lr, g, m, v, w];
        self.launch(Kernel::AdamMembers, params, &bufs, grid(n));
    }
}

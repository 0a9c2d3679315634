//! An ensemble of `E` decoder-only transformers (members: learning rates times seeds)
//! with forward and backward passes by hand, batched over the members on the backend
//! seam.
//!
//! Shapes (row-major, members outermost; `R = B T` rows per member: `B` sequences of `T`
//! positions): inputs `U [R x V_in]` and one-hot positions `Upos [R x T]`, shared by all
//! members; residual stream `x [E x R x N]`; per block the norms' `xhat`, `rstd`, `y`,
//! `qkv [E x R x 3Da]`, attention weights `probs [E B x H x T x T]`, heads' outputs
//! `att [E x R x Da]`, MLP activations `phi, phi' [E x R x F]`; outputs `f [E x R x C]`.
//!
//! ```text
//! x      = m_emb U W_emb + Upos P
//! block: y1 = norm1(x);  qkv = y1 W_qkv^T;  att = Attn(qkv);  x += res att W_o^T
//!        y2 = norm2(x);  phi = act(y2 W_1^T);                x += res phi W_2^T
//! f      = m_out norm_f(x) W_out^T
//! ```

use super::config::{NormChoice, TfParam, TransformerModel};
use super::param::{Group, Init, Scales};
use crate::backend::LossKind;
use crate::backend::{Attention, Device, Gemm, Norm, NormKind, SeqLoss, Tensor};
use crate::rng::{Stream, normals_f32, stream};

/// Epsilon of the norms.
pub const NORM_EPS: f32 = 1e-5;

/// Weights of `E` transformers.
pub struct Transformer {
    pub device: Device,
    pub model: TransformerModel,
    pub scales: Scales,
    /// Members E.
    pub members: usize,
    /// Embedding rows V_in and outputs C.
    pub input: usize,
    pub outputs: usize,
    pub loss: LossKind,
    /// `params[p]` is `[E x rows_p x cols_p]` (see [`Scales::specs`]).
    pub params: Vec<Tensor>,
}

/// The buffers of one block's forward pass, kept for its backward pass.
pub struct BlockBuffers {
    pub xhat1: Tensor,
    pub rstd1: Tensor,
    pub y1: Tensor,
    pub qkv: Tensor,
    pub probs: Tensor,
    pub att: Tensor,
    pub xhat2: Tensor,
    pub rstd2: Tensor,
    pub y2: Tensor,
    pub phi: Tensor,
    pub dphi: Tensor,
}

/// Buffers of passes over `B` sequences, reused every step.
pub struct Workspace {
    /// Sequences per member B and rows per member R = B T.
    pub b: usize,
    pub rows: usize,
    pub u: Tensor,
    pub upos: Tensor,
    pub targets: Tensor,
    pub x: Tensor,
    pub blocks: Vec<BlockBuffers>,
    /// Pre-activations of the MLP (scratch).
    pub hpre: Tensor,
    pub xhat_f: Tensor,
    pub rstd_f: Tensor,
    pub yf: Tensor,
    pub f: Tensor,
    /// `dL/df` and the per-row losses `[E R]`.
    pub df: Tensor,
    pub loss_rows: Tensor,
    pub dx: Tensor,
    pub dy: Tensor,
    pub datt: Tensor,
    pub dqkv: Tensor,
    pub dh: Tensor,
    pub ds: Tensor,
    /// A zero `[E R x N]`, copied into `dx` to start the backward pass.
    pub zeros: Tensor,
    pub grads: Vec<Tensor>,
    /// The residual stream after each block (kept only after [`Workspace::keep_stream`]).
    pub stream: Vec<Tensor>,
}

impl Workspace {
    /// Keep a copy of the residual stream after each block (the coordinate check).
    pub fn keep_stream(&mut self, dev: &Device) {
        self.stream = self
            .blocks
            .iter()
            .map(|_| dev.zeros(self.x.len()))
            .collect();
    }
}

impl Transformer {
    /// `E = member_seeds.len()` members; member `e` starts from the weights of seed
    /// index `member_seeds[e]`, drawn from the streams `(seed, Init, s, p)` of each
    /// parameter tensor `p` (so members sharing a seed index start identical, and a seed
    /// gets the same weights whatever the ensemble).
    pub fn new(
        device: Device,
        model: &TransformerModel,
        param: &TfParam,
        task: &super::task::SeqTask,
        seed: u64,
        member_seeds: &[usize],
    ) -> Self {
        let (input, outputs) = (task.input_width(), task.outputs());
        let scales = Scales::new(model, param, input, task.one_hot(), outputs);
        let params = scales
            .specs
            .iter()
            .enumerate()
            .map(|(p, spec)| {
                let len = spec.len();
                let mut w = Vec::with_capacity(member_seeds.len() * len);
                for &s in member_seeds {
                    match spec.init {
                        Init::Ones => w.extend(std::iter::repeat_n(1.0f32, len)),
                        Init::Normal { std, zero_rows } => {
                            let mut rng = stream(seed, Stream::Init, s as u64, p as u64);
                            let mut v = normals_f32(&mut rng, len, std);
                            v[..zero_rows * spec.cols].fill(0.0);
                            w.extend(v);
                        }
                    }
                }
                device.from_vec(w)
            })
            .collect();
        Transformer {
            device,
            model: model.clone(),
            scales,
            members: member_seeds.len(),
            input,
            outputs,
            loss: task.loss(),
            params,
        }
    }

    fn norm_kind(&self) -> Option<NormKind> {
        match self.model.norm {
            NormChoice::Layer => Some(NormKind::Layer),
            NormChoice::Rms => Some(NormKind::Rms),
            NormChoice::None => None,
        }
    }

    /// The attention's shape for `b` sequences per member.
    pub fn attention_shape(&self, b: usize) -> Attention {
        Attention {
            groups: self.members * b,
            t: self.model.context,
            heads: self.model.heads,
            head_dim: self.model.dh(),
            scale: self.scales.attn_scale as f32,
        }
    }

    /// Buffers for passes over `b` sequences per member (`target_width` numbers per
    /// target); the backward pass's buffers only when `train` (evaluation workspaces
    /// hold them empty).
    pub fn workspace(&self, b: usize, target_width: usize, train: bool) -> Workspace {
        let d = &self.device;
        let m = &self.model;
        let (e, t, n) = (self.members, m.context, m.width);
        let rows = b * t;
        let (da, ff) = (m.attn_width(), m.ffn());
        let er = e * rows;
        let with_norm = self.norm_kind().is_some();
        let nz = |k: usize| d.zeros(if with_norm { k } else { 0 });
        let tz = |k: usize| d.zeros(if train { k } else { 0 });
        let a = self.attention_shape(b);
        let mut upos = vec![0.0f32; rows * t];
        for r in 0..rows {
            upos[r * t + r % t] = 1.0;
        }
        let blocks = (0..m.depth)
            .map(|_| BlockBuffers {
                xhat1: nz(er * n),
                rstd1: nz(er),
                y1: d.zeros(er * n),
                qkv: d.zeros(er * 3 * da),
                probs: d.zeros(a.probs_len()),
                att: d.zeros(er * da),
                xhat2: nz(er * n),
                rstd2: nz(er),
                y2: d.zeros(er * n),
                phi: d.zeros(er * ff),
                dphi: d.zeros(er * ff),
            })
            .collect();
        Workspace {
            b,
            rows,
            u: d.zeros(rows * self.input),
            upos: d.from_vec(upos),
            targets: d.zeros(rows * target_width),
            x: d.zeros(er * n),
            blocks,
            hpre: d.zeros(er * ff),
            xhat_f: nz(er * n),
            rstd_f: nz(er),
            yf: d.zeros(er * n),
            f: d.zeros(er * self.outputs),
            df: d.zeros(er * self.outputs),
            loss_rows: d.zeros(er),
            dx: tz(er * n),
            dy: tz(er * n),
            datt: tz(er * da),
            dqkv: tz(er * 3 * da),
            dh: tz(er * ff),
            ds: tz(a.probs_len()),
            zeros: tz(er * n),
            grads: if train {
                self.params.iter().map(|w| d.zeros(w.len())).collect()
            } else {
                vec![]
            },
            stream: vec![],
        }
    }

    fn norm_shape(&self, ws: &Workspace) -> Option<Norm> {
        self.norm_kind().map(|kind| Norm {
            kind,
            rows: self.members * ws.rows,
            width: self.model.width,
            rows_per_member: ws.rows,
            eps: NORM_EPS,
        })
    }

    /// `y = gain o norm(x)` (or a copy of `x` without norms).
    fn norm(
        &self,
        shape: Option<Norm>,
        gain: Option<usize>,
        x: &Tensor,
        y: &mut Tensor,
        xhat: &mut Tensor,
        rstd: &mut Tensor,
    ) {
        match (shape, gain) {
            (Some(n), Some(g)) => self.device.norm(&n, x, &self.params[g], y, xhat, rstd),
            _ => self.device.copy(x, y),
        }
    }

    /// Forward pass of every member on the inputs in `ws.u`: fills every buffer up to
    /// the outputs `ws.f`.
    pub fn forward(&self, ws: &mut Workspace) {
        let dev = &self.device;
        let m = &self.model;
        let s = &self.scales;
        let (e, r, n, t) = (self.members, ws.rows, m.width, m.context);
        let (da, ff) = (m.attn_width(), m.ffn());
        let res = s.residual as f32;
        let ns = self.norm_shape(ws);
        let a = self.attention_shape(ws.b);
        // x = m_emb U W_emb + Upos P
        let g = Gemm::new(e, r, n, self.input)
            .alpha(s.embed_mult as f32)
            .broadcast_a();
        dev.gemm(&g, &ws.u, &self.params[s.embedding], &mut ws.x);
        let g = Gemm::new(e, r, n, t).broadcast_a().beta(1.0);
        dev.gemm(&g, &ws.upos, &self.params[s.position], &mut ws.x);
        for (l, (bi, bl)) in s.blocks.iter().zip(ws.blocks.iter_mut()).enumerate() {
            self.norm(
                ns,
                bi.gain1,
                &ws.x,
                &mut bl.y1,
                &mut bl.xhat1,
                &mut bl.rstd1,
            );
            let g = Gemm::new(e, r, 3 * da, n).tb();
            dev.gemm(&g, &bl.y1, &self.params[bi.qkv], &mut bl.qkv);
            dev.attention(&a, &bl.qkv, &mut bl.probs, &mut bl.att);
            let g = Gemm::new(e, r, n, da).tb().alpha(res).beta(1.0);
            dev.gemm(&g, &bl.att, &self.params[bi.out], &mut ws.x);
            self.norm(
                ns,
                bi.gain2,
                &ws.x,
                &mut bl.y2,
                &mut bl.xhat2,
                &mut bl.rstd2,
            );
            let g = Gemm::new(e, r, ff, n).tb();
            let act = m.activation;
            let w1 = &self.params[bi.fc1];
            dev.gemm_activate(&g, &bl.y2, w1, act, &mut ws.hpre, &mut bl.phi, &mut bl.dphi);
            let g = Gemm::new(e, r, n, ff).tb().alpha(res).beta(1.0);
            dev.gemm(&g, &bl.phi, &self.params[bi.fc2], &mut ws.x);
            if let Some(keep) = ws.stream.get_mut(l) {
                dev.copy(&ws.x, keep);
            }
        }
        self.norm(
            ns,
            s.final_gain,
            &ws.x,
            &mut ws.yf,
            &mut ws.xhat_f,
            &mut ws.rstd_f,
        );
        let g = Gemm::new(e, r, self.outputs, n)
            .tb()
            .alpha(s.readout_mult as f32);
        dev.gemm(&g, &ws.yf, &self.params[s.readout], &mut ws.f);
    }

    /// The loss of every row of `ws.f` against `ws.targets` into `ws.loss_rows`, and
    /// `ws.df = dL/df` for the mean loss over the `count` positions with a target.
    pub fn loss(&self, ws: &mut Workspace, count: usize) {
        let l = SeqLoss {
            kind: self.loss,
            rows: self.members * ws.rows,
            classes: self.outputs,
            rows_per_member: ws.rows,
        };
        let scale = 1.0 / count.max(1) as f32;
        let (f, tg) = (&ws.f, &ws.targets);
        self.device
            .seq_loss(&l, f, tg, scale, &mut ws.df, &mut ws.loss_rows);
    }

    /// `dx += dL/dx` through a norm from `dy` (the gain's gradient into `grads`).
    #[allow(clippy::too_many_arguments)]
    fn norm_backward(
        &self,
        shape: Option<Norm>,
        gain: Option<usize>,
        dy: &Tensor,
        xhat: &Tensor,
        rstd: &Tensor,
        dx: &mut Tensor,
        grads: &mut [Tensor],
    ) {
        match (shape, gain) {
            (Some(n), Some(g)) => {
                let p = &self.params[g];
                self.device
                    .norm_backward(&n, dy, xhat, rstd, p, dx, &mut grads[g]);
            }
            _ => self.device.axpy(1.0, dy, dx),
        }
    }

    /// Backward pass from `ws.df`: the gradient of every parameter into `ws.grads`.
    pub fn backward(&self, ws: &mut Workspace) {
        let dev = &self.device;
        let m = &self.model;
        let s = &self.scales;
        let (e, r, n, t) = (self.members, ws.rows, m.width, m.context);
        let (da, ff, c) = (m.attn_width(), m.ffn(), self.outputs);
        let res = s.residual as f32;
        let mo = s.readout_mult as f32;
        let ns = self.norm_shape(ws);
        let a = self.attention_shape(ws.b);
        let grads = &mut ws.grads;
        // readout: dW_out = m_out df^T yf, dyf = m_out df W_out
        let g = Gemm::new(e, c, n, r).ta().alpha(mo);
        dev.gemm(&g, &ws.df, &ws.yf, &mut grads[s.readout]);
        let g = Gemm::new(e, r, n, c).alpha(mo);
        dev.gemm(&g, &ws.df, &self.params[s.readout], &mut ws.dy);
        dev.copy(&ws.zeros, &mut ws.dx);
        let (xf, rf) = (&ws.xhat_f, &ws.rstd_f);
        self.norm_backward(ns, s.final_gain, &ws.dy, xf, rf, &mut ws.dx, grads);
        for (bi, bl) in s.blocks.iter().zip(ws.blocks.iter()).rev() {
            // MLP branch: x_out = x_mid + res phi W_2^T
            let g = Gemm::new(e, n, ff, r).ta().alpha(res);
            dev.gemm(&g, &ws.dx, &bl.phi, &mut grads[bi.fc2]);
            let g = Gemm::new(e, r, ff, n).alpha(res);
            dev.gemm_mul(&g, &ws.dx, &self.params[bi.fc2], &bl.dphi, &mut ws.dh);
            let g = Gemm::new(e, ff, n, r).ta();
            dev.gemm(&g, &ws.dh, &bl.y2, &mut grads[bi.fc1]);
            let g = Gemm::new(e, r, n, ff);
            dev.gemm(&g, &ws.dh, &self.params[bi.fc1], &mut ws.dy);
            let (xh, rs) = (&bl.xhat2, &bl.rstd2);
            self.norm_backward(ns, bi.gain2, &ws.dy, xh, rs, &mut ws.dx, grads);
            // attention branch: x_mid = x_in + res att W_o^T
            let g = Gemm::new(e, n, da, r).ta().alpha(res);
            dev.gemm(&g, &ws.dx, &bl.att, &mut grads[bi.out]);
            let g = Gemm::new(e, r, da, n).alpha(res);
            dev.gemm(&g, &ws.dx, &self.params[bi.out], &mut ws.datt);
            dev.attention_backward(&a, &bl.qkv, &bl.probs, &ws.datt, &mut ws.ds, &mut ws.dqkv);
            let g = Gemm::new(e, 3 * da, n, r).ta();
            dev.gemm(&g, &ws.dqkv, &bl.y1, &mut grads[bi.qkv]);
            let g = Gemm::new(e, r, n, 3 * da);
            dev.gemm(&g, &ws.dqkv, &self.params[bi.qkv], &mut ws.dy);
            let (xh, rs) = (&bl.xhat1, &bl.rstd1);
            self.norm_backward(ns, bi.gain1, &ws.dy, xh, rs, &mut ws.dx, grads);
        }
        // dP = Upos^T dx, dW_emb = m_emb U^T dx
        let g = Gemm::new(e, t, n, r).ta().broadcast_a();
        dev.gemm(&g, &ws.upos, &ws.dx, &mut grads[s.position]);
        let g = Gemm::new(e, self.input, n, r)
            .ta()
            .alpha(s.embed_mult as f32)
            .broadcast_a();
        dev.gemm(&g, &ws.u, &ws.dx, &mut grads[s.embedding]);
    }

    /// The groups of the parameter tensors, in order.
    pub fn groups(&self) -> Vec<Group> {
        self.scales.specs.iter().map(|s| s.group).collect()
    }
}

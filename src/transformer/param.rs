//! From a parameterisation to the numbers of every parameter tensor of the transformer:
//! initialisation, forward multiplier, Adam learning rate and epsilon, and the
//! attention and residual scales. With `m = N / N0` (width over base width),
//! `r = L / L0` (depth over base depth), `F = mlp_ratio N` and `Da = H dh`:
//!
//! | parameter            | shape       | init std      | multiplier      | Adam rate            | Adam eps             |
//! |----------------------|-------------|---------------|-----------------|----------------------|----------------------|
//! | token embedding      | `[V x N]`   | `sigma_e`     | 1 (1/sqrt(d) continuous) | `eta`       | `eps`                |
//! | positions            | `[T x N]`   | `sigma_e`     | 1               | `eta`                | `eps`                |
//! | block norm gains     | `[N]`       | 1 (constant)  | -               | `eta r^(a-1)`        | `eps r^-a`           |
//! | `W_qkv`              | `[3Da x N]` | `1/sqrt(N)`, query 0 (muP) | 1  | `eta k r^(a-1)`      | `eps k r^-a`         |
//! | `W_o`                | `[N x Da]`  | `1/sqrt(Da)`  | 1               | `eta k_o r^(a-1)`    | `eps k_o r^-a`       |
//! | `W_1`                | `[F x N]`   | `1/sqrt(N)`   | 1               | `eta k r^(a-1)`      | `eps k r^-a`         |
//! | `W_2`                | `[N x F]`   | `1/sqrt(F)`   | 1               | `eta k r^(a-1)`      | `eps k r^-a`         |
//! | final norm gain      | `[N]`       | 1 (constant)  | -               | `eta`                | `eps`                |
//! | readout `W_out`      | `[C x N]`   | `1/sqrt(N)`, 0 (muP) | 1 (SP), `1/m` (muP) | `eta`    | `eps`                |
//!
//! with `k = k_o = 1` under SP and `k = 1/m`, `k_o = N0/Da` under muP (Adam's rate of a
//! hidden matrix goes as 1/fan-in); attention logits `S = scale q.k` with
//! `scale = 1/sqrt(dh)` (SP) or `sqrt(dh0)/dh` (muP); residual branches
//! `x += beta r^-a branch` (`a` = alpha: 1/2 depth-muP, 1 CompleteP). The depth factors
//! `r^(a-1)` and `r^-a` of the in-block rates and epsilons belong to the depth-muP family
//! `a > 0`; `a = 0` is the standard transformer, with no depth correction anywhere (its
//! in-block rate is `eta`, not `eta / r`: Dey et al. 2025, "alpha = 0 corresponds to SP").
//! At the base shape (`N = N0`, `dh = dh0`, `L = L0`) muP is SP, up to muP's zero query
//! and readout. Sources: Yang et al. 2022 (Tensor Programs V, arXiv 2203.03466: muP for
//! Adam, Table 3; attention 1/dh; zero query and readout, their section D.2);
//! Bordelon et al. 2024 (depth-muP, arXiv 2309.16620: alpha = 1/2); Dey et al. 2025
//! (CompleteP, arXiv 2505.01618: alpha = 1, the rate `r^(a-1)` and epsilon `r^-a` of
//! in-block parameters), as EleutherAI/nanoGPT-mup's `completep` branch implements them;
//! Everett et al. 2024 (arXiv 2407.05872) on scaling Adam's epsilon with the gradient.

use super::config::{NormChoice, TfParam, TransformerModel};

/// What a parameter tensor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Embedding,
    Position,
    BlockGain,
    Qkv,
    AttnOut,
    Fc1,
    Fc2,
    FinalGain,
    Readout,
}

/// How a tensor starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// `N(0, std^2)` entries, the first `zero_rows` rows zero (muP's query).
    Normal { std: f64, zero_rows: usize },
    /// Every entry 1 (norm gains).
    Ones,
}

/// One parameter tensor of one ensemble member: `[rows x cols]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    pub group: Group,
    /// Its block (None outside the blocks).
    pub block: Option<usize>,
    pub rows: usize,
    pub cols: usize,
    pub init: Init,
    /// Adam's rate is `eta lr_scale s(t)`.
    pub lr_scale: f64,
    /// Adam's epsilon is `eps eps_scale`.
    pub eps_scale: f64,
}

impl Spec {
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Indices into the parameter list of one block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockIndex {
    pub gain1: Option<usize>,
    pub qkv: usize,
    pub out: usize,
    pub gain2: Option<usize>,
    pub fc1: usize,
    pub fc2: usize,
}

/// Every parameter tensor and scale of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct Scales {
    pub specs: Vec<Spec>,
    pub embedding: usize,
    pub position: usize,
    pub blocks: Vec<BlockIndex>,
    pub final_gain: Option<usize>,
    pub readout: usize,
    /// Multiplier of the input embedding: 1 for one-hot tokens, `1/sqrt(d)` for
    /// continuous inputs of dimension d.
    pub embed_mult: f64,
    /// Attention logit multiplier.
    pub attn_scale: f64,
    /// Residual branch multiplier `beta (L0/L)^alpha`.
    pub residual: f64,
    /// Readout multiplier (1 under SP, `N0/N` under muP).
    pub readout_mult: f64,
}

impl Scales {
    /// Scales for `model` under `param`, with `input` rows of the embedding (the
    /// vocabulary, or the input dimension when `one_hot` is false) and `outputs` readout
    /// rows.
    pub fn new(
        model: &TransformerModel,
        param: &TfParam,
        input: usize,
        one_hot: bool,
        outputs: usize,
    ) -> Self {
        let n = model.width;
        let (nf, da, ff) = (n as f64, model.attn_width(), model.ffn());
        let dh = model.dh() as f64;
        let m = nf / model.base_width as f64;
        let r = model.depth as f64 / model.base_depth as f64;
        let a = model.alpha;
        // the depth-muP family (alpha > 0) corrects in-block rates and epsilons; alpha = 0
        // is the standard transformer, with no depth correction at all (Dey et al. 2025:
        // "alpha = 0 corresponds to SP"; nanoGPT-mup's `depth_alpha_enabled = False`)
        let (depth_lr, depth_eps) = if a > 0.0 {
            (r.powf(a - 1.0), r.powf(-a))
        } else {
            (1.0, 1.0)
        };
        let mup = param.is_mup();
        let (zero_query, zero_readout) = match param {
            TfParam::Mup {
                zero_query,
                zero_readout,
            } => (*zero_query, *zero_readout),
            TfParam::Sp => (false, false),
        };
        let k = if mup { 1.0 / m } else { 1.0 };
        let k_o = if mup {
            model.base_width as f64 / da as f64
        } else {
            1.0
        };
        let mut specs = vec![];
        let mut push = |group, block, rows, cols, init, lr_scale, eps_scale| {
            specs.push(Spec {
                group,
                block,
                rows,
                cols,
                init,
                lr_scale,
                eps_scale,
            });
            specs.len() - 1
        };
        let normal = |std: f64| Init::Normal { std, zero_rows: 0 };
        let with_norm = model.norm != NormChoice::None;
        let e = model.embed_std;
        let embedding = push(Group::Embedding, None, input, n, normal(e), 1.0, 1.0);
        let position = push(Group::Position, None, model.context, n, normal(e), 1.0, 1.0);
        let mut blocks = vec![];
        for l in 0..model.depth {
            let b = Some(l);
            let (lr, ep) = (depth_lr, depth_eps);
            let gain1 = with_norm.then(|| push(Group::BlockGain, b, 1, n, Init::Ones, lr, ep));
            let q_init = Init::Normal {
                std: 1.0 / nf.sqrt(),
                zero_rows: if zero_query { da } else { 0 },
            };
            let qkv = push(Group::Qkv, b, 3 * da, n, q_init, k * lr, k * ep);
            let o_init = normal(1.0 / (da as f64).sqrt());
            let out = push(Group::AttnOut, b, n, da, o_init, k_o * lr, k_o * ep);
            let gain2 = with_norm.then(|| push(Group::BlockGain, b, 1, n, Init::Ones, lr, ep));
            let fc1 = push(
                Group::Fc1,
                b,
                ff,
                n,
                normal(1.0 / nf.sqrt()),
                k * lr,
                k * ep,
            );
            let f2 = normal(1.0 / (ff as f64).sqrt());
            let fc2 = push(Group::Fc2, b, n, ff, f2, k * lr, k * ep);
            blocks.push(BlockIndex {
                gain1,
                qkv,
                out,
                gain2,
                fc1,
                fc2,
            });
        }
        let final_gain =
            with_norm.then(|| push(Group::FinalGain, None, 1, n, Init::Ones, 1.0, 1.0));
        let readout_std = if zero_readout { 0.0 } else { 1.0 / nf.sqrt() };
        let readout = push(
            Group::Readout,
            None,
            outputs,
            n,
            normal(readout_std),
            1.0,
            1.0,
        );
        Scales {
            specs,
            embedding,
            position,
            blocks,
            final_gain,
            readout,
            embed_mult: if one_hot {
                1.0
            } else {
                1.0 / (input as f64).sqrt()
            },
            attn_scale: if mup {
                (model.base_head_dim as f64).sqrt() / dh
            } else {
                1.0 / dh.sqrt()
            },
            residual: model.beta * r.powf(-a),
            readout_mult: if mup { 1.0 / m } else { 1.0 },
        }
    }

    /// Parameters of one ensemble member.
    pub fn count(&self) -> usize {
        self.specs.iter().map(Spec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(width: usize, depth: usize, alpha: f64) -> TransformerModel {
        TransformerModel {
            width,
            depth,
            alpha,
            ..Default::default()
        }
    }

    #[test]
    fn mup_is_sp_at_the_base_shape() {
        let m = model(32, 2, 0.0);
        let sp = Scales::new(&m, &TfParam::Sp, 10, true, 10);
        let mup = Scales::new(
            &m,
            &TfParam::Mup {
                zero_query: false,
                zero_readout: false,
            },
            10,
            true,
            10,
        );
        assert_eq!(sp.specs, mup.specs);
        assert_eq!(sp.readout_mult, mup.readout_mult);
        assert!((sp.attn_scale - mup.attn_scale).abs() < 1e-15);
    }

    #[test]
    fn mup_scales_hidden_rates_readout_and_attention() {
        let m = model(128, 2, 0.0);
        let s = Scales::new(&m, &TfParam::mup(), 10, true, 10);
        let b = s.blocks[0];
        assert!((s.specs[b.qkv].lr_scale - 0.25).abs() < 1e-12);
        assert!((s.specs[b.fc2].eps_scale - 0.25).abs() < 1e-12);
        assert!((s.specs[s.embedding].lr_scale - 1.0).abs() < 1e-12);
        assert!((s.readout_mult - 0.25).abs() < 1e-12);
        // dh = 32, dh0 = 8: sqrt(8) / 32
        assert!((s.attn_scale - 8f64.sqrt() / 32.0).abs() < 1e-12);
        assert_eq!(
            s.specs[b.qkv].init,
            Init::Normal {
                std: 1.0 / 128f64.sqrt(),
                zero_rows: 128
            }
        );
        assert_eq!(
            s.specs[s.readout].init,
            Init::Normal {
                std: 0.0,
                zero_rows: 0
            }
        );
    }

    #[test]
    fn complete_p_keeps_block_rates_depth_mup_divides_by_sqrt_depth_alpha_0_is_standard() {
        for (alpha, rate, eps, res) in [
            (1.0, 1.0, 0.25, 0.25),
            (0.5, 0.5, 0.5, 0.5),
            (0.0, 1.0, 1.0, 1.0),
        ] {
            let s = Scales::new(&model(32, 8, alpha), &TfParam::Sp, 10, true, 10);
            let b = s.blocks[3];
            assert!(
                (s.specs[b.fc1].lr_scale - rate).abs() < 1e-12,
                "alpha {alpha}"
            );
            assert!((s.specs[b.gain1.unwrap()].eps_scale - eps).abs() < 1e-12);
            assert!((s.residual - res).abs() < 1e-12);
            // outside the blocks nothing depends on depth
            assert_eq!(s.specs[s.readout].lr_scale, 1.0);
        }
    }
}

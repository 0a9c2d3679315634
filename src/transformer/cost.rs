//! What a transformer run allocates, counted before anything is: the kinds' `cost()`.
//!
//! With `E` members (learning rates x seeds), `P` parameters per member, `R = B T` rows
//! per member, widths `N`, `Da = H dh`, `F`, `C` outputs, `V_in` inputs, `L` blocks and
//! `n = 1` with norms (0 without), all f32 on the device:
//!
//! - parameters, gradients and Adam's two moments: `4 E P`;
//! - the training workspace, per block: `E R (2N + 2nN + 2n/N... )`, precisely
//!   `E R ((2 + 2n) N + 2n + 4 Da + 2F)` plus the attention maps `E B H T^2`; outside
//!   the blocks `E R ((2 + n) N + n + F + 2C + 1)` and the shared inputs
//!   `R (V_in + T + target)`; the backward pass's buffers `E R (3N + 4Da + F)` plus
//!   `E B H T^2` for `dS`;
//! - the test and probe workspaces: the forward part of the same for their `B`
//!   (the probe also keeps the stream after each block, `L E R N`);
//! - on the host: one batch (`R (V_in + target)` f32 and `R` token ids), the score sum
//!   `E R`, the records (`2 E` f64 per record), the final attention maps (`L H T^2` f64
//!   and one layer's download, `E B H T^2` f32), the coordinate statistics, and the
//!   corpus (its 154,469 ids and the decompressed text) when the task reads it.

use super::config::{NormChoice, TransformerConfig};
use super::param::Scales;
use super::task::{CORPUS_CHARS, SeqTask};
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};

/// The size of one run of `lrs x seeds` members.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunSize {
    /// Peak bytes.
    pub bytes: f64,
    /// Numbers the result records (the result's JSON, before assembly).
    pub numbers: f64,
    /// Floating-point work.
    pub flops: f64,
}

/// The cost of a transformer sweep from its cells' sizes: the largest cell (each cell
/// running at once adds its bytes), every cell's work, `held` bytes of results kept
/// while it runs and a result of `result_numbers` numbers in the JSON.
pub fn sweep_cost(cells: impl Iterator<Item = RunSize>, held: f64, result_numbers: f64) -> Cost {
    let cell = cells.fold(Cost::default(), |c, s| {
        c.then(Cost {
            bytes: saturate(s.bytes),
            cell_bytes: saturate(s.bytes),
            json_bytes: 0,
            flops: s.flops,
        })
    });
    Cost {
        bytes: cell.bytes.saturating_add(saturate(held)),
        cell_bytes: cell.cell_bytes,
        json_bytes: saturate(JSON_BYTES_PER_NUMBER * result_numbers),
        flops: cell.flops,
    }
}

/// Parameters per member.
pub fn parameters(cfg: &TransformerConfig) -> usize {
    let t = &cfg.task;
    Scales::new(
        &cfg.model,
        &cfg.param,
        t.input_width(),
        t.one_hot(),
        t.outputs(),
    )
    .count()
}

/// Floats of a workspace over `b` sequences (forward part, and the backward part when
/// `train`), for `e` members.
fn workspace_floats(cfg: &TransformerConfig, e: f64, b: f64, train: bool, stream: bool) -> f64 {
    let m = &cfg.model;
    let (n, da, ff, t) = (
        m.width as f64,
        m.attn_width() as f64,
        m.ffn() as f64,
        m.context as f64,
    );
    let (h, l) = (m.heads as f64, m.depth as f64);
    let c = cfg.task.outputs() as f64;
    let vin = cfg.task.input_width() as f64;
    let tw = cfg.task.target_width() as f64;
    let nf = if m.norm == NormChoice::None { 0.0 } else { 1.0 };
    let er = e * b * t;
    let maps = e * b * h * t * t;
    let per_block = er * ((2.0 + 2.0 * nf) * n + 2.0 * nf + 4.0 * da + 2.0 * ff) + maps;
    let outside = er * ((2.0 + nf) * n + nf + ff + 2.0 * c + 1.0) + b * t * (vin + t + tw);
    let mut floats = l * per_block + outside;
    if train {
        floats += er * (3.0 * n + 4.0 * da + ff) + maps;
    }
    if stream {
        floats += l * er * n;
    }
    floats
}

/// Peak bytes, recorded numbers and work of training `lrs x cfg.seeds` members
/// (`probe`: with the coordinate check's probe batch).
pub fn run_size(cfg: &TransformerConfig, lrs: usize, probe: bool) -> RunSize {
    let m = &cfg.model;
    let e = (lrs * cfg.seeds) as f64;
    let p = parameters(cfg) as f64;
    let (b, t) = (cfg.batch as f64, m.context as f64);
    let (h, l) = (m.heads as f64, m.depth as f64);
    let bt = cfg.observe.test_sequences as f64;
    let vin = cfg.task.input_width() as f64;
    let tw = cfg.task.target_width() as f64;
    let mut floats = 4.0 * e * p + workspace_floats(cfg, e, b, true, false) + e * b * t;
    if bt > 0.0 {
        floats += workspace_floats(cfg, e, bt, false, false);
    }
    if probe {
        floats += workspace_floats(cfg, e, b, false, true);
    }
    // host: a batch (inputs, targets, token ids), the test batch it keeps
    floats += (b + bt) * t * (vin + tw + 1.0);
    let records = (cfg.steps / cfg.observe.every.max(1) + 2) as f64;
    let mut numbers = records * (1.0 + 2.0 * cfg.seeds as f64) + cfg.seeds as f64;
    let mut host = 8.0 * records * 2.0 * e;
    if cfg.observe.attention && bt > 0.0 {
        numbers += l * h * t * t + t;
        host += 8.0 * l * h * t * t + 4.0 * e * bt * h * t * t;
    }
    if probe {
        // the initial stream, logits and outputs kept on the host, and one download
        let c = cfg.task.outputs() as f64;
        let logits = e * b * h * t * (t + 1.0) / 2.0;
        host += 2.0 * 4.0 * (l * (e * b * t * m.width as f64 + logits) + e * b * t * c);
        numbers += records * (4.0 * l + 2.0);
    }
    if matches!(cfg.task, SeqTask::Corpus {}) {
        host += 2.0 * CORPUS_CHARS as f64;
    }
    let steps = cfg.steps as f64;
    let per_token =
        2.0 * (p - m.context as f64 * m.width as f64) + l * 4.0 * t * m.attn_width() as f64;
    RunSize {
        bytes: 4.0 * floats + host,
        numbers,
        flops: 3.0 * steps * e * b * t * per_token,
    }
}

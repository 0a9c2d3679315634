//! The `transformer` kind: one transformer setup trained as an ensemble of seeds, with
//! its loss curves and final attention maps.

use super::config::TransformerConfig;
use super::cost::{parameters, run_size};
use super::train::{LayerMaps, RunOptions, train_members};
use crate::backend::{BackendReport, DeviceChoice};
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};
use crate::error::Result;
use crate::kind::Kind;
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

/// Everything recorded along one transformer run.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct TransformerResult {
    /// Where the run computed.
    pub backend: BackendReport,
    /// Parameters per seed.
    pub parameters: usize,
    /// Recorded steps.
    pub steps: Vec<usize>,
    /// `train_loss[record][seed]`: the loss of that step's batch before its update (the
    /// last record: one more fresh batch after every update); NaN once diverged.
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub train_loss: Vec<Vec<f64>>,
    /// `test_loss[record][seed]` on the held-out sequences.
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub test_loss: Vec<Vec<f64>>,
    /// Per seed, the first record at which the loss was NaN, Inf or above the threshold.
    pub diverged_at: Vec<Option<usize>>,
    /// Per seed, the mean training loss over the last `observe.score_window` steps.
    pub final_loss: Vec<Option<f64>>,
    /// Attention maps of every layer on the first held-out sequence (seed 0, at the
    /// end): `attention[l].maps[head][query][key]`.
    pub attention: Vec<LayerMaps>,
    /// What each position of that sequence holds (a character, a symbol, `x1`, `y1`).
    pub labels: Vec<String>,
}

impl Kind for TransformerConfig {
    type Output = TransformerResult;

    fn validate(&self) -> Result<()> {
        TransformerConfig::validate(self)
    }

    fn cost(&self) -> Cost {
        let s = run_size(self, 1, false);
        Cost {
            bytes: saturate(s.bytes + 8.0 * s.numbers),
            cell_bytes: 0,
            json_bytes: saturate(JSON_BYTES_PER_NUMBER * s.numbers),
            flops: s.flops,
        }
    }

    fn run(&self, progress: &dyn Progress) -> Result<TransformerResult> {
        let lr = self.optimizer.lr();
        let r = train_members(
            DeviceChoice::Auto,
            self,
            &[lr],
            &RunOptions::default(),
            progress,
        )?;
        Ok(TransformerResult {
            backend: r.backend,
            parameters: parameters(self),
            steps: r.steps,
            train_loss: r.train_loss,
            test_loss: r.test_loss,
            diverged_at: r.diverged_at,
            final_loss: r.score,
            attention: r.attention,
            labels: r.labels,
        })
    }

    fn csv(&self, out: &TransformerResult) -> Vec<(String, String)> {
        let mut loss = String::from("step,seed,train_loss,test_loss\n");
        for (i, step) in out.steps.iter().enumerate() {
            for (s, l) in out.train_loss[i].iter().enumerate() {
                let t = out
                    .test_loss
                    .get(i)
                    .and_then(|v| v.get(s))
                    .map_or(String::new(), |v| v.to_string());
                loss.push_str(&format!("{step},{s},{l},{t}\n"));
            }
        }
        let mut maps = String::from("layer,head,query,key,weight\n");
        for lm in &out.attention {
            for (h, m) in lm.maps.iter().enumerate() {
                for (i, row) in m.iter().enumerate() {
                    for (j, p) in row.iter().enumerate().take(i + 1) {
                        maps.push_str(&format!("{},{h},{i},{j},{p}\n", lm.layer));
                    }
                }
            }
        }
        vec![("loss".into(), loss), ("attention".into(), maps)]
    }
}

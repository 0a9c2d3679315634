//! The page's side of one training run split over several Web Workers by hidden units
//! ([`crate::nn::split`]): each worker's [`super::run_async`] gets a JavaScript
//! `exchange` that carries the activations between them ([`JsExchange`]).

use super::{JsResult, js, parse_config};
use crate::backend::Device;
use crate::error::{Error, Result};
use crate::nn::part::Part;
use crate::nn::split::{Exchange, Received};
use crate::nn::train::split_workers;
use crate::run::RunConfig;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// How many of the page's workers one run of the config can be split over
/// ([`split_workers`]); 1 for every kind but `train`.
#[wasm_bindgen]
pub fn train_workers(config_json: &str) -> JsResult<usize> {
    Ok(match parse_config(config_json).map_err(js)? {
        RunConfig::Train(c) => split_workers(&c),
        _ => 1,
    })
}

/// Worker `rank` of `count`: `send(blocks)` posts `blocks[j]` (a `Float32Array`) to
/// worker `j` and resolves to the array of what each worker sent here, in rank order.
pub(super) struct JsExchange {
    pub rank: usize,
    pub count: usize,
    pub send: js_sys::Function,
}

impl Exchange for JsExchange {
    fn part(&self, width: usize) -> Part {
        Part {
            rank: self.rank,
            count: self.count,
            width,
        }
    }

    fn all_to_all(&mut self, mut out: Vec<Vec<f32>>) -> Received<'_> {
        // this worker's own block stays in wasm memory (an empty array goes in its place)
        let own = std::mem::take(&mut out[self.rank]);
        let blocks: js_sys::Array = out
            .iter()
            .map(|v| js_sys::Float32Array::from(&v[..]))
            .collect();
        let sent = self.send.call1(&JsValue::NULL, &blocks);
        let rank = self.rank;
        Box::pin(async move {
            let lost = |_| Error::Worker("another worker of this run stopped".into());
            let got = JsFuture::from(js_sys::Promise::from(sent.map_err(lost)?))
                .await
                .map_err(lost)?;
            let mut got: Vec<Vec<f32>> = js_sys::Array::from(&got)
                .iter()
                .map(|b| js_sys::Float32Array::from(b).to_vec())
                .collect();
            if got.len() != out.len() {
                return Err(Error::Worker("a block is missing".into()));
            }
            got[rank] = own;
            Ok(got)
        })
    }
}

/// Whether the run splits: the lead says so to the others first, not when its device is
/// a GPU, where it trains alone (and the others stop).
pub(super) async fn splits(ex: &mut JsExchange, device: &Device) -> Result<bool> {
    let on_cpu = matches!(device, Device::Cpu) as u8 as f32;
    let said = ex.all_to_all(vec![vec![on_cpu]; ex.count]).await?;
    Ok(said[0] == [1.0])
}

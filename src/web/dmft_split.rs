//! The page's side of a deep DMFT solve shared by several Web Workers
//! ([`crate::theory::dmft::deep::machine`]): [`DmftLead`] in the worker that leads it,
//! [`DmftBlocks`] in each of the others, their messages flat `Float64Array`s
//! ([`crate::theory::dmft::deep::wire`]) that the page's JavaScript carries unread.

use super::{JsProgress, JsResult, SINK, js, parse_config, to_json};
use crate::backend::{Device, DeviceChoice};
use crate::error::Error;
use crate::run::{RunConfig, RunOutput, RunRecord};
use crate::theory::dmft::Problem;
use crate::theory::dmft::deep::machine::{BlockWorker, Coordinator, Reply, Request};
use crate::theory::dmft::products::Products;
use wasm_bindgen::prelude::*;

/// Sample blocks of a config's DMFT solve that several workers can share
/// ([`DmftLead`], [`DmftBlocks`]; [`crate::theory::dmft::split_blocks`]); 0 for every
/// other kind and for the DMFT solvers that do not split.
#[wasm_bindgen]
pub fn dmft_blocks(config_json: &str) -> JsResult<usize> {
    Ok(match parse_config(config_json).map_err(js)? {
        RunConfig::Dmft(c) => crate::theory::dmft::split_blocks(&c),
        _ => 0,
    })
}

/// Run `f` with `progress` as the progress callback ([`JsProgress`]).
fn with_progress<T>(progress: &js_sys::Function, f: impl FnOnce(&JsProgress) -> T) -> T {
    SINK.with(|s| *s.borrow_mut() = Some((progress.clone(), -1)));
    let out = f(&JsProgress);
    SINK.with(|s| *s.borrow_mut() = None);
    out
}

/// The lead of a deep DMFT solve shared by `workers` of the page's Web Workers: the
/// coordinator ([`crate::theory::dmft::deep::machine`]) and worker 0's sample blocks;
/// workers `1..` hold a [`DmftBlocks`] each. The messages are `Float64Array`s that the
/// page carries unread: [`DmftLead::start`] gives the first request for the other
/// workers; [`DmftLead::work`] runs this worker's share of the request in hand;
/// [`DmftLead::receive`] takes one reply of another worker. Each returns the next
/// request once every block's reply is in (`undefined` before, and at the end, when
/// [`DmftLead::done`]); [`DmftLead::finish`] gives the [`RunRecord`] JSON, the same as
/// [`super::run`] of the config.
#[wasm_bindgen]
pub struct DmftLead {
    cfg: RunConfig,
    threshold: f64,
    coord: Coordinator,
    own: BlockWorker,
    dev: Products,
    /// The request this worker's blocks have yet to run.
    pending: Option<Request>,
    progress: js_sys::Function,
}

#[wasm_bindgen]
impl DmftLead {
    /// The lead of a `dmft` config's solve over `workers` workers; `progress(stage,
    /// done, total)` as in [`super::run`].
    #[wasm_bindgen(constructor)]
    pub fn new(
        config_json: &str,
        workers: usize,
        progress: js_sys::Function,
    ) -> JsResult<DmftLead> {
        let cfg = parse_config(config_json).map_err(js)?;
        cfg.check_budget(crate::budget::PAGE_MEMORY_BYTES, 1, true)
            .map_err(js)?;
        let pr = match &cfg {
            RunConfig::Dmft(c) if crate::theory::dmft::split_blocks(c) > 0 => {
                Problem::new(c).map_err(js)?
            }
            _ => {
                return Err(js(Error::config(
                    "kind",
                    "dmft with depth >= 2 and a nonlinear activation (a solve that splits)",
                )));
            }
        };
        Ok(DmftLead {
            threshold: pr.threshold,
            coord: Coordinator::new(pr.clone()).map_err(js)?,
            own: BlockWorker::new(pr.clone(), 0, workers).map_err(js)?,
            dev: Products::select(DeviceChoice::Auto, pr.product_flops()),
            cfg,
            pending: None,
            progress,
        })
    }

    /// The first request, for the other workers (this worker's share: [`DmftLead::work`]).
    pub fn start(&mut self) -> JsResult<Vec<f64>> {
        let single = self.dev.single_precision();
        let req = with_progress(&self.progress, |p| self.coord.start(single, p)).map_err(js)?;
        Ok(self.hold(req))
    }

    /// Run this worker's share of the request in hand, its replies straight to the
    /// coordinator; the next request if they were the last ones needed.
    pub fn work(&mut self) -> JsResult<Option<Vec<f64>>> {
        let Some(req) = self.pending.take() else {
            return Ok(None);
        };
        self.own.handle(&mut self.dev, req).map_err(js)?;
        let mut next = None;
        while let Some(reply) = self.own.reply(&mut self.dev) {
            if let Some(q) = self.take(reply)? {
                next = Some(q);
            }
        }
        Ok(next)
    }

    /// One reply of another worker; the next request if it was the last one needed.
    pub fn receive(&mut self, reply: &[f64]) -> JsResult<Option<Vec<f64>>> {
        let reply = Reply::decode(reply).map_err(js)?;
        self.take(reply)
    }

    /// True once the solve is done ([`DmftLead::finish`]).
    pub fn done(&self) -> bool {
        self.coord.done()
    }

    /// The solve's [`RunRecord`] JSON.
    pub fn finish(mut self) -> JsResult<String> {
        let progress = self.progress.clone();
        let res = with_progress(&progress, |p| self.coord.finish(p)).map_err(js)?;
        let res =
            crate::theory::dmft::sampled_result(res, &mut self.dev, self.threshold).map_err(js)?;
        Ok(to_json(&RunRecord::new(self.cfg, RunOutput::Dmft(res))))
    }

    fn take(&mut self, reply: Reply) -> JsResult<Option<Vec<f64>>> {
        let single = self.dev.single_precision();
        let next =
            with_progress(&self.progress, |p| self.coord.receive(reply, single, p)).map_err(js)?;
        Ok(next.map(|q| self.hold(q)))
    }

    /// Keep a request for this worker's blocks; its message for the others.
    fn hold(&mut self, req: Request) -> Vec<f64> {
        let msg = req.encode();
        self.pending = Some(req);
        msg
    }
}

/// Worker `index` of `count`'s share of a deep DMFT solve led by a [`DmftLead`]: the
/// sample blocks `b` with `b % count == index`. [`DmftBlocks::handle`] takes a request
/// of the lead; [`DmftBlocks::reply`] gives the replies for the lead, one at a time
/// (`undefined` when there are no more for this request).
#[wasm_bindgen]
pub struct DmftBlocks {
    worker: BlockWorker,
    dev: Products,
}

#[wasm_bindgen]
impl DmftBlocks {
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str, index: usize, count: usize) -> JsResult<DmftBlocks> {
        let pr = match parse_config(config_json).map_err(js)? {
            RunConfig::Dmft(c) => Problem::new(&c).map_err(js)?,
            _ => return Err(js(Error::config("kind", "dmft"))),
        };
        Ok(DmftBlocks {
            worker: BlockWorker::new(pr, index, count).map_err(js)?,
            dev: Products::on(Device::Cpu),
        })
    }

    /// Take one request of the lead.
    pub fn handle(&mut self, request: &[f64]) -> JsResult<()> {
        let req = Request::decode(request).map_err(js)?;
        self.worker.handle(&mut self.dev, req).map_err(js)
    }

    /// The next reply for the lead, if any.
    pub fn reply(&mut self) -> Option<Vec<f64>> {
        self.worker.reply(&mut self.dev).map(|r| r.encode())
    }
}

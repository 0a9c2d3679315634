//! The deep solver as a state machine, so that its sample blocks can run on several
//! workers (threads, or the page's Web Workers) and give the same numbers bit for bit.
//!
//! A [`Coordinator`] owns the order parameters (the kernels and responses on the whole
//! grid, `Delta`) and runs the serial part of every iteration: the sampling factors, the
//! Stein regressions, the mixing, the settling of steps. [`BlockWorker`]s own the sample
//! blocks ([`super::sample_blocks`]; block `b` belongs to worker `b % count`) and run the
//! `O(S n^2)` part on them: the sources, the causal sweep, the sums over samples. They
//! talk in [`Request`]s and [`Reply`]s only (flat `f64` messages between Web Workers,
//! [`super::wire`]):
//!
//! ```text
//! coordinator                                   workers (each: its blocks, one Causal)
//! Layer(l, factors, kernels, Delta)      -->    sources; sweep all steps (layers < L)
//!                                               or step 0 (layer L)
//!                                        <--    Outputs(b, t = 0)  per block (layer L)
//! Step(t, Delta(t - 1))                  -->    step t                      (layer L)
//!                                        <--    Outputs(b, t)       ... up to t = T_h
//!                                        <--    Sums(b)   per block, in block order
//! mix, next layer or iteration ...
//! ```
//!
//! The coordinator adds the blocks' output sums and sums in block order, whatever order
//! they arrive in, so the result does not depend on how the blocks are dealt; the state
//! of a worker lives for one layer of one iteration only. [`solve_in_process`] drives a
//! coordinator and `split` workers in one thread (the CLI's [`super::solve`] is `split`
//! = 1); the page drives the same objects from Web Workers (`src/web.rs`).

use super::{
    BlockFields, BlockSums, Causal, Factors, Grid, Kernels, Sweep, TOLERANCE, WINDOW, block_sums,
    marching_work, sample_blocks, sampling_factor, stein_solve, step_changes,
};
use crate::error::{Error, Result};
use crate::linalg::cholesky_psd;
use crate::progress::{Progress, tick};
use crate::theory::dmft::linear::{finish, mix, rel_change};
use crate::theory::dmft::products::Products;
use crate::theory::dmft::{DmftResult, MAX_PT, Problem};

/// What every worker needs for layer `layer` (0-based: hidden layer `layer + 1`) of one
/// iteration, on the grid of steps `0..tt` (`n = P tt` coordinates, row `t P + mu`):
/// the square roots that sample its sources and the kernels of its sweep, `[n x n]` each.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LayerInputs {
    pub layer: usize,
    pub tt: usize,
    /// `chol(Phi^{l-1})` for `u` (none in layer 1: every worker has `chol(X X^T / D)`).
    pub u_factor: Option<Vec<f64>>,
    /// `chol(G^{l+1})` for `r` (none in the last layer: `r ~ N(0, 1)`).
    pub r_factor: Option<Vec<f64>>,
    /// `Phi^{l-1}` (`Phi^0` in layer 1).
    pub phi_prev: Vec<f64>,
    /// `R^{l-1}` (none in layer 1).
    pub r_prev: Option<Vec<f64>>,
    /// `G^{l+1}` (none in the last layer, where it is 1).
    pub g_next: Option<Vec<f64>>,
    /// `B^l` (none in the last layer).
    pub b_here: Option<Vec<f64>>,
    /// `Delta [n]` of the last iteration; empty in the last layer, which forms its own
    /// step by step ([`Request::Step`]).
    pub delta: Vec<f64>,
}

/// What the coordinator sends every worker.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Request {
    /// Start a layer: sample the sources, then sweep every step (all but the last
    /// layer) or step 0 (the last layer).
    Layer(LayerInputs),
    /// The last layer's step `t >= 1`, with `Delta(t - 1)` `[P]` just formed.
    Step { t: usize, delta: Vec<f64> },
}

/// What a worker sends back, one block at a time.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Reply {
    /// The last layer's output sums `sum_a z(t) phi(h(t))` of block `block` at step `t`,
    /// per point `[P]`.
    Outputs {
        block: usize,
        t: usize,
        sums: Vec<f64>,
    },
    /// Block `block`'s sums of the layer, once its sweep is done.
    Sums { block: usize, sums: BlockSums },
}

/// Drive a [`Coordinator`] and `split` [`BlockWorker`]s in this thread, the products on
/// `dev`: a deep solve whose numbers do not depend on `split`.
pub(crate) fn solve_in_process(
    pr: &Problem,
    dev: &mut Products,
    progress: &dyn Progress,
    split: usize,
) -> Result<DmftResult> {
    let mut coord = Coordinator::new(pr.clone())?;
    let split = split.clamp(1, coord.blocks());
    let mut workers = (0..split)
        .map(|i| BlockWorker::new(pr.clone(), i, split))
        .collect::<Result<Vec<_>>>()?;
    let mut request = Some(coord.start(dev.single_precision(), progress)?);
    while let Some(req) = request.take() {
        for w in &mut workers {
            w.handle(dev, req.clone())?;
        }
        // one reply from each worker in turn: blocks 0, 1, 2, ... (block b is worker
        // b % split's), so the coordinator adds each as it comes and holds one at a time
        'replies: loop {
            let mut any = false;
            for w in &mut workers {
                if let Some(reply) = w.reply(dev) {
                    any = true;
                    request = coord.receive(reply, dev.single_precision(), progress)?;
                    if request.is_some() {
                        break 'replies;
                    }
                }
            }
            if !any {
                break;
            }
        }
    }
    coord.finish(progress)
}

/// The worker side: some of the sample blocks, and their state within one layer.
pub(crate) struct BlockWorker {
    pr: Problem,
    /// `chol(X X^T / D)` `[P x P]`, layer 1's sampling factor.
    chol_x: Vec<f64>,
    index: usize,
    count: usize,
    layer: Option<WorkerLayer>,
}

/// A worker's state within one layer.
struct WorkerLayer {
    /// The layer's inputs (the factors taken out once the sources are drawn).
    inputs: LayerInputs,
    /// `G^{L+1} = 1` `[n x n]` in the last layer.
    ones: Option<Vec<f64>>,
    grid: Grid,
    causal: Causal,
    /// `Delta` as the sweep reads it (filled step by step in the last layer).
    delta: Vec<f64>,
    /// This worker's blocks `(b, fields)`, in block order.
    fields: Vec<(usize, BlockFields)>,
    /// Output sums not yet handed out, the next at the back.
    outputs: Vec<Reply>,
    /// The next of `fields` whose sums to hand out, once the sweep is done.
    sums_next: Option<usize>,
}

impl WorkerLayer {
    fn last(&self, depth: usize) -> bool {
        self.inputs.layer + 1 == depth
    }

    /// Fill block row `t` of the causal operators and advance every block by step `t`;
    /// in the last layer queue the blocks' output sums.
    fn step(&mut self, pr: &Problem, t: usize) -> Result<()> {
        let last = self.last(pr.depth);
        let WorkerLayer {
            inputs,
            ones,
            grid,
            causal,
            delta,
            fields,
            outputs,
            ..
        } = self;
        let sweep = sweep_of(pr, grid, inputs, ones.as_deref());
        sweep.rows(t, delta, causal);
        for (b, f) in fields.iter_mut() {
            let Some(sums) = sweep.step(t, causal, &mut f.f, f.s, last) else {
                return Err(Error::Numerical(format!(
                    "DMFT fields of layer {} are not finite (eta * gamma0 too large?)",
                    inputs.layer + 1
                )));
            };
            if last {
                outputs.push(Reply::Outputs { block: *b, t, sums });
            }
        }
        outputs.reverse(); // handed out from the back: first block first
        if t + 1 == grid.tt {
            self.sums_next = Some(0);
        }
        Ok(())
    }
}

/// The sweep of a layer from its inputs.
fn sweep_of<'a>(
    pr: &'a Problem,
    grid: &'a Grid,
    inputs: &'a LayerInputs,
    ones: Option<&'a [f64]>,
) -> Sweep<'a> {
    Sweep {
        grid,
        pr,
        phi_prev: &inputs.phi_prev,
        r_prev: inputs.r_prev.as_deref(),
        g_next: inputs.g_next.as_deref().or(ones).unwrap_or(&[]),
        b_here: inputs.b_here.as_deref(),
    }
}

impl BlockWorker {
    /// Worker `index` of `count`: it owns the blocks `b` with `b % count == index`.
    pub fn new(pr: Problem, index: usize, count: usize) -> Result<Self> {
        if count == 0 || index >= count {
            return Err(Error::config(
                "workers",
                format!("a worker index below the worker count (got {index} of {count})"),
            ));
        }
        let chol_x = cholesky_psd(&pr.kx(), pr.p, "input kernel X X^T / D")?;
        Ok(BlockWorker {
            pr,
            chol_x,
            index,
            count,
            layer: None,
        })
    }

    /// Take a request; its replies come from [`BlockWorker::reply`].
    #[inline(never)]
    pub fn handle(&mut self, dev: &mut Products, req: Request) -> Result<()> {
        match req {
            Request::Layer(inputs) => self.begin(dev, inputs),
            Request::Step { t, delta } => {
                let p = self.pr.p;
                let depth = self.pr.depth;
                let Some(lay) = self.layer.as_mut().filter(|l| l.last(depth)) else {
                    return Err(order(format!("step {t} outside the last layer")));
                };
                if t == 0 || t >= lay.grid.tt || delta.len() != p || lay.sums_next.is_some() {
                    return Err(order(format!(
                        "step {t} of {} ({} points)",
                        lay.grid.tt,
                        delta.len()
                    )));
                }
                lay.delta[(t - 1) * p..t * p].copy_from_slice(&delta);
                lay.step(&self.pr, t)
            }
        }
    }

    /// Sample this worker's blocks' sources for a layer and sweep (every step, or step
    /// 0 in the last layer).
    fn begin(&mut self, dev: &mut Products, mut inputs: LayerInputs) -> Result<()> {
        let (p, l) = (self.pr.p, inputs.layer);
        let n = p * inputs.tt;
        let last = l + 1 == self.pr.depth;
        let square = |m: &Option<Vec<f64>>| m.as_ref().is_none_or(|m| m.len() == n * n);
        if l >= self.pr.depth
            || inputs.tt == 0
            || inputs.phi_prev.len() != n * n
            || ![
                &inputs.u_factor,
                &inputs.r_factor,
                &inputs.r_prev,
                &inputs.g_next,
            ]
            .into_iter()
            .chain([&inputs.b_here])
            .all(square)
            || (l > 0) != inputs.u_factor.is_some()
            || last == inputs.r_factor.is_some()
            || last == inputs.g_next.is_some()
            || (!last && inputs.delta.len() != n)
        {
            return Err(order(format!("layer {l}: inputs of the wrong shape")));
        }
        let grid = Grid {
            p,
            n,
            tt: inputs.tt,
        };
        let factors = Factors {
            chol_x: self.chol_x.clone(),
            u: inputs.u_factor.take(),
            r: inputs.r_factor.take(),
        };
        let fields = sample_blocks(self.pr.samples)
            .into_iter()
            .enumerate()
            .filter(|(b, _)| b % self.count == self.index)
            .map(|(b, r)| (b, factors.sources(dev, &self.pr, &grid, l, b, r.len())))
            .collect();
        drop(factors);
        let delta = if last {
            vec![0.0; n]
        } else {
            std::mem::take(&mut inputs.delta)
        };
        let mut lay = WorkerLayer {
            inputs,
            ones: last.then(|| vec![1.0; n * n]),
            grid,
            causal: Causal::new(n),
            delta,
            fields,
            outputs: vec![],
            sums_next: None,
        };
        let steps = if last { 1 } else { lay.grid.tt };
        for t in 0..steps {
            lay.step(&self.pr, t)?;
        }
        self.layer = Some(lay);
        Ok(())
    }

    /// The next reply, if any: the queued output sums, then (once the sweep is done)
    /// the blocks' sums, computed one block at a time as they are asked for.
    pub fn reply(&mut self, dev: &mut Products) -> Option<Reply> {
        let depth = self.pr.depth;
        let lay = self.layer.as_mut()?;
        if let Some(r) = lay.outputs.pop() {
            return Some(r);
        }
        let i = lay.sums_next?;
        let last = lay.last(depth);
        let sweep = sweep_of(&self.pr, &lay.grid, &lay.inputs, lay.ones.as_deref());
        let reply = lay.fields.get(i).map(|(b, f)| Reply::Sums {
            block: *b,
            sums: block_sums(dev, &sweep, &lay.causal, f, lay.inputs.layer, last),
        });
        lay.sums_next = Some(i + 1);
        if i + 1 >= lay.fields.len() {
            self.layer = None;
        }
        reply
    }
}

fn order(what: String) -> Error {
    Error::Data(format!("DMFT block message out of order: {what}"))
}

/// The coordinator side: the order parameters and the serial part of the iteration
/// (module doc of [`super`], steps 1-4 around the workers' sums).
pub(crate) struct Coordinator {
    pr: Problem,
    /// Training block of the input kernel `[P x P]`.
    kx: Vec<f64>,
    /// The order parameters on the whole grid.
    all: Kernels,
    res: DmftResult,
    blocks: usize,
    /// Progress ticks: one per layer and iteration.
    total: u64,
    /// Set when a sampling factor could not keep the time order.
    repivoted: bool,
    /// First step whose kernels or Delta still moved by more than [`TOLERANCE`].
    settled: usize,
    /// Iterations finished.
    it: usize,
    /// The iteration in progress (none once done).
    iter: Option<Iteration>,
}

/// One iteration in progress, on the grid up to its horizon.
struct Iteration {
    hz: usize,
    grid: Grid,
    win: Kernels,
    change: f64,
    steps_change: Vec<f64>,
    new_delta: Vec<f64>,
    layer: usize,
    phase: Phase,
    /// Blocks' sums that came before their turn (a worker sends its sums right after
    /// its outputs of the last step, before the other workers' outputs may be in).
    early: Vec<Option<BlockSums>>,
}

/// What the coordinator waits for within a layer.
enum Phase {
    /// The last layer's step `t`: the blocks' output sums (added in block order once
    /// all are in); `m0` the centring `f(0)`.
    Steps {
        t: usize,
        got: Vec<Option<Vec<f64>>>,
        m0: Vec<f64>,
    },
    /// The blocks' sums: `total` holds blocks `0..next`.
    Sums {
        next: usize,
        total: Option<BlockSums>,
    },
}

impl Phase {
    fn sums() -> Self {
        Phase::Sums {
            next: 0,
            total: None,
        }
    }
}

/// A layer's new estimates, before mixing: `Phi^l`, `G^l`, and the responses `R^l`
/// (all but the last layer) and `B^{l-1}` (all but the first).
struct LayerUpdate {
    phi: Vec<f64>,
    g: Vec<f64>,
    resp_r: Option<Vec<f64>>,
    resp_b: Option<Vec<f64>>,
}

impl Coordinator {
    /// The lazy start (checked against [`MAX_PT`] and the work budget).
    pub fn new(pr: Problem) -> Result<Self> {
        let n = pr.p * (pr.steps + 1);
        if n > MAX_PT {
            return Err(Error::Budget(format!(
                "deep DMFT needs P (T + 1) <= {MAX_PT}, got {n}"
            )));
        }
        let work = marching_work(pr.p, pr.steps, pr.samples, pr.depth, pr.iterations);
        pr.budget("deep DMFT", work)?;
        let kx = pr.kx();
        let all = Kernels::lazy(&pr, &kx)?;
        let res = DmftResult {
            warnings: pr.warnings.clone(),
            ..Default::default()
        };
        Ok(Coordinator {
            kx,
            all,
            res,
            blocks: sample_blocks(pr.samples).len(),
            total: (pr.iterations * pr.depth) as u64,
            repivoted: false,
            settled: 0,
            it: 0,
            iter: None,
            pr,
        })
    }

    /// Number of sample blocks.
    pub fn blocks(&self) -> usize {
        self.blocks
    }

    /// True once the last iteration is done ([`Coordinator::finish`]).
    pub fn done(&self) -> bool {
        self.iter.is_none() && self.it > 0
    }

    /// The first request: layer 1 of the first iteration. `single_precision`: the
    /// products run in f32 (a GPU), which makes the sampling factors tolerate rounding.
    pub fn start(&mut self, single_precision: bool, progress: &dyn Progress) -> Result<Request> {
        if self.iter.is_some() || self.it > 0 {
            return Err(order("start after the start".into()));
        }
        self.begin_iteration();
        self.begin_layer(0, single_precision, progress)
    }

    fn begin_iteration(&mut self) {
        let hz = horizon(&self.pr, self.it, self.settled);
        let grid = Grid {
            p: self.pr.p,
            n: self.pr.p * (hz + 1),
            tt: hz + 1,
        };
        let win = self.all.lead(grid.n);
        self.iter = Some(Iteration {
            hz,
            steps_change: vec![0.0; grid.tt],
            new_delta: win.delta.clone(),
            grid,
            win,
            change: 0.0,
            layer: 0,
            phase: Phase::sums(),
            early: (0..self.blocks).map(|_| None).collect(),
        });
    }

    /// Step 1's square roots and the sweep's kernels of layer `l`, as a request.
    /// The factors eliminate in time order (row i = t P + mu), never pivoted: then the
    /// sources of step t are drawn from the kernels' entries up to t alone, and one
    /// iteration is a causal map (step t of the new iterate depends on steps <= t of the
    /// old one), so its fixed point is reached step by step. A pivoted factor (largest
    /// diagonal first: late steps) made every sample of early steps depend on the
    /// late-step kernels, so the errors of the not yet converged late steps fed back into
    /// the early ones and the iteration did not settle.
    #[inline(never)]
    fn begin_layer(&mut self, l: usize, single: bool, progress: &dyn Progress) -> Result<Request> {
        let depth = self.pr.depth;
        tick(progress, "dmft", (self.it * depth + l) as u64, self.total)?;
        let iter = self.iter.as_mut().expect("an iteration in progress");
        let (win, n) = (&iter.win, iter.grid.n);
        let natural: Vec<usize> = (0..n).collect();
        let last = l + 1 == depth;
        let u_factor = if l == 0 {
            None
        } else {
            let what = format!("Phi^{l}");
            let (c, o) = sampling_factor(&win.phi[l - 1], n, &what, Some(&natural), single)?;
            self.repivoted |= o != natural;
            Some(c)
        };
        let r_factor = if last {
            None
        } else {
            let what = format!("G^{}", l + 2);
            let (c, o) = sampling_factor(&win.g[l + 1], n, &what, Some(&natural), single)?;
            self.repivoted |= o != natural;
            Some(c)
        };
        iter.layer = l;
        iter.phase = if last {
            Phase::Steps {
                t: 0,
                got: vec![None; self.blocks],
                m0: vec![0.0; self.pr.p],
            }
        } else {
            Phase::sums()
        };
        Ok(Request::Layer(LayerInputs {
            layer: l,
            tt: iter.grid.tt,
            u_factor,
            r_factor,
            phi_prev: if l == 0 {
                win.phi0.clone()
            } else {
                win.phi[l - 1].clone()
            },
            r_prev: (l > 0).then(|| win.resp_r[l - 1].clone()),
            g_next: (!last).then(|| win.g[l + 1].clone()),
            b_here: (!last).then(|| win.resp_b[l].clone()),
            delta: if last { vec![] } else { win.delta.clone() },
        }))
    }

    /// Take a worker's reply. Returns the next request for every worker once the replies
    /// of all blocks are in (none while waiting, and none at the end: see
    /// [`Coordinator::done`]).
    #[inline(never)]
    pub fn receive(
        &mut self,
        reply: Reply,
        single: bool,
        progress: &dyn Progress,
    ) -> Result<Option<Request>> {
        let blocks = self.blocks;
        let (p, gamma0, s) = (self.pr.p, self.pr.gamma0, self.pr.samples);
        let Some(iter) = self.iter.as_mut() else {
            return Err(order("a reply after the end".into()));
        };
        match (&mut iter.phase, reply) {
            (Phase::Steps { t, got, m0 }, Reply::Outputs { block, t: rt, sums }) => {
                if rt != *t || block >= blocks || got[block].is_some() || sums.len() != p {
                    return Err(order(format!("outputs of block {block} at step {rt}")));
                }
                got[block] = Some(sums);
                if got.iter().any(Option::is_none) {
                    return Ok(None);
                }
                let mut m = vec![0.0; p];
                for sums in got.iter_mut() {
                    for (acc, v) in m.iter_mut().zip(sums.take().unwrap_or_default()) {
                        *acc += v;
                    }
                }
                let tn = *t;
                for mu in 0..p {
                    let mean = m[mu] / (gamma0 * s as f64);
                    if tn == 0 {
                        m0[mu] = mean;
                    }
                    iter.new_delta[tn * p + mu] = self.pr.y[mu] - (mean - m0[mu]);
                }
                if tn + 1 < iter.grid.tt {
                    *t = tn + 1;
                    let delta = iter.new_delta[tn * p..(tn + 1) * p].to_vec();
                    return Ok(Some(Request::Step { t: tn + 1, delta }));
                }
                iter.phase = Phase::sums();
                self.add_sums(single, progress)
            }
            (phase, Reply::Sums { block, sums }) => {
                let last_step = match phase {
                    Phase::Steps { t, .. } => *t + 1 == iter.grid.tt,
                    Phase::Sums { next, .. } => block >= *next,
                };
                if !last_step || block >= blocks || iter.early[block].is_some() {
                    return Err(order(format!("sums of block {block}")));
                }
                iter.early[block] = Some(sums);
                self.add_sums(single, progress)
            }
            (_, Reply::Outputs { block, t, .. }) => {
                Err(order(format!("outputs of block {block} at step {t}")))
            }
        }
    }

    /// In the sums phase, add the blocks' sums that are in, in block order; once all
    /// are, end the layer.
    fn add_sums(&mut self, single: bool, progress: &dyn Progress) -> Result<Option<Request>> {
        let iter = self.iter.as_mut().expect("an iteration in progress");
        let Phase::Sums { next, total } = &mut iter.phase else {
            return Ok(None);
        };
        while let Some(b) = iter.early.get_mut(*next).and_then(Option::take) {
            match total.as_mut() {
                None => *total = Some(b),
                Some(acc) => acc.add(&b),
            }
            *next += 1;
        }
        if *next < self.blocks {
            return Ok(None);
        }
        let total = total.take().expect("at least one sample block");
        self.end_layer(total, single, progress)
    }

    /// Step 3's estimates from the blocks' sums, mixed in (step 4); then the next
    /// layer, or the end of the iteration.
    #[inline(never)]
    fn end_layer(
        &mut self,
        total: BlockSums,
        single: bool,
        progress: &dyn Progress,
    ) -> Result<Option<Request>> {
        let (p, depth, damping) = (self.pr.p, self.pr.depth, self.pr.damping);
        let iter = self.iter.as_mut().expect("an iteration in progress");
        let l = iter.layer;
        let up = layer_update(total, self.pr.samples, p, l)?;
        let win = &mut iter.win;
        iter.change = iter
            .change
            .max(rel_change(&win.phi[l], &up.phi))
            .max(rel_change(&win.g[l], &up.g));
        step_changes(&mut iter.steps_change, &win.phi[l], &up.phi, p);
        step_changes(&mut iter.steps_change, &win.g[l], &up.g, p);
        mix(&mut win.phi[l], &up.phi, damping);
        mix(&mut win.g[l], &up.g, damping);
        if let Some(jr) = up.resp_r {
            mix(&mut win.resp_r[l], &jr, damping);
        }
        if let Some(jb) = up.resp_b {
            mix(&mut win.resp_b[l - 1], &jb, damping);
        }
        if l + 1 < depth {
            return self.begin_layer(l + 1, single, progress).map(Some);
        }
        // the end of the iteration: Delta from the last layer's sweep
        let mut iter = self.iter.take().expect("an iteration in progress");
        let change = iter
            .change
            .max(rel_change(&iter.win.delta, &iter.new_delta));
        for (t, c) in iter.steps_change.iter_mut().enumerate() {
            let d = rel_change(
                &iter.win.delta[t * p..(t + 1) * p],
                &iter.new_delta[t * p..(t + 1) * p],
            );
            *c = c.max(d);
        }
        iter.win.delta = std::mem::take(&mut iter.new_delta);
        self.settled = iter
            .steps_change
            .iter()
            .position(|&c| c > TOLERANCE)
            .unwrap_or(iter.grid.tt);
        self.all.store(&iter.win, p);
        self.res.history.push(change);
        self.it += 1;
        if (iter.hz == self.pr.steps && change < 0.1 * TOLERANCE) || self.it == self.pr.iterations {
            return Ok(None);
        }
        self.begin_iteration();
        self.begin_layer(0, single, progress).map(Some)
    }

    /// The result, once [`Coordinator::done`]: losses, outputs and recorded kernels from
    /// the order parameters, with the convergence warnings.
    pub fn finish(mut self, progress: &dyn Progress) -> Result<DmftResult> {
        if !self.done() {
            return Err(order("finish before the last iteration".into()));
        }
        convergence_warnings(&mut self.res, self.settled, self.repivoted);
        let all = &self.all;
        finish(
            &self.pr,
            &mut self.res,
            &all.delta,
            &all.phi,
            &all.g,
            &self.kx,
        );
        tick(progress, "dmft", self.total, self.total)?;
        Ok(self.res)
    }
}

/// Step 3 from the blocks' summed moments (divided by S here): the kernels, and the
/// responses by the Stein regression ([`stein_solve`], with its relative [`super::RIDGE`]).
fn layer_update(total: BlockSums, s: usize, p: usize, l: usize) -> Result<LayerUpdate> {
    let scale = |mut v: Vec<f64>, a: f64| {
        v.iter_mut().for_each(|x| *x *= a);
        v
    };
    let inv = 1.0 / s as f64;
    let resp_r = match total.r {
        Some((mo, c)) => Some(stein_solve(
            scale(mo, 0.5 * inv),
            scale(c, inv),
            p,
            0,
            &format!("G^{}", l + 2),
        )?),
        None => None,
    };
    let resp_b = match total.u {
        Some((mo, c)) => Some(stein_solve(
            scale(mo, 0.5 * inv),
            scale(c, inv),
            p,
            1,
            &format!("Phi^{l}"),
        )?),
        None => None,
    };
    Ok(LayerUpdate {
        phi: scale(total.phi, inv),
        g: scale(total.g, inv),
        resp_r,
        resp_b,
    })
}

/// The last step iteration `it` works on. Causal marching: the steps up to a horizon
/// [`WINDOW`] steps past the settled ones (the later steps cannot settle before those
/// have), which gives the same iterates on those steps as the full grid at a fraction of
/// the cost; the horizon reaches T after about T / settle-rate iterations. At least a
/// linear ramp to T by the last iteration, so that a short iteration budget still
/// updates every step, if unconverged.
fn horizon(pr: &Problem, it: usize, settled: usize) -> usize {
    let ramp = (pr.steps * (it + 1)).div_ceil(pr.iterations);
    (settled + WINDOW).max(ramp).min(pr.steps)
}

/// The warnings of an unconverged solve (`settled`: the first step that still moved)
/// and of a sampling factor that had to be re-pivoted.
fn convergence_warnings(res: &mut DmftResult, settled: usize, repivoted: bool) {
    if let Some(&last) = res.history.last()
        && last > TOLERANCE
    {
        res.warnings.push(format!(
            "deep DMFT not converged after {} iterations: relative change {last:.2e} > \
             {TOLERANCE:.0e}; steps 0..{settled} settled, later steps not (the iteration \
             converges causally, step by step: use more iterations)",
            res.history.len(),
        ));
    }
    if repivoted {
        res.warnings.push(
            "a sampling covariance was not positive semidefinite in time order and was \
             re-pivoted: the iteration is not causal and may not settle"
                .into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Activation, OptimizerConfig, Parameterization, TrainConfig};
    use crate::data::{DataConfig, Teacher};
    use crate::progress::Silent;
    use crate::theory::dmft::DmftConfig;

    /// Depth-2 tanh, 8 points, T = 5, S = 4200: three sample blocks (2048, 2048, 104).
    fn problem() -> Problem {
        let mut train = TrainConfig {
            data: DataConfig::Teacher {
                teacher: Teacher::SingleIndex,
                dim: 6,
                train: 8,
                test: 0,
                noise: 0.0,
                seed: 3,
            },
            param: Parameterization::Mup { gamma0: 1.0 },
            optimizer: OptimizerConfig::Gd { lr: 0.3 },
            steps: 5,
            seed: 7,
            ..Default::default()
        };
        train.model.activation = Activation::Tanh;
        train.model.depth = 2;
        train.model.centered = true;
        train.observe.every = 2;
        let cfg = DmftConfig {
            train,
            samples: 4200,
            iterations: 8,
            damping: 1.0,
        };
        Problem::new(&cfg).unwrap()
    }

    /// The page's way: every request and reply through the flat messages of
    /// [`super::super::wire`], the workers' replies handed over last worker first (so
    /// the coordinator gets blocks out of order and must put them back in order).
    fn solve_by_messages(pr: &Problem, count: usize) -> DmftResult {
        let mut coord = Coordinator::new(pr.clone()).unwrap();
        let mut workers: Vec<(BlockWorker, Products)> = (0..count)
            .map(|i| {
                let w = BlockWorker::new(pr.clone(), i, count).unwrap();
                (w, Products::on(crate::backend::Device::Cpu))
            })
            .collect();
        let mut msg = Some(coord.start(false, &Silent).unwrap().encode());
        let mut messages = 0;
        while let Some(m) = msg.take() {
            let mut replies = vec![];
            for (w, dev) in workers.iter_mut().rev() {
                w.handle(dev, Request::decode(&m).unwrap()).unwrap();
                while let Some(r) = w.reply(dev) {
                    replies.push(r.encode());
                }
            }
            for r in replies {
                messages += 1;
                if let Some(q) = coord
                    .receive(Reply::decode(&r).unwrap(), false, &Silent)
                    .unwrap()
                {
                    assert!(msg.is_none(), "one request per round");
                    msg = Some(q.encode());
                }
            }
        }
        assert!(coord.done() && messages > 0);
        coord.finish(&Silent).unwrap()
    }

    #[test]
    fn messages_between_one_two_or_three_workers_give_the_solve_bit_for_bit() {
        let pr = problem();
        assert_eq!(sample_blocks(pr.samples).len(), 3);
        let mut dev = Products::on(crate::backend::Device::Cpu);
        let solved = super::super::solve(&pr, &mut dev, &Silent).unwrap();
        assert!(solved.loss.iter().all(|l| l.is_finite()) && solved.loss[5] < solved.loss[0]);
        let h = &solved.history;
        assert!(h.len() > 2 && h[h.len() - 1] < 1e-4, "converged: {h:?}");
        for count in 1..=3 {
            let split = solve_in_process(&pr, &mut dev, &Silent, count).unwrap();
            assert_eq!(split, solved, "in process, {count} workers");
            assert_eq!(
                solve_by_messages(&pr, count),
                solved,
                "messages, {count} workers"
            );
        }
    }

    #[test]
    fn messages_round_trip_and_bad_ones_are_named() {
        let req = Request::Layer(LayerInputs {
            layer: 1,
            tt: 2,
            u_factor: Some(vec![1.0, 0.0, 0.5, 2.0]),
            r_factor: None,
            phi_prev: vec![1.5; 4],
            r_prev: Some(vec![-0.25; 4]),
            g_next: None,
            b_here: None,
            delta: vec![],
        });
        assert_eq!(Request::decode(&req.encode()).unwrap(), req);
        let step = Request::Step {
            t: 3,
            delta: vec![0.1, -0.2],
        };
        assert_eq!(Request::decode(&step.encode()).unwrap(), step);
        let sums = Reply::Sums {
            block: 2,
            sums: BlockSums {
                phi: vec![1.0],
                g: vec![2.0],
                r: None,
                u: Some((vec![3.0], vec![4.0])),
            },
        };
        assert_eq!(Reply::decode(&sums.encode()).unwrap(), sums);
        let mut cut = step.encode();
        cut.pop();
        let e = Request::decode(&cut).unwrap_err().to_string();
        assert!(e.contains("delta: 2 entries, got 1"), "{e}");
        let e = Reply::decode(&step.encode()).unwrap_err().to_string();
        assert!(e.contains("a reply tag (3 or 4), got 2"), "{e}");
        // a worker refuses a step before its layer, the coordinator a reply out of turn
        let pr = problem();
        let mut dev = Products::on(crate::backend::Device::Cpu);
        let mut w = BlockWorker::new(pr.clone(), 0, 1).unwrap();
        let e = w.handle(&mut dev, step).unwrap_err().to_string();
        assert!(
            e.contains("out of order: step 3 outside the last layer"),
            "{e}"
        );
        let mut coord = Coordinator::new(pr).unwrap();
        coord.start(false, &Silent).unwrap();
        let outputs = Reply::Outputs {
            block: 0,
            t: 0,
            sums: vec![0.0; 8],
        };
        let e = coord
            .receive(outputs, false, &Silent)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("out of order: outputs of block 0 at step 0"),
            "{e}"
        );
        assert_eq!(coord.receive(sums.clone(), false, &Silent).unwrap(), None);
        let e = coord.receive(sums, false, &Silent).unwrap_err().to_string();
        assert!(e.contains("out of order: sums of block 2"), "{e}");
    }
}

//! The coordinator side of the [`super`] machine: the order parameters and the serial
//! part of every iteration.

use super::*;

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
    /// Work of the finished iterations, in units of [`iteration_work`].
    work_done: f64,
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
            work_done: 0.0,
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

    /// Progress at the start of layer `l` of the iteration in progress, as `(done,
    /// total)` in thousandths of [`iteration_work`]: the iterations done and `l / L` of
    /// this one, against those plus an estimate of the rest. The march ends once every
    /// step has settled; the rest is the iterations that takes at the settle rate seen so
    /// far (`settled / it` steps per iteration), each at the horizon it will have, within
    /// the iteration budget (the whole budget while nothing has settled yet). So the
    /// fraction follows the work, not the count of iterations against a budget the march
    /// rarely spends (73 of 200 for the Kernels panel's depth-3 solve), and late
    /// iterations, on the longer grids, weigh more.
    fn pace(&self, l: usize) -> (u64, u64) {
        let (pr, it, settled) = (&self.pr, self.it, self.settled);
        let iter = self.iter.as_ref().expect("an iteration in progress");
        let layer = l as f64 / pr.depth as f64;
        let budget = pr.iterations - it;
        let rate = settled as f64 / it.max(1) as f64;
        let left = (pr.steps + 1).saturating_sub(settled) as f64;
        let iterations = if rate > 0.0 {
            ((left / rate).ceil() as usize + 1).min(budget)
        } else {
            budget
        };
        let rest: f64 = (0..iterations)
            .map(|i| {
                let hz = if i == 0 {
                    iter.hz
                } else {
                    horizon(pr, it + i, settled + (rate * i as f64) as usize)
                };
                iteration_work(hz)
            })
            .sum();
        let done = self.work_done + layer * iteration_work(iter.hz);
        let total = self.work_done + rest;
        ((1e3 * done) as u64, (1e3 * total).max(1e3 * done) as u64)
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
        let (done, total) = self.pace(l);
        tick(progress, "dmft", done, total)?;
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
        self.work_done += iteration_work(iter.hz);
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
        let work = (1e3 * self.work_done) as u64;
        tick(progress, "dmft", work, work)?;
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

/// The work of one iteration at horizon `hz`, relative: its products over samples are
/// `[n x n] [n x S]` with `n = P (hz + 1)`, so it grows as `(hz + 1)^2` (the causal
/// sweeps too).
fn iteration_work(hz: usize) -> f64 {
    ((hz + 1) * (hz + 1)) as f64
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

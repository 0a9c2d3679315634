//! The worker side of the [`super`] machine: a share of the sample blocks for one layer.

use super::*;

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

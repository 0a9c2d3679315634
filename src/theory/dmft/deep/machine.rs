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

mod coordinator;
mod worker;
pub(crate) use coordinator::Coordinator;
pub(crate) use worker::BlockWorker;

fn order(what: String) -> Error {
    Error::Data(format!("DMFT block message out of order: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Activation, OptimizerConfig, Parameterization, TrainConfig};
    use crate::data::{DataConfig, Teacher};
    use crate::progress::Silent;
    use crate::theory::dmft::DmftConfig;

    /// Depth-2 tanh, 8 points, T = 5, S = 4200: six sample blocks (five of 768, one of 360).
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
    fn small_solves_come_in_eight_blocks_and_large_ones_in_blocks_of_2048() {
        let sizes = |s: usize| {
            let blocks = sample_blocks(s);
            let mut end = 0;
            for r in &blocks {
                assert_eq!(r.start, end, "S = {s}: blocks tile 0..S");
                end = r.end;
            }
            assert_eq!(end, s);
            blocks.iter().map(|r| r.len()).collect::<Vec<_>>()
        };
        assert_eq!(sizes(2000), [256, 256, 256, 256, 256, 256, 256, 208]);
        assert_eq!(sizes(8000), [1024, 1024, 1024, 1024, 1024, 1024, 1024, 832]);
        assert_eq!(sizes(4200), [768, 768, 768, 768, 768, 360]);
        assert_eq!(sizes(300), [256, 44]);
        assert_eq!(sizes(100), [100]);
        let large = sizes(80_000);
        assert!(large.len() == 40 && large[..39].iter().all(|&b| b == 2048) && large[39] == 128);
    }

    #[test]
    fn messages_between_one_two_or_three_workers_give_the_solve_bit_for_bit() {
        let pr = problem();
        assert_eq!(sample_blocks(pr.samples).len(), 6);
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

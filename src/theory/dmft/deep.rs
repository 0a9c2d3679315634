//! Deep nonlinear DMFT (L >= 2) by Monte Carlo over the single-site process, with the
//! response functions, iterated to a fixed point.
//!
//! State on the `n = P (T + 1)` grid of (step, point), row index `i = t P + mu`:
//! kernels `Phi^l, G^l [n x n]`, responses `R^l, B^l [n x n]` (layer `l` is hidden
//! layer `l + 1`, 0-based in the code). One iteration, layer by layer (Gauss-Seidel:
//! layer `l` sees this iteration's `Phi^{l-1}, R^{l-1}` and the last iteration's
//! `G^{l+1}, B^l`):
//!
//! 1. `u = chol(Phi^{l-1}) eps`, `r = chol(G^{l+1}) eps'` for S samples (`eps` fixed
//!    across iterations: common random numbers make the iteration a deterministic map,
//!    so its convergence history is meaningful). The factors eliminate in time order,
//!    never pivoted, so the sources of step t depend on the kernels up to step t only.
//!    Layer 1's `u ~ N(0, Phi^0)` and the last layer's `r ~ N(0, 1)` are static.
//!    The samples come in fixed blocks ([`sample_blocks`]), each with its own streams;
//!    every sum over samples below is summed per block and the blocks added in block
//!    order, so the blocks can be dealt to workers without changing a bit: the
//!    iteration is a state machine ([`machine`]) of a coordinator and block workers,
//!    in one thread ([`solve`], [`solve_split`]) or in the page's Web Workers.
//! 2. One causal sweep over t (exact): `h(t) = u(t) + C_h(t, <t) g(<t)`,
//!    `z(t) = r(t) + C_z(t, <=t) phi(<=t)`, `g = phi'(h) z` (module doc of [`super`]).
//!    In the last layer `Delta(t) = y - f(t)` is formed on the fly from the fields.
//! 3. `Phi^l = <phi phi^T>`, `G^l = <g g^T>` over the S samples; the responses
//!    `R^l = <d phi / d r>` and `B^{l-1} = <d g / d u>` by Gaussian integration by
//!    parts over all S samples ([`stein_solve`]): two more sweeps with `r` resp. `u` flipped
//!    give antithetic differences, regressed causally on the sources (least squares on
//!    their sample covariance).
//! 4. Mix with `damping`; record the relative change.
//!
//! With 1-3 every step of the new iterate depends only on the same and earlier steps of
//! the old one, so the iteration settles step by step (about one step per iteration
//! once the lazy start is left behind) and then stops changing. Each iteration works
//! on the steps up to a horizon [`WINDOW`] steps past the settled ones (at least a
//! linear ramp to T by the last allowed iteration); converging at T = 40 takes about
//! T + 5 iterations, each cheaper than a full one. Fewer iterations end with a warning
//! that names the settled steps.
//!
//! Cost per layer and iteration `O(S n^2 + n^3)`; `n <= MAX_PT`. No second derivatives
//! are needed, so ReLU's kink enters the equal-time `B(t,t)` like any other part.
//!
//! Checks: against finite ensembles (depth-3 tanh, N = 2048, gamma0 = 2, T = 16) the
//! loss is within about 3%; at T = 40 (default data, gamma0 = 1, N = 1024) within 6%
//! at every recorded step (tests/theory/deep_dmft_long.rs). Both choices of steps 1
//! and 3 are needed for long horizons: a pivoted sampling factor makes early samples
//! depend on late-step kernels (no causal settling, see [`machine`]), and a
//! regression on the population kernel leaves response noise of relative size
//! `sqrt(t P / S)`, a variance bias of order `t P / S` in the next layer's fields
//! ([`stein_solve`]).

pub(crate) mod machine;
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) mod wire;

use super::linear::{lazy_delta, tile};
use super::products::Products;
use super::{DmftResult, Problem};
use crate::error::Result;
use crate::linalg::{Layout, cholesky_psd_ordered, gemm, rm};
use crate::progress::Progress;
use crate::rng::{Stream, normals, stream};
use crate::theory::kernels::mlp_layer_kernels;

/// Relative change per iteration below which the solve counts as converged.
pub const TOLERANCE: f64 = 1e-3;

/// Steps past the settled ones that each iteration works on.
pub const WINDOW: usize = 4;

/// Estimated flops of a deep solve: per layer and iteration `30 S n^2 + 6 n^3` on the
/// `n = P (h + 1)` steps up to that iteration's horizon `h`, which starts `WINDOW` steps
/// in and gains about one step per iteration; at most `min(iterations, T + WINDOW + 1)`
/// iterations are counted (the solve stops once every step has settled).
pub fn marching_work(
    p: usize,
    steps: usize,
    samples: usize,
    depth: usize,
    iterations: usize,
) -> f64 {
    let its = iterations.max(1).min(steps + WINDOW + 1);
    let s = samples as f64;
    let per_iteration: f64 = (0..its)
        .map(|it| {
            let n = (p * ((it + WINDOW).min(steps) + 1)) as f64;
            30.0 * s * n * n + 6.0 * n * n * n
        })
        .sum();
    depth as f64 * per_iteration
}

/// The `(step, point)` grid an iteration works on: `P` points, steps `0..tt`,
/// `n = P tt` coordinates, row index `i = t P + mu`.
struct Grid {
    p: usize,
    n: usize,
    tt: usize,
}

/// The order parameters on a grid of `n = P (h + 1)` coordinates (the full trajectory,
/// or the leading block up to an iteration's horizon `h`): `[n x n]` each.
struct Kernels {
    /// `Phi^0 = X X^T / D`, the same at every pair of steps (constant).
    phi0: Vec<f64>,
    /// `Phi^l`, `l = 1..L` (index `l - 1`).
    phi: Vec<Vec<f64>>,
    /// `G^l`, `l = 1..L` (index `l - 1`).
    g: Vec<Vec<f64>>,
    /// `R^l`, `l = 1..L-1` (index `l - 1`).
    resp_r: Vec<Vec<f64>>,
    /// `B^l`, `l = 1..L-1` (index `l - 1`).
    resp_b: Vec<Vec<f64>>,
    /// `Delta(t) = y - f(t)`, `[n]`.
    delta: Vec<f64>,
}

impl Kernels {
    /// The lazy start on the full grid: the initialisation kernels `Phi^l, G^l` of
    /// [`mlp_layer_kernels`] held constant in time, no responses, and the kernel
    /// regression `Delta(t)` of [`lazy_delta`].
    fn lazy(pr: &Problem, kx: &[f64]) -> Result<Self> {
        let (p, depth) = (pr.p, pr.depth);
        let n = p * (pr.steps + 1);
        let init = mlp_layer_kernels(pr.act, depth, 1.0, kx, p)?;
        Ok(Kernels {
            phi0: tile(kx, p, n),
            phi: init.phi.iter().map(|m| tile(m, p, n)).collect(),
            g: init.g.iter().map(|m| tile(m, p, n)).collect(),
            resp_r: vec![vec![0.0; n * n]; depth - 1],
            resp_b: vec![vec![0.0; n * n]; depth - 1],
            delta: lazy_delta(pr, kx, depth),
        })
    }

    /// Coordinates of the grid.
    fn n(&self) -> usize {
        self.delta.len()
    }

    /// The leading `[n x n]` blocks (steps up to a horizon).
    fn lead(&self, n: usize) -> Kernels {
        let n_all = self.n();
        let lead = |m: &[f64]| -> Vec<f64> {
            let mut out = vec![0.0; n * n];
            for i in 0..n {
                out[i * n..(i + 1) * n].copy_from_slice(&m[i * n_all..i * n_all + n]);
            }
            out
        };
        let leads = |ms: &[Vec<f64>]| -> Vec<Vec<f64>> { ms.iter().map(|m| lead(m)).collect() };
        Kernels {
            phi0: lead(&self.phi0),
            phi: leads(&self.phi),
            g: leads(&self.g),
            resp_r: leads(&self.resp_r),
            resp_b: leads(&self.resp_b),
            delta: self.delta[..n].to_vec(),
        }
    }

    /// Write a window's blocks back as the leading blocks. Steps past the window's
    /// horizon start from the horizon's kernels ([`hold`]: a positive semidefinite
    /// extension, unlike the stale lazy blocks next to fresh ones); their responses stay.
    fn store(&mut self, win: &Kernels, p: usize) {
        let (n_all, n) = (self.n(), win.n());
        let put = |dst: &mut [f64], src: &[f64]| {
            for i in 0..n {
                dst[i * n_all..i * n_all + n].copy_from_slice(&src[i * n..(i + 1) * n]);
            }
        };
        for (dst, src) in self
            .phi
            .iter_mut()
            .chain(self.g.iter_mut())
            .zip(win.phi.iter().chain(&win.g))
        {
            put(dst, src);
            hold(dst, n_all, n, p);
        }
        for (dst, src) in self.resp_r.iter_mut().zip(&win.resp_r) {
            put(dst, src);
        }
        for (dst, src) in self.resp_b.iter_mut().zip(&win.resp_b) {
            put(dst, src);
        }
        self.delta[..n].copy_from_slice(&win.delta);
    }
}

/// Solve a deep DMFT: the [`machine`]'s coordinator and one block worker, in process.
/// The products over samples (sampling, kernel estimates, Stein moments) run on `dev`;
/// the causal sweeps stay on the host.
pub(crate) fn solve(
    pr: &Problem,
    dev: &mut Products,
    progress: &dyn Progress,
) -> Result<DmftResult> {
    machine::solve_in_process(pr, dev, progress, 1)
}

/// [`solve`] with the sample blocks dealt to `split` in-process workers, each with its
/// own state (its blocks' fields and causal operators); the same numbers for every
/// `split`.
pub(crate) fn solve_split(
    pr: &Problem,
    dev: &mut Products,
    progress: &dyn Progress,
    split: usize,
) -> Result<DmftResult> {
    machine::solve_in_process(pr, dev, progress, split)
}

/// Most Monte Carlo samples per block. The S samples are cut into blocks of
/// [`block_size`]`(S)` (the last one shorter), whose boundaries depend on S alone; each
/// block draws its sources from its own random streams and its sums are added in block
/// order, so a solve split over any number of workers gives the same numbers bit for bit.
pub const SAMPLE_BLOCK: usize = 2048;

/// Fewest samples per block; every block size is a multiple of it (products over
/// fewer samples than this lose speed per sample).
pub const MIN_BLOCK: usize = 256;

/// Blocks a solve is cut into where `MIN_BLOCK <= S / BLOCKS <= SAMPLE_BLOCK`: enough
/// for the page's workers (2, 3 or 4 of them get shares within one block of each other)
/// at the default S = 2000 (eight blocks of 256, the last 208).
pub const BLOCKS: usize = 8;

/// Samples per block of a solve with `s` samples: `ceil(s / BLOCKS)` rounded up to a
/// multiple of [`MIN_BLOCK`], within `[MIN_BLOCK, SAMPLE_BLOCK]` (so S >= 16384 keeps
/// blocks of 2048 and their draws).
pub fn block_size(s: usize) -> usize {
    s.div_ceil(BLOCKS)
        .next_multiple_of(MIN_BLOCK)
        .clamp(MIN_BLOCK, SAMPLE_BLOCK)
}

/// The sample ranges of the blocks of `s` samples ([`block_size`]).
pub fn sample_blocks(s: usize) -> Vec<std::ops::Range<usize>> {
    let size = block_size(s);
    (0..s.div_ceil(size))
        .map(|b| b * size..((b + 1) * size).min(s))
        .collect()
}

/// The square roots that sample one layer's sources: `chol(X X^T / D)` `[P x P]` for
/// layer 1's `u`, else `chol(Phi^{l-1})` `[n x n]`; `chol(G^{l+1})` for `r` (none in the
/// last layer, whose `r ~ N(0, 1)` is the same at every point and step).
struct Factors {
    chol_x: Vec<f64>,
    u: Option<Vec<f64>>,
    r: Option<Vec<f64>>,
}

impl Factors {
    /// Block `b`'s sources (`s` samples) `u = chol(Phi^{l-1}) eps`, `r = chol(G^{l+1})
    /// eps'` `[n x s]`, with the block's fixed streams `eps` (common random numbers
    /// across iterations; stream `b` of each source, so a block's draws do not depend on
    /// the other blocks). Layer 1's `u ~ N(0, Phi^0)` is the same at every step.
    #[inline(never)]
    fn sources(
        &self,
        dev: &mut Products,
        pr: &Problem,
        grid: &Grid,
        l: usize,
        b: usize,
        s: usize,
    ) -> BlockFields {
        let (p, n, tt) = (grid.p, grid.n, grid.tt);
        let (seed, b) = (pr.seed, b as u64);
        let mut h = vec![0.0; n * s];
        match &self.u {
            None => {
                let e = normals(&mut stream(seed, Stream::Theory, 10, b), p * s);
                let mut u = vec![0.0; p * s];
                let c = &self.chol_x;
                dev.gemm(p, p, s, 1.0, c, rm(p), &e, rm(s), 0.0, &mut u, rm(s));
                for t in 0..tt {
                    h[t * p * s..(t + 1) * p * s].copy_from_slice(&u);
                }
            }
            Some(c) => {
                let e = normals(&mut stream(seed, Stream::Theory, 10 + l as u64, b), n * s);
                dev.gemm(n, n, s, 1.0, c, rm(n), &e, rm(s), 0.0, &mut h, rm(s));
            }
        }
        let mut z = vec![0.0; n * s];
        match &self.r {
            None => {
                let r = normals(&mut stream(seed, Stream::Theory, 100, b), s);
                for row in z.chunks_mut(s) {
                    row.copy_from_slice(&r);
                }
            }
            Some(c) => {
                let id = 100 + l as u64 + 1;
                let e = normals(&mut stream(seed, Stream::Theory, id, b), n * s);
                dev.gemm(n, n, s, 1.0, c, rm(n), &e, rm(s), 0.0, &mut z, rm(s));
            }
        }
        BlockFields {
            s,
            u: h.clone(),
            r: z.clone(),
            f: Fields::new(h, z, n * s),
        }
    }
}

/// One block's sources as sampled (`u`, `r` `[n x s]`) and its fields.
struct BlockFields {
    s: usize,
    u: Vec<f64>,
    r: Vec<f64>,
    f: Fields,
}

/// A block's fields `[n x s]` during a sweep: `h`, `z` hold the sources on entry.
struct Fields {
    h: Vec<f64>,
    z: Vec<f64>,
    phi: Vec<f64>,
    g: Vec<f64>,
}

impl Fields {
    fn new(h: Vec<f64>, z: Vec<f64>, len: usize) -> Self {
        Fields {
            h,
            z,
            phi: vec![0.0; len],
            g: vec![0.0; len],
        }
    }
}

/// One block's sums over its samples (not yet divided by S): the kernels
/// `sum phi phi^T`, `sum g g^T` and, for the responses, the Stein moments
/// `(sum (F(x) - F(-x)) x^T, sum x x^T)` against `r` (all but the last layer) and `u`
/// (all but the first), each `[n x n]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BlockSums {
    pub phi: Vec<f64>,
    pub g: Vec<f64>,
    pub r: Option<(Vec<f64>, Vec<f64>)>,
    pub u: Option<(Vec<f64>, Vec<f64>)>,
}

impl BlockSums {
    fn add(&mut self, o: &BlockSums) {
        let add = |a: &mut Vec<f64>, b: &Vec<f64>| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.phi, &o.phi);
        add(&mut self.g, &o.g);
        for (mine, theirs) in [(&mut self.r, &o.r), (&mut self.u, &o.u)] {
            if let (Some((m, c)), Some((om, oc))) = (mine.as_mut(), theirs.as_ref()) {
                add(m, om);
                add(c, oc);
            }
        }
    }
}

/// Step 3 on one block: the kernel sums `phi phi^T`, `g g^T` by compensated products
/// (near f64 on a GPU too: the next iteration factors them in time order, where the
/// pivot of step t is its variance given the earlier steps, small on a slow trajectory;
/// plain f32 estimates moved those pivots enough that GPU and CPU loss curves differed
/// by 1e-3), and the responses' Stein moments on antithetic differences: the sweep run
/// again with `r` (resp. `u`) flipped, on the finished causal operators `c`.
#[inline(never)]
fn block_sums(
    dev: &mut Products,
    sweep: &Sweep,
    c: &Causal,
    bf: &BlockFields,
    l: usize,
    last: bool,
) -> BlockSums {
    let (n, s) = (sweep.grid.n, bf.s);
    let gram = |dev: &mut Products, x: &[f64]| {
        let mut k = vec![0.0; n * n];
        let xt = Layout { rs: 1, cs: s };
        dev.gemm_compensated(n, s, n, 1.0, x, rm(s), x, xt, 0.0, &mut k, rm(n));
        k
    };
    let moments = |dev: &mut Products, diff: &[f64], x: &[f64]| {
        let mut m = vec![0.0; n * n];
        let xt = Layout { rs: 1, cs: s };
        dev.gemm(n, s, n, 1.0, diff, rm(s), x, xt, 0.0, &mut m, rm(n));
        (m, gram(dev, x))
    };
    let r = (!last).then(|| {
        let z2: Vec<f64> = bf.r.iter().map(|v| -v).collect();
        let mut o2 = Fields::new(bf.u.clone(), z2, n * s);
        sweep.run(c, &mut o2);
        let diff: Vec<f64> = bf.f.phi.iter().zip(&o2.phi).map(|(a, b)| a - b).collect();
        moments(dev, &diff, &bf.r)
    });
    let u = (l > 0).then(|| {
        let h3: Vec<f64> = bf.u.iter().map(|v| -v).collect();
        let mut o3 = Fields::new(h3, bf.r.clone(), n * s);
        sweep.run(c, &mut o3);
        let diff: Vec<f64> = bf.f.g.iter().zip(&o3.g).map(|(a, b)| a - b).collect();
        moments(dev, &diff, &bf.u)
    });
    BlockSums {
        phi: gram(dev, &bf.f.phi),
        g: gram(dev, &bf.f.g),
        r,
        u,
    }
}

/// Fill the entries of `[n_all x n_all]` `k` outside its leading `n x n` block by
/// holding the last step of the block: `K(t, s) = K(min(t, h), min(s, h))`.
#[inline(never)]
fn hold(k: &mut [f64], n_all: usize, n: usize, p: usize) {
    let last = n - p;
    let map = |i: usize| if i < n { i } else { last + i % p };
    for i in 0..n_all {
        for j in 0..n_all {
            if i >= n || j >= n {
                k[i * n_all + j] = k[map(i) * n_all + map(j)];
            }
        }
    }
}

/// `out[t] = max(out[t], |new - old| / |old|)` over the causal part of block row t
/// (columns of steps `<= t`) of `[n x n]` kernels.
#[inline(never)]
fn step_changes(out: &mut [f64], old: &[f64], new: &[f64], p: usize) {
    let n = (old.len() as f64).sqrt() as usize;
    for (t, c) in out.iter_mut().enumerate() {
        let (mut num, mut den) = (0.0, 0.0);
        for i in t * p..(t + 1) * p {
            for j in 0..(t + 1) * p {
                num += (new[i * n + j] - old[i * n + j]).powi(2);
                den += old[i * n + j] * old[i * n + j];
            }
        }
        *c = c.max((num / f64::max(den, 1e-300)).sqrt());
    }
}

/// Relative diagonal jitter of a sampling covariance, `K_ii (1 + JITTER)`: without
/// pivoting, the Cholesky factor of a Monte Carlo kernel that is singular to working
/// precision (neighbouring steps nearly equal) builds on pivots of rounding size and
/// breaks down; a variance of 1e-8 of each coordinate's own keeps every pivot at least
/// that large and the factor causal.
fn jitter(k: &[f64], n: usize) -> Vec<f64> {
    let mut a = k.to_vec();
    for i in 0..n {
        a[i * n + i] *= 1.0 + JITTER;
    }
    a
}

/// See [`jitter`].
const JITTER: f64 = 1e-8;

/// One layer's causal sweep with its kernels.
struct Sweep<'a> {
    grid: &'a Grid,
    pr: &'a Problem,
    phi_prev: &'a [f64],
    r_prev: Option<&'a [f64]>,
    g_next: &'a [f64],
    b_here: Option<&'a [f64]>,
}

/// The causal operators of a sweep, `C_h` (s < t) and `C_z` (s <= t) `[n x n]`, filled
/// block row by block row as `Delta` becomes known.
struct Causal {
    ch: Vec<f64>,
    cz: Vec<f64>,
}

impl Causal {
    fn new(n: usize) -> Self {
        Causal {
            ch: vec![0.0; n * n],
            cz: vec![0.0; n * n],
        }
    }
}

impl Sweep<'_> {
    /// Fill block row t of `C_h` (s < t) and `C_z` (s <= t) from Delta(s < t).
    #[inline(never)]
    fn rows(&self, t: usize, delta: &[f64], c: &mut Causal) {
        let (p, n) = (self.grid.p, self.grid.n);
        let k = self.pr.eta * self.pr.gamma0 / p as f64;
        let (ch, cz) = (&mut c.ch, &mut c.cz);
        for mu in 0..p {
            let i = t * p + mu;
            for j in 0..t * p {
                let d = delta[j];
                let r = self.r_prev.map_or(0.0, |m| m[i * n + j]);
                ch[i * n + j] = r + k * self.phi_prev[i * n + j] * d;
                cz[i * n + j] = k * self.g_next[i * n + j] * d;
            }
            if let Some(b) = self.b_here {
                for j in 0..(t + 1) * p {
                    cz[i * n + j] += b[i * n + j];
                }
            }
        }
    }

    /// Step t of the sweep on a block of `s` samples, in place (rows up to t of `c`
    /// filled): `h(t) += C_h(t, <t) g(<t)`, `phi`, `z(t) += C_z(t, <=t) phi(<=t)`,
    /// `g = phi'(h) z`. Returns the block's output sums `sum_a z phi` per point when
    /// `output` (else empty), or None when a field is not finite.
    #[inline(never)]
    fn step(
        &self,
        t: usize,
        c: &Causal,
        f: &mut Fields,
        s: usize,
        output: bool,
    ) -> Option<Vec<f64>> {
        let (p, n) = (self.grid.p, self.grid.n);
        let act = self.pr.act;
        let b0 = t * p;
        if t > 0 {
            let (past, _) = f.g.split_at(b0 * s);
            let (ch, h) = (&c.ch[b0 * n..], &mut f.h[b0 * s..]);
            gemm(p, b0, s, 1.0, ch, rm(n), past, rm(s), 1.0, h, rm(s));
        }
        let blk = b0 * s..(b0 + p) * s;
        for (v, x) in f.phi[blk.clone()].iter_mut().zip(&f.h[blk.clone()]) {
            *v = act.phi(*x);
        }
        let (cz, z) = (&c.cz[b0 * n..], &mut f.z[b0 * s..]);
        gemm(p, b0 + p, s, 1.0, cz, rm(n), &f.phi, rm(s), 1.0, z, rm(s));
        for ((gv, x), zv) in f.g[blk.clone()]
            .iter_mut()
            .zip(&f.h[blk.clone()])
            .zip(&f.z[blk.clone()])
        {
            *gv = act.dphi(*x) * zv;
        }
        if !f.h[blk].iter().all(|v| v.is_finite()) {
            return None;
        }
        let sums = if output {
            (0..p)
                .map(|mu| {
                    let row = (b0 + mu) * s;
                    (0..s).map(|a| f.z[row + a] * f.phi[row + a]).sum()
                })
                .collect()
        } else {
            vec![]
        };
        Some(sums)
    }

    /// The whole sweep on a block, on finished causal operators (the antithetic sweeps),
    /// stopping at the first step whose fields are not finite.
    fn run(&self, c: &Causal, f: &mut Fields) {
        let s = f.h.len() / self.grid.n;
        for t in 0..self.grid.tt {
            if self.step(t, c, f, s, false).is_none() {
                break;
            }
        }
    }
}
/// The square root that samples a kernel estimate ([`cholesky_psd_ordered`] of the
/// estimate with its relative diagonal [`jitter`]). When the products ran on a GPU
/// (`single_precision`) the estimate is a compensated product (within ~`1e-10` of f64)
/// of fields sampled by f32 products; should rounding still push the smallest
/// eigenvalues of a nearly singular kernel (neighbouring steps of a slow trajectory)
/// below the `-1e-6` that the factorisation tolerates, or make it factor only
/// re-pivoted, the smallest diagonal jitter `1e-6, 2e-6, 4e-6, ...` (relative to the
/// largest diagonal) that makes it factor in the requested order is added, a bias far
/// below the Monte Carlo noise. In f64 a kernel that does not factor is an error, as
/// before.
#[inline(never)]
fn sampling_factor(
    k: &[f64],
    n: usize,
    what: &str,
    order: Option<&[usize]>,
    single_precision: bool,
) -> Result<(Vec<f64>, Vec<usize>)> {
    // factored in the order asked for (a re-pivoted factor breaks causality)
    let in_order = |r: &Result<(Vec<f64>, Vec<usize>)>| matches!(r, Ok((_, o)) if order.is_none_or(|want| o.as_slice() == want));
    let k = &jitter(k, n);
    let first = cholesky_psd_ordered(k, n, what, order);
    if in_order(&first) || !single_precision {
        return first;
    }
    let dmax = (0..n).map(|i| k[i * n + i]).fold(0.0f64, f64::max);
    let mut extra = 1e-6 * dmax;
    for _ in 0..12 {
        let mut kj = k.to_vec();
        for i in 0..n {
            kj[i * n + i] += extra;
        }
        let r = cholesky_psd_ordered(&kj, n, what, order);
        if in_order(&r) {
            return r;
        }
        extra *= 2.0;
    }
    first
}

/// Regularisation of the sample covariance inverted by [`stein_solve`], relative to each of
/// its diagonal entries.
pub const RIDGE: f64 = 1e-3;

/// Gaussian integration by parts over all samples: for a source `x ~ N(0, K)` over the
/// `n` grid coordinates, `< d F(t) / d x(s) > = sum_s' < F(t) x(s') > [K^{-1}]_{s' s}`.
/// Causality is used: block row t of `F` depends only on the sources of the first
/// `m(t) = (t + lag) P` coordinates (`lag` = 0 for `phi` against `r`, 1 for `g` against
/// `u`), so it is regressed on that leading block alone, whose inverse comes from the
/// leading block of one Cholesky factor (natural order) of the covariance.
/// `diff = F(x) - F(-x)` (antithetic: same other sources, flipped `x`; the even part of
/// `F` in `x`, which carries no response but most of the variance, cancels), `x [n x S]`.
/// Takes the moments `M = <F x^T> = <diff x^T> / 2` and `C = <x x^T>` (`[n x n]`, summed
/// over the sample blocks by [`block_sums`]; `C` by a compensated product, near f64 on
/// every device, as the regression inverts it).
///
/// The covariance inverted is the *sample* covariance `<x x^T>` of the S sources, not
/// the population `K` (least squares instead of the bare Stein sum; both estimate the
/// same response). With `K` the part of `diff` linear in `x` leaves an error
/// `<F x^T> K^{-1} - R ~ R (<x x^T> - K) K^{-1}` of relative size `sqrt(m / S)` in
/// every direction; with the sample covariance that part is regressed out exactly and
/// only the nonlinear remainder is noise. The noise matters: a response error `dR` adds
/// the variance `dR G dR^T` to the next layer's fields, a bias of order `m / S` that
/// grew with the step (t P / S = 0.3 at t = 40, P = 16, S = 2000) and was the main
/// error of long runs. The ridge is relative per coordinate, `RIDGE C_ii`, so the
/// regression of step t sees the sources up to t alone (a ridge from the mean diagonal
/// would read the late steps).
#[inline(never)]
fn stein_solve(m: Vec<f64>, mut a: Vec<f64>, p: usize, lag: usize, what: &str) -> Result<Vec<f64>> {
    let n = (m.len() as f64).sqrt() as usize;
    for i in 0..n {
        a[i * n + i] *= 1.0 + RIDGE;
    }
    let id: Vec<usize> = (0..n).collect();
    let (c, _) = cholesky_psd_ordered(&a, n, what, Some(&id))?;
    let mut out = vec![0.0; n * n];
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mm = ((i / p + lag) * p).min(n);
        // solve L_m L_m^T x = M(i, <m)
        for j in 0..mm {
            let mut v = m[i * n + j];
            for q in 0..j {
                v -= c[j * n + q] * y[q];
            }
            let d = c[j * n + j];
            y[j] = if d > 0.0 { v / d } else { 0.0 };
        }
        for j in (0..mm).rev() {
            let mut v = y[j];
            for q in j + 1..mm {
                v -= c[q * n + j] * out[i * n + q];
            }
            let d = c[j * n + j];
            out[i * n + j] = if d > 0.0 { v / d } else { 0.0 };
        }
    }
    Ok(out)
}

//! One entry point for every computation: a [`RunConfig`] tagged by `kind` (the JSON the
//! CLI's `run` reads, the page's link carries and the results echo).
//!
//! This is the one place that lists the kinds (the [`kinds!`] invocation below) and
//! dispatches to them. Each kind implements [`Kind`] (and [`Sweep`] when its work is
//! independent cells) beside its engine; the macro generates [`RunConfig`],
//! [`RunOutput`], [`CellResult`] and the dispatching methods from the list.

use crate::budget::Cost;
use crate::error::{Error, Result};
use crate::kind::{Kind, Sweep};
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

/// Schema version of configs, links and results.
pub const SCHEMA_VERSION: u32 = 1;

/// Generates the kind enums and their dispatch from one list: `Variant(ConfigType) =
/// "tag"`, single runs first, sweeps second.
macro_rules! kinds {
    (
        single { $( $(#[$sm:meta])* $S:ident($ST:ty) = $sn:literal, )* }
        sweep { $( $(#[$wm:meta])* $W:ident($WT:ty) = $wn:literal, )* }
    ) => {
        /// Every kind of computation, tagged by `kind`.
        #[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
        #[serde(tag = "kind")]
        pub enum RunConfig {
            $( $(#[$sm])* #[serde(rename = $sn)] $S($ST), )*
            $( $(#[$wm])* #[serde(rename = $wn)] $W($WT), )*
        }

        /// The result of a [`RunConfig`], serialised without a tag (the config beside
        /// it says which it is; [`RunConfig::read_output`] reads it back).
        #[derive(Serialize, Clone, Debug, PartialEq)]
        #[serde(untagged)]
        #[allow(clippy::large_enum_variant)]
        pub enum RunOutput {
            $( $S(<$ST as Kind>::Output), )*
            $( $W(<$WT as Kind>::Output), )*
            /// One shard of a sweep (`run --shard i/n`), for [`merge`].
            Shard(ShardOutput),
        }

        /// The result of one cell of a sweep, tagged by `cell` (the sweep's kind).
        #[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
        #[serde(tag = "cell")]
        #[allow(clippy::large_enum_variant)]
        pub enum CellResult {
            $( #[serde(rename = $wn)] $W(<$WT as Sweep>::Cell), )*
        }

        impl RunConfig {
            /// The `kind` tag.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( RunConfig::$S(_) => $sn, )*
                    $( RunConfig::$W(_) => $wn, )*
                }
            }

            /// Every kind's tag, single runs first.
            pub const KINDS: &'static [&'static str] = &[$($sn,)* $($wn,)*];

            /// The tags of the sweep kinds.
            pub const SWEEPS: &'static [&'static str] = &[$($wn,)*];

            /// Range-check every field ([`Kind::validate`]).
            pub fn validate(&self) -> Result<()> {
                match self {
                    $( RunConfig::$S(c) => c.validate(), )*
                    $( RunConfig::$W(c) => c.validate(), )*
                }
            }

            /// Estimated peak memory and work ([`Kind::cost`]).
            pub fn cost(&self) -> Cost {
                match self {
                    $( RunConfig::$S(c) => c.cost(), )*
                    $( RunConfig::$W(c) => c.cost(), )*
                }
            }

            /// Compute the result ([`Kind::run`]); validates first.
            pub fn run(&self, progress: &dyn Progress) -> Result<RunOutput> {
                self.validate()?;
                Ok(match self {
                    $( RunConfig::$S(c) => RunOutput::$S(c.run(progress)?), )*
                    $( RunConfig::$W(c) => RunOutput::$W(c.run(progress)?), )*
                })
            }

            /// CSV tables of a result of this config: `(file stem, CSV text)` pairs.
            pub fn csv(&self, out: &RunOutput) -> Vec<(String, String)> {
                match (self, out) {
                    $( (RunConfig::$S(c), RunOutput::$S(o)) => c.csv(o), )*
                    $( (RunConfig::$W(c), RunOutput::$W(o)) => c.csv(o), )*
                    (_, RunOutput::Shard(s)) => s.csv(),
                    _ => vec![],
                }
            }

            /// Read a result of this config back from JSON.
            pub fn read_output(&self, value: serde_json::Value) -> Result<RunOutput> {
                let bad = |e: serde_json::Error| {
                    Error::config("result", format!("a result of kind {} ({e})", self.kind()))
                };
                if ShardOutput::looks_like(&value) {
                    return serde_json::from_value(value).map(RunOutput::Shard).map_err(bad);
                }
                match self {
                    $( RunConfig::$S(_) => serde_json::from_value(value).map(RunOutput::$S), )*
                    $( RunConfig::$W(_) => serde_json::from_value(value).map(RunOutput::$W), )*
                }
                .map_err(bad)
            }

            /// Number of cells of a sweep (0 for single runs).
            pub fn cells(&self) -> usize {
                match self {
                    $( RunConfig::$W(c) => c.cells(), )*
                    _ => 0,
                }
            }

            /// The groups of a sweep ([`Sweep::groups`]: cells computed together; none
            /// for single runs): the units of its shards.
            pub fn groups(&self) -> Vec<std::ops::Range<usize>> {
                match self {
                    $( RunConfig::$W(c) if <$WT as Sweep>::GROUPED => c.groups(), )*
                    _ => crate::kind::singletons(self.cells()),
                }
            }

            /// The work of each of this sweep's `groups` ([`Sweep::group_works`]).
            fn group_works(&self, groups: &[std::ops::Range<usize>]) -> Vec<f64> {
                match self {
                    $( RunConfig::$W(c) if <$WT as Sweep>::GROUPED => c.group_works(groups), )*
                    _ => vec![1.0; groups.len()],
                }
            }

            /// Compute the cells of one group of a sweep ([`Sweep::run_group`]).
            fn run_group(
                &self,
                cells: std::ops::Range<usize>,
                progress: &dyn Progress,
            ) -> Result<Vec<CellResult>> {
                match self {
                    $( RunConfig::$W(c) if <$WT as Sweep>::GROUPED => Ok(c
                        .run_group(cells, progress)?
                        .into_iter()
                        .map(CellResult::$W)
                        .collect()), )*
                    _ => cells.map(|k| self.run_cell(k, progress)).collect(),
                }
            }

            /// [`RunConfig::run_group`] as a future on the device the policy picks
            /// ([`Sweep::run_group_async`]); each cell with where it ran. Chosen here, out
            /// of any future, so that kinds which do not group compile no group future.
            #[allow(clippy::type_complexity)]
            fn run_group_async<'a>(
                &'a self,
                cells: std::ops::Range<usize>,
                choice: crate::backend::DeviceChoice,
                gpu: std::result::Result<&'a crate::backend::Gpu, &'a str>,
                progress: &'a dyn Progress,
            ) -> std::pin::Pin<Box<dyn Future<
                Output = Result<Vec<(CellResult, crate::backend::BackendReport)>>,
            > + 'a>> {
                match self {
                    $( RunConfig::$W(c) if <$WT as Sweep>::GROUPED => Box::pin(async move {
                        Ok(c
                            .run_group_async(cells, choice, gpu, progress)
                            .await?
                            .into_iter()
                            .map(|(r, b)| (CellResult::$W(r), b))
                            .collect())
                    }), )*
                    _ => Box::pin(async move {
                        let mut out = Vec::with_capacity(cells.len());
                        for k in cells {
                            out.push(self.run_cell_async(k, choice, gpu, progress).await?);
                        }
                        Ok(out)
                    }),
                }
            }

            /// Compute cell `k` of a sweep.
            pub fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<CellResult> {
                if k >= self.cells() {
                    return Err(Error::config(
                        "cell",
                        format!("an index < {} (cells of this {} config)", self.cells(), self.kind()),
                    ));
                }
                match self {
                    $( RunConfig::$W(c) => c.run_cell(k, progress).map(CellResult::$W), )*
                    _ => Err(not_a_sweep(self)),
                }
            }

            /// Check that `cell` is of this sweep's kind and has the shape of cell `k`.
            /// Cell `k` as a future, training on the device the policy picks among
            /// the CPU and `gpu` ([`Sweep::run_cell_async`]), and where it ran.
            pub async fn run_cell_async(
                &self,
                k: usize,
                choice: crate::backend::DeviceChoice,
                gpu: std::result::Result<&crate::backend::Gpu, &str>,
                progress: &dyn Progress,
            ) -> Result<(CellResult, crate::backend::BackendReport)> {
                if k >= self.cells() {
                    return Err(Error::config(
                        "cell",
                        format!("an index < {} (cells of this {} config)", self.cells(), self.kind()),
                    ));
                }
                match self {
                    $( RunConfig::$W(c) => c
                        .run_cell_async(k, choice, gpu, progress)
                        .await
                        .map(|(r, b)| (CellResult::$W(r), b)), )*
                    _ => Err(not_a_sweep(self)),
                }
            }

            pub fn check_cell(&self, k: usize, cell: &CellResult) -> Result<()> {
                #[allow(unreachable_patterns)]
                match (self, cell) {
                    $( (RunConfig::$W(c), CellResult::$W(r)) => c.check_cell(k, r), )*
                    _ => Err(Error::config(
                        "cell",
                        format!("a cell of kind {}, got {}", self.kind(), cell.kind()),
                    )),
                }
            }

            /// Assemble a sweep's result from all its cells in index order, each of
            /// which has passed [`RunConfig::check_cell`].
            pub fn assemble(&self, cells: Vec<CellResult>) -> Result<RunOutput> {
                match self {
                    $( RunConfig::$W(c) => {
                        let typed = cells
                            .into_iter()
                            .map(|cell| match cell {
                                CellResult::$W(r) => Ok(r),
                                #[allow(unreachable_patterns)]
                                other => Err(Error::config(
                                    "cell",
                                    format!("a cell of kind {}, got {}", $wn, other.kind()),
                                )),
                            })
                            .collect::<Result<Vec<_>>>()?;
                        Ok(RunOutput::$W(c.assemble(&typed)?))
                    } )*
                    _ => Err(not_a_sweep(self)),
                }
            }
        }

        impl CellResult {
            /// The sweep kind this cell belongs to.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( CellResult::$W(_) => $wn, )*
                }
            }
        }
    };
}

kinds! {
    single {
        /// Train a finite-width ensemble.
        Train(crate::config::TrainConfig) = "train",
        /// NNGP and NTK of given inputs.
        Kernel(crate::theory::kernels::KernelConfig) = "kernel",
        /// Lazy (kernel-regression) GD dynamics of a training setup.
        Lazy(crate::theory::lazy::LazyConfig) = "lazy",
        /// DMFT of a training setup.
        Dmft(crate::theory::dmft::DmftConfig) = "dmft",
        /// Layer-time limit of deep ResNets at initialisation.
        DepthLimit(crate::theory::depth::DepthLimitConfig) = "depth_limit",
        /// Train a decoder-only transformer (an ensemble of seeds).
        Transformer(crate::transformer::TransformerConfig) = "transformer",
    }
    sweep {
        /// Finite networks of growing width against the DMFT.
        WidthConvergence(crate::experiments::WidthConvergenceConfig) = "width_convergence",
        /// Learning-rate grid across widths or depths, per parameterisation.
        Transfer(crate::experiments::TransferConfig) = "transfer",
        /// Per-layer activation size and change against width, per parameterisation.
        CoordCheck(crate::experiments::CoordCheckConfig) = "coord_check",
        /// gamma0 from lazy to rich: loss curves and kernel-target alignment.
        Richness(crate::experiments::RichnessConfig) = "richness",
        /// Bayesian networks: Langevin sampling against the NNGP and muP saddle point.
        Bayes(crate::statics::BayesConfig) = "bayes",
        /// The optimal learning rate across gamma0, lazy to ultra-rich, per depth.
        Landscape(crate::experiments::LandscapeConfig) = "landscape",
        /// Deep linear muP statics at any depth: closed form against Langevin networks.
        DeepLinear(crate::statics::deep_linear::DeepLinearConfig) = "deep_linear",
        /// Finite-width and proportional-limit corrections of deep linear statics.
        FiniteWidth(crate::statics::deep_linear::FiniteWidthConfig) = "finite_width",
        /// The NNGP posterior, muP saddle points and Langevin networks scored on real data.
        BayesData(crate::statics::benchmark::BayesDataConfig) = "bayes_data",
        /// The solvable model of neural scaling laws: theory and finite models over N, P, gamma0.
        ScalingLaw(crate::scaling::kind::ScalingConfig) = "scaling_law",
        /// Transformers: learning-rate grid across width, depth, heads or head size.
        TransformerTransfer(crate::transformer::transfer::TransformerTransferConfig) = "transformer_transfer",
        /// Transformers: attention logits, residual stream and readout against width.
        TransformerCoordCheck(crate::transformer::coord::TransformerCoordCheckConfig) = "transformer_coord_check",
        /// Transformers: the spread between heads' attention maps against head size.
        TransformerHeads(crate::transformer::heads::TransformerHeadsConfig) = "transformer_heads",
    }
}

fn not_a_sweep(cfg: &RunConfig) -> Error {
    Error::config(
        "kind",
        format!(
            "a sweep ({}), got {}",
            RunConfig::SWEEPS.join(", "),
            cfg.kind()
        ),
    )
}

impl RunConfig {
    /// Validate, then refuse configs whose estimated peak memory, with `in_flight`
    /// cells of a sweep running at once and (`with_json`) the result's JSON text held
    /// in memory, exceeds `limit` bytes.
    pub fn check_budget(&self, limit: u64, in_flight: usize, with_json: bool) -> Result<()> {
        self.validate()?;
        self.cost().check(limit, in_flight, with_json)
    }

    /// Run shard `index` of `count` of a sweep: the groups of cells
    /// [`crate::kind::shard_groups`] deals it (in parallel natively), for [`merge`].
    /// Validates first.
    pub fn run_shard(
        &self,
        index: usize,
        count: usize,
        progress: &dyn Progress,
    ) -> Result<RunOutput> {
        self.validate()?;
        let total = self.cells();
        if total == 0 {
            return Err(not_a_sweep(self));
        }
        let groups = self.groups();
        let mine = crate::kind::shard_groups(&self.group_works(&groups), index, count)?;
        let run = |g: usize, p: &dyn Progress| self.run_group(groups[g].clone(), p);
        let results = crate::kind::map_cells(&mine, progress, run)?;
        let mut cells = Vec::new();
        for (&g, group) in mine.iter().zip(results) {
            let group = group.into_iter().map(|r| (r, Default::default()));
            place_group(groups[g].clone(), group, &mut cells)?;
        }
        Ok(self.shard_output(index, count, cells))
    }

    fn shard_output(&self, index: usize, count: usize, cells: Vec<IndexedCell>) -> RunOutput {
        RunOutput::Shard(ShardOutput {
            shard_index: index,
            shard_count: count,
            total_cells: self.cells(),
            cells,
        })
    }
}

impl RunConfig {
    /// [`RunConfig::run_shard`] as a future, each group training on the device the
    /// policy picks among the CPU and `gpu` ([`Sweep::run_group_async`]), one after
    /// another; each cell says where it ran. The same cells, within the backends'
    /// tolerance.
    pub async fn run_shard_async(
        &self,
        index: usize,
        count: usize,
        choice: crate::backend::DeviceChoice,
        gpu: std::result::Result<&crate::backend::Gpu, &str>,
        progress: &dyn Progress,
    ) -> Result<RunOutput> {
        self.validate()?;
        let total = self.cells();
        if total == 0 {
            return Err(not_a_sweep(self));
        }
        let groups = self.groups();
        let mine = crate::kind::shard_groups(&self.group_works(&groups), index, count)?;
        let mut cells = Vec::new();
        for (i, &g) in mine.iter().enumerate() {
            crate::progress::tick(progress, "cells", i as u64, mine.len() as u64)?;
            let group = self
                .run_group_async(groups[g].clone(), choice, gpu, &crate::progress::Silent)
                .await?;
            place_group(groups[g].clone(), group.into_iter(), &mut cells)?;
        }
        crate::progress::tick(progress, "cells", mine.len() as u64, mine.len() as u64)?;
        Ok(self.shard_output(index, count, cells))
    }
}

/// The cells of one group with their indices, appended to `cells`; a group that did not
/// return one result per cell is an error.
fn place_group(
    range: std::ops::Range<usize>,
    results: impl ExactSizeIterator<Item = (CellResult, crate::backend::BackendReport)>,
    cells: &mut Vec<IndexedCell>,
) -> Result<()> {
    let what = format!("group {}..{}", range.start, range.end);
    crate::kind::check_len(&what, results.len(), range.len())?;
    for (index, (result, backend)) in range.zip(results) {
        cells.push(IndexedCell {
            index,
            result,
            backend,
        });
    }
    Ok(())
}

/// The result of one shard: the cells it ran, by index.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShardOutput {
    /// This shard's `i` in `i/n`.
    pub shard_index: usize,
    /// The `n` in `i/n`.
    pub shard_count: usize,
    /// Cells in the whole sweep.
    pub total_cells: usize,
    /// The cells this shard ran, in index order.
    pub cells: Vec<IndexedCell>,
}

impl ShardOutput {
    fn looks_like(v: &serde_json::Value) -> bool {
        v.get("shard_count").is_some() && v.get("cells").is_some()
    }

    /// One-row summary table.
    fn csv(&self) -> Vec<(String, String)> {
        vec![(
            "shard".into(),
            format!(
                "shard_index,shard_count,total_cells,cells\n{},{},{},{}\n",
                self.shard_index,
                self.shard_count,
                self.total_cells,
                self.cells.len()
            ),
        )]
    }
}

/// One cell's result with its index in the sweep.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IndexedCell {
    pub index: usize,
    pub result: CellResult,
    /// Where the cell's training ran (absent: the CPU, as every cell of
    /// [`RunConfig::run_shard`]; the page's GPU worker runs cells with
    /// [`RunConfig::run_shard_async`]).
    #[serde(default, skip_serializing_if = "crate::backend::BackendReport::is_cpu")]
    pub backend: crate::backend::BackendReport,
}

/// A config and its result, as written by the CLI and exported by the page.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub version: u32,
    pub config: RunConfig,
    pub result: RunOutput,
}

impl RunRecord {
    /// The record of a config and its result at this schema version.
    pub fn new(config: RunConfig, result: RunOutput) -> Self {
        RunRecord {
            version: SCHEMA_VERSION,
            config,
            result,
        }
    }

    /// CSV tables of the result.
    pub fn csv(&self) -> Vec<(String, String)> {
        self.config.csv(&self.result)
    }
}

impl<'de> Deserialize<'de> for RunRecord {
    /// The config first, then the result read as that config's kind (or a shard).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            version: u32,
            config: RunConfig,
            result: serde_json::Value,
        }
        let raw = Raw::deserialize(d)?;
        if raw.version != SCHEMA_VERSION {
            return Err(serde::de::Error::custom(format!(
                "schema version {SCHEMA_VERSION}, got {}",
                raw.version
            )));
        }
        let result = raw
            .config
            .read_output(raw.result)
            .map_err(serde::de::Error::custom)?;
        Ok(RunRecord::new(raw.config, result))
    }
}

/// Run a config to completion (validates first).
pub fn run(cfg: &RunConfig, progress: &dyn Progress) -> Result<RunOutput> {
    cfg.run(progress)
}

/// Combine shard records of one config into the record of the whole sweep. Every part
/// must carry the same valid config; together they must cover every cell, each cell of
/// the config's kind and shape (a cell may appear twice only with the same result).
/// Every problem is an error naming the part and the cell, never a panic.
pub fn merge(parts: &[RunRecord]) -> Result<RunRecord> {
    let first = parts
        .first()
        .ok_or_else(|| Error::config("parts", "at least one shard"))?;
    let cfg = &first.config;
    cfg.validate().map_err(|e| e.within("parts[0].config"))?;
    let total = cfg.cells();
    if total == 0 {
        return Err(not_a_sweep(cfg));
    }
    let mut slots: Vec<Option<CellResult>> = vec![None; total];
    for (pi, part) in parts.iter().enumerate() {
        merge_part(cfg, total, pi, part, &mut slots)?;
    }
    let missing: Vec<usize> = (0..total).filter(|&k| slots[k].is_none()).collect();
    if let Some(first_missing) = missing.first() {
        return Err(Error::config(
            "parts",
            format!(
                "shards covering every cell; missing {} of {total} (first {first_missing})",
                missing.len()
            ),
        ));
    }
    let cells: Vec<CellResult> = slots.into_iter().flatten().collect();
    Ok(RunRecord::new(cfg.clone(), cfg.assemble(cells)?))
}

/// Check one shard record against the config and place its cells in `slots`.
fn merge_part(
    cfg: &RunConfig,
    total: usize,
    pi: usize,
    part: &RunRecord,
    slots: &mut [Option<CellResult>],
) -> Result<()> {
    if part.config != *cfg {
        return Err(Error::config(
            format!("parts[{pi}].config"),
            "the same config as the first part",
        ));
    }
    let RunOutput::Shard(s) = &part.result else {
        return Err(Error::config(
            format!("parts[{pi}].result"),
            "a shard result (from run --shard i/n)",
        ));
    };
    if s.total_cells != total {
        return Err(Error::config(
            format!("parts[{pi}].result.total_cells"),
            format!("{total}"),
        ));
    }
    for (ci, c) in s.cells.iter().enumerate() {
        let at = format!("parts[{pi}].result.cells[{ci}]");
        let slot = slots
            .get_mut(c.index)
            .ok_or_else(|| Error::config(format!("{at}.index"), format!("< {total}")))?;
        cfg.check_cell(c.index, &c.result)
            .map_err(|e| e.within(&format!("{at}.result")))?;
        match slot {
            Some(prev) if *prev != c.result => {
                return Err(Error::config(
                    at,
                    "the same result as the other part holding this cell",
                ));
            }
            _ => *slot = Some(c.result.clone()),
        }
    }
    Ok(())
}

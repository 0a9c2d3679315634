//! Sweeps give the same result whether run whole, on any number of threads, or as
//! shards merged afterwards; results survive a JSON round trip as a RunRecord.

use crate::common::in_pool;
use crate::common::teacher;
use scaling_playground::config::{OptimizerConfig, Parameterization};
use scaling_playground::data::DataConfig;
use scaling_playground::data::Teacher;
use scaling_playground::experiments::transfer::lr_grid;
use scaling_playground::experiments::{
    CoordCheckConfig, RichnessConfig, TransferAxis, TransferConfig, WidthConvergenceConfig,
};
use scaling_playground::progress::Silent;
use scaling_playground::run::{RunConfig, RunOutput, RunRecord};
use scaling_playground::statics::BayesConfig;

fn small_data() -> DataConfig {
    teacher(Teacher::default(), 4, 8, 8, 3)
}

fn configs() -> Vec<RunConfig> {
    let mut t = TransferConfig::default();
    t.base.data = small_data();
    t.base.steps = 6;
    t.widths = vec![16, 32];
    t.lrs = lr_grid(0.25, 2.0, 3);
    t.params = vec![Parameterization::Sp, Parameterization::Mup { gamma0: 1.0 }];
    let mut d = t.clone();
    d.axis = TransferAxis::Depth;
    d.base.model.arch = scaling_playground::config::Arch::Resnet;
    d.base.model.width = 16;
    d.depths = vec![1, 3];
    d.params = vec![Parameterization::DepthMup { gamma0: 1.0 }];
    let mut c = CoordCheckConfig::default();
    c.base.data = small_data();
    c.widths = vec![16, 32, 48];
    c.base.steps = 2;
    let mut r = RichnessConfig::default();
    r.base.data = small_data();
    r.base.model.width = 16;
    r.base.steps = 10;
    r.base.optimizer = OptimizerConfig::Gd { lr: 0.5 };
    r.gamma0s = vec![0.1, 1.0, 2.0];
    r.records = 5;
    let mut w = WidthConvergenceConfig {
        widths: vec![8, 16, 32],
        contrast: vec![Parameterization::Ntk { gamma0: 1.0 }],
        ..Default::default()
    };
    w.base.steps = 5;
    w.base.seeds = 2;
    w.dmft.samples = 200;
    let mut b = BayesConfig {
        widths: vec![16, 32],
        burn_in: 20,
        steps: 40,
        seeds: 2,
        ..Default::default()
    };
    b.saddle.samples = 500;
    b.saddle.stages = 2;
    b.saddle.iterations = 40;
    vec![
        RunConfig::Bayes(b),
        RunConfig::WidthConvergence(w),
        RunConfig::Transfer(t),
        RunConfig::Transfer(d),
        RunConfig::CoordCheck(c),
        RunConfig::Richness(r),
    ]
}

fn record(config: &RunConfig, result: RunOutput) -> RunRecord {
    RunRecord::new(config.clone(), result)
}

#[test]
fn shards_merged_equal_the_whole_run() {
    for cfg in configs() {
        let whole = in_pool(2, || cfg.run(&Silent).unwrap());
        let one = in_pool(1, || cfg.run(&Silent).unwrap());
        assert_eq!(
            whole,
            one,
            "{}: thread count changed the result",
            cfg.kind()
        );
        // shards travel as JSON files between machines
        let parts: Vec<RunRecord> = (0..2)
            .map(|i| {
                let s = cfg.run_shard(i, 2, &Silent).unwrap();
                let text = serde_json::to_string(&record(&cfg, s)).unwrap();
                serde_json::from_str(&text).unwrap()
            })
            .collect();
        let total = cfg.cells();
        let RunOutput::Shard(s0) = &parts[0].result else {
            panic!("shard output expected")
        };
        assert_eq!(s0.cells.len(), total.div_ceil(2));
        // either order
        let merged = scaling_playground::run::merge(&[parts[1].clone(), parts[0].clone()]).unwrap();
        assert_eq!(merged.config, cfg);
        let whole_rt: RunRecord =
            serde_json::from_str(&serde_json::to_string(&record(&cfg, whole)).unwrap()).unwrap();
        assert_eq!(merged, whole_rt, "{}: merged shards differ", cfg.kind());
        // the CSV tables are there
        assert!(!merged.csv().is_empty());
        // incomplete or mismatched parts are refused
        assert!(scaling_playground::run::merge(&parts[..1]).is_err());
        let mut other = parts[1].clone();
        other.config = configs()[0].clone();
        if other.config != cfg {
            assert!(scaling_playground::run::merge(&[parts[0].clone(), other]).is_err());
        }
        assert!(scaling_playground::run::merge(std::slice::from_ref(&merged)).is_err());
    }
}

#[test]
fn bad_shards_and_non_sweeps_are_refused() {
    let cfg = &configs()[0];
    assert!(cfg.run_shard(2, 2, &Silent).is_err());
    assert!(cfg.run_shard(0, 0, &Silent).is_err());
    let train = RunConfig::Train(Default::default());
    assert_eq!(train.cells(), 0);
    assert!(train.run_shard(0, 1, &Silent).is_err());
    assert!(cfg.run_cell(cfg.cells(), &Silent).is_err());
}

#[test]
fn every_preset_is_valid_and_round_trips() {
    for (name, claim) in scaling_playground::presets::list() {
        assert!(!claim.is_empty());
        let Some(cfg) = scaling_playground::presets::preset(name) else {
            continue;
        };
        cfg.validate()
            .unwrap_or_else(|e| panic!("preset {name}: {e}"));
        let text = serde_json::to_string(&cfg).unwrap();
        let back: RunConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back, cfg, "preset {name}");
        // every preset but the depth limit and the plain training run is a sweep
        assert_eq!(
            cfg.cells() > 0,
            !matches!(name, "depth-limit" | "train-mlp"),
            "{name}"
        );
    }
    assert!(scaling_playground::presets::preset("no-such-preset").is_none());
}

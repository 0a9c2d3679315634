//! The transformer's experiments: its presets' claims (learning-rate transfer across width
//! and depth, heads collapsing with head size) and the attention coordinate check.
//!
//! The two transfer presets take a minute or two each per seed:
//! `cargo test --release --test experiments transformer -- --ignored --nocapture`.

use scaling_playground::kind::Kind;
use scaling_playground::presets;
use scaling_playground::progress::Silent;
use scaling_playground::run::RunConfig;
use scaling_playground::transformer::coord::TransformerCoordCheckConfig;
use scaling_playground::transformer::transfer::{TfTransferResult, TransformerTransferConfig};

fn transfer_preset(name: &str) -> TransformerTransferConfig {
    match presets::preset(name) {
        Some(RunConfig::TransformerTransfer(c)) => c,
        _ => panic!("{name} is not a transformer_transfer preset"),
    }
}

/// `(label, best_lr_index per size, best_lr_shift)` of every table.
fn shifts(r: &TfTransferResult) -> Vec<(String, Vec<Option<usize>>, usize)> {
    r.tables
        .iter()
        .map(|t| {
            let shift = t
                .best_lr_shift
                .unwrap_or_else(|| panic!("{}: no finite optimum", t.param));
            (t.param.clone(), t.best_lr_index.clone(), shift)
        })
        .collect()
}

/// Run a transfer preset with master seed `seed` and return its shifts.
fn run_transfer(name: &str, seed: u64) -> Vec<(String, Vec<Option<usize>>, usize)> {
    let mut c = transfer_preset(name);
    c.base.seed = seed;
    let clock = std::time::Instant::now();
    let r = c.run(&Silent).unwrap();
    let s = shifts(&r);
    eprintln!(
        "{name} seed {seed}: {:.1} s, {s:?}",
        clock.elapsed().as_secs_f64()
    );
    s
}

fn shift_of(s: &[(String, Vec<Option<usize>>, usize)], label: &str) -> usize {
    s.iter()
        .find(|(l, _, _)| l == label)
        .unwrap_or_else(|| panic!("no table {label}"))
        .2
}

/// Measured (best-rate indices by width 16, 32, 64, 128): seed 0: SP 6, 5, 4, 3, muP
/// 6, 6, 5, 6; seed 1: SP 5, 5, 4, 3, muP 5, 5, 5, 5.
#[test]
#[ignore]
fn transformer_lr_width_preset_holds_the_optimum_under_mup_only() {
    for seed in [0, 1] {
        let s = run_transfer("transformer-lr-width", seed);
        assert!(shift_of(&s, "mup") <= 1, "seed {seed}: {s:?}");
        assert!(shift_of(&s, "sp") >= 2, "seed {seed}: {s:?}");
    }
}

/// Measured (best-rate indices by depth 1, 2, 4, 8, 16): seed 0: alpha 0 4, 3, 2, 3, 2;
/// depth-muP 3, 3, 4, 4, 4; CompleteP 3, 3, 4, 4, 4. Seed 1: alpha 0 4, 4, 3, 3, 2;
/// depth-muP 2, 4, 4, 4, 4; CompleteP 3, 4, 4, 4, 4.
#[test]
#[ignore]
fn transformer_lr_depth_preset_holds_the_optimum_with_scaled_branches_only() {
    for seed in [0, 1] {
        let s = run_transfer("transformer-lr-depth", seed);
        let scaled = shift_of(&s, "depth_mup").min(shift_of(&s, "complete_p"));
        assert!(scaled <= 1, "seed {seed}: {s:?}");
        assert!(shift_of(&s, "mup") >= 2, "seed {seed}: {s:?}");
    }
}

/// The presets are cut down the same way (fewer sizes): the optimum moves under SP
/// across widths 16..128 with 60 steps and stays under muP.
#[test]
fn a_short_width_sweep_moves_the_optimum_under_sp_not_mup() {
    let mut c = transfer_preset("transformer-lr-width");
    c.widths = vec![16, 128];
    c.base.steps = 60;
    let r = c.run(&Silent).unwrap();
    let s = shifts(&r);
    assert!(shift_of(&s, "sp") >= 1, "{s:?}");
    assert!(shift_of(&s, "mup") <= shift_of(&s, "sp"), "{s:?}");
    // the same schema as the MLP's transfer kind: one table per parameterisation
    assert_eq!(r.tables.len(), 2);
    for t in &r.tables {
        assert_eq!(t.widths, vec![16, 128]);
        assert_eq!(t.final_loss.len(), 2);
        assert_eq!(t.final_loss[0].len(), c.lrs.len());
        // the corpus' loss starts at ln 61 = 4.11 and falls below it at the best rate
        let best = t.final_loss[0][t.best_lr_index[0].unwrap()].unwrap();
        assert!(best < 3.5 && best > 1.0, "{}: {best}", t.param);
    }
}

/// The attention logits' coordinates after a few Adam steps: growing with width under
/// SP (log-log slope > 0.3; measured 0.56, 0.44 for the two blocks), not growing under
/// muP (measured -0.39, -0.28: the part of `q.k` not yet aligned by training falls as
/// `1/sqrt(dh)`); the readout's change grows under SP (0.42) and is flat under muP (0.02).
#[test]
fn the_attention_coordinate_check_separates_sp_from_mup() {
    let c = TransformerCoordCheckConfig {
        widths: vec![32, 64, 128, 256],
        ..Default::default()
    };
    let r = c.run(&Silent).unwrap();
    let table = |p: &str| r.tables.iter().find(|t| t.param == p).unwrap();
    let (sp, mup) = (table("sp"), table("mup"));
    eprintln!(
        "readout change slopes: sp {:?} mup {:?}; logits slopes: sp {:?} mup {:?}",
        sp.slope_readout_change, mup.slope_readout_change, sp.slope_logits, mup.slope_logits
    );
    let (s_sp, s_mup) = (
        sp.slope_readout_change.unwrap(),
        mup.slope_readout_change.unwrap(),
    );
    assert!(s_sp > 0.3, "SP readout change slope {s_sp}");
    assert!(s_mup.abs() < 0.25, "muP readout change slope {s_mup}");
    for (b, (a, m)) in sp.slope_logits.iter().zip(&mup.slope_logits).enumerate() {
        let (a, m) = (a.unwrap(), m.unwrap());
        assert!(a > 0.3, "block {b}: SP logits slope {a}");
        assert!(m < 0.1, "block {b}: muP logits slope {m}");
        assert!(a > m + 0.5, "block {b}: logits slope SP {a}, muP {m}");
    }
}

/// The heads' spread falls with head size under muP (slope < -0.3) and far less under SP.
#[test]
fn heads_collapse_with_head_size_under_mup() {
    let mut c = match presets::preset("transformer-heads") {
        Some(RunConfig::TransformerHeads(c)) => c,
        _ => panic!("transformer-heads is not a transformer_heads preset"),
    };
    c.head_dims = vec![4, 16, 64];
    c.base.steps = 40;
    let r = c.run(&Silent).unwrap();
    let table = |p: &str| r.tables.iter().find(|t| t.param == p).unwrap();
    let (sp, mup) = (table("sp"), table("mup"));
    eprintln!("spread sp {:?} mup {:?}", sp.spread, mup.spread);
    let (s_sp, s_mup) = (sp.slope.unwrap(), mup.slope.unwrap());
    assert!(s_mup < -0.3, "muP slope {s_mup}");
    assert!(s_sp > s_mup + 0.2, "SP slope {s_sp}, muP {s_mup}");
    assert!(
        mup.spread[2] < 0.5 * sp.spread[2],
        "{:?} {:?}",
        mup.spread,
        sp.spread
    );
}

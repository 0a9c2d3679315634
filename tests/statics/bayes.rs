//! The `bayes` experiment through the run dispatcher: its preset runs, muP networks sit
//! nearer the saddle point and NTK networks nearer the NNGP, and the config round-trips.

use scaling_playground::progress::Silent;
use scaling_playground::run::{RunConfig, RunOutput, run};

#[test]
fn bayes_preset_separates_the_two_limits() {
    let cfg = scaling_playground::presets::preset("bayes").unwrap();
    assert_eq!(cfg.kind(), "bayes");
    let json = serde_json::to_string(&cfg).unwrap();
    let back: RunConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cfg);
    assert!(serde_json::from_str::<RunConfig>(r#"{"kind":"bayes","widthz":[8]}"#).is_err());
    let t = std::time::Instant::now();
    let out = run(&cfg, &Silent).unwrap();
    eprintln!("preset took {:?}", t.elapsed());
    let RunOutput::Bayes(r) = &out else {
        panic!("expected a bayes result")
    };
    assert!(r.saddle.converged);
    assert_eq!(r.runs.len(), 6);
    for run in &r.runs {
        eprintln!(
            "{} N={}: kernel dist saddle {:.4} nngp {:.4}; test dist saddle {:.4} nngp {:.4}",
            run.param,
            run.width,
            run.kernel_dist_saddle,
            run.kernel_dist_nngp,
            run.test_dist_saddle,
            run.test_dist_nngp
        );
    }
    let widest = r.runs.iter().map(|x| x.width).max().unwrap();
    for run in r.runs.iter().filter(|x| x.width == widest) {
        match run.param.as_str() {
            "mup" => assert!(run.kernel_dist_saddle < 0.1 && run.kernel_dist_nngp > 0.3),
            "ntk" => assert!(run.kernel_dist_nngp < 0.1 && run.kernel_dist_saddle > 0.3),
            other => panic!("unexpected param {other}"),
        }
    }
    // and each limit is approached: the distance falls with width (measured 0.066 ->
    // 0.019 -> 0.010 for NTK to the NNGP, 0.052 -> 0.014 -> 0.007 for muP to the saddle)
    let narrowest = r.runs.iter().map(|x| x.width).min().unwrap();
    let dist = |param: &str, width: usize| {
        let run = r
            .runs
            .iter()
            .find(|x| x.param == param && x.width == width)
            .unwrap();
        match param {
            "mup" => run.kernel_dist_saddle,
            _ => run.kernel_dist_nngp,
        }
    };
    for param in ["mup", "ntk"] {
        let (near, far) = (dist(param, widest), dist(param, narrowest));
        assert!(
            near < 0.5 * far,
            "{param}: {far} at N={narrowest} -> {near} at N={widest}"
        );
    }
    let tables = cfg.csv(&out);
    assert_eq!(tables.len(), 3);
    assert!(tables.iter().all(|(_, t)| t.lines().count() > 1));
}

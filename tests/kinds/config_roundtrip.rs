use scaling_playground::run::RunConfig;

#[test]
fn minimal_train_config_parses_and_unknown_fields_are_refused() {
    let c: RunConfig = serde_json::from_str(r#"{"kind":"train","steps":3}"#).unwrap();
    match &c {
        RunConfig::Train(t) => assert_eq!(t.steps, 3),
        other => panic!("expected a train config, got {}", other.kind()),
    }
    let back = serde_json::to_string(&c).unwrap();
    let c2: RunConfig = serde_json::from_str(&back).unwrap();
    assert_eq!(c, c2);
    let bad = serde_json::from_str::<RunConfig>(r#"{"kind":"train","stepz":3}"#);
    assert!(bad.is_err());
}

use scaling_playground::config::{OptimizerConfig, Parameterization, TrainConfig};
use scaling_playground::data::{DataConfig, Teacher};
use serde_json::Value;

/// Every kind's default, every preset, and a train config per parameterisation,
/// optimiser and data task: together they hold every object type a config can contain.
fn every_config() -> Vec<RunConfig> {
    let mut v: Vec<RunConfig> = [
        "train",
        "width_convergence",
        "transfer",
        "coord_check",
        "richness",
        "bayes",
        "kernel",
        "lazy",
        "dmft",
        "depth_limit",
    ]
    .iter()
    .map(|k| {
        let c: RunConfig = serde_json::from_value(serde_json::json!({ "kind": k }))
            .unwrap_or_else(|e| panic!("{k}: {e}"));
        assert_eq!(c.kind(), *k);
        c
    })
    .collect();
    for (name, _) in scaling_playground::presets::list() {
        v.extend(scaling_playground::presets::preset(name));
    }
    let params = [
        Parameterization::Sp,
        Parameterization::Ntk { gamma0: 2.0 },
        Parameterization::Mup { gamma0: 0.5 },
        Parameterization::DepthMup { gamma0: 1.0 },
        Parameterization::Abc {
            a: vec![0.0, 0.5],
            b: vec![0.0, 0.0],
            c: -1.0,
            gamma0: 1.0,
            depth_alpha: 0.0,
        },
    ];
    let optimizers = [
        OptimizerConfig::Gd { lr: 0.1 },
        OptimizerConfig::Sgd {
            lr: 0.1,
            batch_size: 4,
        },
        OptimizerConfig::Adam {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            mup_scaling: false,
        },
        OptimizerConfig::Langevin {
            lr: 0.01,
            temperature: 0.1,
            weight_decay: Some(0.1),
        },
    ];
    let data = [
        DataConfig::Teacher {
            teacher: Teacher::TwoLayer,
            dim: 4,
            train: 8,
            test: 2,
            noise: 0.1,
            seed: 1,
        },
        DataConfig::Sine {
            train: 8,
            test: 2,
            noise: 0.0,
            seed: 0,
        },
        DataConfig::Spirals {
            train: 8,
            test: 0,
            noise: 0.0,
            seed: 0,
        },
        DataConfig::Digits {
            train: 8,
            test: 2,
            classes: vec![1, 7],
            seed: 0,
        },
        DataConfig::Csv {
            text: "a,y\n1,2\n3,4\n".into(),
            target: Some("y".into()),
            test_fraction: 0.0,
            seed: 0,
        },
        DataConfig::Inline {
            x: vec![vec![1.0], vec![2.0]],
            y: vec![vec![0.5], vec![1.0]],
            x_test: vec![],
            y_test: vec![],
        },
    ];
    for param in params {
        v.push(RunConfig::Train(TrainConfig {
            param,
            ..Default::default()
        }));
    }
    for optimizer in optimizers {
        v.push(RunConfig::Train(TrainConfig {
            optimizer,
            ..Default::default()
        }));
    }
    for data in data {
        v.push(RunConfig::Train(TrainConfig {
            data,
            ..Default::default()
        }));
    }
    v
}

fn count_objects(v: &Value) -> usize {
    match v {
        Value::Object(o) => 1 + o.values().map(count_objects).sum::<usize>(),
        Value::Array(a) => a.iter().map(count_objects).sum(),
        _ => 0,
    }
}

/// The `k`-th object of `v` in pre-order.
fn nth_object<'a>(
    v: &'a mut Value,
    k: &mut usize,
) -> Option<&'a mut serde_json::Map<String, Value>> {
    match v {
        Value::Object(o) => {
            if *k == 0 {
                return Some(o);
            }
            *k -= 1;
            o.values_mut().find_map(|c| nth_object(c, k))
        }
        Value::Array(a) => a.iter_mut().find_map(|c| nth_object(c, k)),
        _ => None,
    }
}

#[test]
fn every_object_of_every_config_round_trips_and_refuses_unknown_fields() {
    let mut objects = 0;
    for cfg in every_config() {
        let json = serde_json::to_value(&cfg).unwrap();
        let back: RunConfig = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, cfg, "{json}");
        let text = serde_json::to_string(&cfg).unwrap();
        assert_eq!(serde_json::from_str::<RunConfig>(&text).unwrap(), cfg);
        for k in 0..count_objects(&json) {
            let mut bad = json.clone();
            let obj = nth_object(&mut bad, &mut { k }).unwrap();
            obj.insert("zz_unknown".into(), Value::from(1));
            let shown = serde_json::to_string(obj).unwrap();
            let e = serde_json::from_value::<RunConfig>(bad).expect_err(&format!(
                "{}: accepted an unknown field in {shown}",
                cfg.kind()
            ));
            assert!(e.to_string().contains("zz_unknown"), "{shown}: {e}");
            objects += 1;
        }
    }
    // every kind, nested train configs, each tagged variant (200 objects today)
    assert!(objects >= 200, "{objects}");
}

#[test]
fn unit_variants_keep_their_format_and_refuse_fields() {
    let sp = serde_json::to_value(Parameterization::Sp).unwrap();
    assert_eq!(sp, serde_json::json!({ "kind": "sp" }));
    let back: Parameterization = serde_json::from_value(sp).unwrap();
    assert_eq!(back, Parameterization::Sp);
    for text in [
        r#"{"kind": "sp", "anything": 1}"#,
        r#"{"anything": 1, "kind": "sp"}"#,
        r#"{"kind": "sp", "gamma0": 1}"#,
    ] {
        let e = serde_json::from_str::<Parameterization>(text).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{text}: {e}");
    }
    let e = serde_json::from_str::<RunConfig>(
        r#"{"kind": "train", "param": {"kind": "sp", "anything": 1}}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("anything"), "{e}");
}

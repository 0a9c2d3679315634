//! The native CLI end to end: configs, links, presets, bad input and budgets.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scaling-playground"))
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sp-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn run_a_config_and_the_same_link_give_the_same_numbers() {
    let cfg = tmp("small.json");
    std::fs::write(&cfg, r#"{"steps": 5, "seeds": 2, "model": {"width": 32}}"#).unwrap();
    let out = tmp("small-result.json");
    let csv = tmp("small-csv");
    let o = bin()
        .args(["run", cfg.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(a["config"]["kind"], "train");
    assert_eq!(a["result"]["train_loss"].as_array().unwrap().len(), 6);
    let header = std::fs::read_to_string(csv.join("loss.csv")).unwrap();
    assert!(header.starts_with("step,seed,train_loss,test_loss"));

    let link = bin()
        .args(["link", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(link.status.success());
    let url = String::from_utf8(link.stdout).unwrap();
    assert!(
        url.trim().starts_with("http://127.0.0.1:8080/#c=1."),
        "{url}"
    );
    let o = bin()
        .args(["run", "--quiet", "--link", url.trim()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let b: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(a["result"], b["result"]);
}

#[test]
fn bad_configs_exit_non_zero_naming_the_field_and_leave_no_output() {
    let cases = [
        (r#"{"model": {"width": 0}}"#, "model.width"),
        (r#"{"optimizer": {"kind": "gd", "lr": -1}}"#, "optimizer.lr"),
        (r#"{"model": {"activation": "sigmoid"}}"#, "activation"),
        (r#"{"stepz": 3}"#, "stepz"),
        ("{not json", "config"),
        (
            r#"{"kind": "train", "data": {"task": "digits", "train": 10000}}"#,
            "data.train",
        ),
    ];
    for (i, (text, field)) in cases.iter().enumerate() {
        let cfg = tmp(&format!("bad{i}.json"));
        std::fs::write(&cfg, text).unwrap();
        let out = tmp(&format!("bad{i}-out.json"));
        let o = bin()
            .args(["run", cfg.to_str().unwrap(), "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{text}");
        let e = stderr(&o);
        assert!(e.contains(field), "{text}: `{e}` does not name {field}");
        assert!(!out.exists(), "{text}: --out written");
        assert!(!out.with_extension("partial").exists());
    }
    let o = bin().args(["run", "--preset", "no-such"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("lr-transfer-width"),
        "lists the presets"
    );
    let o = bin()
        .args(["run", "--link", "http://x/#c=1.AAAA"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_oversized_config_is_refused_before_it_runs() {
    let cfg = tmp("huge.json");
    std::fs::write(
        &cfg,
        r#"{"model": {"width": 65536, "depth": 64}, "seeds": 64, "steps": 10}"#,
    )
    .unwrap();
    let o = bin()
        .args(["run", cfg.to_str().unwrap(), "--max-memory", "2G"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("over budget") && e.contains("2.0 GiB"), "{e}");
}

#[test]
fn presets_and_kernel_subcommands() {
    let o = bin().arg("presets").output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    for name in [
        "width-convergence",
        "lr-transfer-width",
        "lr-transfer-depth",
        "coord-check",
        "lazy-vs-rich",
        "depth-limit",
        "bayes",
    ] {
        assert!(text.contains(name), "{name} missing from presets");
    }
    let o = bin()
        .args([
            "kernel",
            "--activation",
            "relu",
            "--hidden-layers",
            "1",
            "--x",
            "[[1,0],[0.5,0.8660254037844386]]",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // theory.md golden row scaled: x.x/D = 1/2 here, relu NNGP is homogeneous of degree 1
    let k01 = v["nngp"][0][1].as_f64().unwrap();
    assert!((k01 - 0.304499 / 2.0).abs() < 1e-5, "{k01}");
}

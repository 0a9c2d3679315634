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
    // docs/theory.md golden row scaled: x.x/D = 1/2 here, relu NNGP is homogeneous of degree 1
    let k01 = v["nngp"][0][1].as_f64().unwrap();
    assert!((k01 - 0.304499 / 2.0).abs() < 1e-5, "{k01}");
}

/// A train config that runs in milliseconds; `seed` makes each result distinct.
fn tiny_config(seed: u64) -> String {
    format!(
        r#"{{"steps": 2, "seeds": 1, "seed": {seed}, "model": {{"width": 8}},
            "data": {{"task": "teacher", "dim": 2, "train": 4, "test": 2}}}}"#
    )
}

/// A fresh, empty directory for one test.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = tmp(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn concurrent_runs_with_one_out_leave_one_complete_file() {
    let dir = fresh_dir("concurrent");
    let cfgs = fresh_dir("concurrent-cfgs");
    let out = dir.join("result.json");
    // a foreign file named like the old shared temporary must survive untouched
    let partial = dir.join("result.partial");
    std::fs::write(&partial, "not ours").unwrap();
    const WRITERS: u64 = 8;
    const ROUNDS: usize = 4;
    for round in 0..ROUNDS {
        let children: Vec<_> = (0..WRITERS)
            .map(|seed| {
                let cfg = cfgs.join(format!("c{seed}.json"));
                std::fs::write(&cfg, tiny_config(seed)).unwrap();
                bin()
                    .args(["run", "--quiet"])
                    .arg(&cfg)
                    .arg("--out")
                    .arg(&out)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "round {round}: {}", stderr(&o));
        }
        let text = std::fs::read_to_string(&out).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("round {round}: not one complete JSON ({e})"));
        let seed = v["config"]["seed"].as_u64().unwrap();
        assert!(seed < WRITERS, "{seed}");
        assert_eq!(v["result"]["train_loss"].as_array().unwrap().len(), 3);
        // the file is exactly one writer's output: rerun that writer alone and compare
        let alone = bin()
            .args(["run", "--quiet"])
            .arg(cfgs.join(format!("c{seed}.json")))
            .output()
            .unwrap();
        assert_eq!(
            text.trim_end(),
            String::from_utf8_lossy(&alone.stdout).trim_end()
        );
        assert_eq!(
            names_in(&dir),
            ["result.json", "result.partial"],
            "round {round}: stray temporaries"
        );
    }
    assert_eq!(std::fs::read_to_string(&partial).unwrap(), "not ours");
}

#[cfg(unix)]
#[test]
fn out_writes_through_symlinks_and_refuses_special_files() {
    let dir = fresh_dir("special");
    let cfg = dir.join("c.json");
    std::fs::write(&cfg, tiny_config(1)).unwrap();
    let run_to = |out: &std::path::Path| {
        bin()
            .args(["run", "--quiet"])
            .arg(&cfg)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    // a symlink stays a symlink; the file it points to gets the result
    let real = fresh_dir("special-target").join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = run_to(&link);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert_eq!(v["config"]["seed"], 1);
    // a FIFO, a directory, a device and a symlink to a directory are refused, untouched
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo");
    let subdir = dir.join("subdir");
    std::fs::create_dir(&subdir).unwrap();
    let dir_link = dir.join("dir-link");
    std::os::unix::fs::symlink(&subdir, &dir_link).unwrap();
    for (path, what) in [
        (fifo.clone(), "a FIFO"),
        (subdir.clone(), "a directory"),
        (PathBuf::from("/dev/null"), "a device"),
        (dir_link.clone(), "a directory (the symlink's target"),
    ] {
        let o = run_to(&path);
        assert_eq!(o.status.code(), Some(2), "{}", path.display());
        let e = stderr(&o);
        assert!(
            e.contains("--out") && e.contains(what),
            "{}: {e}",
            path.display()
        );
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(
        std::fs::symlink_metadata(&dir_link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(names_in(&subdir).is_empty());
    assert_eq!(
        names_in(&dir),
        ["c.json", "dir-link", "fifo", "link.json", "subdir"],
        "stray temporaries"
    );
}

#[test]
fn a_missing_output_directory_is_refused_before_the_run() {
    let dir = fresh_dir("missing");
    let cfg = dir.join("c.json");
    // a config that would train for a long time: the refusal must come first
    std::fs::write(
        &cfg,
        r#"{"steps": 1000000, "seeds": 64, "model": {"width": 1024, "depth": 4}}"#,
    )
    .unwrap();
    let out = dir.join("no-such-dir").join("r.json");
    let o = bin()
        .args(["run", "--quiet"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--out") && e.contains("does not exist"), "{e}");
    assert!(o.stdout.is_empty());
    let o = bin()
        .args(["run", "--quiet"])
        .arg(&cfg)
        .arg("--csv")
        .arg(dir.join("no-such-dir").join("tables"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--csv") && e.contains("does not exist"), "{e}");
    assert_eq!(names_in(&dir), ["c.json"], "nothing written");
    // --csv into a fresh directory inside an existing one works
    std::fs::write(&cfg, tiny_config(0)).unwrap();
    let tables = dir.join("tables");
    let o = bin()
        .args(["run", "--quiet"])
        .arg(&cfg)
        .arg("--csv")
        .arg(&tables)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(names_in(&tables), ["loss.csv"]);
}

#[test]
fn duplicate_keys_and_fields_of_unit_variants_are_refused() {
    let cases = [
        (r#"{"steps": 3, "steps": 4}"#, "`steps`"),
        (
            r#"{"kind": "train", "model": {"width": 8, "depth": 1, "width": 9}}"#,
            "`model.width`",
        ),
        (
            r#"{"kind": "transfer", "params": [{"kind": "sp"}, {"kind": "mup", "gamma0": 1, "gamma0": 2}]}"#,
            "`params[1].gamma0`",
        ),
        (r#"{"param": {"kind": "sp", "anything": 1}}"#, "anything"),
        (
            r#"{"kind": "transfer", "params": [{"kind": "sp", "gamma0": 2}]}"#,
            "gamma0",
        ),
    ];
    for (i, (text, named)) in cases.iter().enumerate() {
        let cfg = tmp(&format!("dup{i}.json"));
        std::fs::write(&cfg, text).unwrap();
        let o = bin().args(["run", "--quiet"]).arg(&cfg).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{text}");
        let e = stderr(&o);
        assert!(e.contains(named), "{text}: `{e}` does not name {named}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn kernel_subcommand_reads_csv_and_goes_through_the_kind_and_budget() {
    let want = bin()
        .args(["kernel", "--x", "[[1,0],[0.5,0.8660254037844386]]"])
        .output()
        .unwrap();
    assert!(want.status.success(), "{}", stderr(&want));
    let want: serde_json::Value = serde_json::from_slice(&want.stdout).unwrap();
    assert_eq!(want["nngp"].as_array().unwrap().len(), 2);
    // the same rows as CSV with a BOM, a quoted header and CRLF, or headerless with CR
    for (i, text) in [
        "\u{feff}\"x, first\",x2\r\n1,0\r\n0.5,0.8660254037844386\r\n",
        "1,0\r0.5,0.8660254037844386\r",
    ]
    .iter()
    .enumerate()
    {
        let f = tmp(&format!("x{i}.csv"));
        std::fs::write(&f, text).unwrap();
        let o = bin()
            .arg("kernel")
            .arg("--x-file")
            .arg(&f)
            .output()
            .unwrap();
        assert!(o.status.success(), "{text:?}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v, want, "{text:?}");
    }
    // a typo in a data row is named, not dropped as a header
    let f = tmp("x-typo.csv");
    std::fs::write(&f, "1,0\n0.5,0.86O\n").unwrap();
    let o = bin()
        .arg("kernel")
        .arg("--x-file")
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("row 2 column 2 (`col2`): `0.86O`"), "{e}");
    // more rows than the kernel kind allows
    let f = tmp("x-big.csv");
    let rows: Vec<String> = (0..5000).map(|i| format!("{i},1")).collect();
    std::fs::write(&f, rows.join("\n")).unwrap();
    let o = bin()
        .arg("kernel")
        .arg("--x-file")
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("x (rows)") && e.contains("5000"), "{e}");
    assert!(o.stdout.is_empty());
    // and the memory budget of `run`
    let f = tmp("x-mid.csv");
    let rows: Vec<String> = (0..2000).map(|i| format!("{i},1")).collect();
    std::fs::write(&f, rows.join("\n")).unwrap();
    let o = bin()
        .args([
            "kernel",
            "--max-memory",
            "64M",
            "--hidden-layers",
            "3",
            "--x-file",
        ])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("over budget") && e.contains("64.0 MiB"), "{e}");
}

#[test]
fn link_refuses_what_run_link_would_refuse() {
    // incompressible inline data: a link past the size limit
    let mut state = 12345u64;
    let mut num = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let x: Vec<String> = (0..3000)
        .map(|_| format!("[{},{},{}]", num(), num(), num()))
        .collect();
    let y: Vec<String> = (0..3000).map(|_| format!("[{}]", num())).collect();
    let cfg = tmp("long-link.json");
    std::fs::write(
        &cfg,
        format!(
            r#"{{"data": {{"task": "inline", "x": [{}], "y": [{}]}}}}"#,
            x.join(","),
            y.join(",")
        ),
    )
    .unwrap();
    let o = bin().arg("link").arg(&cfg).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("at most 65536 characters"), "{e}");
    assert!(o.stdout.is_empty());
    // an invalid config gets no link either
    std::fs::write(&cfg, r#"{"model": {"width": 0}}"#).unwrap();
    let o = bin().arg("link").arg(&cfg).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("model.width"));
}

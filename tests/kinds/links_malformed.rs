//! Table-driven checks of malformed links: each gives the expected message (naming the
//! field or the defect) and never a panic; the lenient opener keeps the valid parts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scaling_playground::config::TrainConfig;
use scaling_playground::link;
use scaling_playground::run::RunConfig;

/// A link carrying `json` verbatim (as a hand-edited or hostile link would).
fn link_of(json: &[u8]) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec(json, 9);
    format!(
        "http://127.0.0.1:8080/#c=1.{}",
        URL_SAFE_NO_PAD.encode(packed)
    )
}

#[test]
fn malformed_links_give_named_errors() {
    let good = link::url(
        "http://127.0.0.1:8080/",
        &RunConfig::Train(TrainConfig::default()),
    )
    .unwrap();
    let huge_array = format!(
        r#"{{"kind":"train","data":{{"task":"inline","x":[{}],"y":[[1]]}}}}"#,
        vec!["[1]"; 150_000].join(",")
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("truncated", good[..good.len() - 12].to_string(), "link.payload"),
        ("no payload", "http://127.0.0.1:8080/#".into(), "link"),
        ("wrong version", good.replace("#c=1.", "#c=7."), "link.version"),
        ("version not a number", good.replace("#c=1.", "#c=x."), "link.version"),
        ("not base64", "#c=1.@@@@".into(), "link.payload"),
        ("not deflate", format!("#c=1.{}", URL_SAFE_NO_PAD.encode(b"hello")), "link.payload"),
        ("not UTF-8 JSON", link_of(&[0xff, 0xfe, 0x00, 0x7b]), "link"),
        ("width out of range", link_of(br#"{"kind":"train","model":{"width":0}}"#), "model.width"),
        ("lr negative", link_of(br#"{"kind":"train","optimizer":{"kind":"gd","lr":-1}}"#), "optimizer.lr"),
        ("steps huge", link_of(br#"{"kind":"train","steps":1e12}"#), "link"),
        ("seeds too many", link_of(br#"{"kind":"train","seeds":100000}"#), "seeds"),
        ("unknown kind", link_of(br#"{"kind":"rm -rf"}"#), "link"),
        ("unknown field", link_of(br#"{"kind":"train","<script>alert(1)</script>":1}"#), "link"),
        ("huge array", link_of(huge_array.as_bytes()), "data.x"),
        (
            "inflates past the limit",
            link_of(format!("{{\"kind\":\"train\"{}}}", " ".repeat(2 << 20)).as_bytes()),
            "link.payload",
        ),
        ("too long", format!("#c=1.{}", "A".repeat(70_000)), "link"),
        (
            "script in a CSV label",
            link_of(br#"{"kind":"train","data":{"task":"csv","text":"<script>alert(1)</script>,y\n1,2\nx,3\n"}}"#),
            "data",
        ),
    ];
    for (name, text, field) in cases {
        let err = link::decode(&text).expect_err(name).to_string();
        assert!(
            err.contains(field),
            "{name}: `{err}` does not name `{field}`"
        );
        // the lenient opener never panics and always yields a valid config
        let current = RunConfig::Train(TrainConfig::default());
        let opened = link::open(&text, &current);
        assert!(opened.config.validate().is_ok(), "{name}");
        assert!(!opened.problems.is_empty(), "{name}: no problem reported");
    }
}

#[test]
fn hostile_strings_survive_as_plain_data() {
    // A label with markup is only data to the core: it round-trips unchanged (the page
    // renders it with textContent; tests/browser checks nothing runs).
    let text = "\"<img src=x onerror=alert(1)>\",javascript:alert(1)\n1,2\n3,4\n";
    let json = serde_json::json!({
        "kind": "train",
        "data": {"task": "csv", "text": text, "target": "javascript:alert(1)"},
        "steps": 2
    });
    let l = link_of(json.to_string().as_bytes());
    let cfg = link::decode(&l).unwrap();
    let RunConfig::Train(t) = &cfg else {
        panic!("a train config")
    };
    let ds = t.data.load().unwrap();
    assert_eq!(ds.feature_names, vec!["<img src=x onerror=alert(1)>"]);
}

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

//! Strict JSON reading for configs and result files: a key given twice in one object is
//! an error naming its path, where `serde_json::Value` would keep the last silently.
//!
//! The derived deserialisers of our config types already refuse a repeated field, but
//! every reader that goes through a [`serde_json::Value`] (the CLI's config files, which
//! add a default `kind`; lenient opening) loses the earlier value first. Such readers call
//! [`parse_value`] (or [`check_unique_keys`] before their own parse).

use crate::error::{Error, Result};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Parse `text` as JSON, refusing duplicate keys (see [`check_unique_keys`]).
pub fn parse_value(text: &str) -> Result<serde_json::Value> {
    check_unique_keys(text)?;
    serde_json::from_str(text).map_err(|e| Error::config("config", format!("valid JSON ({e})")))
}

/// Check that no object in the JSON `text` repeats a key. The error's field is the
/// dotted path of the repeated key (`model.width`, `params[1].gamma0`); invalid JSON is
/// reported as `config`. Nesting is bounded by `serde_json`'s recursion limit (128).
pub fn check_unique_keys(text: &str) -> Result<()> {
    let mut walk = Walk::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Seed(&mut walk).deserialize(&mut de).and_then(|()| de.end());
    if let Some(path) = walk.duplicate {
        return Err(Error::config(
            path,
            "each key once per object (this key is repeated; JSON readers disagree on which \
             value wins)",
        ));
    }
    parsed.map_err(|e| Error::config("config", format!("valid JSON ({e})")))
}

/// The path walked so far and the first duplicate found.
#[derive(Default)]
struct Walk {
    path: Vec<Segment>,
    duplicate: Option<String>,
}

enum Segment {
    Key(String),
    Index(usize),
}

impl Walk {
    fn path_with(&self, key: &str) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Segment::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Segment::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        if !s.is_empty() {
            s.push('.');
        }
        s.push_str(key);
        s
    }
}

struct Seed<'a>(&'a mut Walk);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                self.0.duplicate = Some(self.0.path_with(&key));
                return Err(de::Error::custom("duplicate key"));
            }
            self.0.path.push(Segment::Key(key.clone()));
            map.next_value_seed(Seed(&mut *self.0))?;
            self.0.path.pop();
            seen.insert(key);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut i = 0;
        loop {
            self.0.path.push(Segment::Index(i));
            let more = seq.next_element_seed(Seed(&mut *self.0))?.is_some();
            self.0.path.pop();
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> std::result::Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(text: &str) -> String {
        match check_unique_keys(text) {
            Err(Error::Config { field, .. }) => field,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn duplicates_are_named_by_path() {
        assert_eq!(field(r#"{"steps": 1, "steps": 2}"#), "steps");
        assert_eq!(
            field(r#"{"model": {"width": 8, "depth": 1, "width": 9}}"#),
            "model.width"
        );
        assert_eq!(
            field(r#"{"params": [{"kind": "sp"}, {"kind": "mup", "kind": "ntk"}]}"#),
            "params[1].kind"
        );
        assert_eq!(field(r#"[[{"a": {"b": 1, "b": 1}}]]"#), "[0][0].a.b");
        // keys are compared after unescaping, as serde compares them
        assert_eq!(field(r#"{"a": 1, "\u0061": 2}"#), "a");
        assert_eq!(field("{not json"), "config");
        assert_eq!(field(r#"{"a": 1} trailing"#), "config");
    }

    #[test]
    fn distinct_keys_pass_and_parse() {
        let text = r#"{"a": {"x": 1}, "b": {"x": [1, 2.5, "s", null, true, {"x": -1}]}}"#;
        check_unique_keys(text).unwrap();
        let v = parse_value(text).unwrap();
        assert_eq!(v["b"]["x"][5]["x"], -1);
        // deep nesting is refused by serde_json's limit, not by a stack overflow
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(field(&deep), "config");
    }
}

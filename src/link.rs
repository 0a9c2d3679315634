//! Shareable links: a whole [`RunConfig`] in the URL fragment, compact and versioned.
//!
//! Format of the fragment: `c=1.<payload>` where `<payload>` is the config's JSON,
//! raw-DEFLATE compressed, in unpadded base64url. The page writes
//! `https://host/path/#c=1.<payload>`; the CLI accepts the whole URL, the fragment, or
//! the bare `1.<payload>`. The version prefix lets later schemas keep old links working.

use crate::error::{Error, Result};
use crate::run::{RunConfig, SCHEMA_VERSION};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest link payload accepted (characters), and the largest JSON it may inflate to.
pub const MAX_LINK_CHARS: usize = 64 * 1024;
pub const MAX_INFLATED_BYTES: usize = 1 << 20;

/// The fragment (without `#`) that encodes `cfg`, unchecked: a config that is invalid or
/// too large gives a fragment [`decode`] refuses. Prefer [`encode_checked`].
pub fn encode(cfg: &RunConfig) -> String {
    let json = serde_json::to_vec(cfg).expect("configs always serialise");
    pack(&json)
}

fn pack(json: &[u8]) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec(json, 9);
    format!("c={SCHEMA_VERSION}.{}", URL_SAFE_NO_PAD.encode(packed))
}

/// The fragment (without `#`) that encodes `cfg`, refused where [`decode`] would refuse
/// it: the config must validate, survive its JSON round trip unchanged (a non-finite
/// number would become `null`), inflate to at most [`MAX_INFLATED_BYTES`] and give a
/// link of at most [`MAX_LINK_CHARS`] characters.
pub fn encode_checked(cfg: &RunConfig) -> Result<String> {
    cfg.validate()?;
    let json = serde_json::to_vec(cfg)
        .map_err(|e| Error::config("link", format!("a config that serialises ({e})")))?;
    if json.len() > MAX_INFLATED_BYTES {
        return Err(Error::config(
            "link",
            format!(
                "a config of at most {MAX_INFLATED_BYTES} bytes of JSON, got {}",
                json.len()
            ),
        ));
    }
    let back: RunConfig = serde_json::from_slice(&json).map_err(|e| json_error(&e))?;
    if back != *cfg {
        return Err(Error::config(
            "link",
            "a config that reads back unchanged from its JSON (is a number not finite?)",
        ));
    }
    let fragment = pack(&json);
    check_length(fragment.len())?;
    Ok(fragment)
}

fn check_length(chars: usize) -> Result<()> {
    if chars > MAX_LINK_CHARS {
        return Err(Error::config(
            "link",
            format!(
                "a link of at most {MAX_LINK_CHARS} characters, got {chars} (inline or CSV \
                 data makes links long: use a config file)"
            ),
        ));
    }
    Ok(())
}

/// A full URL for `cfg` under `base` (for example `http://127.0.0.1:8080/`), refused
/// where `run --link` would refuse it (see [`encode_checked`]; the limit counts the
/// whole URL, as [`decode`] does).
pub fn url(base: &str, cfg: &RunConfig) -> Result<String> {
    let base = base.split('#').next().unwrap_or(base);
    let url = format!("{base}#{}", encode_checked(cfg)?);
    check_length(url.trim().len())?;
    Ok(url)
}

/// Decode a link: a whole URL, a fragment `c=1.xxx` or a bare `1.xxx`. The error names
/// what is wrong (truncated, wrong version, bad field) without panicking on any input.
pub fn decode(link: &str) -> Result<RunConfig> {
    let json = decode_json(link)?;
    let cfg: RunConfig = serde_json::from_slice(&json).map_err(|e| json_error(&e))?;
    cfg.validate()?;
    Ok(cfg)
}

/// Decode a link to the JSON value it carries, before the schema is applied (the page
/// uses this to keep the valid parts of a partly invalid link).
pub fn decode_value(link: &str) -> Result<serde_json::Value> {
    let json = decode_json(link)?;
    let text =
        std::str::from_utf8(&json).map_err(|_| Error::config("link.payload", "UTF-8 JSON text"))?;
    crate::json::parse_value(text).map_err(|e| {
        e.map_field(|f| {
            if f == "config" {
                "link".into()
            } else {
                f.into()
            }
        })
    })
}

/// The outcome of opening a link leniently: the config to use and, for every part of
/// the link that could not be used, an error naming that field (its dotted path in the
/// link) and what was expected. Those fields keep their previous values.
#[derive(Clone, Debug, PartialEq)]
pub struct Opened {
    pub config: RunConfig,
    pub problems: Vec<Error>,
}

/// Open a link without losing the user's state: every valid field of the link is applied
/// on top of `current` (or on the defaults of the link's `kind` when it differs), each
/// invalid one is reported and left at its previous value. A link that cannot be decoded
/// at all (truncated, wrong version) keeps `current` whole.
pub fn open(link: &str, current: &RunConfig) -> Opened {
    match decode_value(link) {
        Ok(v) => open_value(&v, current),
        Err(e) => Opened {
            config: current.clone(),
            problems: vec![e],
        },
    }
}

/// [`open`] for a config already parsed as JSON (a config file, a page's state).
pub fn open_value(value: &serde_json::Value, current: &RunConfig) -> Opened {
    let mut problems = vec![];
    let current_json = serde_json::to_value(current).unwrap_or_default();
    let Some(obj) = value.as_object() else {
        return Opened {
            config: current.clone(),
            problems: vec![Error::config("link", "a config object")],
        };
    };
    // Start from the current config, or the defaults of the link's kind.
    let mut base = current_json.clone();
    if let Some(kind) = obj.get("kind")
        && Some(kind) != current_json.get("kind")
    {
        let fresh = serde_json::json!({ "kind": kind });
        match parse_valid(&fresh) {
            Ok(_) => base = fresh,
            Err(e) => {
                problems.push(e.map_field(|_| "kind".into()));
                return Opened {
                    config: current.clone(),
                    problems,
                };
            }
        }
    }
    merge_fields(&mut base, value, &mut vec![], &mut problems);
    let config = parse_valid(&base).unwrap_or_else(|_| current.clone());
    Opened { config, problems }
}

/// Deserialize and validate a candidate config.
fn parse_valid(v: &serde_json::Value) -> Result<RunConfig> {
    let cfg: RunConfig = serde_json::from_value(v.clone())
        .map_err(|e| Error::config("config", format!("a valid config ({e})")))?;
    cfg.validate()?;
    Ok(cfg)
}

/// Apply each field of `link` onto `root` where the result is still a valid config;
/// recurse into objects whose whole replacement fails; report what is left out.
fn merge_fields(
    root: &mut serde_json::Value,
    link: &serde_json::Value,
    path: &mut Vec<String>,
    problems: &mut Vec<Error>,
) {
    let Some(fields) = link.as_object() else {
        return;
    };
    for (key, val) in fields {
        if path.is_empty() && key == "kind" {
            continue;
        }
        path.push(key.clone());
        let mut candidate = root.clone();
        set_path(&mut candidate, path, val.clone());
        match parse_valid(&candidate) {
            Ok(_) => *root = candidate,
            Err(e) => {
                let existing_is_object = get_path(root, path).is_some_and(|v| v.is_object());
                if val.is_object() && existing_is_object {
                    merge_fields(root, val, path, problems);
                } else {
                    let at = path.join(".");
                    let why = match e {
                        Error::Config { field, expected } if field == "config" || field == at => {
                            expected
                        }
                        other => other.to_string(),
                    };
                    problems.push(Error::config(at, why));
                }
            }
        }
        path.pop();
    }
}

fn get_path<'a>(v: &'a serde_json::Value, path: &[String]) -> Option<&'a serde_json::Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn set_path(v: &mut serde_json::Value, path: &[String], new: serde_json::Value) {
    let mut cur = v;
    for k in &path[..path.len() - 1] {
        let Some(obj) = cur.as_object_mut() else {
            return;
        };
        cur = obj
            .entry(k.clone())
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
    }
    if let Some(obj) = cur.as_object_mut() {
        obj.insert(path[path.len() - 1].clone(), new);
    }
}

fn json_error(e: &serde_json::Error) -> Error {
    Error::config("link", format!("a valid config ({e})"))
}

fn decode_json(link: &str) -> Result<Vec<u8>> {
    let link = link.trim();
    if link.len() > MAX_LINK_CHARS {
        return Err(Error::config(
            "link",
            format!("at most {MAX_LINK_CHARS} characters, got {}", link.len()),
        ));
    }
    let frag = link.rsplit_once('#').map_or(link, |(_, f)| f);
    // the fragment may hold other parameters (embed=...) separated by '&'
    let body = frag
        .split('&')
        .find_map(|kv| kv.strip_prefix("c="))
        .unwrap_or(frag);
    let (version, payload) = body
        .split_once('.')
        .ok_or_else(|| Error::config("link", "`c=<version>.<payload>`"))?;
    let version: u32 = version
        .parse()
        .map_err(|_| Error::config("link.version", format!("a number, got `{version}`")))?;
    if version != SCHEMA_VERSION {
        return Err(Error::config(
            "link.version",
            format!("version {SCHEMA_VERSION}, got {version}"),
        ));
    }
    let packed = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Error::config("link.payload", "base64url text (is the link truncated?)"))?;
    miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_INFLATED_BYTES).map_err(|e| {
        // the inflater's status in words (its own names mean nothing to a reader)
        let expected = if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
            format!("a config of at most {MAX_INFLATED_BYTES} bytes once inflated")
        } else {
            "a complete compressed config (the link is damaged or cut short)".into()
        };
        Error::config("link.payload", expected)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrainConfig;

    #[test]
    fn round_trip_and_truncation() {
        let cfg = RunConfig::Train(TrainConfig::default());
        let u = url("http://127.0.0.1:8080/sub/", &cfg).unwrap();
        assert_eq!(decode(&u).unwrap(), cfg);
        assert_eq!(decode(&encode_checked(&cfg).unwrap()).unwrap(), cfg);
        assert_eq!(decode(&encode(&cfg)).unwrap(), cfg);
        let cut = &u[..u.len() - 10];
        let e = decode(cut).unwrap_err().to_string();
        assert!(
            e.contains("link.payload") && e.contains("damaged or cut short"),
            "{e}"
        );
        assert!(!e.contains("Failed"), "no inflater status names: {e}");
        // a payload that inflates past the limit (a run of spaces compresses ~1000x)
        let bomb = link_of(&" ".repeat(MAX_INFLATED_BYTES + 1));
        let e = decode(&bomb).unwrap_err().to_string();
        assert!(e.contains("at most 1048576 bytes once inflated"), "{e}");
        let e = decode("c=9.abc").unwrap_err().to_string();
        assert!(e.contains("link.version"), "{e}");
        assert!(decode("").is_err());
        assert!(decode("#c=1.%%%").is_err());
    }

    /// A link whose JSON is given directly (as a hand-edited link would carry it).
    fn link_of(json: &str) -> String {
        let packed = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 9);
        format!("#c=1.{}", URL_SAFE_NO_PAD.encode(packed))
    }

    #[test]
    fn open_keeps_valid_fields_and_names_bad_ones() {
        let current = RunConfig::Train(TrainConfig::default());
        let l = link_of(
            r#"{"kind":"train","steps":7,"model":{"width":0,"depth":2},"seeds":"many","bogus":1}"#,
        );
        let o = open(&l, &current);
        let RunConfig::Train(t) = &o.config else {
            panic!("expected a train config")
        };
        assert_eq!(t.steps, 7);
        assert_eq!(t.model.depth, 2);
        assert_eq!(t.model.width, 256, "bad width falls back");
        assert_eq!(t.seeds, 4, "bad seeds falls back");
        let all: Vec<String> = o.problems.iter().map(Error::to_string).collect();
        let all = all.join("\n");
        assert!(all.contains("model.width"), "{all}");
        assert!(all.contains("seeds"), "{all}");
        assert!(all.contains("bogus"), "{all}");
        assert_eq!(o.problems.len(), 3, "{all}");
        // a truncated link keeps the current state whole
        let cut = &l[..l.len() / 2];
        let o = open(cut, &current);
        assert_eq!(o.config, current);
        assert_eq!(o.problems.len(), 1);
    }
}

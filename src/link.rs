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

/// The fragment (without `#`) that encodes `cfg`.
pub fn encode(cfg: &RunConfig) -> String {
    let json = serde_json::to_vec(cfg).expect("configs always serialise");
    let packed = miniz_oxide::deflate::compress_to_vec(&json, 9);
    format!("c={SCHEMA_VERSION}.{}", URL_SAFE_NO_PAD.encode(packed))
}

/// A full URL for `cfg` under `base` (for example `http://127.0.0.1:8080/`).
pub fn url(base: &str, cfg: &RunConfig) -> String {
    let base = base.split('#').next().unwrap_or(base);
    format!("{base}#{}", encode(cfg))
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
    serde_json::from_slice(&json).map_err(|e| json_error(&e))
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
        Error::config(
            "link.payload",
            format!(
                "a complete compressed config (is the link truncated?): {:?}",
                e.status
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrainConfig;

    #[test]
    fn round_trip_and_truncation() {
        let cfg = RunConfig::Train(TrainConfig::default());
        let u = url("http://127.0.0.1:8080/sub/", &cfg);
        assert_eq!(decode(&u).unwrap(), cfg);
        assert_eq!(decode(&encode(&cfg)).unwrap(), cfg);
        let cut = &u[..u.len() - 10];
        let e = decode(cut).unwrap_err().to_string();
        assert!(e.contains("link.payload"), "{e}");
        let e = decode("c=9.abc").unwrap_err().to_string();
        assert!(e.contains("link.version"), "{e}");
        assert!(decode("").is_err());
        assert!(decode("#c=1.%%%").is_err());
    }
}

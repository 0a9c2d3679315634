//! The native command-line interface: the same configs, links and results as the page.
//!
//! ```text
//! scaling-playground run CONFIG.json [--out FILE] [--csv DIR]
//! scaling-playground run --preset NAME | --link URL
//! scaling-playground presets
//! scaling-playground link CONFIG.json [--base URL]
//! scaling-playground run CONFIG.json --shard i/n --out part-i.json
//! scaling-playground merge part-*.json --out all.json
//! ```

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::main());
}

#[cfg(target_arch = "wasm32")]
fn main() {}

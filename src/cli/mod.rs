//! Argument parsing and the subcommands of the native CLI.

mod progress;

use clap::{Parser, Subcommand};
use scaling_playground::error::Error;
use scaling_playground::link;
use scaling_playground::run::{self, RunConfig, RunRecord, SCHEMA_VERSION};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "scaling-playground",
    version,
    about = "Finite-width networks and their infinite-width limits: the playground's experiments from the command line"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a config (JSON file, preset or link); print the result JSON.
    Run {
        /// Config file (JSON with a `kind`; a plain training config needs none).
        config: Option<PathBuf>,
        /// Run a named preset instead (see `presets`).
        #[arg(long, conflicts_with_all = ["config", "link"])]
        preset: Option<String>,
        /// Run the config carried by a playground link.
        #[arg(long, conflicts_with = "config")]
        link: Option<String>,
        /// Write the result JSON here instead of stdout (atomically).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write CSV tables into this directory.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// No progress on stderr.
        #[arg(long, short)]
        quiet: bool,
        /// Refuse configs estimated to need more memory than this (bytes, or with a
        /// K/M/G suffix).
        #[arg(long, default_value = "16G", value_parser = parse_bytes)]
        max_memory: u64,
    },
    /// List the presets with the claim each reproduces.
    Presets,
    /// Print the playground link of a config.
    Link {
        config: PathBuf,
        /// Base URL of the page.
        #[arg(long, default_value = "http://127.0.0.1:8080/")]
        base: String,
    },
}

/// Entry point; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                Error::Cancelled => 130,
                _ => 2,
            }
        }
    }
}

fn dispatch(cmd: Command) -> Result<(), Error> {
    match cmd {
        Command::Run {
            config,
            preset,
            link,
            out,
            csv,
            quiet,
            max_memory,
        } => {
            let cfg = if let Some(name) = preset {
                preset_config(&name)?
            } else if let Some(l) = link {
                link::decode(&l)?
            } else if let Some(path) = config {
                read_config(&path)?
            } else {
                return Err(Error::config(
                    "run",
                    "a CONFIG.json path, --preset NAME or --link URL",
                ));
            };
            cfg.check_budget(max_memory)?;
            let bar = progress::Stderr::new(quiet);
            let result = run::run(&cfg, &bar)?;
            bar.finish();
            let tables = result.csv();
            let record = RunRecord {
                version: SCHEMA_VERSION,
                config: cfg,
                result,
            };
            let json = serde_json::to_string_pretty(&record)
                .map_err(|e| Error::Data(format!("serialising the result: {e}")))?;
            match out {
                Some(path) => write_atomic(&path, json.as_bytes())?,
                None => print_stdout(&json),
            }
            if let Some(dir) = csv {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| Error::Data(format!("{}: {e}", dir.display())))?;
                for (stem, text) in tables {
                    write_atomic(&dir.join(format!("{stem}.csv")), text.as_bytes())?;
                }
            }
            Ok(())
        }
        Command::Presets => {
            for (name, claim) in scaling_playground::presets::list() {
                println!("{name:<20} {claim}");
            }
            Ok(())
        }
        Command::Link { config, base } => {
            let cfg = read_config(&config)?;
            cfg.validate()?;
            print_stdout(&link::url(&base, &cfg));
            Ok(())
        }
    }
}

fn preset_config(name: &str) -> Result<RunConfig, Error> {
    scaling_playground::presets::preset(name).ok_or_else(|| {
        let names: Vec<&str> = scaling_playground::presets::list()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        Error::config("preset", format!("one of {}", names.join(", ")))
    })
}

/// `123`, `64K`, `512M`, `2G` (binary units) to bytes.
fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, shift) = match s.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&s[..s.len() - 1], 10),
        Some('M') => (&s[..s.len() - 1], 20),
        Some('G') => (&s[..s.len() - 1], 30),
        Some('T') => (&s[..s.len() - 1], 40),
        _ => (s, 0),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 512M or 2G"))?;
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("`{s}` is not a positive size"));
    }
    Ok((v * (1u64 << shift) as f64) as u64)
}

/// Read a config file; a JSON object without `kind` is a training config.
fn read_config(path: &Path) -> Result<RunConfig, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
    parse_config(&text)
}

fn parse_config(text: &str) -> Result<RunConfig, Error> {
    let mut value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::config("config", format!("valid JSON ({e})")))?;
    if let Some(obj) = value.as_object_mut()
        && !obj.contains_key("kind")
    {
        obj.insert("kind".into(), "train".into());
    }
    serde_json::from_value(value)
        .map_err(|e| Error::config("config", format!("a valid config ({e})")))
}

/// Print a line on stdout; a closed pipe (`| head`) is not an error.
fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// Write through a temporary file and rename, so a failed run leaves nothing half-written.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::Data(format!("{}: {e}", path.display()))
        })
}

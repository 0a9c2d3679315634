//! Argument parsing and the subcommands of the native CLI.

mod progress;

use clap::{Parser, Subcommand};
use scaling_playground::error::Error;
use scaling_playground::link;
use scaling_playground::run::{self, RunConfig, RunRecord};
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
        /// Run only slice i of n of a sweep's cells (`0/4`); combine with `merge`.
        #[arg(long, value_parser = parse_shard)]
        shard: Option<(usize, usize)>,
    },
    /// Combine the shard results of one sweep (`run --shard i/n`) into its full result.
    Merge {
        /// Result files of the shards, in any order.
        #[arg(required = true)]
        parts: Vec<PathBuf>,
        /// Write the merged result here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write CSV tables into this directory.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// List the presets with the claim each reproduces.
    Presets,
    /// NNGP and NTK of an MLP for the rows of x (input kernel x.x'/D); prints JSON
    /// `{"nngp": [[..]], "ntk": [[..]]}`.
    Kernel {
        #[arg(long, default_value = "relu")]
        activation: String,
        #[arg(long, default_value_t = 1)]
        hidden_layers: usize,
        #[arg(long, default_value_t = 1.0)]
        sigma_w: f64,
        /// Rows of x as JSON, e.g. '[[1,0],[0.5,0.866]]'.
        #[arg(long, conflicts_with = "x_file")]
        x: Option<String>,
        /// A file of rows: JSON (an array of rows) or CSV (numbers, optional header).
        #[arg(long)]
        x_file: Option<PathBuf>,
    },
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
            shard,
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
            let in_flight = scaling_playground::kind::cells_in_flight(cfg.cells());
            cfg.check_budget(max_memory, in_flight, true)?;
            let bar = progress::Stderr::new(quiet);
            let result = match shard {
                Some((i, n)) => cfg.run_shard(i, n, &bar)?,
                None => run::run(&cfg, &bar)?,
            };
            bar.finish();
            let record = RunRecord::new(cfg, result);
            emit(&record, out.as_deref(), csv.as_deref())
        }
        Command::Merge { parts, out, csv } => {
            let records = parts
                .iter()
                .map(|p| {
                    let text = std::fs::read_to_string(p)
                        .map_err(|e| Error::Data(format!("{}: {e}", p.display())))?;
                    serde_json::from_str::<RunRecord>(&text).map_err(|e| {
                        Error::Data(format!("{}: not a result file ({e})", p.display()))
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let merged = run::merge(&records)?;
            emit(&merged, out.as_deref(), csv.as_deref())
        }
        Command::Presets => {
            for (name, claim) in scaling_playground::presets::list() {
                println!("{name:<20} {claim}");
            }
            Ok(())
        }
        Command::Kernel {
            activation,
            hidden_layers,
            sigma_w,
            x,
            x_file,
        } => {
            let act = scaling_playground::config::Activation::from_name(&activation)?;
            let rows = match (x, x_file) {
                (Some(text), _) => parse_rows(&text)?,
                (None, Some(path)) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
                    parse_rows(&text)?
                }
                (None, None) => return Err(Error::config("x", "--x JSON or --x-file FILE")),
            };
            let (nngp, ntk) = scaling_playground::theory::kernels::mlp_kernels(
                act,
                hidden_layers,
                sigma_w,
                &rows,
            )?;
            let json = serde_json::json!({ "nngp": nngp, "ntk": ntk });
            print_stdout(&json.to_string());
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

/// Print or write a result record, and its CSV tables.
fn emit(record: &RunRecord, out: Option<&Path>, csv: Option<&Path>) -> Result<(), Error> {
    let json = serde_json::to_string_pretty(record)
        .map_err(|e| Error::Data(format!("serialising the result: {e}")))?;
    match out {
        Some(path) => write_atomic(path, json.as_bytes())?,
        None => print_stdout(&json),
    }
    if let Some(dir) = csv {
        std::fs::create_dir_all(dir).map_err(|e| Error::Data(format!("{}: {e}", dir.display())))?;
        for (stem, text) in record.csv() {
            write_atomic(&dir.join(format!("{stem}.csv")), text.as_bytes())?;
        }
    }
    Ok(())
}

/// Rows of numbers from JSON (`[[..], ..]`) or CSV (an optional header row is skipped).
fn parse_rows(text: &str) -> Result<Vec<Vec<f64>>, Error> {
    let trimmed = text.trim_start();
    let rows: Vec<Vec<f64>> = if trimmed.starts_with('[') {
        serde_json::from_str(trimmed)
            .map_err(|e| Error::config("x", format!("a JSON array of rows of numbers ({e})")))?
    } else {
        let mut rows = vec![];
        for (i, line) in trimmed.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let cells: Result<Vec<f64>, _> = line.split(',').map(|c| c.trim().parse()).collect();
            match cells {
                Ok(r) => rows.push(r),
                Err(_) if i == 0 => continue, // header
                Err(_) => {
                    return Err(Error::Data(format!("x file line {}: not numbers", i + 1)));
                }
            }
        }
        rows
    };
    if rows.is_empty() {
        return Err(Error::config("x", "at least one row"));
    }
    let d = rows[0].len();
    if d == 0
        || rows
            .iter()
            .any(|r| r.len() != d || r.iter().any(|v| !v.is_finite()))
    {
        return Err(Error::config(
            "x",
            "rows of equal length with finite numbers",
        ));
    }
    Ok(rows)
}

/// `i/n` with `i < n`.
fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("`{s}` is not of the form i/n, e.g. 0/4"))?;
    let i: usize = i
        .trim()
        .parse()
        .map_err(|_| format!("`{i}` is not a shard index"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a shard count"))?;
    if n == 0 || i >= n {
        return Err(format!("shard {i}/{n}: need 0 <= i < n"));
    }
    Ok((i, n))
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
    serde_json::from_value(value.clone()).map_err(|e| {
        // Name the offending field: apply the file field by field over the defaults.
        let base = RunConfig::Train(Default::default());
        let opened = link::open_value(&value, &base);
        match opened.problems.first() {
            Some(first) => {
                let (field, why) = first.split_once(": ").unwrap_or(("config", first));
                Error::config(field, why.trim_end_matches(" (kept the previous value)"))
            }
            None => Error::config("config", format!("a valid config ({e})")),
        }
    })
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

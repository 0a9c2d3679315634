//! Argument parsing and the subcommands of the native CLI.

mod output;
mod progress;

use clap::{Parser, Subcommand};
use scaling_playground::error::Error;
use scaling_playground::link;
use scaling_playground::run::{self, RunConfig, RunRecord};
use scaling_playground::theory::kernels::KernelConfig;
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
        /// Write the result JSON here instead of stdout (atomically; a symlink is written
        /// through, a directory, FIFO or device refused, checked before the run).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write CSV tables into this directory (created if missing, inside an
        /// existing directory).
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
        /// A file of rows: JSON (an array of rows) or CSV (numbers; the first row is a
        /// header when none of its cells is a number).
        #[arg(long)]
        x_file: Option<PathBuf>,
        /// Refuse inputs estimated to need more memory than this (as for `run`).
        #[arg(long, default_value = "16G", value_parser = parse_bytes)]
        max_memory: u64,
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
            check_outputs(out.as_deref(), csv.as_deref())?;
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
            let in_flight = scaling_playground::kind::cells_in_flight(cfg.groups().len());
            // the result's JSON is streamed to the output, never held as text
            cfg.check_budget(max_memory, in_flight, false)?;
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
            check_outputs(out.as_deref(), csv.as_deref())?;
            let records = parts
                .iter()
                .map(|p| {
                    let text = std::fs::read_to_string(p)
                        .map_err(|e| Error::Data(format!("{}: {e}", p.display())))?;
                    scaling_playground::json::check_unique_keys(&text).map_err(|e| {
                        Error::Data(format!("{}: not a result file ({e})", p.display()))
                    })?;
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
            max_memory,
        } => {
            let rows = match (x, x_file) {
                (Some(text), _) => parse_rows(&text)?,
                (None, Some(path)) => parse_rows(&read_limited(&path)?)?,
                (None, None) => return Err(Error::config("x", "--x JSON or --x-file FILE")),
            };
            let cfg = RunConfig::Kernel(KernelConfig {
                activation: scaling_playground::config::Activation::from_name(&activation)?,
                hidden_layers,
                sigma_w,
                x: rows,
                resnet_beta: None,
            });
            cfg.check_budget(max_memory, 1, true)?;
            let run::RunOutput::Kernel(k) = run::run(&cfg, &progress::Stderr::new(true))? else {
                return Err(Error::Data("kernel: the run returned another kind".into()));
            };
            let json = serde_json::json!({ "nngp": k.nngp, "ntk": k.ntk });
            print_stdout(&json.to_string());
            Ok(())
        }
        Command::Link { config, base } => {
            let cfg = read_config(&config)?;
            print_stdout(&link::url(&base, &cfg)?);
            Ok(())
        }
    }
}

/// Refuse, before any work, output paths that could not be written (see [`output`]).
fn check_outputs(out: Option<&Path>, csv: Option<&Path>) -> Result<(), Error> {
    if let Some(path) = out {
        output::check_file("--out", path)?;
    }
    if let Some(dir) = csv {
        output::check_dir("--csv", dir)?;
    }
    Ok(())
}

/// Print or write a result record (its JSON streamed, never held as text), and its CSV
/// tables.
fn emit(record: &RunRecord, out: Option<&Path>, csv: Option<&Path>) -> Result<(), Error> {
    let pretty = |w: &mut dyn std::io::Write| {
        serde_json::to_writer_pretty(&mut *w, record).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    };
    match out {
        Some(path) => output::write_with("--out", path, pretty)?,
        None => {
            let stdout = std::io::stdout().lock();
            let mut w = std::io::BufWriter::new(stdout);
            // a closed pipe (`| head`) is not an error
            let _ = pretty(&mut w).and_then(|()| std::io::Write::flush(&mut w));
        }
    }
    if let Some(dir) = csv {
        output::create_dir("--csv", dir)?;
        for (stem, text) in record.csv() {
            output::write_file("--csv", &dir.join(format!("{stem}.csv")), text.as_bytes())?;
        }
    }
    Ok(())
}

/// Read a `--x-file` of at most [`scaling_playground::data::MAX_CSV_BYTES`] bytes.
fn read_limited(path: &Path) -> Result<String, Error> {
    use std::io::Read;
    let limit = scaling_playground::data::MAX_CSV_BYTES;
    let file =
        std::fs::File::open(path).map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
    let mut text = String::new();
    file.take(limit as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
    if text.len() > limit {
        return Err(Error::config(
            "x",
            format!(
                "a file of at most {limit} bytes: {} is larger",
                path.display()
            ),
        ));
    }
    Ok(text)
}

/// Rows of numbers for `kernel`: JSON (`[[..], ..]`) or CSV, read by
/// [`scaling_playground::data::read_table`] (the first row is a header when none of its
/// cells is a number). Shapes and values are checked by the `kernel` kind's validation.
fn parse_rows(text: &str) -> Result<Vec<Vec<f64>>, Error> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text).trim_start();
    if body.starts_with('[') {
        return serde_json::from_str(body)
            .map_err(|e| Error::config("x", format!("a JSON array of rows of numbers ({e})")));
    }
    Ok(scaling_playground::data::read_table(text)?.rows)
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

/// Parse a config file's text: duplicate keys are refused (naming their path), a JSON
/// object without `kind` is a training config, and a bad field is named.
fn parse_config(text: &str) -> Result<RunConfig, Error> {
    let mut value = scaling_playground::json::parse_value(text)?;
    if let Some(obj) = value.as_object_mut()
        && !obj.contains_key("kind")
    {
        obj.insert("kind".into(), "train".into());
    }
    serde_json::from_value(value.clone()).map_err(|e| {
        // Name the offending field: apply the file field by field over the defaults.
        let base = RunConfig::Train(Default::default());
        let opened = link::open_value(&value, &base);
        opened
            .problems
            .into_iter()
            .next()
            .unwrap_or_else(|| Error::config("config", format!("a valid config ({e})")))
    })
}

/// Print a line on stdout; a closed pipe (`| head`) is not an error.
fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

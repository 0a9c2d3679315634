//! A percentage on stderr for runs longer than a second.

use scaling_playground::progress::Progress;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Prints `stage  42%` on stderr, at most every 200 ms and only after the first second.
pub struct Stderr {
    quiet: bool,
    start: Instant,
    last: Mutex<Option<Instant>>,
}

impl Stderr {
    pub fn new(quiet: bool) -> Self {
        Stderr {
            quiet,
            start: Instant::now(),
            last: Mutex::new(None),
        }
    }

    /// End the progress line.
    pub fn finish(&self) {
        if let Ok(last) = self.last.lock()
            && last.is_some()
        {
            eprintln!();
        }
    }
}

impl Progress for Stderr {
    fn update(&self, stage: &str, done: u64, total: u64) {
        if self.quiet || self.start.elapsed() < Duration::from_secs(1) {
            return;
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.is_some_and(|t| t.elapsed() < Duration::from_millis(200)) && done < total {
            return;
        }
        *last = Some(Instant::now());
        let pct = if total == 0 {
            100.0
        } else {
            100.0 * done as f64 / total as f64
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{stage:<12} {pct:5.1}%");
        let _ = err.flush();
    }
}

//! Progress of long command-line work on standard error: a bar with rows per second and the time
//! left on a terminal, otherwise a line every few seconds (for logs, which a bar would flood).

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a line is printed when standard error is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// The progress of work over `total` rows.
pub struct Progress {
    verb: &'static str,
    total: u64,
    done: u64,
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    /// Work that will `verb` (e.g. "exported") about `total` rows.
    pub fn new(verb: &'static str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40.cyan/blue} {human_pos}/{human_len} rows, {per_sec}, ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        let now = Instant::now();
        Self {
            verb,
            total,
            done: 0,
            bar,
            started: now,
            last_line: now,
        }
    }

    /// `rows` more are done.
    pub fn advance(&mut self, rows: u64) {
        self.done += rows;
        match &self.bar {
            Some(bar) => bar.inc(rows),
            None if self.last_line.elapsed() >= LINE_EVERY => {
                self.last_line = Instant::now();
                eprintln!("{} {} of {} rows", self.verb, self.done, self.total);
            }
            None => {}
        }
    }

    /// The work is over: the bar is cleared and one closing line says how it went.
    pub fn finish(self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        eprintln!(
            "{} {} rows in {:.1} s",
            self.verb,
            self.done,
            self.started.elapsed().as_secs_f64()
        );
    }
}

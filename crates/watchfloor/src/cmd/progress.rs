//! A progress bar on standard error when it is a terminal (bytes, Gbit/s, ETA);
//! nothing otherwise, so logs and CI output stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

pub struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    pub fn for_bytes(wanted: bool) -> Bar {
        if !wanted || !std::io::stderr().is_terminal() {
            return Bar { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4));
        Bar { bar: Some(bar) }
    }

    /// Called from the reader thread as it goes.
    pub fn update(&self, pos: u64, total: Option<u64>) {
        let Some(b) = &self.bar else { return };
        if b.length().is_none() {
            let style = match total {
                Some(t) => {
                    b.set_length(t);
                    ProgressStyle::with_template(
                        "{bar:40.cyan/blue} {bytes}/{total_bytes} {msg} ETA {eta}",
                    )
                }
                None => ProgressStyle::with_template("{spinner} {bytes} read {msg}"),
            };
            if let Ok(s) = style {
                b.set_style(s);
            }
        }
        b.set_position(pos);
        let secs = b.elapsed().as_secs_f64();
        if secs > 0.0 {
            b.set_message(format!("{:.2} Gbit/s", pos as f64 * 8.0 / secs / 1e9));
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

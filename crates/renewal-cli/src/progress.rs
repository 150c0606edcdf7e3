use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use renewal_ingest::Progress;

/// indicatif bars for long ingests; invisible when stderr is not a terminal.
pub struct Bars {
    current: Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            current: Mutex::new(None),
        }
    }

    fn replace(&self, bar: Option<ProgressBar>) {
        if let Ok(mut slot) = self.current.lock()
            && let Some(old) = std::mem::replace(&mut *slot, bar)
        {
            old.finish_and_clear();
        }
    }

    pub fn clear(&self) {
        self.replace(None);
    }
}

impl Progress for Bars {
    fn start_file(&self, name: &str, bytes: u64) {
        let bar = ProgressBar::new(bytes);
        if let Ok(style) =
            ProgressStyle::with_template("{msg:40!} [{bar:30}] {bytes}/{total_bytes} {eta}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(name.to_owned());
        self.replace(Some(bar));
    }

    fn advance(&self, bytes: u64) {
        if let Ok(slot) = self.current.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(bytes);
        }
    }

    fn finish_file(&self, name: &str, rows: u64) {
        self.replace(None);
        tracing::info!(file = name, rows, "read");
    }

    fn stage(&self, what: &str) {
        let spinner = ProgressBar::new_spinner();
        spinner.set_message(what.to_owned());
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        self.replace(Some(spinner));
    }
}

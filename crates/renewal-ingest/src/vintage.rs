//! Which LSOA vintage a dataset's codes are on, told while its rows are read: codes that exist
//! only in 2011 or only in 2021 (by the ONS change lookup in the warehouse) decide it, and a
//! dataset holding both is refused at the cell that mixes them.

use std::sync::Arc;

use renewal_geo::Vintage;
use renewal_geo::bridge::Bridge;

use crate::error::{IngestError, Location, Result};

/// Watches the LSOA codes of one dataset against a bridge's two vintages.
pub(crate) struct VintageWatch {
    bridge: Option<Arc<Bridge>>,
    only_from: Option<(String, Location)>,
    only_to: Option<(String, Location)>,
}

impl VintageWatch {
    /// A watch over `bridge`'s vintages; without a bridge it learns nothing.
    pub fn new(bridge: Option<Arc<Bridge>>) -> Self {
        VintageWatch {
            bridge,
            only_from: None,
            only_to: None,
        }
    }

    /// Notes one LSOA code read at `at`; an error when it contradicts an earlier one.
    pub fn observe(&mut self, code: &str, at: impl FnOnce() -> Location) -> Result<()> {
        let Some(b) = self.bridge.as_deref() else {
            return Ok(());
        };
        let from = match b.knows(code) {
            (true, false) => true,
            (false, true) => false,
            _ => return Ok(()),
        };
        let (mine, other, mine_v, other_v) = if from {
            (&mut self.only_from, &self.only_to, b.from, b.to)
        } else {
            (&mut self.only_to, &self.only_from, b.to, b.from)
        };
        if let Some((first, place)) = other {
            return Err(IngestError::invalid(
                at(),
                format!(
                    "{code} exists only in {mine_v} LSOAs but {first} ({place}) only in {other_v}: \
                     the data mix LSOA vintages; ingest each vintage as its own dataset"
                ),
            ));
        }
        if mine.is_none() {
            *mine = Some((code.to_owned(), at()));
        }
        Ok(())
    }

    /// The vintage the codes showed, if any code told.
    pub fn vintage(&self) -> Option<Vintage> {
        let b = self.bridge.as_deref()?;
        match (&self.only_from, &self.only_to) {
            (Some(_), None) => Some(b.from),
            (None, Some(_)) => Some(b.to),
            _ => None,
        }
    }
}

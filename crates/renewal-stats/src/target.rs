//! Targets of the form "halve the gap between baseline year B and target year T"
//! (METHODS.md): a straight line from (B, gap_B) to (T, gap_T), and whether the latest gap is
//! at or below it in absolute size.
//!
//! Gaps are judged by absolute size only, as METHODS.md defines them. Two consequences,
//! deliberate rather than accidental:
//! - A gap that crosses zero is judged by its size on the other side: from 4 points behind to
//!   1 point ahead has more than halved the gap, but overshooting to 5 points ahead is off
//!   track. A caller who wants to credit overshoot as good news must look at the sign.
//! - A baseline gap of zero leaves nothing to close: the trajectory and the target are both
//!   zero, so only an exactly zero gap counts as achieved and any other is off track;
//!   [`TargetLine::significantly_off_track`] then says whether it is distinguishable from zero.

use serde::{Deserialize, Serialize};

use crate::Interval;

/// The straight-line trajectory of a gap target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TargetLine {
    pub baseline_period: f64,
    pub baseline_gap: f64,
    pub target_period: f64,
    pub target_gap: f64,
}

/// Where the latest gap stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetStatus {
    /// |gap| ≤ |target gap|, whatever the period: the target is already met.
    Achieved,
    /// |gap| ≤ |trajectory| at this period.
    OnTrack,
    /// |gap| > |trajectory| at this period.
    OffTrack,
}

/// Everything an analyst needs to read a target: the status, the trajectory value it was judged
/// against, and whether being off track is more than noise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TargetAssessment {
    pub status: TargetStatus,
    pub expected_gap: f64,
    /// `None` without an interval for the gap.
    pub significantly_off_track: Option<bool>,
}

impl TargetLine {
    /// A target to reduce the gap to `fraction_remaining` of its baseline by `target_period`:
    /// 0.5 halves it, 0 closes it. Meant for fractions between 0 and 1.
    pub fn new(
        baseline_period: f64,
        baseline_gap: f64,
        target_period: f64,
        fraction_remaining: f64,
    ) -> TargetLine {
        TargetLine {
            baseline_period,
            baseline_gap,
            target_period,
            target_gap: baseline_gap * fraction_remaining,
        }
    }

    /// "Halve the gap": target gap = baseline gap / 2.
    pub fn halve(baseline_period: f64, baseline_gap: f64, target_period: f64) -> TargetLine {
        TargetLine::new(baseline_period, baseline_gap, target_period, 0.5)
    }

    /// The trajectory at `period`: the baseline gap up to the baseline, the target gap from the
    /// target period on, linear between. A target period at or before the baseline (a data
    /// error) makes a step at the target period rather than dividing by zero.
    pub fn expected_at(&self, period: f64) -> f64 {
        if period >= self.target_period {
            return self.target_gap;
        }
        if period <= self.baseline_period {
            return self.baseline_gap;
        }
        let progress =
            (period - self.baseline_period) / (self.target_period - self.baseline_period);
        self.baseline_gap + progress * (self.target_gap - self.baseline_gap)
    }

    /// Achieved, on track or off track for the gap observed in `period` (see [`TargetStatus`]).
    /// A suppressed (NaN) gap is not a measurement and would read as off track: drop it first.
    pub fn status(&self, period: f64, latest_gap: f64) -> TargetStatus {
        let size = latest_gap.abs();
        if size <= self.target_gap.abs() {
            TargetStatus::Achieved
        } else if size <= self.expected_at(period).abs() {
            TargetStatus::OnTrack
        } else {
            TargetStatus::OffTrack
        }
    }

    /// True when every gap inside `interval` is bigger in absolute size than the trajectory at
    /// `period`, i.e. the interval lies wholly outside ±|trajectory|. Off track but not
    /// significantly so means the shortfall is within the noise of the estimate.
    pub fn significantly_off_track(&self, period: f64, interval: Interval) -> bool {
        let allowed = self.expected_at(period).abs();
        interval.lower > allowed || interval.upper < -allowed
    }

    /// [`Self::status`], the trajectory value and, given the gap's interval,
    /// [`Self::significantly_off_track`] together.
    pub fn assess(
        &self,
        period: f64,
        latest_gap: f64,
        interval: Option<Interval>,
    ) -> TargetAssessment {
        TargetAssessment {
            status: self.status(period, latest_gap),
            expected_gap: self.expected_at(period),
            significantly_off_track: interval.map(|i| self.significantly_off_track(period, i)),
        }
    }
}

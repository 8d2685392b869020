//! What a report answers, as the API serialises it and the CSV export writes it: flat rows
//! per group and bucket, so a chart and a spreadsheet read them alike.

use super::{Bucket, GroupBy};
use serde::Serialize;

/// A report: what it covers, then its sections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub zone: String,
    pub bucket: Bucket,
    pub by: GroupBy,
    pub team: Option<String>,
    pub service: Option<String>,
    /// Every bucket of the range; the series below leave out buckets with nothing in them.
    pub buckets: Vec<Span>,
    pub summary: Summary,
    pub response: Vec<ResponseRow>,
    pub volume: Vec<VolumeRow>,
    pub noisy: Vec<NoisyRow>,
    pub load: Vec<LoadRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    pub start: String,
    pub end: String,
}

/// How fast incidents were acknowledged and resolved. Means and medians are over the
/// incidents that were (`acknowledged`, `resolved` of `incidents`), in seconds; None when
/// there are none.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Response {
    pub incidents: u64,
    pub acknowledged: u64,
    pub mtta_mean_seconds: Option<f64>,
    pub mtta_median_seconds: Option<f64>,
    pub resolved: u64,
    pub mttr_mean_seconds: Option<f64>,
    pub mttr_median_seconds: Option<f64>,
}

/// Alerts against the incidents they became: `alerts_per_incident` = alerts / incidents and
/// `noise_reduction` = 1 - incidents / alerts (None when the divisor is 0). Muted alerts count
/// as alerts, so silencing raises it; a split makes incidents without alerts and may push it
/// below 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Noise {
    pub alerts: u64,
    pub alerts_per_incident: Option<f64>,
    pub noise_reduction: Option<f64>,
}

/// The whole range, for all groups or one.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    #[serde(flatten)]
    pub response: Response,
    #[serde(flatten)]
    pub noise: Noise,
    pub notifications: u64,
    pub night_notifications: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupTotals {
    pub group: String,
    /// The team's or service's name in the config (its id when the config has it no more).
    pub name: String,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub all: Totals,
    pub groups: Vec<GroupTotals>,
}

/// One group's response in one bucket that has incidents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseRow {
    pub group: String,
    /// The bucket's start (see `Report::buckets`).
    pub bucket: String,
    #[serde(flatten)]
    pub response: Response,
}

/// One group's volume in one bucket that has alerts or incidents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VolumeRow {
    pub group: String,
    pub bucket: String,
    pub incidents: u64,
    #[serde(flatten)]
    pub noise: Noise,
}

/// One kind of alert (name and service) over the range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoisyRow {
    pub name: String,
    pub service: String,
    /// Episodes that started in the range.
    pub firings: u64,
    /// Distinct alerts (source and dedup key) among them.
    pub alerts: u64,
    /// Distinct incidents they fired into.
    pub incidents: u64,
    /// Events those alerts received over their whole life.
    pub occurrences: i64,
}

/// One person's interruptions over the range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadRow {
    pub user: String,
    pub name: String,
    pub time_zone: String,
    /// Notifications sent to them.
    pub notifications: u64,
    /// Distinct incidents those were about.
    pub incidents: u64,
    /// Those sent between `NIGHT_START_HOUR` and `NIGHT_END_HOUR` (22:00 to 07:00, as the
    /// schedule report's night) on their own clock (`users[].time_zone`).
    pub night_notifications: u64,
}

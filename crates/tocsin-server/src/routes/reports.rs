//! Reports over HTTP: `GET /api/v1/reports` as JSON and `GET /api/v1/reports/{section}.csv`
//! for one section as CSV. The numbers are `tocsin_core::reports` over the rows of
//! `tocsin_store::sqlite::reports`; this checks the parameters and writes CSV. The console
//! draws the same report as charts, through [`ReportParams::parse`], [`build`] and [`csv`].

use super::{pairs, read, QueryPairs};
use crate::auth::authorize;
use crate::csv::{Csv, Field};
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::tz::TimeZone;
use tocsin_core::auth::Role;
use tocsin_core::config::Config;
use tocsin_core::reports::{report, Bucket, GroupBy, Report, Scope, Totals};
use tocsin_core::time::{parse_rfc3339, Millis};
use tocsin_store::sqlite::reports::facts;

const DAY: Millis = 24 * 3_600_000;
/// The range when none is given: the 30 days before now.
const DEFAULT_RANGE: Millis = 30 * DAY;
/// A year, leap or not; longer ranges are a yearly report's business, not a screen's.
const MAX_RANGE: Millis = 366 * DAY;
const PARAMETERS: &str = "from, to, bucket, zone, by, team, service";

/// What a report covers, checked: the range, buckets, zone, grouping and filters.
pub(crate) struct ReportParams {
    scope: Scope,
}

impl ReportParams {
    /// From a query string; every parameter is checked and unknown ones refused. Defaults:
    /// the 30 days before `now`, daily buckets on UTC, grouped by team, no filter.
    pub(crate) fn parse(
        params: &[(String, String)],
        now: Millis,
        config: &Config,
    ) -> ApiResult<ReportParams> {
        let bad = |m: String| ApiError::bad_request(m);
        let time =
            |key: &str, value: &str| parse_rfc3339(value).map_err(|m| bad(format!("{key}: {m}")));
        let mut seen: Vec<&str> = Vec::new();
        let (mut from, mut to) = (None, None);
        let mut scope = Scope {
            from: 0,
            to: 0,
            bucket: Bucket::Day,
            zone: TimeZone::UTC,
            by: GroupBy::Team,
            team: None,
            service: None,
        };
        for (key, value) in params {
            if seen.contains(&key.as_str()) {
                return Err(bad(format!("{key}: given more than once")));
            }
            seen.push(key);
            match key.as_str() {
                "from" => from = Some(time(key, value)?),
                "to" => to = Some(time(key, value)?),
                "bucket" => {
                    scope.bucket = Bucket::parse(value)
                        .ok_or_else(|| bad(format!("bucket: {value:?} is not day or week")))?
                }
                "zone" => {
                    scope.zone = TimeZone::get(value).map_err(|_| {
                        bad(format!(
                            "zone: {value:?} is not an IANA time zone such as Asia/Shanghai or UTC"
                        ))
                    })?
                }
                "by" => {
                    scope.by = GroupBy::parse(value)
                        .ok_or_else(|| bad(format!("by: {value:?} is not team or service")))?
                }
                "team" => {
                    if !config.teams.iter().any(|t| t.id == *value) {
                        return Err(bad(format!("team: no team {value:?} in the config")));
                    }
                    scope.team = Some(value.clone());
                }
                "service" => {
                    if config.service(value).is_none() {
                        return Err(bad(format!("service: no service {value:?} in the config")));
                    }
                    scope.service = Some(value.clone());
                }
                other => {
                    return Err(bad(format!(
                        "unknown parameter {other:?}; use {PARAMETERS}"
                    )))
                }
            }
        }
        scope.to = to.unwrap_or(now);
        scope.from = from.unwrap_or(scope.to - DEFAULT_RANGE);
        if scope.from >= scope.to {
            return Err(bad("from: must be before to".into()));
        }
        if scope.to - scope.from > MAX_RANGE {
            return Err(bad("the range from..to may be at most 366 days".into()));
        }
        Ok(ReportParams { scope })
    }
}

/// One section of a report, as a CSV file.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Section {
    Summary,
    Response,
    Volume,
    Noisy,
    Load,
}

impl Section {
    const ALL: [(&'static str, Section); 5] = [
        ("summary", Section::Summary),
        ("response", Section::Response),
        ("volume", Section::Volume),
        ("noisy", Section::Noisy),
        ("load", Section::Load),
    ];

    /// The section a file name asks for: `summary.csv` is the summary.
    fn from_file(file: &str) -> Option<(&'static str, Section)> {
        let name = file.strip_suffix(".csv")?;
        Self::ALL.into_iter().find(|(n, _)| *n == name)
    }
}

/// The report of `params` from the store now.
pub(crate) async fn build(state: &SharedState, params: ReportParams) -> ApiResult<Report> {
    let config = state.config.load_full();
    let scope = params.scope;
    // Computed on the blocking thread too: a busy month is tens of thousands of rows.
    read(state, move |c| {
        Ok(report(&scope, &facts(c, scope.from, scope.to)?, &config))
    })
    .await
}

/// One section of a report as CSV, one row per row of its JSON (the summary's first row, with
/// an empty group, is all groups together).
pub(crate) fn csv(r: &Report, section: Section) -> String {
    const RESPONSE: [&str; 7] = [
        "incidents",
        "acknowledged",
        "mtta_mean_seconds",
        "mtta_median_seconds",
        "resolved",
        "mttr_mean_seconds",
        "mttr_median_seconds",
    ];
    let response = |x: &tocsin_core::reports::Response| -> [Field<'_>; 7] {
        [
            x.incidents.into(),
            x.acknowledged.into(),
            x.mtta_mean_seconds.into(),
            x.mtta_median_seconds.into(),
            x.resolved.into(),
            x.mttr_mean_seconds.into(),
            x.mttr_median_seconds.into(),
        ]
    };
    let noise = |x: &tocsin_core::reports::Noise| -> [Field<'_>; 3] {
        [
            x.alerts.into(),
            x.alerts_per_incident.into(),
            x.noise_reduction.into(),
        ]
    };
    const NOISE: [&str; 3] = ["alerts", "alerts_per_incident", "noise_reduction"];
    match section {
        Section::Summary => {
            let mut out = Csv::new(
                &[
                    &["group", "name"][..],
                    &RESPONSE,
                    &NOISE,
                    &["notifications", "night_notifications"],
                ]
                .concat(),
            );
            let mut totals = |group: &str, name: &str, t: &Totals| {
                out.row(
                    [group.into(), name.into()]
                        .into_iter()
                        .chain(response(&t.response))
                        .chain(noise(&t.noise))
                        .chain([t.notifications.into(), t.night_notifications.into()]),
                )
            };
            totals("", "all", &r.summary.all);
            for g in &r.summary.groups {
                totals(&g.group, &g.name, &g.totals);
            }
            out.finish()
        }
        Section::Response => {
            let mut out = Csv::new(&[&["group", "bucket"][..], &RESPONSE].concat());
            for row in &r.response {
                out.row(
                    [(&row.group).into(), (&row.bucket).into()]
                        .into_iter()
                        .chain(response(&row.response)),
                );
            }
            out.finish()
        }
        Section::Volume => {
            let mut out = Csv::new(&[&["group", "bucket", "incidents"][..], &NOISE].concat());
            for row in &r.volume {
                out.row(
                    [
                        (&row.group).into(),
                        (&row.bucket).into(),
                        row.incidents.into(),
                    ]
                    .into_iter()
                    .chain(noise(&row.noise)),
                );
            }
            out.finish()
        }
        Section::Noisy => {
            let mut out = Csv::new(&[
                "name",
                "service",
                "firings",
                "alerts",
                "incidents",
                "occurrences",
            ]);
            for n in &r.noisy {
                out.row([
                    (&n.name).into(),
                    (&n.service).into(),
                    n.firings.into(),
                    n.alerts.into(),
                    n.incidents.into(),
                    n.occurrences.into(),
                ]);
            }
            out.finish()
        }
        Section::Load => {
            let mut out = Csv::new(&[
                "user",
                "name",
                "time_zone",
                "notifications",
                "incidents",
                "night_notifications",
            ]);
            for l in &r.load {
                out.row([
                    (&l.user).into(),
                    (&l.name).into(),
                    (&l.time_zone).into(),
                    l.notifications.into(),
                    l.incidents.into(),
                    l.night_notifications.into(),
                ]);
            }
            out.finish()
        }
    }
}

pub async fn json(
    State(s): State<SharedState>,
    headers: HeaderMap,
    params: QueryPairs,
) -> ApiResult<Json<Report>> {
    authorize(&s, &headers, Role::Viewer)?;
    let params = ReportParams::parse(&pairs(params)?, s.clock.now(), &s.config.load())?;
    Ok(Json(build(&s, params).await?))
}

pub async fn csv_file(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    params: QueryPairs,
) -> ApiResult<Response> {
    authorize(&s, &headers, Role::Viewer)?;
    let (name, section) = Section::from_file(&file).ok_or_else(|| {
        ApiError::not_found(format!(
            "no report {file:?}; use summary.csv, response.csv, volume.csv, noisy.csv or load.csv"
        ))
    })?;
    let params = ReportParams::parse(&pairs(params)?, s.clock.now(), &s.config.load())?;
    let r = build(&s, params).await?;
    // Named by what it holds and the local dates it covers: tocsin-noisy-2026-03-01-2026-03-31.csv
    let filename = format!("tocsin-{name}-{}-{}.csv", &r.from[..10], &r.to[..10]);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        csv(&r, section),
    )
        .into_response())
}

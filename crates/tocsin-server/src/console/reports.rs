//! The Reports page: MTTA and MTTR over time per team or service, alert volume against
//! incidents with alerts per incident and noise reduction, the noisiest alerts and who was
//! interrupted (at night too), as server-drawn SVG charts and tables over a range of local
//! days or weeks. The numbers are the API's report (`routes::reports`), and each section
//! links to the same report as CSV.

use super::accounts::Viewer;
use super::board::encode;
use super::charts::{self, Chart, Kind, Series, Unit};
use super::render;
use crate::routes::reports::{build, ReportParams};
use crate::state::SharedState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tocsin_core::reports::Report;

/// The ranges the form offers, in local days up to today.
const RANGES: [&str; 3] = ["7", "30", "90"];

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ReportQuery {
    /// `7`, `30`, `90` (days up to today) or `custom` (`from` and `to`).
    #[serde(default)]
    range: String,
    /// Local dates, `to` included.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    bucket: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    zone: String,
}

impl ReportQuery {
    /// Fills the defaults in: 30 days, daily, by team, on the viewer's clock.
    fn settle(&mut self, viewer: &Viewer) {
        if self.range.is_empty() {
            self.range = if self.from.is_empty() { "30" } else { "custom" }.into();
        }
        if self.bucket.is_empty() {
            self.bucket = "day".into();
        }
        if self.by.is_empty() {
            self.by = "team".into();
        }
        self.zone = self.zone.trim().to_string();
        if self.zone.is_empty() {
            self.zone = viewer.zone.clone();
        }
    }

    /// The API's parameters: whole local days of `zone` from `from` to `to` (included), the
    /// last `range` days up to today unless the range is custom. Fills in the dates shown.
    fn api_pairs(&mut self, now: i64) -> Result<Vec<(String, String)>, String> {
        let zone = TimeZone::get(&self.zone)
            .map_err(|_| format!("zone: {:?} is not an IANA time zone", self.zone))?;
        let today = Timestamp::from_millisecond(now)
            .map_err(|e| e.to_string())?
            .to_zoned(zone.clone())
            .date();
        let (from, to) = if RANGES.contains(&self.range.as_str()) {
            let days: i64 = self.range.parse().unwrap_or(30);
            let from = today
                .checked_sub((days - 1).days())
                .map_err(|e| e.to_string())?;
            (from, today)
        } else {
            self.range = "custom".into();
            let date = |key: &str, text: &str| -> Result<Date, String> {
                text.trim()
                    .parse::<Date>()
                    .map_err(|_| format!("{key}: {text:?} is not a date (YYYY-MM-DD)"))
            };
            let to = if self.to.trim().is_empty() {
                today
            } else {
                date("to", &self.to)?
            };
            let from = if self.from.trim().is_empty() {
                to.checked_sub(29.days()).map_err(|e| e.to_string())?
            } else {
                date("from", &self.from)?
            };
            (from, to)
        };
        if from > to {
            return Err("from: must not be after to".into());
        }
        self.from = from.to_string();
        self.to = to.to_string();
        let start = |d: Date| -> Result<String, String> {
            d.to_zoned(zone.clone())
                .map(|z| z.timestamp().to_string())
                .map_err(|e| e.to_string())
        };
        let end = to.tomorrow().map_err(|e| e.to_string())?;
        let mut pairs = vec![
            ("from".to_string(), start(from)?),
            ("to".to_string(), start(end)?),
            ("bucket".to_string(), self.bucket.clone()),
            ("zone".to_string(), self.zone.clone()),
            ("by".to_string(), self.by.clone()),
        ];
        for (k, v) in [("team", &self.team), ("service", &self.service)] {
            if !v.is_empty() {
                pairs.push((k.to_string(), v.clone()));
            }
        }
        Ok(pairs)
    }
}

/// `0.7778` as `77.8%`; a dash without a value.
fn percent(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:.1}%", v * 100.0))
}

/// `4.5` as `4.5`, one decimal; a dash without a value.
fn ratio(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.1}"))
}

pub async fn page(
    State(s): State<SharedState>,
    viewer: Viewer,
    q: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let now = s.clock.now();
    let mut q = q.map(|Query(q)| q).unwrap_or_default();
    q.settle(&viewer);
    let config = s.config.load_full();
    let result = match q.api_pairs(now) {
        Ok(pairs) => match ReportParams::parse(&pairs, now, &config) {
            Ok(params) => match build(&s, params).await {
                Ok(report) => Ok((report, pairs)),
                Err(e) => Err((e.status, e.message)),
            },
            Err(e) => Err((StatusCode::BAD_REQUEST, e.message)),
        },
        Err(message) => Err((StatusCode::BAD_REQUEST, message)),
    };
    let mut zones: Vec<String> = config
        .users
        .iter()
        .map(|u| u.time_zone.clone())
        .chain([viewer.zone.clone(), "UTC".into()])
        .collect();
    zones.sort();
    zones.dedup();
    let form = context! {
        filter => &q,
        ranges => RANGES,
        zones => zones,
        teams => config.teams.iter().map(|t| context!{ id => t.id, name => t.name }).collect::<Vec<_>>(),
        services => config.services.iter().map(|t| context!{ id => t.id, name => t.name }).collect::<Vec<_>>(),
    };
    let (status, ctx) = match result {
        Ok((report, pairs)) => {
            let query = pairs
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            (
                StatusCode::OK,
                context! { report => view(&report, &viewer), csv_query => query, ..form },
            )
        }
        Err((status, message)) => (status, context! { error => message, ..form }),
    };
    let mut r = render::page("reports.html", &viewer, "reports", now, ctx);
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

/// What the template draws: the totals, the charts as SVG, the tables' rows.
fn view(r: &Report, viewer: &Viewer) -> Value {
    let zh = viewer.language == tocsin_core::config::Language::Zh;
    let text = |key: &str| super::i18n::text(viewer.language, key);
    // `2026-03-02T00:00:00+08:00`: `03-02` under the axis, the date in tooltips.
    let index: HashMap<&str, usize> = r
        .buckets
        .iter()
        .enumerate()
        .map(|(i, b)| (b.start.as_str(), i))
        .collect();
    let labels: Vec<String> = r
        .buckets
        .iter()
        .map(|b| b.start.get(5..10).unwrap_or(&b.start).to_string())
        .collect();
    let long_labels: Vec<String> = r
        .buckets
        .iter()
        .map(|b| {
            let day = b.start.get(..10).unwrap_or(&b.start);
            match r.bucket {
                tocsin_core::reports::Bucket::Day => day.to_string(),
                tocsin_core::reports::Bucket::Week if zh => format!("{day} 起一周"),
                tocsin_core::reports::Bucket::Week => format!("week of {day}"),
            }
        })
        .collect();
    let names: HashMap<&str, &str> = r
        .summary
        .groups
        .iter()
        .map(|g| (g.group.as_str(), g.name.as_str()))
        .collect();
    let name_of = |g: &str| names.get(g).copied().unwrap_or(g).to_string();
    let n = r.buckets.len();

    // MTTA and MTTR (means) per group, over time.
    let mut groups: Vec<&str> = Vec::new();
    for row in &r.response {
        if !groups.contains(&row.group.as_str()) {
            groups.push(&row.group);
        }
    }
    let per_group = |pick: &dyn Fn(&tocsin_core::reports::Response) -> Option<f64>| {
        groups
            .iter()
            .map(|g| {
                let mut values = vec![None; n];
                for row in r.response.iter().filter(|row| row.group == *g) {
                    if let Some(i) = index.get(row.bucket.as_str()) {
                        values[*i] = pick(&row.response);
                    }
                }
                Series {
                    name: name_of(g),
                    values,
                }
            })
            .collect::<Vec<_>>()
    };
    let line = |title: &str, series: Vec<Series>| {
        let empty = series.iter().all(|s| s.values.iter().all(Option::is_none));
        (!empty).then(|| {
            charts::draw(&Chart {
                kind: Kind::Line,
                unit: Unit::Seconds,
                title: title.to_string(),
                labels: labels.clone(),
                long_labels: long_labels.clone(),
                series,
            })
        })
    };
    let mtta = line(&text("reports.mtta"), per_group(&|x| x.mtta_mean_seconds));
    let mttr = line(&text("reports.mttr"), per_group(&|x| x.mttr_mean_seconds));
    let legend: Vec<Value> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| context! { name => name_of(g), class => format!("s{}", i % charts::COLOURS) })
        .collect();

    // Alerts against incidents per bucket, all groups together.
    let (mut alerts, mut incidents) = (vec![0.0; n], vec![0.0; n]);
    for row in &r.volume {
        if let Some(i) = index.get(row.bucket.as_str()) {
            alerts[*i] += row.noise.alerts as f64;
            incidents[*i] += row.incidents as f64;
        }
    }
    let volume = (!r.volume.is_empty()).then(|| {
        charts::draw(&Chart {
            kind: Kind::Bars,
            unit: Unit::Count,
            title: text("reports.volume"),
            labels: labels.clone(),
            long_labels: long_labels.clone(),
            series: vec![
                Series {
                    name: text("reports.alerts"),
                    values: alerts.into_iter().map(Some).collect(),
                },
                Series {
                    name: text("reports.incidents"),
                    values: incidents.into_iter().map(Some).collect(),
                },
            ],
        })
    });

    // Interruptions per person.
    let load_chart = (!r.load.is_empty()).then(|| {
        let pick = |f: fn(&tocsin_core::reports::LoadRow) -> u64| {
            r.load.iter().map(|l| Some(f(l) as f64)).collect()
        };
        charts::draw(&Chart {
            kind: Kind::Bars,
            unit: Unit::Count,
            title: text("reports.load"),
            labels: r.load.iter().map(|l| short(&l.name)).collect(),
            long_labels: r.load.iter().map(|l| l.name.clone()).collect(),
            series: vec![
                Series {
                    name: text("reports.notifications"),
                    values: pick(|l| l.notifications),
                },
                Series {
                    name: text("reports.incidents"),
                    values: pick(|l| l.incidents),
                },
                Series {
                    name: text("reports.night"),
                    values: pick(|l| l.night_notifications),
                },
            ],
        })
    });

    let all = &r.summary.all;
    context! {
        from => r.from,
        to => r.to,
        zone => r.zone,
        all => context! {
            incidents => all.response.incidents,
            acknowledged => all.response.acknowledged,
            resolved => all.response.resolved,
            mtta => all.response.mtta_mean_seconds,
            mtta_median => all.response.mtta_median_seconds,
            mttr => all.response.mttr_mean_seconds,
            mttr_median => all.response.mttr_median_seconds,
            alerts => all.noise.alerts,
            per_incident => ratio(all.noise.alerts_per_incident),
            reduction => percent(all.noise.noise_reduction),
            notifications => all.notifications,
            night => all.night_notifications,
        },
        groups => r.summary.groups.iter().map(|g| context! {
            name => g.name,
            incidents => g.totals.response.incidents,
            mtta => g.totals.response.mtta_mean_seconds,
            mttr => g.totals.response.mttr_mean_seconds,
            alerts => g.totals.noise.alerts,
            per_incident => ratio(g.totals.noise.alerts_per_incident),
            reduction => percent(g.totals.noise.noise_reduction),
        }).collect::<Vec<_>>(),
        legend => legend,
        mtta_chart => mtta.map(Value::from_safe_string),
        mttr_chart => mttr.map(Value::from_safe_string),
        volume_chart => volume.map(Value::from_safe_string),
        load_chart => load_chart.map(Value::from_safe_string),
        noisy => r.noisy,
        load => r.load,
    }
}

/// A person's name short enough to sit under a bar.
fn short(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= 10 {
        name.to_string()
    } else {
        chars[..9].iter().collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_and_ratios_have_one_decimal() {
        assert_eq!(percent(Some(0.7778)), "77.8%");
        assert_eq!(percent(Some(-0.5)), "-50.0%");
        assert_eq!(percent(None), "–");
        assert_eq!(ratio(Some(4.0)), "4.0");
    }

    #[test]
    fn ranges_are_whole_local_days() {
        let mut q = ReportQuery {
            range: "7".into(),
            zone: "Asia/Shanghai".into(),
            bucket: "day".into(),
            by: "team".into(),
            ..Default::default()
        };
        // 2026-03-10T02:00:00Z is 10:00 on the 10th in Shanghai.
        let now = "2026-03-10T02:00:00Z".parse::<Timestamp>().unwrap();
        let pairs = q.api_pairs(now.as_millisecond()).unwrap();
        assert_eq!(pairs[0], ("from".into(), "2026-03-03T16:00:00Z".into()));
        assert_eq!(pairs[1], ("to".into(), "2026-03-10T16:00:00Z".into()));
        assert_eq!(
            (q.from.as_str(), q.to.as_str()),
            ("2026-03-04", "2026-03-10")
        );

        let mut q = ReportQuery {
            range: "custom".into(),
            from: "2026-03-05".into(),
            to: "2026-03-01".into(),
            zone: "UTC".into(),
            ..Default::default()
        };
        assert!(q.api_pairs(now.as_millisecond()).is_err());
        q.from = "yesterday".into();
        assert!(q
            .api_pairs(now.as_millisecond())
            .unwrap_err()
            .contains("from"));
        q.zone = "Mars/Base".into();
        assert!(q
            .api_pairs(now.as_millisecond())
            .unwrap_err()
            .contains("zone"));
    }
}

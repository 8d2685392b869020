//! Small server-drawn charts for the console: a line or a grouped bar chart from a few series,
//! as inline SVG with axes, bucket labels and each value in a `<title>` tooltip. No script and
//! no inline style: the colours are CSS classes (`s0`..`s5`) in `app.css`, so they follow the
//! dark theme, and the `viewBox` lets the chart shrink to a phone's width.

use std::fmt::Write;

/// The drawing's size in SVG units; the page scales it to its column.
const WIDTH: f64 = 520.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 26.0;
/// Bucket labels drawn at most under the axis; every value keeps its label in its tooltip.
const MAX_LABELS: usize = 7;
/// Colour classes `s0`..: series beyond these reuse them.
pub const COLOURS: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Line,
    Bars,
}

/// How the values read: counts (whole ticks), seconds (ticks on round durations, shown as
/// `2h 30m`) or plain numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Seconds,
}

impl Unit {
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Count => {
                if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.1}")
                }
            }
            Unit::Seconds => super::render::short_duration(v.round() as i64),
        }
    }
}

/// One line or one colour of bars: a value (or nothing) per label.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Clone)]
pub struct Chart {
    pub kind: Kind,
    pub unit: Unit,
    /// What the chart shows, for screen readers.
    pub title: String,
    /// Under the axis, one per value (shown thinned when there are many).
    pub labels: Vec<String>,
    /// In tooltips, one per value: the label in full (a whole date, a person's name).
    pub long_labels: Vec<String>,
    pub series: Vec<Series>,
}

/// The vertical axis: from 0 to `top` with a line at each tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    pub top: f64,
    pub ticks: Vec<f64>,
}

/// Round steps for durations: seconds to days.
const DURATION_STEPS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
    10800.0, 21600.0, 43200.0, 86400.0, 172800.0, 432000.0, 864000.0,
];

/// A scale from 0 that holds `max` in about four round steps. With nothing above 0 it is 0
/// to one step, so an empty chart still has an axis.
pub fn scale(max: f64, unit: Unit) -> Scale {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        0.0
    };
    let raw = (max / 4.0).max(f64::MIN_POSITIVE);
    let step = match unit {
        Unit::Seconds if raw <= *DURATION_STEPS.last().unwrap() => DURATION_STEPS
            .iter()
            .copied()
            .find(|s| *s >= raw)
            .unwrap_or(1.0),
        _ => {
            let mag = 10f64.powf(raw.log10().floor());
            let norm = raw / mag;
            let nice = if norm <= 1.0 {
                1.0
            } else if norm <= 2.0 {
                2.0
            } else if norm <= 5.0 {
                5.0
            } else {
                10.0
            };
            // Counts have no half steps.
            (nice * mag).max(1.0)
        }
    };
    let steps = (max / step).ceil().max(1.0) as usize;
    Scale {
        top: step * steps as f64,
        ticks: (0..=steps).map(|i| step * i as f64).collect(),
    }
}

/// Escapes text for SVG content and attributes.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The chart as an `<svg>` element.
pub fn draw(chart: &Chart) -> String {
    let n = chart.labels.len().max(1);
    let max = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0f64, |m, v| m.max(*v));
    let scale = scale(max, chart.unit);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / n as f64;
    let y = |v: f64| TOP + plot_h - (v.max(0.0) / scale.top) * plot_h;
    let x_mid = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let long = |i: usize| {
        chart
            .long_labels
            .get(i)
            .or(chart.labels.get(i))
            .cloned()
            .unwrap_or_default()
    };

    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" preserveAspectRatio="xMidYMid meet">"#,
        esc(&chart.title)
    );
    // Grid and the vertical axis's labels.
    for t in &scale.ticks {
        let ty = y(*t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            ty + 4.0,
            esc(&chart.unit.format(*t))
        );
    }
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#,
        TOP + plot_h,
        WIDTH - RIGHT,
        TOP + plot_h
    );
    // Bucket labels, thinned to at most MAX_LABELS, the first always shown.
    let every = chart.labels.len().div_ceil(MAX_LABELS).max(1);
    for (i, label) in chart.labels.iter().enumerate() {
        if i % every == 0 {
            let _ = write!(
                out,
                r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x_mid(i),
                HEIGHT - 8.0,
                esc(label)
            );
        }
    }
    match chart.kind {
        Kind::Bars => {
            let k = chart.series.len().max(1) as f64;
            let group = slot * 0.8;
            let bar = group / k;
            for (si, s) in chart.series.iter().enumerate() {
                for (i, v) in s.values.iter().enumerate() {
                    let v = v.unwrap_or(0.0);
                    let bx = LEFT + slot * i as f64 + (slot - group) / 2.0 + bar * si as f64;
                    let by = y(v);
                    let _ = write!(
                        out,
                        r#"<rect class="bar s{}" x="{bx:.2}" y="{by:.2}" width="{:.2}" height="{:.2}"><title>{}: {} {}</title></rect>"#,
                        si % COLOURS,
                        (bar - 0.5).max(0.5),
                        TOP + plot_h - by,
                        esc(&long(i)),
                        esc(&s.name),
                        esc(&chart.unit.format(v))
                    );
                }
            }
        }
        Kind::Line => {
            for (si, s) in chart.series.iter().enumerate() {
                let mut d = String::new();
                let mut pen_down = false;
                for (i, v) in s.values.iter().enumerate() {
                    match v {
                        Some(v) => {
                            let _ = write!(
                                d,
                                "{}{:.1} {:.1} ",
                                if pen_down { "L" } else { "M" },
                                x_mid(i),
                                y(*v)
                            );
                            pen_down = true;
                        }
                        None => pen_down = false,
                    }
                }
                let _ = write!(
                    out,
                    r#"<path class="line s{}" d="{}"><title>{}</title></path>"#,
                    si % COLOURS,
                    d.trim_end(),
                    esc(&s.name)
                );
                for (i, v) in s.values.iter().enumerate() {
                    if let Some(v) = v {
                        let _ = write!(
                            out,
                            r#"<circle class="dot s{}" cx="{:.1}" cy="{:.1}" r="3.5"><title>{}: {} {}</title></circle>"#,
                            si % COLOURS,
                            x_mid(i),
                            y(*v),
                            esc(&long(i)),
                            esc(&s.name),
                            esc(&chart.unit.format(*v))
                        );
                    }
                }
            }
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(kind: Kind, values: Vec<Vec<Option<f64>>>) -> Chart {
        let n = values.first().map_or(0, Vec::len);
        Chart {
            kind,
            unit: Unit::Count,
            title: "t".into(),
            labels: (0..n).map(|i| format!("d{i}")).collect(),
            long_labels: vec![],
            series: values
                .into_iter()
                .enumerate()
                .map(|(i, values)| Series {
                    name: format!("s{i}"),
                    values,
                })
                .collect(),
        }
    }

    #[test]
    fn a_single_point_gets_a_scale_above_it() {
        let s = scale(7.0, Unit::Count);
        assert!(s.top >= 7.0, "{s:?}");
        assert_eq!(s.ticks.first(), Some(&0.0));
        assert_eq!(s.ticks.last(), Some(&s.top));
        assert!(s.ticks.len() >= 2 && s.ticks.len() <= 6, "{s:?}");
    }

    #[test]
    fn all_zeros_still_have_an_axis() {
        for unit in [Unit::Count, Unit::Seconds] {
            let s = scale(0.0, unit);
            assert!(s.top > 0.0, "{s:?}");
            assert_eq!(s.ticks.len(), 2);
        }
        assert_eq!(scale(f64::NAN, Unit::Count).ticks.len(), 2);
        let svg = draw(&chart(Kind::Bars, vec![vec![Some(0.0); 3]]));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }

    #[test]
    fn counts_step_by_whole_numbers_and_large_values_fit() {
        assert_eq!(scale(1.0, Unit::Count).ticks, vec![0.0, 1.0]);
        assert_eq!(scale(3.0, Unit::Count).ticks, vec![0.0, 1.0, 2.0, 3.0]);
        let big = scale(123_456_789.0, Unit::Count);
        assert!(
            big.top >= 123_456_789.0 && big.top < 2.0 * 123_456_789.0,
            "{big:?}"
        );
        assert!(big.ticks.len() <= 6);
        let svg = draw(&chart(
            Kind::Line,
            vec![vec![Some(123_456_789.0), Some(5.0)]],
        ));
        assert!(
            svg.contains(">200000000<") || svg.contains(">150000000<"),
            "{svg}"
        );
    }

    #[test]
    fn durations_step_on_round_times() {
        let s = scale(5000.0, Unit::Seconds);
        assert_eq!(s.ticks[1], 1800.0, "{s:?}");
        assert_eq!(Unit::Seconds.format(5400.0), "1h 30m");
        assert!(scale(10.0 * 86400.0 * 30.0, Unit::Seconds).top >= 10.0 * 86400.0 * 30.0);
    }

    #[test]
    fn bars_draw_one_rect_per_value_with_a_tooltip() {
        let svg = draw(&chart(
            Kind::Bars,
            vec![
                vec![Some(1.0), None, Some(3.0)],
                vec![Some(2.0), Some(2.0), Some(0.0)],
            ],
        ));
        assert_eq!(svg.matches("<rect").count(), 6);
        assert_eq!(svg.matches("<title>").count(), 6);
        assert!(svg.contains("<title>d2: s0 3</title>"), "{svg}");
        assert!(svg.contains(r#"class="bar s1""#));
        assert!(svg.starts_with("<svg") && svg.contains("viewBox=\"0 0 520 220\""));
    }

    #[test]
    fn lines_draw_one_path_per_series_and_a_dot_per_value() {
        let svg = draw(&chart(
            Kind::Line,
            vec![
                vec![Some(1.0), None, Some(3.0), Some(4.0)],
                vec![Some(5.0), Some(6.0), Some(7.0), Some(8.0)],
            ],
        ));
        assert_eq!(svg.matches("<path").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 7);
        // The gap lifts the pen.
        let first = svg.split("<path").nth(1).unwrap();
        assert_eq!(
            first
                .split("\"><title>")
                .next()
                .unwrap()
                .matches('M')
                .count(),
            2
        );
    }

    #[test]
    fn a_single_point_line_has_its_dot() {
        let svg = draw(&chart(Kind::Line, vec![vec![Some(42.0)]]));
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.contains("<title>d0: s0 42</title>"));
    }

    #[test]
    fn text_is_escaped_and_labels_thinned() {
        let mut c = chart(Kind::Bars, vec![vec![Some(1.0); 30]]);
        c.series[0].name = "<b>&\"x\"".into();
        let svg = draw(&c);
        assert!(svg.contains("&lt;b&gt;&amp;&quot;x&quot;"), "{svg}");
        assert!(!svg.contains("<b>"));
        let labels = svg.matches("text-anchor=\"middle\"").count();
        assert!((2..=MAX_LABELS).contains(&labels), "{labels}");
    }
}

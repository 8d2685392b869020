//! Calendar buckets of a report: local days or ISO weeks (Monday first) of one zone, so a day
//! in a zone that changes its clocks is 23 or 25 hours long, as the people living in it count.

use super::Bucket;
use crate::time::Millis;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// The buckets that cover `[from, to)`: the first starts at or before `from` (the day or week
/// it falls in), the last ends at or after `to`; only instants in `[from, to)` belong to any.
#[derive(Debug, Clone)]
pub struct Buckets {
    zone: TimeZone,
    from: Millis,
    to: Millis,
    /// Each bucket's start, then the end of the last: one more than there are buckets.
    bounds: Vec<Millis>,
}

impl Buckets {
    pub fn new(bucket: Bucket, zone: &TimeZone, from: Millis, to: Millis) -> Buckets {
        let step = match bucket {
            Bucket::Day => 1.day(),
            Bucket::Week => 1.week(),
        };
        let mut date = zone.to_datetime(timestamp(from)).date();
        if bucket == Bucket::Week {
            let back = date.weekday().to_monday_zero_offset();
            date = date.checked_sub(i64::from(back).days()).unwrap_or(date);
        }
        let mut bounds = vec![start_of(zone, date)];
        while *bounds.last().expect("one bound at least") < to {
            let Ok(next) = date.checked_add(step) else {
                // Past jiff's last date: the range ends there too.
                bounds.push(to);
                break;
            };
            date = next;
            bounds.push(start_of(zone, date));
        }
        Buckets {
            zone: zone.clone(),
            from,
            to,
            bounds,
        }
    }

    pub fn len(&self) -> usize {
        self.bounds.len() - 1
    }

    /// The bucket an instant falls in; None outside `[from, to)`.
    pub fn index(&self, t: Millis) -> Option<usize> {
        if t < self.from || t >= self.to {
            return None;
        }
        // bounds[0] <= from <= t, so at least one bound is <= t.
        Some(self.bounds.partition_point(|&b| b <= t) - 1)
    }

    /// Where bucket `i` starts and ends.
    pub fn span(&self, i: usize) -> (Millis, Millis) {
        (self.bounds[i], self.bounds[i + 1])
    }

    /// An instant on the zone's clock with its offset, `2026-03-08T00:00:00-05:00`.
    pub fn format(&self, t: Millis) -> String {
        timestamp(t)
            .to_zoned(self.zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
            .to_string()
    }
}

fn timestamp(t: Millis) -> Timestamp {
    Timestamp::from_millisecond(t).unwrap_or(if t > 0 {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    })
}

/// The first instant of a local day: midnight, or the end of a gap that swallows midnight.
fn start_of(zone: &TimeZone, date: Date) -> Millis {
    date.to_zoned(zone.clone())
        .and_then(|z| z.start_of_day())
        .map(|z| z.timestamp().as_millisecond())
        // Only dates at the ends of jiff's range fail.
        .unwrap_or(if date.year() > 0 {
            Timestamp::MAX.as_millisecond()
        } else {
            Timestamp::MIN.as_millisecond()
        })
}

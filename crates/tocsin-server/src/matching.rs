//! Compiling and matching client regexes (silence matchers, Alertmanager filters) without
//! holding an async worker: an async worker held up holds up every request it would serve,
//! intake included. The compile limits bound what one compile or one match costs
//! (`tocsin_core::user_regex`); [`off_worker`] moves that work to the blocking pool, and a
//! [`Budget`] bounds a whole request, so filters slow over many alerts answer 503 after a
//! while instead of holding a thread, and a core, for as long as they take.

use crate::error::ApiError;
use std::time::{Duration, Instant};

/// How long one request may spend matching (docs/security.md, "Regular expressions").
pub const MATCH_BUDGET: Duration = Duration::from_secs(2);

/// Runs `f` (compiling or matching regexes) on the blocking pool.
pub async fn off_worker<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("matching task failed: {e}")))
}

/// A budget started when the matching starts.
pub struct Budget {
    started: Instant,
    limit: Duration,
}

impl Budget {
    pub fn start(limit: Duration) -> Self {
        Budget {
            started: Instant::now(),
            limit,
        }
    }

    /// Maps every item through `f`, keeping what it returns, or gives up with a message
    /// once the budget is spent. The clock is read once per item: one item's matching is
    /// bounded, so the overrun is too.
    pub fn filter_map<T, U>(
        &self,
        items: Vec<T>,
        mut f: impl FnMut(T) -> Option<U>,
    ) -> Result<Vec<U>, String> {
        let total = items.len();
        let mut out = Vec::new();
        for (done, item) in items.into_iter().enumerate() {
            if self.started.elapsed() > self.limit {
                return Err(format!(
                    "matching the filters took over {:?} ({done} of {total} alerts checked); use fewer or simpler regular expressions",
                    self.limit
                ));
            }
            out.extend(f(item));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_the_budget_everything_is_checked() {
        let b = Budget::start(MATCH_BUDGET);
        let even = b.filter_map((0..1000).collect(), |i: i32| (i % 2 == 0).then_some(i));
        assert_eq!(even.unwrap().len(), 500);
    }

    #[test]
    fn a_spent_budget_stops_with_a_message() {
        let b = Budget {
            started: Instant::now() - Duration::from_secs(3),
            limit: MATCH_BUDGET,
        };
        let mut calls = 0;
        let err = b
            .filter_map((0..1000).collect(), |i: i32| {
                calls += 1;
                Some(i)
            })
            .unwrap_err();
        assert_eq!(calls, 0);
        assert_eq!(
            err,
            "matching the filters took over 2s (0 of 1000 alerts checked); use fewer or simpler regular expressions"
        );
    }
}

//! ITIL priority: P1..P5 from impact (how much of the business is hit, from the service) and
//! urgency (how fast it must be handled, from the alert severity).

use crate::event::Severity;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A three-step scale shared by impact and urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Low,
    Medium,
    High,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        [Level::Low, Level::Medium, Level::High]
            .into_iter()
            .find(|l| l.as_str() == text)
    }
    fn index(self) -> usize {
        match self {
            Level::High => 0,
            Level::Medium => 1,
            Level::Low => 2,
        }
    }
}

/// P1 (most urgent) to P5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Priority(u8);

impl Priority {
    pub fn new(n: u8) -> Option<Self> {
        (1..=5).contains(&n).then_some(Priority(n))
    }
    pub fn number(self) -> u8 {
        self.0
    }
    /// Parses `P1`..`P5` (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix('P').or_else(|| text.strip_prefix('p'))?;
        rest.parse::<u8>().ok().and_then(Priority::new)
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.0)
    }
}

/// The impact x urgency matrix and the severity -> urgency mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityMatrix {
    /// `cells[impact][urgency]`, both indexed high, medium, low.
    cells: [[Priority; 3]; 3],
    urgency: [Level; 4],
}

impl Default for PriorityMatrix {
    /// The classic ITIL matrix: H/H = P1, H/M and M/H = P2, H/L, M/M and L/H = P3,
    /// M/L and L/M = P4, L/L = P5; critical and high severities are high urgency.
    fn default() -> Self {
        let p = |n| Priority(n);
        PriorityMatrix {
            cells: [[p(1), p(2), p(3)], [p(2), p(3), p(4)], [p(3), p(4), p(5)]],
            urgency: [Level::Low, Level::Medium, Level::High, Level::High],
        }
    }
}

impl PriorityMatrix {
    pub fn set_cell(&mut self, impact: Level, urgency: Level, priority: Priority) {
        self.cells[impact.index()][urgency.index()] = priority;
    }
    pub fn set_urgency(&mut self, severity: Severity, urgency: Level) {
        self.urgency[severity as usize] = urgency;
    }
    pub fn urgency_of(&self, severity: Severity) -> Level {
        self.urgency[severity as usize]
    }
    pub fn priority(&self, impact: Level, urgency: Level) -> Priority {
        self.cells[impact.index()][urgency.index()]
    }
    /// The priority of an incident of a service with `impact` whose worst alert is `severity`.
    pub fn for_alert(&self, impact: Level, severity: Severity) -> Priority {
        self.priority(impact, self.urgency_of(severity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_matrix_is_itil() {
        let m = PriorityMatrix::default();
        assert_eq!(
            m.for_alert(Level::High, Severity::Critical).to_string(),
            "P1"
        );
        assert_eq!(
            m.for_alert(Level::Medium, Severity::Critical).to_string(),
            "P2"
        );
        assert_eq!(
            m.for_alert(Level::Medium, Severity::Warning).to_string(),
            "P3"
        );
        assert_eq!(m.for_alert(Level::Low, Severity::Info).to_string(), "P5");
    }

    #[test]
    fn cells_and_urgency_are_configurable() {
        let mut m = PriorityMatrix::default();
        m.set_urgency(Severity::Warning, Level::High);
        m.set_cell(Level::Low, Level::High, Priority::new(2).unwrap());
        assert_eq!(m.for_alert(Level::Low, Severity::Warning).to_string(), "P2");
    }

    #[test]
    fn parses_priorities() {
        assert_eq!(Priority::parse("P3"), Priority::new(3));
        assert_eq!(Priority::parse("p1"), Priority::new(1));
        assert_eq!(Priority::parse("P6"), None);
        assert_eq!(Priority::parse("3"), None);
    }
}

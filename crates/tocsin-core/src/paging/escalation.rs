//! Where an incident's escalation stands and what comes after the current level: the next
//! level, the first level again (a repeat), or nothing more.

use super::EscalationPolicy;
use crate::time::Millis;

/// The level last paged, in which pass, and when the next step is due (`None`: no more
/// steps, or stopped by an acknowledgement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationState {
    pub level: usize,
    pub round: u32,
    pub next_at: Option<Millis>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Page {
        level: usize,
        round: u32,
    },
    /// Every level of every pass has been paged.
    Exhausted,
}

/// The step after `state`'s level.
pub fn next_step(policy: &EscalationPolicy, state: &EscalationState) -> Step {
    if state.level + 1 < policy.levels.len() {
        Step::Page {
            level: state.level + 1,
            round: state.round,
        }
    } else if state.round < policy.repeat {
        Step::Page {
            level: 0,
            round: state.round + 1,
        }
    } else {
        Step::Exhausted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::EscalationLevel;

    fn policy(levels: usize, repeat: u32) -> EscalationPolicy {
        EscalationPolicy {
            id: "p".into(),
            name: "p".into(),
            levels: (0..levels)
                .map(|_| EscalationLevel {
                    delay: 60_000,
                    targets: vec![],
                })
                .collect(),
            repeat,
            unresolved_after: None,
        }
    }

    #[test]
    fn levels_then_repeats_then_done() {
        let p = policy(2, 1);
        let mut s = EscalationState {
            level: 0,
            round: 0,
            next_at: None,
        };
        let mut seen = Vec::new();
        while let Step::Page { level, round } = next_step(&p, &s) {
            seen.push((level, round));
            s.level = level;
            s.round = round;
        }
        assert_eq!(seen, [(1, 0), (0, 1), (1, 1)]);
        assert_eq!(next_step(&policy(1, 0), &s), Step::Exhausted);
    }
}

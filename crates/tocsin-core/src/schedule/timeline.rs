//! Timelines: sorted, non-overlapping segments each naming one user (by index), and the
//! two operations resolution needs: painting one timeline over another, and joining
//! adjacent segments of the same user.

use crate::time::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Seg {
    pub start: Millis,
    pub end: Millis,
    pub user: u32,
}

/// `top` painted over `base`: where `top` has a segment it wins, elsewhere `base` shows.
/// Both sorted and non-overlapping; linear in their lengths.
pub(super) fn overlay(base: Vec<Seg>, top: &[Seg]) -> Vec<Seg> {
    if top.is_empty() {
        return base;
    }
    let mut out = Vec::with_capacity(base.len() + 2 * top.len());
    let mut rest = base.into_iter().peekable();
    let mut carry: Option<Seg> = None;
    for t in top {
        while let Some(b) = carry.take().or_else(|| rest.next()) {
            if b.end <= t.start {
                out.push(b);
                continue;
            }
            if b.start < t.start {
                out.push(Seg { end: t.start, ..b });
            }
            if b.end > t.end {
                // The part after this top segment may meet the next one.
                carry = Some(Seg {
                    start: b.start.max(t.end),
                    ..b
                });
            }
            if b.end >= t.end {
                break;
            }
        }
        out.push(*t);
    }
    out.extend(carry);
    out.extend(rest);
    out
}

/// Joins segments of the same user that touch.
pub(super) fn join(segs: Vec<Seg>) -> Vec<Seg> {
    let mut out: Vec<Seg> = Vec::with_capacity(segs.len());
    for s in segs {
        match out.last_mut() {
            Some(last) if last.user == s.user && last.end == s.start => last.end = s.end,
            _ => out.push(s),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(start: Millis, end: Millis, user: u32) -> Seg {
        Seg { start, end, user }
    }

    #[test]
    fn top_wins_where_it_has_someone() {
        let base = vec![s(0, 10, 1), s(10, 20, 2), s(25, 30, 3)];
        let top = [s(5, 12, 9), s(18, 27, 8)];
        assert_eq!(
            overlay(base, &top),
            vec![
                s(0, 5, 1),
                s(5, 12, 9),
                s(12, 18, 2),
                s(18, 27, 8),
                s(27, 30, 3)
            ]
        );
        // A top segment inside one base segment splits it.
        assert_eq!(
            overlay(vec![s(0, 10, 1)], &[s(3, 4, 2), s(6, 7, 3)]),
            vec![s(0, 3, 1), s(3, 4, 2), s(4, 6, 1), s(6, 7, 3), s(7, 10, 1)]
        );
        assert_eq!(overlay(vec![], &[s(1, 2, 1)]), vec![s(1, 2, 1)]);
    }

    #[test]
    fn touching_segments_of_one_user_join() {
        assert_eq!(
            join(vec![s(0, 5, 1), s(5, 9, 1), s(9, 12, 2), s(13, 14, 2)]),
            vec![s(0, 9, 1), s(9, 12, 2), s(13, 14, 2)]
        );
    }

    proptest::proptest! {
        /// Painting agrees with asking, at every point, "the top's user if it has one, else
        /// the base's".
        #[test]
        fn overlay_matches_pointwise(
            base_cuts in proptest::collection::btree_set(0i64..100, 0..12),
            top_cuts in proptest::collection::btree_set(0i64..100, 0..12),
        ) {
            let segs = |cuts: &std::collections::BTreeSet<i64>, user0: u32| -> Vec<Seg> {
                let v: Vec<i64> = cuts.iter().copied().collect();
                v.windows(2).enumerate().filter(|(i, _)| i % 2 == 0)
                    .map(|(i, w)| s(w[0], w[1], user0 + i as u32)).collect()
            };
            let base = segs(&base_cuts, 0);
            let top = segs(&top_cuts, 100);
            let painted = overlay(base.clone(), &top);
            let at = |list: &[Seg], p: i64| list.iter().find(|g| g.start <= p && p < g.end).map(|g| g.user);
            for p in 0..100 {
                let want = at(&top, p).or_else(|| at(&base, p));
                proptest::prop_assert_eq!(at(&painted, p), want, "at {}", p);
            }
            for w in painted.windows(2) {
                proptest::prop_assert!(w[0].end <= w[1].start && w[0].start < w[0].end);
            }
        }
    }
}

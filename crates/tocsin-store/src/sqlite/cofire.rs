//! What correlation learned of which kinds of alert fire together (migration 011): the
//! engine writes the counts that changed in each batch, in the batch's transaction, and
//! reads them all back at start.

use super::state::BatchWriter;
use rusqlite::{params, Connection};
use tocsin_core::correlation::cofire::{KindStats, PairStats, FORGET_BELOW};

/// Every kind and every pair, as [`tocsin_core::correlation::cofire::Cofire::take_changes`]
/// gives them.
pub type Learned = (Vec<(u64, KindStats)>, Vec<((u64, u64), PairStats)>);

impl BatchWriter<'_, '_> {
    /// Saves the kinds and pairs that changed; the ones the learner forgot (counts below
    /// [`FORGET_BELOW`]) are deleted.
    pub fn learned(
        &self,
        kinds: &[(u64, KindStats)],
        pairs: &[((u64, u64), PairStats)],
    ) -> rusqlite::Result<()> {
        if kinds.is_empty() && pairs.is_empty() {
            return Ok(());
        }
        let mut save_kind = self.tx.prepare_cached(
            "INSERT INTO cofire_kinds (id, name, fired, linked) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET fired = excluded.fired, linked = excluded.linked",
        )?;
        let mut forget_kind = self
            .tx
            .prepare_cached("DELETE FROM cofire_kinds WHERE id = ?1")?;
        for (id, k) in kinds {
            if k.fired < FORGET_BELOW {
                forget_kind.execute([*id as i64])?;
            } else {
                save_kind.execute(params![
                    *id as i64,
                    k.name,
                    f64::from(k.fired),
                    f64::from(k.linked)
                ])?;
            }
        }
        let mut save_pair = self.tx.prepare_cached(
            "INSERT INTO cofire_pairs (a, b, together, apart) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (a, b) DO UPDATE SET together = excluded.together, apart = excluded.apart",
        )?;
        let mut forget_pair = self
            .tx
            .prepare_cached("DELETE FROM cofire_pairs WHERE a = ?1 AND b = ?2")?;
        for ((a, b), p) in pairs {
            let (a, b) = (*a as i64, *b as i64);
            if p.together + p.apart < FORGET_BELOW {
                forget_pair.execute([a, b])?;
            } else {
                save_pair.execute(params![a, b, f64::from(p.together), f64::from(p.apart)])?;
            }
        }
        Ok(())
    }
}

/// Everything learned so far, for the engine at start.
pub fn load(conn: &Connection) -> rusqlite::Result<Learned> {
    let mut stmt = conn.prepare("SELECT id, name, fired, linked FROM cofire_kinds")?;
    let kinds = stmt
        .query_map([], |r| {
            let kind = KindStats {
                name: r.get(1)?,
                fired: r.get::<_, f64>(2)? as f32,
                linked: r.get::<_, f64>(3)? as f32,
            };
            Ok((r.get::<_, i64>(0)? as u64, kind))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare("SELECT a, b, together, apart FROM cofire_pairs")?;
    let pairs = stmt
        .query_map([], |r| {
            let pair = PairStats {
                together: r.get::<_, f64>(2)? as f32,
                apart: r.get::<_, f64>(3)? as f32,
            };
            Ok((
                (r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64),
                pair,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok((kinds, pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str, fired: f32) -> KindStats {
        KindStats {
            name: name.into(),
            fired,
            linked: fired / 2.0,
        }
    }

    fn pair(together: f32, apart: f32) -> PairStats {
        PairStats { together, apart }
    }

    fn save(conn: &mut Connection, kinds: &[(u64, KindStats)], pairs: &[((u64, u64), PairStats)]) {
        let tx = conn.transaction().unwrap();
        BatchWriter::new(&tx).learned(kinds, pairs).unwrap();
        tx.commit().unwrap();
    }

    fn sorted((mut kinds, mut pairs): Learned) -> Learned {
        kinds.sort_by_key(|(id, _)| *id);
        pairs.sort_by_key(|(k, _)| *k);
        (kinds, pairs)
    }

    #[test]
    fn counts_go_round_and_forgotten_ones_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::sqlite::open_writer(&dir.path().join("t.db")).unwrap();
        // Ids past i64::MAX are stored by their bit pattern and come back whole.
        let (big, small) = (u64::MAX - 7, 3);
        save(
            &mut conn,
            &[
                (big, kind("HighErrorRate", 5.0)),
                (small, kind("Disk full", 1.5)),
            ],
            &[((small, big), pair(4.0, 3.0)), ((big, big), pair(1.0, 0.0))],
        );
        // Later: one kind fires again, then a halving forgets the other and a pair.
        save(&mut conn, &[(big, kind("HighErrorRate", 6.0))], &[]);
        save(
            &mut conn,
            &[
                (big, kind("HighErrorRate", 3.0)),
                (small, KindStats::default()),
            ],
            &[((small, big), pair(2.0, 1.5)), ((big, big), pair(0.5, 0.0))],
        );
        assert_eq!(
            sorted(load(&conn).unwrap()),
            (
                vec![(big, kind("HighErrorRate", 3.0))],
                vec![((small, big), pair(2.0, 1.5))]
            )
        );
    }
}

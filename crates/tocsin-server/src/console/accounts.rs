//! Who may sign in to the console and who is signed in: config users with a `console`
//! login, accounts an admin made, live sessions and each person's language and zone.
//!
//! Sessions are looked up on every console request, so they are kept in memory (by the
//! SHA-256 of the cookie, like API tokens) and written through to the store, which is what
//! survives a restart.

use super::hash_pool::{Busy, HashPool};
use crate::auth::{generate_token, sha256_hex};
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use tocsin_core::auth::Role;
use tocsin_core::config::{Config, Language};
use tocsin_core::delivery_health::FailingChannel;
use tocsin_core::time::Millis;
use tocsin_store::sqlite::{self, console as store};

/// The session cookie's name.
pub const COOKIE: &str = "tocsin_session";
/// How long a sign-in lasts: a night shift and its hand-off, not a week on a shared screen.
pub const SESSION_TTL: Millis = 12 * 3_600_000;
/// Failed sign-ins for one account before it is locked for [`LOCKOUT`].
const MAX_FAILURES: u32 = 5;
pub const LOCKOUT: Millis = 60_000;
/// Accounts whose failures are remembered before old ones are forgotten.
const MAX_TRACKED: usize = 10_000;

/// A hash to check unknown users' passwords against, so they take as long as known ones
/// (made on first use, on the password pool like every check).
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| super::password::hash("not anyone's password"));

/// The signed-in person a console request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub language: Language,
    /// IANA zone every time on the page is shown in.
    pub zone: String,
    /// Sent back in `X-CSRF-Token` with every change the page makes.
    pub csrf: String,
    /// The channels failing now, for the banner every page shows them (filled in with the
    /// request; see [`tocsin_workers::Deliveries`]).
    pub paging_trouble: Vec<FailingChannel>,
}

#[derive(Debug, Clone)]
struct Session {
    user_id: String,
    csrf: String,
    expires_at: Millis,
}

/// What a person signs in with.
pub struct Credentials {
    pub role: Role,
    pub password_hash: String,
}

#[derive(Default)]
pub struct Accounts {
    sessions: Mutex<HashMap<String, Session>>,
    logins: ArcSwap<HashMap<String, store::LoginRow>>,
    prefs: ArcSwap<HashMap<String, store::Prefs>>,
    /// Recent failed sign-ins by account: count and the time of the last.
    failures: Mutex<HashMap<String, (u32, Millis)>>,
    /// Where passwords are checked: a few threads and a short queue.
    passwords: HashPool,
}

/// The account is locked by recent failed sign-ins.
#[derive(Debug, PartialEq, Eq)]
pub struct Locked;

fn admin(db: &Path) -> Result<rusqlite::Connection, String> {
    sqlite::open_admin(db).map_err(|e| format!("console accounts: {e}"))
}

impl Accounts {
    pub fn load(db: &Path, now: Millis) -> Result<Accounts, String> {
        let conn = admin(db)?;
        let sessions = store::live_sessions(&conn, now)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|s| {
                (
                    s.sha256,
                    Session {
                        user_id: s.user_id,
                        csrf: s.csrf,
                        expires_at: s.expires_at,
                    },
                )
            })
            .collect();
        let accounts = Accounts {
            sessions: Mutex::new(sessions),
            ..Default::default()
        };
        accounts.reload(&conn)?;
        Ok(accounts)
    }

    /// Re-reads accounts and preferences after a change.
    pub fn reload(&self, conn: &rusqlite::Connection) -> Result<(), String> {
        let logins = store::logins(conn).map_err(|e| e.to_string())?;
        self.logins.store(
            logins
                .into_iter()
                .map(|l| (l.id.clone(), l))
                .collect::<HashMap<_, _>>()
                .into(),
        );
        let prefs = store::all_prefs(conn).map_err(|e| e.to_string())?;
        self.prefs
            .store(prefs.into_iter().collect::<HashMap<_, _>>().into());
        Ok(())
    }

    /// How `id` signs in: the config's login first (config is the source of truth where it
    /// speaks), else an account an admin made.
    pub fn credentials(&self, config: &Config, id: &str) -> Option<Credentials> {
        if let Some(login) = config.user(id).and_then(|u| u.console.as_ref()) {
            return Some(Credentials {
                role: login.role,
                password_hash: login.password_hash.clone(),
            });
        }
        self.logins.load().get(id).map(|l| Credentials {
            role: l.role,
            password_hash: l.password_hash.clone(),
        })
    }

    /// The signed-in person behind a session cookie, if it is live and they still may sign in.
    pub fn resolve(&self, config: &Config, cookie: &str, now: Millis) -> Option<Viewer> {
        let session = {
            let sessions = self.sessions.lock().expect("sessions lock");
            sessions.get(&sha256_hex(cookie)).cloned()?
        };
        if session.expires_at <= now {
            return None;
        }
        // Role and name are read now, not at sign-in, so a change in config or a removed
        // account takes effect on the next request.
        let credentials = self.credentials(config, &session.user_id)?;
        let user = config.user(&session.user_id);
        let prefs = self
            .prefs
            .load()
            .get(&session.user_id)
            .cloned()
            .unwrap_or_default();
        let language = prefs
            .language
            .as_deref()
            .and_then(Language::parse)
            .or(user.map(|u| u.language))
            .unwrap_or(Language::En);
        let zone = prefs
            .time_zone
            .or(user.map(|u| u.time_zone.clone()))
            .unwrap_or_else(|| "UTC".into());
        let name = user
            .map(|u| u.name.clone())
            .or_else(|| {
                self.logins
                    .load()
                    .get(&session.user_id)
                    .map(|l| l.name.clone())
            })
            .unwrap_or_else(|| session.user_id.clone());
        Some(Viewer {
            id: session.user_id,
            name,
            role: credentials.role,
            language,
            zone,
            csrf: session.csrf,
            paging_trouble: Vec::new(),
        })
    }

    /// Counts a sign-in attempt against `id` BEFORE its password is checked, in one step
    /// under the lock: concurrent wrong passwords cannot all pass the lockout while the
    /// first ones are still hashing (47 were checked instead of 5). `Err(Locked)` when the
    /// account is locked. A right password clears the count ([`Accounts::start`]); an
    /// attempt that was never checked gives its count back ([`Accounts::unreserve`]).
    pub fn reserve(&self, id: &str, now: Millis) -> Result<(), Locked> {
        let mut failures = self.failures.lock().expect("failures lock");
        // Bounded: a client trying many names must not grow this without end (attempts
        // are paced by the password pool, so a minute's worth stays under this).
        if failures.len() > MAX_TRACKED {
            failures.retain(|_, (_, last)| now - *last < LOCKOUT);
        }
        let entry = failures.entry(id.to_string()).or_insert((0, now));
        if now - entry.1 >= LOCKOUT {
            entry.0 = 0;
        }
        if entry.0 >= MAX_FAILURES {
            return Err(Locked);
        }
        entry.0 += 1;
        entry.1 = now;
        Ok(())
    }

    /// Gives back an attempt [`Accounts::reserve`] counted whose password was not checked
    /// (the password pool was busy).
    pub fn unreserve(&self, id: &str) {
        let mut failures = self.failures.lock().expect("failures lock");
        if let Some(entry) = failures.get_mut(id) {
            entry.0 = entry.0.saturating_sub(1);
            if entry.0 == 0 {
                failures.remove(id);
            }
        }
    }

    /// Checks `password` against `phc` on the bounded password pool; `Err(Busy)` when the
    /// pool is full, at once. An unknown account (`None`) is checked against a dummy hash
    /// and never matches, so it takes as long as a known one.
    pub async fn check_password(
        &self,
        password: String,
        phc: Option<String>,
    ) -> Result<bool, Busy> {
        let answer = self.passwords.run(move || {
            let matches = super::password::verify(&password, phc.as_deref().unwrap_or(&DUMMY_HASH));
            matches && phc.is_some()
        })?;
        Ok(answer.await.unwrap_or(false))
    }

    /// A new session for `user_id`: the cookie value to set (never stored in the clear).
    pub fn start(&self, db: &Path, user_id: &str, now: Millis) -> Result<String, String> {
        self.failures.lock().expect("failures lock").remove(user_id);
        let cookie = generate_token();
        let row = store::SessionRow {
            sha256: sha256_hex(&cookie),
            user_id: user_id.to_string(),
            csrf: generate_token(),
            created_at: now,
            expires_at: now + SESSION_TTL,
        };
        store::insert_session(&admin(db)?, &row).map_err(|e| e.to_string())?;
        let mut sessions = self.sessions.lock().expect("sessions lock");
        sessions.retain(|_, s| s.expires_at > now);
        sessions.insert(
            row.sha256,
            Session {
                user_id: row.user_id,
                csrf: row.csrf,
                expires_at: row.expires_at,
            },
        );
        Ok(cookie)
    }

    pub fn end(&self, db: &Path, cookie: &str) -> Result<(), String> {
        let hash = sha256_hex(cookie);
        self.sessions.lock().expect("sessions lock").remove(&hash);
        store::delete_session(&admin(db)?, &hash).map_err(|e| e.to_string())
    }

    /// Signs `user_id` out everywhere (their account was removed).
    pub fn forget(&self, user_id: &str) {
        self.sessions
            .lock()
            .expect("sessions lock")
            .retain(|_, s| s.user_id != user_id);
    }

    pub fn set_prefs(&self, db: &Path, user_id: &str, prefs: &store::Prefs) -> Result<(), String> {
        let conn = admin(db)?;
        store::set_prefs(&conn, user_id, prefs).map_err(|e| e.to_string())?;
        self.reload(&conn)
    }

    pub fn prefs(&self, user_id: &str) -> store::Prefs {
        self.prefs.load().get(user_id).cloned().unwrap_or_default()
    }
}

/// The session cookie's value in a request's `Cookie` headers.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then_some(value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with_alice() -> Config {
        let hash = crate::console::password::hash("alice-password");
        tocsin_core::config::load_str(&format!(
            "users:\n- id: alice\n  name: Alice\n  time_zone: Asia/Shanghai\n  language: zh\n  console: {{role: admin, password_hash: '{hash}'}}\n"
        ))
        .unwrap()
    }

    #[test]
    fn a_session_resolves_until_it_expires_or_ends() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        sqlite::open_writer(&db).unwrap();
        let config = config_with_alice();
        let accounts = Accounts::load(&db, 0).unwrap();
        let cookie = accounts.start(&db, "alice", 1_000).unwrap();
        let v = accounts.resolve(&config, &cookie, 2_000).unwrap();
        assert_eq!(
            (v.id.as_str(), v.role, v.language),
            ("alice", Role::Admin, Language::Zh)
        );
        assert_eq!(v.zone, "Asia/Shanghai");
        assert!(accounts.resolve(&config, "other", 2_000).is_none());
        assert!(accounts
            .resolve(&config, &cookie, 1_000 + SESSION_TTL)
            .is_none());
        // A restart keeps it.
        let again = Accounts::load(&db, 3_000).unwrap();
        assert!(again.resolve(&config, &cookie, 3_000).is_some());
        again.end(&db, &cookie).unwrap();
        assert!(again.resolve(&config, &cookie, 3_000).is_none());
        assert!(Accounts::load(&db, 3_000)
            .unwrap()
            .resolve(&config, &cookie, 3_000)
            .is_none());
        // A user removed from config is signed out.
        let cookie = accounts.start(&db, "alice", 1_000).unwrap();
        assert!(accounts
            .resolve(&Config::builtin(), &cookie, 2_000)
            .is_none());
    }

    #[test]
    fn attempts_count_before_the_check_and_lock_an_account_for_a_minute() {
        let accounts = Accounts::default();
        for _ in 0..MAX_FAILURES {
            assert_eq!(accounts.reserve("bob", 10), Ok(()));
        }
        assert_eq!(accounts.reserve("bob", 10), Err(Locked));
        assert_eq!(accounts.reserve("bob", 10 + LOCKOUT), Ok(()));
        // An attempt that was never checked is given back.
        for _ in 0..MAX_FAILURES {
            accounts.reserve("carol", 10).unwrap();
        }
        accounts.unreserve("carol");
        assert_eq!(accounts.reserve("carol", 10), Ok(()));
        assert_eq!(accounts.reserve("carol", 10), Err(Locked));
    }

    #[tokio::test]
    async fn passwords_are_checked_on_the_pool_and_unknown_accounts_never_match() {
        let accounts = Accounts::default();
        let hash = crate::console::password::hash("right-password");
        let check = |p: &str, h: Option<&str>| {
            accounts.check_password(p.to_string(), h.map(str::to_string))
        };
        assert_eq!(check("right-password", Some(&hash)).await, Ok(true));
        assert_eq!(check("wrong-password", Some(&hash)).await, Ok(false));
        assert_eq!(check("not anyone's password", None).await, Ok(false));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.append("cookie", "a=1; tocsin_session=abc; b=2".parse().unwrap());
        assert_eq!(session_cookie(&h), Some("abc"));
        h.clear();
        h.append("cookie", "tocsin_session=".parse().unwrap());
        assert_eq!(session_cookie(&h), None);
    }
}

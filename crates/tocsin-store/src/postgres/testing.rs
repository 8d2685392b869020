//! Test support (the `testing` feature): a fresh database per test, on the server that
//! `TOCSIN_TEST_PG` names (default `postgresql://postgres@127.0.0.1:5432/postgres`), dropped
//! when the test ends.
//!
//! A test that cannot reach PostgreSQL fails; it never passes by skipping. scripts/test.sh
//! makes sure a server is there (the machine's, or a private cluster it starts).

use super::describe;
use postgres::{Config, NoTls};
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::time::Duration;

pub const DEFAULT_URL: &str = "postgresql://postgres@127.0.0.1:5432/postgres";

/// A database made for one test; dropped (with its connections) on drop.
pub struct TestDb {
    name: String,
    url: String,
    admin: String,
}

impl TestDb {
    /// Creates `tocsin_test_<random>` on the test server. Panics when the server cannot be
    /// reached, saying how to provide one.
    pub fn new() -> TestDb {
        let admin = std::env::var("TOCSIN_TEST_PG").unwrap_or_else(|_| DEFAULT_URL.to_string());
        let name = format!("tocsin_test_{:016x}", random());
        admin_client(&admin)
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating the test database {name}: {}", describe(&e)));
        let url = with_database(&admin, &name);
        TestDb { name, url, admin }
    }

    /// The database's URL, as `--store` would take it.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn config(&self) -> Config {
        Config::from_str(&self.url).expect("the test URL parses")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A new connection to the database.
    pub fn client(&self) -> postgres::Client {
        self.config()
            .connect(NoTls)
            .unwrap_or_else(|e| panic!("connecting to {}: {}", self.url, describe(&e)))
    }
}

impl Default for TestDb {
    fn default() -> Self {
        TestDb::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // FORCE ends what a test left connected (a pool, a writer thread still closing).
        let dropped = Config::from_str(&self.admin)
            .and_then(|c| c.connect(NoTls))
            .and_then(|mut c| {
                c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
            });
        if let Err(e) = dropped {
            eprintln!(
                "the test database {} was not dropped: {}",
                self.name,
                describe(&e)
            );
        }
    }
}

fn admin_client(url: &str) -> postgres::Client {
    let connected = Config::from_str(url).and_then(|mut config| {
        config.connect_timeout(Duration::from_secs(5));
        config.connect(NoTls)
    });
    connected.unwrap_or_else(|e| {
        let required = if std::env::var("TOCSIN_E2E_REQUIRED").as_deref() == Ok("1") {
            " (TOCSIN_E2E_REQUIRED=1)"
        } else {
            ""
        };
        panic!(
            "PostgreSQL is needed by this test{required} and cannot be reached at {url}: {}. \
             Run scripts/test.sh (it starts one when none is running), or set TOCSIN_TEST_PG \
             to the URL of a server where this user may create databases.",
            describe(&e)
        )
    })
}

/// `url` with its database replaced by `name`: the path of a `postgresql://` URL, or a
/// `dbname=` added to a `key=value` string (the last one wins).
fn with_database(url: &str, name: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return format!("{url} dbname={name}");
    };
    let (base, query) = match rest.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (rest, None),
    };
    let authority = base
        .split_once('/')
        .map_or(base, |(authority, _)| authority);
    match query {
        Some(query) => format!("{scheme}://{authority}/{name}?{query}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

/// A random number from the standard library's per-process random keys.
fn random() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        let cases = [
            (
                "postgresql://postgres@127.0.0.1:5432/postgres",
                "postgresql://postgres@127.0.0.1:5432/t1",
            ),
            (
                "postgres://u:p@h/db?sslmode=disable",
                "postgres://u:p@h/t1?sslmode=disable",
            ),
            ("postgresql://u@h:5433", "postgresql://u@h:5433/t1"),
            (
                "postgresql://u@h?connect_timeout=3",
                "postgresql://u@h/t1?connect_timeout=3",
            ),
            (
                "host=/tmp user=postgres",
                "host=/tmp user=postgres dbname=t1",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(with_database(url, "t1"), expected, "{url}");
        }
    }
}

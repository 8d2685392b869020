//! The one way to compile a regular expression that someone else wrote: silence and filter
//! matchers, the Alertmanager API's `receiver`, and the config's `match_re` patterns.
//!
//! The `regex` crate matches in time linear in the input, but the factor is the compiled
//! size, and a short pattern can compile huge: `(.{0,100}){0,100}x` is 18 bytes of text and
//! ~10 MB compiled, so each match of a 100-byte value costs milliseconds. So every pattern is
//! bounded before it is compiled (length) and while it is (compiled size), and its lazy DFA
//! gets enough room to stay in use, rather than falling back to the slower engine.
//!
//! Compiled regexes are cached by pattern (least recently used goes first), so the same
//! silence or filter sent again does not compile again.

use hashlink::LruCache;
use regex::{Regex, RegexBuilder, RegexSetBuilder};
use std::sync::{Arc, Mutex, OnceLock};

/// The longest pattern accepted, in bytes: an alternation of ~100 host names fits.
pub const MAX_PATTERN_BYTES: usize = 4096;

/// The compiled size (`RegexBuilder::size_limit`) over which a pattern is refused. Measured
/// (docs/security.md): realistic matchers need at most ~370 KB (100 unescaped host names),
/// most under 70 KB; the pathological ones are ~10 MB.
pub const MAX_COMPILED_BYTES: usize = 512 * 1024;

/// The lazy DFA's cache per regex and thread (`RegexBuilder::dfa_size_limit`). Eight times
/// the compiled size: with too little, the costliest accepted patterns thrash the cache and
/// the regex falls back to its slower engine. Measured with `(.*[aé]){N}` over varied 4 KiB
/// values: with 2 MiB, ~1 ms a value up to ~700 KB compiled, then 60-70 ms past ~800 KB;
/// with 1 MiB it degrades already at 510 KB (3 ms); with 4 MiB, 0.7 ms at 510 KB.
pub const DFA_CACHE_BYTES: usize = 4 * 1024 * 1024;

/// How many compiled regexes the cache keeps. The costliest accepted one takes ~2 MiB once
/// used, so the cache stays under ~130 MiB whatever is sent; common ones take a few KiB.
pub const CACHE_ENTRIES: usize = 64;

/// Why a pattern was refused. The text is the reason only; callers say which matcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegexError {
    TooLong(usize),
    TooLarge,
    Invalid(String),
}

impl std::fmt::Display for RegexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegexError::TooLong(n) => write!(
                f,
                "the regular expression is {n} bytes, at most {MAX_PATTERN_BYTES} are allowed; simplify it"
            ),
            RegexError::TooLarge => write!(
                f,
                "the regular expression is too large (compiled size over {MAX_COMPILED_BYTES} bytes); simplify it"
            ),
            RegexError::Invalid(e) => write!(f, "invalid regular expression: {e}"),
        }
    }
}

fn cache() -> &'static Mutex<LruCache<String, Arc<Regex>>> {
    static CACHE: OnceLock<Mutex<LruCache<String, Arc<Regex>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(LruCache::new(CACHE_ENTRIES)))
}

/// Compiles `pattern` anchored at both ends, as Alertmanager does (`^(?:pattern)$`): the
/// whole value has to match.
pub fn anchored(pattern: &str) -> Result<Arc<Regex>, RegexError> {
    if let Some(re) = cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(pattern)
    {
        return Ok(re.clone());
    }
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(RegexError::TooLong(pattern.len()));
    }
    // Compiled outside the lock: a large pattern takes milliseconds, and other callers
    // should not wait for it.
    let re = RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(MAX_COMPILED_BYTES)
        .dfa_size_limit(DFA_CACHE_BYTES)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => RegexError::TooLarge,
            other => RegexError::Invalid(other.to_string()),
        })?;
    let re = Arc::new(re);
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(pattern.to_string(), re.clone());
    Ok(re)
}

/// Checks that `patterns` compile within the limit together, not only one by one: matching
/// one alert against all of a silence's matchers then costs what one regex at the limit
/// would, at most. (A `RegexSet` is one compiled program, so its size is the sum.)
pub fn check_together(patterns: &[&str]) -> Result<(), RegexError> {
    if patterns.len() < 2 {
        return Ok(());
    }
    RegexSetBuilder::new(patterns.iter().map(|p| format!("^(?:{p})$")))
        .size_limit(MAX_COMPILED_BYTES)
        .dfa_size_limit(DFA_CACHE_BYTES)
        .build()
        .map(drop)
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => RegexError::TooLarge,
            other => RegexError::Invalid(other.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hosts(n: usize, escaped: bool) -> String {
        let dot = if escaped { "\\." } else { "." };
        (1..=n)
            .map(|i| format!("host-{i:03}{dot}prod{dot}example{dot}com"))
            .collect::<Vec<_>>()
            .join("|")
    }

    #[test]
    fn realistic_matchers_compile() {
        for p in [
            "(web|db)-[0-9]+",
            "prod.*",
            ".*",
            "(?i)disk.*full",
            "(?i)(high|critical|warning|info)",
            "[a-z]{1,64}",
            "kube-(apiserver|scheduler|controller-manager)-.+",
            r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(:\d+)?",
            r"[[:alpha:]]+-[[:digit:]]{1,4}\.example\.(com|net)",
            r"\w+",
            "磁盘.*",
            ".{0,255}",
            &hosts(100, false),
            &hosts(100, true),
            &(1..=300)
                .map(|i| format!("web-{i:03}"))
                .collect::<Vec<_>>()
                .join("|"),
        ] {
            let re = anchored(p).unwrap_or_else(|e| panic!("{p:.60}: {e}"));
            assert!(re.as_str().starts_with("^(?:"), "{p}");
        }
        let re = anchored(&hosts(100, false)).unwrap();
        assert!(re.is_match("host-042.prod.example.com"));
        assert!(
            !re.is_match("host-042.prod.example.com.evil"),
            "anchored at the end"
        );
    }

    #[test]
    fn pathological_patterns_are_refused_as_too_large() {
        for p in [
            "(.{0,100}){0,100}x",
            "(.{0,100}){0,100}y",
            "(.*){1000}(.*){1000}",
            ".{0,1000}x",
            r"\w{100}",
            r"\w{1,255}",
            "((a{100}){100}){100}",
            "(?i)(.{0,50}){0,50}",
            "(.*[aé]){1000}",
        ] {
            assert_eq!(anchored(p).unwrap_err(), RegexError::TooLarge, "{p}");
        }
        assert_eq!(
            RegexError::TooLarge.to_string(),
            "the regular expression is too large (compiled size over 524288 bytes); simplify it"
        );
    }

    #[test]
    fn long_and_invalid_patterns_are_refused_with_their_reason() {
        let long = "a".repeat(MAX_PATTERN_BYTES + 1);
        assert_eq!(anchored(&long).unwrap_err(), RegexError::TooLong(4097));
        assert!(anchored(&"a".repeat(MAX_PATTERN_BYTES)).is_ok());
        let e = anchored("(").unwrap_err();
        assert!(
            e.to_string().starts_with("invalid regular expression: "),
            "{e}"
        );
    }

    #[test]
    fn patterns_are_bounded_together_too() {
        let small = ["(web|db)-[0-9]+"; 32];
        assert_eq!(check_together(&small), Ok(()));
        // Each fits alone (~354 KB compiled); the two do not.
        let big = ["(.*[aé]){300}x", "(.*[aé]){300}y"];
        assert!(big.iter().all(|p| anchored(p).is_ok()));
        assert_eq!(check_together(&big), Err(RegexError::TooLarge));
    }

    #[test]
    fn the_same_pattern_is_compiled_once() {
        let a = anchored("cached-(a|b)").unwrap();
        let b = anchored("cached-(a|b)").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any literal text within the length limit compiles and matches itself only.
        #[test]
        fn escaped_text_matches_itself(text in "\\PC{0,200}") {
            let re = anchored(&regex::escape(&text)).unwrap();
            prop_assert!(re.is_match(&text));
            let longer = format!("{text}x");
            prop_assert!(!re.is_match(&longer));
        }

        /// Nested counted repetitions of any character: accepted only while their product
        /// stays small, refused (never compiled huge) above it.
        #[test]
        fn nested_repetitions_are_bounded(a in 1usize..200, b in 1usize..200) {
            let p = format!("(.{{0,{a}}}){{0,{b}}}x");
            match anchored(&p) {
                Ok(_) => prop_assert!(a * b <= 1000, "{p} accepted"),
                Err(e) => {
                    prop_assert_eq!(e, RegexError::TooLarge);
                    prop_assert!(a * b > 200, "{p} refused");
                }
            }
        }
    }
}

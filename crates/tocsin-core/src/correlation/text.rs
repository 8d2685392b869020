//! What correlation reads in an alert's words: its *kind* (the check, whatever machine it
//! ran on: `InstanceDown`, `Disk /data`, `主机 {host} 宕机`) for the co-occurrence
//! statistics, and a small set of word tokens for text similarity.
//!
//! Any language: Latin-script words split on anything that is not a letter or digit;
//! Chinese, Japanese and Korean have no spaces, so runs of their characters become
//! overlapping character pairs (`数据库连接` -> `数据 据库 库连 连接`), which match
//! across different phrasings far better than whole runs would. Words with digits are
//! values (`93%`, `Gi0/10`, `10.0.3.7`, the `07` of `web-07`), which differ between two
//! alerts of the same fault, so they are left out, and so is the alert's own host name.

use xxhash_rust::xxh3::xxh3_64;

/// Token sets are capped: the first words of a title and description say what it is about;
/// a long stack trace would only cost time.
pub const MAX_TOKENS: usize = 48;

/// The kind of an alert: its source and its name with the host, IP and numbers taken out,
/// so `Interface Gi0/3: Link down` on one switch and `Interface Gi0/7: Link down` on another
/// are one kind. Returns the kind's id and the normalised name it was made from.
pub fn kind(source: &str, name: &str, host: Option<&str>) -> (u64, String) {
    let host = host.map(str::to_lowercase);
    let mut key = String::with_capacity(source.len() + name.len() + 1);
    key.push_str(source);
    key.push('\u{1f}');
    let from = key.len();
    // CJK runs whole here: a kind's name is read by people (`co-fires with 数据库连接池耗尽`).
    each_word(name, host.as_deref(), false, &mut |word| {
        if key.len() > from {
            key.push(' ');
        }
        key.push_str(word);
        true
    });
    if key.len() == from {
        // A name made only of values (`10.0.0.1`) is still one kind per source.
        key.push('#');
    }
    (xxh3_64(key.as_bytes()), key[from..].to_owned())
}

/// The distinct word tokens (hashed) of an alert's texts, sorted, at most [`MAX_TOKENS`].
pub fn tokens(texts: &[&str], host: Option<&str>) -> Vec<u32> {
    let host = host.map(str::to_lowercase);
    let mut out: Vec<u32> = Vec::with_capacity(MAX_TOKENS * 2);
    for t in texts {
        let more = each_word(t, host.as_deref(), true, &mut |w| {
            out.push(xxh3_64(w.as_bytes()) as u32);
            out.len() < MAX_TOKENS * 2
        });
        if !more {
            break;
        }
    }
    out.sort_unstable();
    out.dedup();
    out.truncate(MAX_TOKENS);
    out
}

/// How alike two sorted token sets are: |a ∩ b| / |a ∪ b| (Jaccard), 0 when either is
/// empty.
pub fn similarity(a: &[u32], b: &[u32]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    // A merge of the two sorted lists without branches on the comparisons (they do not
    // predict): the smaller side steps on, both on a match.
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        both += (x == y) as usize;
        i += (x <= y) as usize;
        j += (y <= x) as usize;
    }
    both as f32 / (a.len() + b.len() - both) as f32
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30ff      // kana
        | 0x3400..=0x4dbf    // CJK extension A
        | 0x4e00..=0x9fff    // CJK unified ideographs
        | 0xac00..=0xd7af    // Hangul syllables
        | 0xf900..=0xfaff) // CJK compatibility ideographs
}

/// The words of a text, lower-cased, without values and without `host`: Latin-script
/// words whole, CJK runs as character pairs (a lone character as itself) when `pairs`, else
/// whole.
#[cfg(test)]
fn words(text: &str, host: Option<&str>, pairs: bool) -> Vec<String> {
    let host = host.map(str::to_lowercase);
    let mut out = Vec::new();
    each_word(text, host.as_deref(), pairs, &mut |w| {
        out.push(w.to_owned());
        true
    });
    out
}

/// Calls `f` with each of [`words`]'s words of `text` (`host` already lower-cased), as
/// slices of the lower-cased text, without allocating per word; stops when `f` returns
/// false (and returns false then).
fn each_word(
    text: &str,
    host: Option<&str>,
    pairs: bool,
    f: &mut impl FnMut(&str) -> bool,
) -> bool {
    let lowered;
    let lower: &str = if text.bytes().any(|b| b.is_ascii_uppercase()) || !text.is_ascii() {
        lowered = text.to_lowercase();
        &lowered
    } else {
        text
    };
    // Split on whitespace first so a host name or address (`web-07`, `10.0.3.7`) is seen
    // whole before its punctuation splits it.
    for chunk in lower.split_whitespace() {
        let trimmed = chunk.trim_matches(|c: char| !c.is_alphanumeric());
        if host == Some(trimmed) {
            continue;
        }
        // Every word and CJK run is a contiguous slice of the chunk: (start, end) in bytes.
        let mut word: Option<usize> = None;
        let mut cjk: Option<usize> = None;
        for (i, c) in chunk.char_indices() {
            if is_cjk(c) {
                if !flush_word(chunk, &mut word, i, f) {
                    return false;
                }
                cjk.get_or_insert(i);
            } else {
                if !flush_cjk(chunk, &mut cjk, i, pairs, f) {
                    return false;
                }
                if c.is_alphanumeric() {
                    word.get_or_insert(i);
                } else if !flush_word(chunk, &mut word, i, f) {
                    return false;
                }
            }
        }
        let end = chunk.len();
        if !flush_word(chunk, &mut word, end, f) || !flush_cjk(chunk, &mut cjk, end, pairs, f) {
            return false;
        }
    }
    true
}

fn flush_word(
    chunk: &str,
    start: &mut Option<usize>,
    end: usize,
    f: &mut impl FnMut(&str) -> bool,
) -> bool {
    let Some(from) = start.take() else {
        return true;
    };
    let word = &chunk[from..end];
    // Single letters (`s`, `a`) say nothing; a word with a digit is a value or a name
    // with a number in it (`93`, `gi0`, `5xx`, `07` of `web-07`).
    if word.chars().nth(1).is_some() && !word.bytes().any(|b| b.is_ascii_digit()) {
        return f(word);
    }
    true
}

fn flush_cjk(
    chunk: &str,
    start: &mut Option<usize>,
    end: usize,
    pairs: bool,
    f: &mut impl FnMut(&str) -> bool,
) -> bool {
    let Some(from) = start.take() else {
        return true;
    };
    let run = &chunk[from..end];
    if !pairs {
        return f(run);
    }
    // Overlapping pairs of characters (a lone character as itself): each pair is the
    // slice from one character's start to the end of the next one.
    let mut starts = run.char_indices().map(|(i, _)| i).chain([run.len()]);
    let (Some(mut a), Some(mut b)) = (starts.next(), starts.next()) else {
        return true;
    };
    match starts.next() {
        None => f(&run[a..b]),
        Some(mut c) => loop {
            if !f(&run[a..c]) {
                return false;
            }
            (a, b) = (b, c);
            match starts.next() {
                Some(n) => c = n,
                None => return true,
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kinds_ignore_hosts_and_values() {
        let a = kind("zabbix", "Interface Gi0/3: Link down", Some("agg-sw-1"));
        let b = kind("zabbix", "Interface Gi0/7: Link down", Some("agg-sw-2"));
        assert_eq!(a, b);
        assert_eq!(a.1, "interface link down");
        let c = kind("nagios", "Interface Gi0/7: Link down", None);
        assert_ne!(a.0, c.0, "another tool's check is another kind");
        let d = kind("zabbix", "web-07 is unreachable", Some("web-07"));
        assert_eq!(d.1, "is unreachable");
        assert_eq!(kind("open-falcon", "http.5xx.rate", None).1, "http rate");
        assert_eq!(
            kind("x", "k8s-node-pool-bj down", None).1,
            "node pool bj down"
        );
        assert_eq!(kind("x", "10.0.0.1", None).1, "#");
        assert_eq!(
            kind("zabbix", "数据库连接池耗尽 on db-01", Some("db-01")).1,
            "数据库连接池耗尽 on"
        );
    }

    #[test]
    fn chinese_becomes_character_pairs() {
        assert_eq!(
            words("数据库连接池耗尽 on db-01", Some("db-01"), true),
            ["数据", "据库", "库连", "连接", "接池", "池耗", "耗尽", "on"]
        );
        assert_eq!(
            words("订单服务: 错误率 93%", None, true),
            ["订单", "单服", "服务", "错误", "误率"]
        );
    }

    #[test]
    fn similar_texts_score_higher_than_unrelated_ones() {
        let a = tokens(&["order-api cannot reach mysql-orders"], None);
        let b = tokens(&["payment cannot reach mysql-orders"], None);
        let c = tokens(&["Disk /var on web-03 is almost full"], Some("web-03"));
        assert!(similarity(&a, &b) > 0.4);
        assert_eq!(similarity(&a, &c), 0.0);
        assert_eq!(similarity(&a, &a), 1.0);
        assert_eq!(similarity(&a, &[]), 0.0);
        let zh1 = tokens(&["订单服务数据库连接池耗尽"], None);
        let zh2 = tokens(&["支付服务数据库连接池耗尽"], None);
        assert!(similarity(&zh1, &zh2) > 0.5);
    }

    /// The words as they were read before [`each_word`] (a `String` per word), to check
    /// the slices give the same words, so the same kinds and token hashes.
    fn words_as_strings(text: &str, host: Option<&str>, pairs: bool) -> Vec<String> {
        let host = host.map(str::to_lowercase);
        let lower = text.to_lowercase();
        let mut out = Vec::new();
        let flush_word = |word: &mut String, out: &mut Vec<String>| {
            if word.chars().count() > 1 && !word.chars().any(|c| c.is_ascii_digit()) {
                out.push(std::mem::take(word));
            }
            word.clear();
        };
        let flush_cjk = |run: &mut Vec<char>, out: &mut Vec<String>| {
            match run.len() {
                0 => {}
                1 => out.push(run[0].to_string()),
                _ if !pairs => out.push(run.iter().collect()),
                _ => out.extend(run.windows(2).map(|p| p.iter().collect())),
            }
            run.clear();
        };
        for chunk in lower.split_whitespace() {
            let trimmed = chunk.trim_matches(|c: char| !c.is_alphanumeric());
            if host.as_deref() == Some(trimmed) {
                continue;
            }
            let mut word = String::new();
            let mut cjk: Vec<char> = Vec::new();
            for c in chunk.chars() {
                if is_cjk(c) {
                    flush_word(&mut word, &mut out);
                    cjk.push(c);
                } else {
                    flush_cjk(&mut cjk, &mut out);
                    if c.is_alphanumeric() {
                        word.push(c);
                    } else {
                        flush_word(&mut word, &mut out);
                    }
                }
            }
            flush_word(&mut word, &mut out);
            flush_cjk(&mut cjk, &mut out);
        }
        out
    }

    proptest! {
        #[test]
        fn slices_give_the_words_strings_gave(
            s in "([a-zA-Z0-9 ./:%-]|[\\u{4e00}-\\u{4e20}]|[\\u{3040}-\\u{3050}]|\\PC){0,120}",
            h in "[a-zA-Z0-9-]{0,8}",
        ) {
            for pairs in [false, true] {
                prop_assert_eq!(words(&s, Some(&h), pairs), words_as_strings(&s, Some(&h), pairs));
                prop_assert_eq!(words(&s, None, pairs), words_as_strings(&s, None, pairs));
            }
            let hosted = format!("{s} {h} 主机{s}宕机 {h}");
            prop_assert_eq!(words(&hosted, Some(&h), true), words_as_strings(&hosted, Some(&h), true));
        }

        #[test]
        fn any_text_tokenises_sorted_distinct_and_bounded(s in "\\PC{0,400}", h in "[a-z0-9-]{0,12}") {
            let t = tokens(&[&s, &s], Some(&h));
            prop_assert!(t.len() <= MAX_TOKENS);
            prop_assert!(t.windows(2).all(|w| w[0] < w[1]));
            let sim = similarity(&t, &t);
            prop_assert!(t.is_empty() || (sim - 1.0).abs() < 1e-6);
            let _ = kind("src", &s, Some(&h));
        }
    }
}

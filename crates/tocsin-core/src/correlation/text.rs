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
    let mut norm = String::with_capacity(name.len());
    // CJK runs whole here: a kind's name is read by people (`co-fires with 数据库连接池耗尽`).
    for word in words(name, host, false) {
        if !norm.is_empty() {
            norm.push(' ');
        }
        norm.push_str(&word);
    }
    if norm.is_empty() {
        // A name made only of values (`10.0.0.1`) is still one kind per source.
        norm.push('#');
    }
    let mut key = String::with_capacity(source.len() + norm.len() + 1);
    key.push_str(source);
    key.push('\u{1f}');
    key.push_str(&norm);
    (xxh3_64(key.as_bytes()), norm)
}

/// The distinct word tokens (hashed) of an alert's texts, sorted, at most [`MAX_TOKENS`].
pub fn tokens(texts: &[&str], host: Option<&str>) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::with_capacity(16);
    'all: for t in texts {
        for w in words(t, host, true) {
            out.push(xxh3_64(w.as_bytes()) as u32);
            if out.len() >= MAX_TOKENS * 2 {
                break 'all;
            }
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
fn words(text: &str, host: Option<&str>, pairs: bool) -> Vec<String> {
    let host = host.map(str::to_lowercase);
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    // Split on whitespace first so a host name or address (`web-07`, `10.0.3.7`) is seen
    // whole before its punctuation splits it.
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
                flush_cjk(&mut cjk, &mut out, pairs);
                if c.is_alphanumeric() {
                    word.push(c);
                } else {
                    flush_word(&mut word, &mut out);
                }
            }
        }
        flush_word(&mut word, &mut out);
        flush_cjk(&mut cjk, &mut out, pairs);
    }
    out
}

fn flush_word(word: &mut String, out: &mut Vec<String>) {
    // Single letters (`s`, `a`) say nothing; a word with a digit is a value or a name
    // with a number in it (`93`, `gi0`, `5xx`, `07` of `web-07`).
    if word.chars().count() > 1 && !word.chars().any(|c| c.is_ascii_digit()) {
        out.push(std::mem::take(word));
    }
    word.clear();
}

fn flush_cjk(run: &mut Vec<char>, out: &mut Vec<String>, pairs: bool) {
    match run.len() {
        0 => {}
        1 => out.push(run[0].to_string()),
        _ if !pairs => out.push(run.iter().collect()),
        _ => out.extend(run.windows(2).map(|p| p.iter().collect())),
    }
    run.clear();
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

    proptest! {
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

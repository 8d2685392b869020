//! Flat name -> text parameters, however a tool sends them: a JSON object of strings
//! (Zabbix, the Nagios forwarder), an HTML form body (`curl --data-urlencode`), or the
//! query string of a `GET` (Open-Falcon's callback). Adapters whose tool sends macros by
//! name read them through here, so every one accepts all three the same way.

use crate::limits::{MAX_DESCRIPTION, MAX_LABELS};
use crate::{Inbound, IntakeError, Method};
use std::collections::BTreeMap;

/// More parameters than any tool sends; keeps a hostile body from costing much.
const MAX_PARAMS: usize = MAX_LABELS * 2;

/// Reads the request's parameters. A `GET` reads the query string; a `POST` reads a form
/// body when its content type says so, else a JSON object whose values are strings,
/// numbers, booleans or null (read as empty).
pub fn flat_params(req: &Inbound<'_>) -> Result<BTreeMap<String, String>, IntakeError> {
    let params = if req.method == Method::Get {
        form(req.query.as_bytes())?
    } else if req.content_type() == "application/x-www-form-urlencoded" {
        form(req.body)?
    } else {
        json_object(req.body)?
    };
    if params.len() > MAX_PARAMS {
        return Err(IntakeError(format!(
            "{} parameters, at most {MAX_PARAMS} are allowed",
            params.len()
        )));
    }
    for (k, v) in &params {
        // As long as a description: a tool's long output (Nagios' up to 8 KB) arrives in a
        // parameter. Adapters bound each field they keep by its own limit.
        if v.len() > MAX_DESCRIPTION {
            return Err(IntakeError(format!(
                "{k}: {} bytes, at most {MAX_DESCRIPTION} are allowed",
                v.len()
            )));
        }
    }
    Ok(params)
}

fn form(bytes: &[u8]) -> Result<BTreeMap<String, String>, IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError("no parameters were sent".into()));
    }
    // Percent-decoding can produce bytes that are not UTF-8; refuse those rather than
    // store replacement characters.
    let mut out = BTreeMap::new();
    for part in bytes.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &[][..]),
        };
        let k = decode(k).map_err(|e| IntakeError(format!("a parameter name {e}")))?;
        let v = decode(v).map_err(|e| IntakeError(format!("{k}: {e}")))?;
        out.insert(k, v);
    }
    Ok(out)
}

fn decode(raw: &[u8]) -> Result<String, &'static str> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| "is not valid UTF-8 once decoded")
}

fn json_object(body: &[u8]) -> Result<BTreeMap<String, String>, IntakeError> {
    use serde_json::Value;
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        if body.iter().all(u8::is_ascii_whitespace) {
            IntakeError("the body is empty".into())
        } else {
            IntakeError(format!("invalid JSON: {e}"))
        }
    })?;
    let Value::Object(map) = value else {
        return Err(IntakeError(
            "the body must be a JSON object of parameters".into(),
        ));
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let text = match v {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => String::new(),
            _ => {
                return Err(IntakeError(format!(
                    "{k}: must be text, a number or a boolean, not an object or array"
                )))
            }
        };
        out.insert(k, text);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_and_query_read_alike() {
        let json = Inbound::json(br#"{"HOSTNAME": "web 01", "TIMET": 1772411821, "X": null}"#);
        let p = flat_params(&json).unwrap();
        assert_eq!(p["HOSTNAME"], "web 01");
        assert_eq!(p["TIMET"], "1772411821");
        assert_eq!(p["X"], "");

        let headers = [(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )];
        let form = Inbound {
            headers: &headers,
            ..Inbound::json(b"HOSTNAME=web+01&OUTPUT=%E7%A3%81%E7%9B%98%20full&EMPTY=")
        };
        let p = flat_params(&form).unwrap();
        assert_eq!(p["HOSTNAME"], "web 01");
        assert_eq!(p["OUTPUT"], "磁盘 full");
        assert_eq!(p["EMPTY"], "");

        let get = Inbound {
            method: Method::Get,
            query: "endpoint=web-01&tags=a:b,c:d",
            ..Inbound::json(b"")
        };
        assert_eq!(flat_params(&get).unwrap()["tags"], "a:b,c:d");
    }

    #[test]
    fn bad_input_is_named() {
        let nested = flat_params(&Inbound::json(br#"{"a": {"b": 1}}"#)).unwrap_err();
        assert!(nested.0.starts_with("a: must be text"), "{nested}");
        assert!(flat_params(&Inbound::json(b"[1]")).is_err());
        assert!(flat_params(&Inbound::json(b"  "))
            .unwrap_err()
            .0
            .contains("empty"));
        let headers = [("content-type", "application/x-www-form-urlencoded")];
        let bad_utf8 = Inbound {
            headers: &headers,
            ..Inbound::json(b"a=%FF%FE")
        };
        assert!(flat_params(&bad_utf8).unwrap_err().0.contains("UTF-8"));
    }
}

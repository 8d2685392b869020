//! HTTP written by hand, for tests that choose every header (Host, Origin, forwarding
//! headers) or that stall mid-request: one request per connection, no redirects followed.

use super::Resp;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends one request on a fresh connection to `to` (`127.0.0.1:PORT`): `head` is the request
/// line and headers without the blank line; the body gets its Content-Length.
pub fn raw(to: &str, head: &str, body: &str) -> Resp {
    exchange(TcpStream::connect(to).expect("connect"), head, body)
}

/// [`raw`] on a connection the test opened (from another source address, say).
pub fn exchange(mut stream: TcpStream, head: &str, body: &str) -> Resp {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let request = format!(
        "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    parse(&answer)
}

/// The status and body of an answer read whole (headers kept out; a redirect's `Location`
/// is kept as the body when there is no other).
pub fn parse(answer: &str) -> Resp {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    let location = head.lines().find_map(|l| {
        l.strip_prefix("location: ")
            .or_else(|| l.strip_prefix("Location: "))
    });
    let body = match location {
        Some(to) if body.is_empty() => to,
        _ => body,
    };
    Resp {
        status,
        body: body.to_string(),
    }
}

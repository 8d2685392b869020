//! The CLI talks to a server behind an https:// reverse proxy: a certificate from the
//! company's own CA is trusted with `--ca-cert` (or `TOCSIN_CA_CERT`), and without it the
//! error says the certificate is not trusted and how to trust it. The CA and the server
//! certificate are made by the real `openssl`; the proxy is Python's `ssl` in front of a
//! spawned server.

mod common;

use common::{have_tool, spawn_server, TestServer, ADMIN, BIN};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// A TLS-terminating proxy: every request is passed to the upstream port as it came.
const PROXY: &str = r#"
import http.client, http.server, ssl, sys
upstream, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class Pass(http.server.BaseHTTPRequestHandler):
    def relay(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        c = http.client.HTTPConnection("127.0.0.1", upstream)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        headers["Host"] = "127.0.0.1:%d" % upstream
        c.request(self.command, self.path, body, headers)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = do_DELETE = relay
    def log_message(self, *a):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pass)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A CA (ca.pem) and a certificate for 127.0.0.1 signed by it (srv.pem, srv.key).
fn make_certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=tocsin test CA"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    ca.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
    ca.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(dir, &ca);
    let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
    csr.extend(ec);
    csr.extend(["-keyout", "srv.key", "-out", "srv.csr"]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "srv.pem",
        ],
    );
}

struct Proxy {
    child: Child,
    url: String,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proxy(dir: &Path, server: &TestServer) -> Proxy {
    let upstream = server
        .url("")
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let mut child = Command::new("python3")
        .args(["-c", PROXY, &upstream])
        .arg(dir.join("srv.pem"))
        .arg(dir.join("srv.key"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = format!("https://127.0.0.1:{}", line.trim());
    Proxy { child, url }
}

fn cli(url: &str, ca: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("TOCSIN_URL", url)
        .env("TOCSIN_TOKEN", ADMIN)
        .env_remove("TOCSIN_CA_CERT")
        .stdin(Stdio::null());
    if let Some(ca) = ca {
        cmd.env("TOCSIN_CA_CERT", ca);
    }
    cmd.output().expect("run tocsin")
}

#[test]
fn the_cli_works_over_https_with_the_company_ca_and_says_how_without_it() {
    assert!(have_tool("openssl") && have_tool("python3"));
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path());
    let server = spawn_server(None);
    let proxy = proxy(dir.path(), &server);
    let ca = dir.path().join("ca.pem");

    let sent = cli(
        &proxy.url,
        Some(&ca),
        &[
            "send",
            "-s",
            "Disk full on db1 (over https)",
            "-l",
            "alertname=DiskFull",
        ],
    );
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    server.settle();
    let listed = cli(&proxy.url, Some(&ca), &["incident", "list"]);
    let out = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(out.contains("Disk full on db1 (over https)"), "{out}");

    // Without the CA: refused, and the error says why and what to give.
    let refused = cli(&proxy.url, None, &["incident", "list"]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        err.contains("not trusted") && err.contains("--ca-cert"),
        "{err}"
    );

    // A CA file that is no certificate: named in the error.
    let bogus = dir.path().join("bogus.pem");
    std::fs::write(&bogus, "not a certificate\n").unwrap();
    let bad = cli(&proxy.url, Some(&bogus), &["incident", "list"]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(
        err.contains("--ca-cert") && err.contains("bogus.pem"),
        "{err}"
    );
}

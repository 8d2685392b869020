//! A real headless Chromium for the web console's tests, driven over WebDriver: each
//! [`Browser`] runs its own `chromedriver` on a free port with a fresh profile, so tests run
//! in parallel without sharing cookies. The calls are blocking, like the rest of the tests,
//! and panic with what the page showed when something is not there.
//!
//! Without chromedriver or Chromium, [`Browser::start`] returns `None` and the test skips
//! with a note, unless `TOCSIN_E2E_REQUIRED` is set (see [`super::have_tool`]).

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Headless, and nothing that reaches the network or the disk on its own: the tests may
/// only talk to loopback, and a shared /dev/shm may be small.
const ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1366,768",
];
/// How often the waits look again.
const POLL: Duration = Duration::from_millis(50);

pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    /// The profile (`--user-data-dir`) and chromedriver's log.
    dir: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a Chromium session, or `None` when either is missing.
    pub fn start() -> Option<Browser> {
        if !(super::have_tool(CHROMEDRIVER) && super::have_tool(CHROMIUM)) {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("tocsin-browser-")
            .tempdir()
            .expect("temp dir");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        // A port found free may be taken again before chromedriver binds it; then
        // chromedriver exits and another port is tried.
        let log_path = dir.path().join("chromedriver.log");
        let log_text = || std::fs::read_to_string(&log_path).unwrap_or_default();
        let mut tries = 0;
        let (driver, url) = loop {
            tries += 1;
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let log = std::fs::File::create(&log_path).expect("log");
            let mut driver = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("spawn chromedriver");
            let url = format!("http://127.0.0.1:{port}");
            if wait_driver(&mut driver, &url) {
                break (driver, url);
            }
            if tries == 3 {
                panic!("chromedriver did not start\n{}", log_text());
            }
        };
        let mut b = Browser {
            rt,
            client: None,
            driver,
            dir,
        };
        let profile = b.dir.path().join("profile");
        let mut args: Vec<String> = ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": CHROMIUM, "args": args }),
        );
        let session = b.rt.block_on(
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps)
                .connect(&url),
        );
        match session {
            Ok(c) => b.client = Some(c),
            Err(e) => panic!("no Chromium session: {e}\n{}", log_text()),
        }
        Some(b)
    }

    /// The WebDriver session, for what the helpers below do not cover (with [`Self::run`]).
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("session open")
    }

    /// Runs one of fantoccini's futures to its end.
    pub fn run<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Opens a page and waits for it to load.
    #[track_caller]
    pub fn goto(&self, url: &str) {
        if let Err(e) = self.run(self.client().goto(url)) {
            panic!("cannot open {url}: {e}");
        }
    }

    /// The first element matching a CSS selector, now.
    #[track_caller]
    pub fn find(&self, css: &str) -> El<'_> {
        match self.run(self.client().find(Locator::Css(css))) {
            Ok(e) => El { b: self, e },
            Err(e) => panic!("no {css}: {e}\n{}", self.where_now()),
        }
    }

    /// Every element matching a CSS selector, now. An error (the page changing under it)
    /// counts as none, so that the waits below look again.
    pub fn find_all(&self, css: &str) -> Vec<El<'_>> {
        let found = self.run(self.client().find_all(Locator::Css(css)));
        let found = found.unwrap_or_default();
        found.into_iter().map(|e| El { b: self, e }).collect()
    }

    #[track_caller]
    pub fn click(&self, css: &str) {
        self.find(css).click();
    }

    /// Replaces the text of an input.
    #[track_caller]
    pub fn fill(&self, css: &str, text: &str) {
        let el = self.find(css);
        let done = self.run(async {
            el.e.clear().await?;
            el.e.send_keys(text).await
        });
        if let Err(e) = done {
            panic!("cannot type into {css}: {e}\n{}", self.where_now());
        }
    }

    /// Polls until an element matches the selector.
    #[track_caller]
    pub fn wait_for(&self, css: &str, timeout: Duration) -> El<'_> {
        self.poll(&format!("{css} to appear"), timeout, || {
            self.find_all(css).into_iter().next()
        })
    }

    /// Polls until an element matching the selector shows this text (in part).
    #[track_caller]
    pub fn wait_text(&self, css: &str, text: &str, timeout: Duration) -> El<'_> {
        self.poll(&format!("{css} to show {text:?}"), timeout, || {
            self.find_all(css)
                .into_iter()
                .find(|e| e.text().contains(text))
        })
    }

    #[track_caller]
    fn poll<T>(&self, what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = f() {
                return v;
            }
            if Instant::now() >= deadline {
                panic!("waited {timeout:?} for {what}\n{}", self.where_now());
            }
            std::thread::sleep(POLL);
        }
    }

    /// Sizes the viewport, e.g. 390x844 for a phone. WebDriver sizes the window, whose
    /// height also holds the browser's own bars, so it is grown by what they take.
    #[track_caller]
    pub fn set_window_size(&self, width: u32, height: u32) {
        let resize = |w: u32, h: u32| {
            if let Err(e) = self.run(self.client().set_window_size(w, h)) {
                panic!("cannot resize to {w}x{h}: {e}");
            }
        };
        resize(width, height);
        let inner = self.script("return [window.innerWidth, window.innerHeight];");
        let bars = |i: usize, want: u32| want.saturating_sub(inner[i].as_u64().unwrap_or(0) as u32);
        resize(width + bars(0, width), height + bars(1, height));
    }

    /// Runs JavaScript in the page (`return ...;` gives a value).
    #[track_caller]
    pub fn script(&self, js: &str) -> Value {
        self.run(self.client().execute(js, vec![]))
            .unwrap_or_else(|e| panic!("script failed: {e}\n{js}"))
    }

    /// Saves a PNG of the viewport as `NAME.png` in `$TOCSIN_SCREENSHOTS`, else in the
    /// workspace's `target/screenshots/` (which CI lists), and returns its path.
    #[track_caller]
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let dir = std::env::var_os("TOCSIN_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
            });
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let png = self
            .run(self.client().screenshot())
            .unwrap_or_else(|e| panic!("screenshot failed: {e}"));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// The URL and the start of the page's text, for failure messages.
    fn where_now(&self) -> String {
        let url = self.run(self.client().current_url());
        let url = url.map(|u| u.to_string()).unwrap_or_default();
        let body = self.run(async { self.client().find(Locator::Css("body")).await?.text().await });
        let body: String = body.unwrap_or_default().chars().take(2000).collect();
        format!("at {url}, the page says:\n{body}")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session stops Chromium; killing chromedriver alone would leave it.
        if let Some(c) = self.client.take() {
            let _ = self.rt.block_on(c.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Polls chromedriver's status until it says it is ready (true) or has exited (false).
fn wait_driver(driver: &mut Child, url: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ready = ureq::get(&format!("{url}/status"))
            .timeout(Duration::from_secs(2))
            .call()
            .ok()
            .and_then(|r| r.into_json::<Value>().ok())
            .is_some_and(|v| v["value"]["ready"] == json!(true));
        if ready {
            return true;
        }
        if driver.try_wait().expect("try_wait").is_some() {
            return false;
        }
        if Instant::now() >= deadline {
            let _ = driver.kill();
            let _ = driver.wait();
            panic!("chromedriver not ready at {url} after 15 s");
        }
        std::thread::sleep(POLL);
    }
}

/// An element of the page.
pub struct El<'a> {
    b: &'a Browser,
    pub e: Element,
}

impl El<'_> {
    /// Its rendered text.
    pub fn text(&self) -> String {
        self.b.run(self.e.text()).unwrap_or_default()
    }

    pub fn attr(&self, name: &str) -> Option<String> {
        self.b.run(self.e.attr(name)).expect("attribute")
    }

    #[track_caller]
    pub fn click(&self) {
        if let Err(e) = self.b.run(self.e.click()) {
            panic!("cannot click: {e}\n{}", self.b.where_now());
        }
    }
}

//! The web console in a real headless Chromium (see `common/browser.rs`): pages as a
//! person sees them, on a desktop and on a 390-pixel-wide phone, with screenshots kept in
//! `target/screenshots/`.

mod common;

use common::browser::Browser;
use common::*;
use std::time::Duration;

#[test]
fn chromium_shows_a_page_of_the_server_on_a_desktop_and_a_phone() {
    let Some(b) = Browser::start() else {
        return;
    };
    let s = spawn_server(None);
    b.goto(&s.url("/-/healthy"));
    b.wait_text("body", "OK", Duration::from_secs(5));
    let shot = b.screenshot("healthy-desktop");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "{} is no PNG", shot.display());

    b.set_window_size(390, 844);
    let viewport = b.script("return [window.innerWidth, window.innerHeight];");
    assert_eq!(viewport, serde_json::json!([390, 844]));
    b.screenshot("healthy-phone");
}

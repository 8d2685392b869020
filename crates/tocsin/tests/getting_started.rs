//! The getting-started walk to a first page, as written: `examples/first-page.yaml` (only its
//! SMTP port changed) with a real SMTP server; `tocsin send` pages "you" by mail, the mail
//! says what and where, and its signed Acknowledge link, opened and pressed, acknowledges
//! the incident in your name.

mod common;

use common::*;

#[test]
fn the_first_page_config_mails_you_and_its_link_acknowledges() {
    let smtp = common::smtp::start();
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/first-page.yaml"),
    )
    .unwrap();
    assert!(
        example.contains("port: 2525"),
        "the example's SMTP port moved"
    );
    let config = example.replace("port: 2525", &format!("port: {}", smtp.port));
    let s = spawn_server(Some(&config));

    // As in the guide: the CLI, no token, from this machine.
    let sent = s.cli(
        None,
        &[
            "send",
            "-s",
            "Disk almost full on db1",
            "--severity",
            "high",
            "-l",
            "alertname=DiskFull",
            "-l",
            "host=db1",
        ],
    );
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );

    let mail = smtp.wait_for("Subject: [tocsin] [P2] Disk almost full on db1");
    for line in [
        "To: You <you@example.com>",
        "Hello You,",
        "Where: db1",
        "Team: Operations",
    ] {
        assert!(mail.contains(line), "{line:?} not in\n{mail}");
    }
    let link = mail
        .lines()
        .find_map(|l| l.strip_prefix("Acknowledge: "))
        .unwrap_or_else(|| panic!("no Acknowledge link in\n{mail}"))
        .trim()
        .to_string();
    let path = link
        .strip_prefix(&s.base)
        .unwrap_or_else(|| panic!("{link} is not on {}", s.base));

    // Opening the link only shows the button: a mail scanner acknowledges nothing.
    let page = s.get_as(path, None);
    page.expect(200);
    assert!(page.body.contains("<form method=\"post\""), "{}", page.body);
    assert_eq!(s.incident(1)["state"], "triggered");
    s.post_raw(path, None, b"").expect(200);
    let acked = s.wait_incident(1, "acknowledged", |i| i["state"] == "acknowledged");
    let timeline = serde_json::to_string(&acked).unwrap();
    assert!(timeline.contains("acknowledged by you"), "{timeline}");
}

//! Configs that a page's black-box test and its browser test share.

pub const DETAIL: &str = r#"
users:
  - {id: alice, name: Alice Wang, contacts: [{type: webhook, to: alice}]}
  - {id: bob, name: Bob Li, contacts: [{type: webhook, to: bob}]}
teams: [{id: ops, name: Operations, members: [alice, bob], escalation_policy: ops}]
services:
  - {id: db, name: Database, team: ops}
schedules:
  - id: primary
    name: Primary
    time_zone: UTC
    layers: [{rotation: {every: 1w, start: "2026-01-05T00:00"}, users: [alice]}]
escalation_policies:
  - id: ops
    name: Ops escalation
    levels:
      - {delay: 30m, targets: [{schedule: primary}]}
      - {delay: 30m, targets: [{user: bob}]}
channels:
  - {id: hook, type: webhook, url: "http://127.0.0.1:9/page"}
"#;

pub const ALERTS: &str = r#"
services:
  - id: db
    name: 数据库
    hosts: [{name: db-01}]
  - id: web
    hosts: [{name: web-01}]
maintenance_windows:
  - name: db-patching
    matchers: ["service=db", "severity=~warning|info"]
    time_zone: Asia/Shanghai
    days: [sun]
    from: "01:00"
    to: "03:00"
    comment: weekly patching
"#;

pub const REPORTS: &str = r#"
users:
  - {id: alice, name: Alice Wang, time_zone: Asia/Shanghai}
teams:
  - {id: dba, name: Database team}
services:
  - {id: mysql, name: MySQL, team: dba}
"#;

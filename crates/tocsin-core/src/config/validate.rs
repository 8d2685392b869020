//! Whole-config checks: references between sections, duplicates, values in range.

use super::load::ConfigError;
use super::raw::RawConfig;
use super::*;
use crate::event::Severity;
use crate::priority::Priority;
use std::collections::HashSet;

const DEFAULT_ID: &str = "default";

pub(super) fn validate(raw: RawConfig, errors: &mut Vec<ConfigError>) -> Config {
    let mut teams: Vec<Team> = Vec::new();
    let mut seen = HashSet::new();
    for (i, t) in raw.teams {
        check_id(errors, &format!("teams[{i}].id"), &t.id);
        if !seen.insert(t.id.clone()) {
            errors.push(ConfigError::new(
                format!("teams[{i}].id"),
                format!("duplicate team {:?}", t.id),
            ));
        }
        teams.push(Team {
            name: t.name.unwrap_or_else(|| t.id.clone()),
            id: t.id,
            members: t.members,
            escalation_policy: t.escalation_policy,
        });
    }
    if teams.is_empty() {
        teams.push(Team {
            id: DEFAULT_ID.into(),
            name: "Default".into(),
            members: Vec::new(),
            escalation_policy: None,
        });
    }

    let default_impact = raw.priority.default_impact.unwrap_or(Level::Medium);
    let mut services: Vec<Service> = Vec::new();
    let mut service_index = HashMap::new();
    let mut declared_hosts = Vec::new();
    for (i, s) in raw.services {
        if !s.hosts.is_empty() {
            declared_hosts.push((s.id.clone(), i, s.hosts));
        }
        check_id(errors, &format!("services[{i}].id"), &s.id);
        let team = match s.team {
            Some(team) => {
                if !teams.iter().any(|t| t.id == team) {
                    errors.push(ConfigError::new(
                        format!("services[{i}].team"),
                        format!("unknown team {team:?}"),
                    ));
                }
                team
            }
            None if teams.len() == 1 => teams[0].id.clone(),
            None => {
                errors.push(ConfigError::new(
                    format!("services[{i}].team"),
                    "required when more than one team is defined",
                ));
                String::new()
            }
        };
        if service_index.insert(s.id.clone(), services.len()).is_some() {
            errors.push(ConfigError::new(
                format!("services[{i}].id"),
                format!("duplicate service {:?}", s.id),
            ));
        }
        services.push(Service {
            name: s.name.unwrap_or_else(|| s.id.clone()),
            id: s.id,
            team,
            impact: s.impact.unwrap_or(default_impact),
            labels: s.labels,
            escalation_policy: s.escalation_policy,
            depends_on: s.depends_on,
            indirect_depends_on: Vec::new(),
            correlation_threshold: correlation::service_threshold(
                errors,
                &format!("services[{i}].correlation"),
                s.correlation,
            ),
            support_hours: paging::support_hours(
                errors,
                &format!("services[{i}].support_hours"),
                s.support_hours,
            ),
        });
    }
    if services.is_empty() {
        service_index.insert(DEFAULT_ID.into(), 0);
        services.push(Service {
            id: DEFAULT_ID.into(),
            name: "Default".into(),
            team: teams[0].id.clone(),
            impact: default_impact,
            labels: Default::default(),
            escalation_policy: None,
            support_hours: None,
            depends_on: Vec::new(),
            indirect_depends_on: Vec::new(),
            correlation_threshold: None,
        });
    }
    let default_service = match raw.default_service {
        Some(id) => {
            if !service_index.contains_key(&id) {
                errors.push(ConfigError::new(
                    "default_service",
                    format!("unknown service {id:?}"),
                ));
            }
            id
        }
        None => services[0].id.clone(),
    };

    let group_by = routes::group_fields(
        errors,
        "incidents.group_by",
        raw.incidents
            .group_by
            .as_deref()
            .unwrap_or(&["service".into(), "name".into()]),
    );
    let timing = routes::timing(
        errors,
        "incidents",
        &routes::RawTiming {
            group_wait: raw.incidents.group_wait,
            group_interval: raw.incidents.group_interval,
            repeat_interval: raw.incidents.repeat_interval,
        },
        Default::default(),
    );
    let group_routes = routes::routes(errors, raw.incidents.routes, &group_by, timing);

    let mut priority = PriorityMatrix::default();
    for (severity, level) in &raw.priority.urgency {
        match Severity::parse(severity) {
            Some(s) => priority.set_urgency(s, *level),
            None => errors.push(ConfigError::new(
                format!("priority.urgency.{severity}"),
                "unknown severity; use critical, high, warning or info",
            )),
        }
    }
    for (impact, row) in &raw.priority.matrix {
        for (urgency, p) in row {
            match Priority::parse(p) {
                Some(p) => priority.set_cell(*impact, *urgency, p),
                None => errors.push(ConfigError::new(
                    format!("priority.matrix.{}.{}", impact.as_str(), urgency.as_str()),
                    format!("{p:?} is not a priority; use P1 to P5"),
                )),
            }
        }
    }

    let resolve_timeout = match raw.alertmanager.resolve_timeout {
        Some(text) => match crate::time::parse_duration(&text) {
            Ok(ms) if ms > 0 => ms,
            Ok(_) => {
                errors.push(ConfigError::new(
                    "alertmanager.resolve_timeout",
                    "must be longer than zero",
                ));
                DEFAULT_RESOLVE_TIMEOUT
            }
            Err(e) => {
                errors.push(ConfigError::new("alertmanager.resolve_timeout", e));
                DEFAULT_RESOLVE_TIMEOUT
            }
        },
        None => DEFAULT_RESOLVE_TIMEOUT,
    };

    let intake = IntakeLimits {
        max_body_bytes: positive(
            errors,
            "intake.max_body_bytes",
            raw.intake.max_body_bytes,
            DEFAULT_MAX_BODY_BYTES,
        ),
        max_events_per_request: positive(
            errors,
            "intake.max_events_per_request",
            raw.intake.max_events_per_request,
            DEFAULT_MAX_EVENTS_PER_REQUEST,
        ),
        loopback_without_token: raw.intake.loopback_without_token.unwrap_or(false),
        log_retention: match raw
            .intake
            .log_retention
            .as_deref()
            .map(crate::time::parse_duration)
        {
            None => DEFAULT_LOG_RETENTION,
            Some(Ok(ms)) => ms,
            Some(Err(e)) => {
                errors.push(ConfigError::new("intake.log_retention", e));
                DEFAULT_LOG_RETENTION
            }
        },
        log_max_bytes: raw.intake.log_max_bytes.unwrap_or(DEFAULT_LOG_MAX_BYTES),
        max_discovered_services: raw
            .intake
            .max_discovered_services
            .unwrap_or(crate::discovered::DEFAULT_MAX_DISCOVERED),
    };

    let mut tokens = Vec::new();
    let mut token_names = HashSet::new();
    for (i, t) in raw.tokens {
        let sha = t.sha256.to_ascii_lowercase();
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            errors.push(ConfigError::new(
                format!("tokens[{i}].sha256"),
                "must be 64 hex digits (sha256sum of the token)",
            ));
        }
        if t.name == "admin" || t.name == "loopback" {
            errors.push(ConfigError::new(
                format!("tokens[{i}].name"),
                format!("{:?} is reserved for tocsin's own principals", t.name),
            ));
        }
        if !token_names.insert(t.name.clone()) {
            errors.push(ConfigError::new(
                format!("tokens[{i}].name"),
                format!("duplicate token name {:?}", t.name),
            ));
        }
        tokens.push(TokenSpec {
            name: t.name,
            role: t.role,
            sha256: sha,
        });
    }

    for (i, s) in services.iter().enumerate() {
        for (k, d) in s.depends_on.iter().enumerate() {
            if !service_index.contains_key(d) {
                errors.push(ConfigError::new(
                    format!("services[{i}].depends_on[{k}]"),
                    format!("unknown service {d:?}"),
                ));
            }
        }
    }
    let indirect = super::dependencies::indirect(&services, &service_index);
    for (s, indirect) in services.iter_mut().zip(indirect) {
        s.indirect_depends_on = indirect;
    }
    let (hosts, host_index) = catalog::hosts(errors, declared_hosts);
    let known_service = |id: &str| service_index.contains_key(id);
    let service_rules = catalog::rules(errors, raw.service_rules, known_service);
    let (integrations, integration_by_key) =
        integrations::validate(errors, raw.integrations, known_service);

    let users = people::users(errors, raw.users);
    let schedules = people::schedules(errors, raw.schedules, &users);
    let escalation_policies = paging::policies(errors, raw.escalation_policies);
    let channels = paging::channels(errors, raw.channels);
    let inhibit_rules = inhibit::rules(errors, raw.inhibit_rules);
    let has_topology = hosts.iter().any(|h| h.uplink.is_some())
        || services.iter().any(|s| !s.depends_on.is_empty());
    let correlation = correlation::settings(errors, raw.correlation, has_topology);
    let flapping = flapping::policy(errors, raw.flapping);
    let storms = storms::policy(errors, raw.storms);
    let maintenance_windows = maintenance::windows(errors, raw.maintenance_windows);

    let config = Config {
        teams,
        services,
        default_service,
        incidents: IncidentPolicy {
            group_by,
            auto_resolve: raw.incidents.auto_resolve.unwrap_or(true),
            timing,
            routes: group_routes,
        },
        priority,
        resolve_timeout,
        intake,
        tokens,
        hosts,
        service_rules,
        integrations,
        users,
        schedules,
        escalation_policies,
        channels,
        inhibit_rules,
        correlation,
        flapping,
        storms,
        maintenance_windows,
        service_index,
        host_index,
        integration_by_key,
    };
    paging::check_references(errors, &config);
    config
}

/// Whether a text can be the id of a team, service, user ...: 1 to 64 bytes of letters (any
/// script), digits, '-', '_' or '.'.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

pub(super) fn check_id(errors: &mut Vec<ConfigError>, path: &str, id: &str) {
    if !is_valid_id(id) {
        errors.push(ConfigError::new(
            path,
            format!("{id:?} is not a valid id: use 1 to 64 letters, digits, '-', '_' or '.'"),
        ));
    }
}

fn positive(
    errors: &mut Vec<ConfigError>,
    path: &str,
    value: Option<usize>,
    default: usize,
) -> usize {
    match value {
        Some(0) => {
            errors.push(ConfigError::new(path, "must be at least 1"));
            default
        }
        Some(v) => v,
        None => default,
    }
}

//! Intake: authenticate, rate-limit, parse and validate, make durable, answer. Nothing is
//! acknowledged before the event log has synced it, and nothing is stored from a request
//! that is refused.
//!
//! Three ways in: the built-in endpoints (`/api/v1/events`, `/api/v2/alerts`) with an API
//! token or an integration key; `/hooks/{key}` (or `/hooks` with the key in a header) for
//! every configured integration; and PagerDuty's `/v2/enqueue`, whose key is in the body.

use crate::auth::{authorize_intake, bearer_or_none};
use crate::error::{ApiError, ApiResult};
use crate::metrics::{ReasonLabel, SourceLabel};
use crate::state::SharedState;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method as HttpMethod, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::time::Instant;
use tocsin_core::auth::sha256_hex;
use tocsin_core::config::{Config, Integration};
use tocsin_core::integration::IntegrationKind;
use tocsin_integrations::{adapter_for, pagerduty, Adapter, Inbound, IntakeContext, Method};
use tocsin_store::log::{encode_entry_with_capacity, LogEntry};

/// `POST /api/v1/events`: tocsin's own format.
pub async fn native(
    State(s): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    builtin(s, peer, headers, body, IntegrationKind::Tocsin).await
}

/// `POST /api/v2/alerts`: what Prometheus sends; answers like Alertmanager, 200 and no body.
pub async fn alertmanager_v2(
    State(s): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    builtin(s, peer, headers, body, IntegrationKind::Alertmanager).await
}

async fn builtin(
    s: SharedState,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Body,
    kind: IntegrationKind,
) -> Response {
    let started = Instant::now();
    let result = async {
        let config = s.config.load_full();
        // A bearer that is the key of an integration of this kind sends as that
        // integration (Prometheus' `authorization` setting); otherwise it is an API token.
        let integration = match bearer_or_none(&headers).map_err(|e| reject(&s, "auth", e))? {
            Some(key) => config
                .integration_by_key_sha256(&sha256_hex(key))
                .filter(|i| i.kind == kind),
            None => None,
        };
        match integration {
            Some(i) => check_rate(&s, i)?,
            None => {
                authorize_intake(&s, &headers, peer).map_err(|e| reject(&s, "auth", e))?;
            }
        }
        let bytes = read_body(&s, &config, &headers, body).await?;
        let name = integration.map(|i| i.name.as_str()).unwrap_or("");
        let parts = Parts::new(&HttpMethod::POST, None, &headers, &bytes);
        accept(
            &s,
            &config,
            adapter_for(kind),
            name,
            &parts.inbound(),
            started,
        )
        .await
    }
    .await;
    respond(result)
}

/// `GET|POST /hooks/{key}`: a configured integration, its key in the path.
pub async fn hook_by_path(
    State(s): State<SharedState>,
    Path(key): Path<String>,
    method: HttpMethod,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    hook(s, Some(key), method, query, headers, body).await
}

/// `GET|POST /hooks`: the key in `X-Tocsin-Key` or `Authorization: Bearer`.
pub async fn hook_by_header(
    State(s): State<SharedState>,
    method: HttpMethod,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    hook(s, None, method, query, headers, body).await
}

async fn hook(
    s: SharedState,
    path_key: Option<String>,
    method: HttpMethod,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let result = async {
        let config = s.config.load_full();
        let key = match &path_key {
            Some(k) => Some(k.as_str()),
            None => match headers.get("x-tocsin-key") {
                Some(v) => Some(v.to_str().map_err(|_| {
                    reject(
                        &s,
                        "auth",
                        unauthorized("the X-Tocsin-Key header is not text"),
                    )
                })?),
                None => bearer_or_none(&headers).map_err(|e| reject(&s, "auth", e))?,
            },
        };
        let key = key.ok_or_else(|| {
            reject(
                &s,
                "auth",
                unauthorized(
                    "an integration key is required: /hooks/KEY, X-Tocsin-Key: KEY or \
                     Authorization: Bearer KEY",
                ),
            )
        })?;
        let integration = find_integration(&s, &config, key)?;
        check_rate(&s, integration)?;
        let bytes = read_body(&s, &config, &headers, body).await?;
        let parts = Parts::new(&method, query.as_deref(), &headers, &bytes);
        let adapter = adapter_for(integration.kind);
        accept(
            &s,
            &config,
            adapter,
            &integration.name,
            &parts.inbound(),
            started,
        )
        .await
    }
    .await;
    respond(result)
}

/// `POST /v2/enqueue`: PagerDuty's Events API v2; the integration key is the body's
/// `routing_key`, so the body is read before the key is known.
pub async fn pagerduty_enqueue(
    State(s): State<SharedState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let result = async {
        let config = s.config.load_full();
        let bytes = read_body(&s, &config, &headers, body).await?;
        let key = pagerduty::routing_key(&bytes).ok_or_else(|| {
            reject(
                &s,
                "invalid",
                ApiError::bad_request("routing_key is missing: it must be the integration key"),
            )
        })?;
        let integration = find_integration(&s, &config, &key)?;
        if integration.kind != IntegrationKind::Pagerduty {
            return Err(reject(
                &s,
                "auth",
                unauthorized("routing_key is not the key of a pagerduty integration"),
            ));
        }
        check_rate(&s, integration)?;
        let parts = Parts::new(&HttpMethod::POST, None, &headers, &bytes);
        accept(
            &s,
            &config,
            adapter_for(integration.kind),
            &integration.name,
            &parts.inbound(),
            started,
        )
        .await
    }
    .await;
    respond(result)
}

/// The request pieces an [`Inbound`] borrows.
struct Parts<'a> {
    method: Method,
    query: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
}

impl<'a> Parts<'a> {
    fn new(
        method: &HttpMethod,
        query: Option<&'a str>,
        headers: &'a HeaderMap,
        body: &'a Bytes,
    ) -> Self {
        Parts {
            method: if method == HttpMethod::GET {
                Method::Get
            } else {
                Method::Post
            },
            query: query.unwrap_or(""),
            headers: headers
                .iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
                .collect(),
            body,
        }
    }

    fn inbound(&self) -> Inbound<'_> {
        Inbound {
            method: self.method,
            query: self.query,
            headers: &self.headers,
            body: self.body,
        }
    }
}

fn respond(result: ApiResult<tocsin_integrations::Reply>) -> Response {
    match result {
        Ok(reply) => {
            let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::ACCEPTED);
            match reply.body {
                Some(body) => (status, axum::Json(body)).into_response(),
                None => status.into_response(),
            }
        }
        Err(e) => e.into_response(),
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

fn find_integration<'c>(
    s: &SharedState,
    config: &'c Config,
    key: &str,
) -> ApiResult<&'c Integration> {
    config
        .integration_by_key_sha256(&sha256_hex(key))
        .ok_or_else(|| reject(s, "auth", unauthorized("the integration key is not valid")))
}

/// Takes a token from the integration's bucket, or answers 429 with `Retry-After`.
fn check_rate(s: &SharedState, integration: &Integration) -> ApiResult<()> {
    let now = s.clock.now();
    let mut buckets = s.rate_buckets.lock().unwrap_or_else(|p| p.into_inner());
    let bucket = buckets
        .entry(integration.name.clone())
        .or_insert_with(|| tocsin_core::integration::Bucket::full(integration.rate_limit, now));
    bucket.take(integration.rate_limit, now).map_err(|wait_ms| {
        let seconds = (wait_ms as u64).div_ceil(1000).max(1);
        reject(
            s,
            "rate_limited",
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "integration {:?} is over its rate limit of {} requests a second \
                     (burst {}); send again in {seconds} s",
                    integration.name,
                    integration.rate_limit.per_second,
                    integration.rate_limit.burst
                ),
            )
            .retry_after(seconds),
        )
    })
}

/// A client gets this long to send its body; slower ones are cut off.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn reject(s: &SharedState, reason: &'static str, e: ApiError) -> ApiError {
    s.metrics
        .intake_rejected
        .get_or_create(&ReasonLabel { reason })
        .inc();
    e
}

async fn read_body(
    s: &SharedState,
    config: &Config,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Bytes> {
    if s.shutting_down.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(
            ApiError::unavailable("the server is shutting down; send again").retry_after(1),
        );
    }
    let limit = config.intake.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {limit} bytes (intake.max_body_bytes)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(reject(s, "too_large", too_large()));
    }
    let read = tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| {
            reject(
                s,
                "read",
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "timeout",
                    format!("the body did not arrive within {BODY_TIMEOUT:?}"),
                ),
            )
        })?;
    read.map_err(|e| {
        if e.to_string().contains("length limit") {
            reject(s, "too_large", too_large())
        } else {
            reject(
                s,
                "read",
                ApiError::bad_request(format!("the body could not be read: {e}")),
            )
        }
    })
}

/// A guess at what an event's encoding holds beyond its share of the request body: its
/// dedup key (32 hex digits), its source and its three times (Alertmanager's API v2 alerts
/// encode to about 10% more than their JSON).
const ADDED_BYTES_PER_EVENT: usize = 64;

/// Parses with the adapter, appends to the event log and waits for the sync.
async fn accept(
    s: &SharedState,
    config: &Config,
    adapter: &dyn Adapter,
    integration: &str,
    req: &Inbound<'_>,
    started: Instant,
) -> ApiResult<tocsin_integrations::Reply> {
    let ctx = IntakeContext {
        now: s.clock.now(),
        resolve_timeout: config.resolve_timeout,
        max_events: config.intake.max_events_per_request,
        integration,
        config,
    };
    let events = adapter
        .parse(req, &ctx)
        .map_err(|e| reject(s, "invalid", ApiError::bad_request(e.0)))?;
    let reply = adapter.reply(&events);
    let count = events.len();
    if count > 0 {
        // Encoded, events take about the bytes of the JSON they came in plus what tocsin
        // adds to each (the dedup key, the source, the times), so the buffer starts there
        // instead of growing by doubling.
        let capacity = req.body.len() + count * ADDED_BYTES_PER_EVENT;
        let payload = encode_entry_with_capacity(&LogEntry::Events(events), capacity);
        s.writer.append(payload, None).await.map_err(|e| {
            reject(
                s,
                "store",
                ApiError::unavailable(e.to_string()).retry_after(1),
            )
        })?;
    }
    // Counted by integration kind, not by the sender's `source` text, which would give the
    // metric an unbounded number of series.
    s.metrics
        .events_received
        .get_or_create(&SourceLabel {
            source: adapter.name(),
        })
        .inc_by(count as u64);
    s.metrics
        .intake_seconds
        .observe(started.elapsed().as_secs_f64());
    Ok(reply)
}

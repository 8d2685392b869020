//! What correlation costs per newly firing alert, with 10,000 open alerts, on one core.
//!
//! The state is what a bad hour looks like: a catalog of ~3,000 hosts in 60 services (plus
//! the switches they hang off, three data centres, services depending on services), 10,000
//! firing alerts in incidents the way faults produce them (a core switch and two aggregation
//! switches down and a database cascade, thousands of alerts each, and several hundred small
//! incidents), every incident open to correlation (all of it recent: the worst case), and
//! the learner warmed with 100,000 past firings of ~300 kinds of alert. Alert texts are
//! English and Chinese, from four tools.
//!
//! Each new alert then does what the engine does for a newly firing alert
//! (crates/tocsin-engine/src/correlation.rs): `Words::of` (`text::kind`, `text::tokens`),
//! `correlate` (the host's uplinks, `Footprints::choose` as the engine calls it: the
//! incidents that can reach the threshold, found in its indexes, scored; the explanation,
//! or the recurrence look-up), and `note_new_firing` (`Footprints::record`, the
//! recent-alert maps, `Cofire::observe`). The open state is put back every 500 alerts so it stays at
//! 10,000-10,500 open alerts. The engine's shortcuts before `choose` (the alert's group or
//! previous incident still gathering) are not taken: every alert pays for `choose`.
//!
//! Run with `cargo bench -p tocsin-core --bench correlation`. Prints median, p90, p99 per
//! alert for 10,000 open alerts with and without learning and for 1,000 open alerts, where
//! the time goes, and (with `CORRELATION_BENCH=memory`, or after the rest by default) the
//! learner's sizes and heap over ten days of firings with new kinds appearing all the time.
//! `CORRELATION_BENCH=speed` runs only the timing, `CORRELATION_BENCH=runs` only the
//! per-alert runs (no breakdown: for a profiler), `CORRELATION_BENCH=profile` only the
//! 10,000-open run with learning on (the figure issue 7 bounds). `handle` is kept out of
//! line so a profiler can count just the per-alert work, e.g.
//! `valgrind --tool=callgrind --toggle-collect='correlation::handle*' <bench binary>`
//! with `CORRELATION_BENCH=profile` gives its instructions for the 20,000 new alerts.

use rustc_hash::FxHashMap;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tocsin_core::config::indirect_dependencies;
use tocsin_core::correlation::cofire::{Cofire, Firing, MAX_KINDS, MAX_PAIRS};
use tocsin_core::correlation::{
    choose, text, CorrelationSettings, Footprint, Footprints, Placed, Reason,
};
use tocsin_core::fingerprint::alert_key;
use tocsin_core::time::Millis;

/// Counts live heap bytes while `COUNTING` is on (for the learner's memory).
struct Counting;
static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = System.alloc(l);
        if COUNTING.load(Relaxed) && !p.is_null() {
            LIVE.fetch_add(l.size() as isize, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l);
        if COUNTING.load(Relaxed) {
            LIVE.fetch_sub(l.size() as isize, Relaxed);
        }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = System.realloc(p, l, new);
        if COUNTING.load(Relaxed) && !q.is_null() {
            LIVE.fetch_add(new as isize - l.size() as isize, Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const SEC: Millis = 1000;
const MIN: Millis = 60 * SEC;
const HOUR: Millis = 60 * MIN;
const DAY: Millis = 24 * HOUR;
const HISTORY: usize = 100_000;
const NEW_ALERTS: usize = 20_000;
const RESET_EVERY: usize = 500;
const DCS: [&str; 3] = ["bj", "sh", "gz"];

// ---------------------------------------------------------------------------------------
// Randomness: an LCG is plenty.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo).max(1) as u64) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

// ---------------------------------------------------------------------------------------
// The catalog.

#[derive(Clone, Copy, PartialEq)]
enum Tier {
    Storage,
    Middleware,
    Backend,
    Edge,
    Network,
}

struct Service {
    id: String,
    tier: Tier,
    depends_on: Vec<String>,
    /// Two or three hops away, as the config works them out.
    indirect: Vec<String>,
    dependents: Vec<usize>,
    hosts: Vec<usize>,
}

struct Host {
    name: String,
    service: usize,
    /// Nearest first, as `Config::uplinks` gives them.
    uplinks: Vec<String>,
}

struct Catalog {
    services: Vec<Service>,
    hosts: Vec<Host>,
    /// Index of the switch host -> the hosts right behind it.
    behind: HashMap<usize, Vec<usize>>,
    cores: Vec<usize>,
    aggs: Vec<usize>,
    access: Vec<usize>,
}

const STORAGE: [&str; 12] = [
    "mysql-orders",
    "mysql-users",
    "postgres-billing",
    "redis-session",
    "redis-cache",
    "kafka",
    "elasticsearch",
    "ceph",
    "mongodb-catalog",
    "zookeeper",
    "clickhouse",
    "tidb",
];
const MIDDLEWARE: [&str; 8] = [
    "rabbitmq",
    "consul",
    "etcd",
    "envoy-mesh",
    "nacos",
    "rocketmq",
    "config-center",
    "auth-sso",
];
const BACKEND: [&str; 28] = [
    "order-api",
    "payment",
    "user-api",
    "cart",
    "checkout",
    "coupon",
    "inventory",
    "search",
    "recommend",
    "notification",
    "billing",
    "pricing",
    "shipping",
    "risk-control",
    "member",
    "review",
    "message-push",
    "media",
    "report",
    "settlement",
    "wallet",
    "points",
    "customer-service",
    "logistics",
    "promotion",
    "catalog",
    "address",
    "invoice",
];
const EDGE: [&str; 12] = [
    "gateway",
    "web-frontend",
    "mobile-bff",
    "admin-portal",
    "open-api",
    "cdn-origin",
    "nginx-ingress",
    "h5-frontend",
    "mini-program-bff",
    "partner-api",
    "seller-portal",
    "k8s-node-pool",
];

impl Catalog {
    fn build(rng: &mut Rng) -> Catalog {
        let mut services: Vec<Service> = Vec::new();
        let tiers = [
            (&STORAGE[..], Tier::Storage),
            (&MIDDLEWARE[..], Tier::Middleware),
            (&BACKEND[..], Tier::Backend),
            (&EDGE[..], Tier::Edge),
        ];
        for (names, tier) in tiers {
            for name in names {
                services.push(Service {
                    id: name.to_string(),
                    tier,
                    depends_on: Vec::new(),
                    indirect: Vec::new(),
                    dependents: Vec::new(),
                    hosts: Vec::new(),
                });
            }
        }
        // Dependencies point to lower tiers: backends on storage and middleware (and on
        // each other), edges on backends.
        let n = services.len();
        for i in 0..n {
            let lower: Vec<usize> = (0..i)
                .filter(|&j| match services[i].tier {
                    Tier::Middleware => services[j].tier == Tier::Storage,
                    Tier::Backend => true,
                    Tier::Edge => services[j].tier == Tier::Backend,
                    _ => false,
                })
                .collect();
            if lower.is_empty() {
                continue;
            }
            let k = 1 + rng.below(3);
            for _ in 0..k {
                let d = *rng.pick(&lower);
                if !services[i].depends_on.contains(&services[d].id) {
                    let id = services[d].id.clone();
                    services[i].depends_on.push(id);
                    services[d].dependents.push(i);
                }
            }
        }
        let index: HashMap<String, usize> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let indirect: Vec<Vec<String>> = services
            .iter()
            .map(|s| {
                indirect_dependencies(&s.id, &s.depends_on, |id| {
                    index.get(id).map(|&i| services[i].depends_on.as_slice())
                })
            })
            .collect();
        for (s, indirect) in services.iter_mut().zip(indirect) {
            s.indirect = indirect;
        }
        // Switches: one core per data centre, 4 aggregation switches under each, access
        // switches of 40 hosts under those.
        let network = services.len();
        services.push(Service {
            id: "network".into(),
            tier: Tier::Network,
            depends_on: Vec::new(),
            indirect: Vec::new(),
            dependents: Vec::new(),
            hosts: Vec::new(),
        });
        let mut hosts: Vec<Host> = Vec::new();
        let mut cat_behind: HashMap<usize, Vec<usize>> = HashMap::new();
        let (mut cores, mut aggs, mut access) = (Vec::new(), Vec::new(), Vec::new());
        let mut aggs_of_dc: Vec<Vec<usize>> = Vec::new();
        for dc in DCS {
            let core = hosts.len();
            hosts.push(Host {
                name: format!("core-sw-{dc}-01"),
                service: network,
                uplinks: vec![],
            });
            cores.push(core);
            let mut mine = Vec::new();
            for a in 1..=4 {
                let agg = hosts.len();
                hosts.push(Host {
                    name: format!("agg-sw-{dc}-{a:02}"),
                    service: network,
                    uplinks: vec![hosts[core].name.clone()],
                });
                cat_behind.entry(core).or_default().push(agg);
                aggs.push(agg);
                mine.push(agg);
            }
            aggs_of_dc.push(mine);
        }
        let mut access_of_dc: Vec<Vec<usize>> = vec![Vec::new(); DCS.len()];
        let mut filled: HashMap<usize, usize> = HashMap::new();
        let mut access_switch = |hosts: &mut Vec<Host>,
                                 cat_behind: &mut HashMap<usize, Vec<usize>>,
                                 access: &mut Vec<usize>,
                                 dc: usize|
         -> usize {
            if let Some(&sw) = access_of_dc[dc].last() {
                if filled[&sw] < 40 {
                    *filled.get_mut(&sw).unwrap() += 1;
                    return sw;
                }
            }
            let agg = aggs_of_dc[dc][access_of_dc[dc].len() % 4];
            let sw = hosts.len();
            let name = format!("asw-{}-{:03}", DCS[dc], access_of_dc[dc].len() + 1);
            let up = hosts[agg].uplinks.clone();
            hosts.push(Host {
                name,
                service: network,
                uplinks: std::iter::once(hosts[agg].name.clone()).chain(up).collect(),
            });
            cat_behind.entry(agg).or_default().push(sw);
            access_of_dc[dc].push(sw);
            access.push(sw);
            filled.insert(sw, 1);
            sw
        };
        #[allow(clippy::needless_range_loop)]
        for s in 0..network {
            let count = rng.range(25, 76) as usize;
            for h in 1..=count {
                // Each service lives in one or two data centres; its hosts are spread
                // over the access switches there as racks fill up.
                let dc = (s + h % 2 * (s % 2)) % DCS.len();
                let sw = access_switch(&mut hosts, &mut cat_behind, &mut access, dc);
                let name = format!("{}-{}-{h:02}", services[s].id, DCS[dc]);
                let ups = std::iter::once(hosts[sw].name.clone())
                    .chain(hosts[sw].uplinks.iter().cloned())
                    .collect();
                let i = hosts.len();
                hosts.push(Host {
                    name,
                    service: s,
                    uplinks: ups,
                });
                services[s].hosts.push(i);
                cat_behind.entry(sw).or_default().push(i);
            }
        }
        for (i, h) in hosts.iter().enumerate() {
            if h.service == network {
                services[network].hosts.push(i);
            }
        }
        Catalog {
            services,
            hosts,
            behind: cat_behind,
            cores,
            aggs,
            access,
        }
    }

    /// Every machine behind a switch, switches included, nearest first.
    fn all_behind(&self, sw: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut todo = vec![sw];
        while let Some(s) = todo.pop() {
            for &h in self.behind.get(&s).into_iter().flatten() {
                out.push(h);
                todo.push(h);
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// Kinds of alert and their texts.

#[derive(Clone, Copy, PartialEq)]
enum Class {
    /// Any machine: it is down or unwell.
    HostDown,
    HostUnwell,
    /// Services: errors, latency, upstream trouble.
    App,
    Storage,
    Switch,
    /// Fires alone: disks filling, certificates expiring.
    Loner,
}

struct Kind {
    source: &'static str,
    class: Class,
    /// `{h}` host, `{s}` service, `{v}` a value, `{m}` a mount, `{i}` an interface.
    name: String,
    summary: String,
    description: String,
}

/// The fixed kinds: source | class | name | summary | description.
const KINDS: &str = "
prometheus|HostDown|InstanceDown|{h}:9100 has been down for more than 1 minute|node_exporter on {h} does not answer scrapes; the machine may be down or unreachable
prometheus|HostDown|NodeExporterScrapeFailed|scrape of {h}:9100 failed|Prometheus cannot scrape {h}: context deadline exceeded
zabbix|HostDown|Zabbix agent is not available (for 3m)|Zabbix agent on {h} is unreachable|No data from the Zabbix agent on {h} for 3 minutes
zabbix|HostDown|Unavailable by ICMP ping|{h} does not answer ICMP ping|Last three ICMP pings to {h} failed
nagios|HostDown|PING|PING CRITICAL - Packet loss = 100%|CRITICAL: host {h} is DOWN, no answer from 10.0.{v}.{v}
nagios|HostDown|SSH|CRITICAL - Socket timeout after 10 seconds|SSH on {h} does not answer
open-falcon|HostDown|agent.alive|主机 {h} agent 失联|Falcon agent 在 {h} 上超过 {v} 秒没有上报心跳，主机可能已宕机
open-falcon|HostDown|主机宕机|主机 {h} 宕机|{h} 无法连通，请检查电源和网络
prometheus|HostUnwell|HostHighCpuLoad|CPU load on {h} is {v}%|CPU usage above 90% for 5 minutes on {h}
prometheus|HostUnwell|HostOutOfMemory|{h} has {v}% memory left|Node memory is filling up (< 10% left)
prometheus|HostUnwell|HostClockSkew|clock skew on {h}|Clock skew detected; check NTP
zabbix|HostUnwell|High memory utilization (>90% for 5m)|Memory utilization on {h} is {v}%|The system is running out of free memory
zabbix|HostUnwell|High CPU utilization (over 90% for 5m)|CPU utilization on {h} is {v}%|CPU utilization is too high; the system might be slow to respond
zabbix|HostUnwell|Load average is too high (per CPU load over 1.5 for 5m)|load average {v} on {h}|Per-CPU load average is too high
nagios|HostUnwell|Current Load|CRITICAL - load average: {v}.12, {v}.40, {v}.01|load on {h} is critical
nagios|HostUnwell|Swap Usage|SWAP CRITICAL - {v}% free|swap almost exhausted on {h}
open-falcon|HostUnwell|cpu.idle|CPU 空闲率过低: {v}%|{h} CPU 空闲率低于 10%，持续 5 分钟
open-falcon|HostUnwell|mem.memfree.percent|内存使用率过高，剩余 {v}%|{h} 可用内存不足 10%
open-falcon|HostUnwell|load.1min|负载过高: {v}|{h} 一分钟负载超过阈值
open-falcon|HostUnwell|net.if.in.bits|网卡入流量过高 {v} Mbps|{h} eth0 入流量超过 80%
prometheus|App|HighErrorRate|{s}: 5xx ratio is {v}%|More than 5% of requests to {s} fail with 5xx
prometheus|App|HighLatency|{s}: p99 latency is {v} ms|The 99th percentile latency of {s} is above its objective
prometheus|App|UpstreamConnectFailures|{s} cannot reach its upstreams|Envoy reports upstream connect failures and resets from {s}
prometheus|App|KubePodCrashLooping|pod {s}-{v} is crash looping|Pod of {s} restarted {v} times in 10 minutes
prometheus|App|KubeDeploymentReplicasMismatch|deployment {s} has unavailable replicas|Deployment {s} has not matched the expected number of replicas
prometheus|App|JvmGcPauseHigh|{s}: GC pause {v} ms|Old generation garbage collection pauses are long
prometheus|App|CircuitBreakerOpen|{s}: circuit breaker open|Calls from {s} to a dependency are short-circuited
prometheus|App|HttpProbeFailed|blackbox probe of {s} failed|The HTTP health check of {s} does not return 200
zabbix|App|Service response time is too high|{s} responds in {v} ms|Average response time above 2 s for 5 minutes
zabbix|App|接口错误率过高|{s} 接口错误率 {v}%|{s} 服务接口 5xx 错误率超过 5%，请检查上游依赖
zabbix|App|服务响应超时|{s} 响应时间 {v} ms|{s} 服务平均响应时间超过 2 秒
nagios|App|HTTP|HTTP CRITICAL - 503 Service Unavailable - {v} bytes in 0.{v} second response time|HTTP check of {s} on {h} failed
nagios|App|Process java|PROCS CRITICAL: 0 processes with command name 'java'|the java process of {s} is not running on {h}
open-falcon|App|http.5xx.rate|{s} 5xx 比例 {v}%|{s} 服务错误率升高，可能是下游依赖异常
open-falcon|App|rpc.latency.p99|{s} 调用延迟 p99 {v} ms|{s} 调用下游超时，连接池可能耗尽
open-falcon|App|线程池耗尽|{s} 线程池耗尽|{s} 业务线程池活跃线程数达到上限，请求排队
prometheus|Storage|MysqlDown|MySQL on {h} is down|mysqld_exporter reports mysql_up == 0
prometheus|Storage|MysqlSlaveReplicationLag|replication lag {v} s on {h}|The replica is behind its primary
prometheus|Storage|MysqlTooManyConnections|{v}% of max_connections used on {h}|More than 80% of MySQL connections are in use
prometheus|Storage|RedisDown|Redis on {h} is down|redis_exporter reports redis_up == 0
prometheus|Storage|RedisRejectedConnections|Redis on {h} rejected connections|Connections to Redis were rejected (maxclients reached)
prometheus|Storage|KafkaConsumerLagHigh|consumer lag {v} on {s}|Consumer group lag keeps growing
prometheus|Storage|KafkaUnderReplicatedPartitions|{v} under-replicated partitions|Some Kafka partitions are under-replicated
prometheus|Storage|ElasticsearchClusterRed|Elasticsearch cluster is red|Some primary shards are not allocated
zabbix|Storage|MySQL: Service is down|MySQL is down on {h}|MySQL service is not running
zabbix|Storage|MySQL: Slow queries rate is too high|{v} slow queries per second on {h}|The number of slow queries is above the threshold
zabbix|Storage|数据库连接池耗尽|{s} 数据库连接池耗尽|{s} 数据库连接数达到上限，新连接被拒绝
zabbix|Storage|主从复制延迟|{h} 主从复制延迟 {v} 秒|从库复制落后主库，读请求可能拿到旧数据
nagios|Storage|MySQL connection|CRITICAL - Can't connect to MySQL server on '{h}' (111)|mysql check failed
open-falcon|Storage|redis.connected_clients|Redis 连接数过高 {v}|{h} Redis 客户端连接数接近 maxclients
open-falcon|Storage|磁盘 IO 繁忙|{h} 磁盘 IO 使用率 {v}%|{h} 磁盘 util 持续高于 90%，数据库写入变慢
zabbix|Switch|Interface {i}: Link down|Interface {i} on {h} is down|The link on interface {i} went down
zabbix|Switch|Interface {i}: High error rate (>2 for 5m)|{v} input errors on {i}|The interface has a high rate of CRC errors
zabbix|Switch|Unavailable by ICMP ping|{h} does not answer ICMP ping|Last three ICMP pings to {h} failed
zabbix|Switch|BGP peer is down|BGP session on {h} dropped|A BGP neighbour of {h} left the Established state
nagios|Switch|Port {i} status|CRITICAL - {i} is down|SNMP reports ifOperStatus down on {h}
nagios|Switch|PING|PING CRITICAL - Packet loss = 100%|CRITICAL: switch {h} is DOWN
prometheus|Switch|SnmpInterfaceDown|{h} {i} oper down|snmp_exporter: ifOperStatus is down
open-falcon|Switch|交换机端口 down|交换机 {h} 端口 {i} 中断|{h} 的上联端口 {i} 状态为 down，下挂主机可能失联
open-falcon|Switch|switch.if.OperStatus|端口状态异常 {i}|{h} 端口 {i} 运行状态异常
prometheus|Loner|CertificateExpiringSoon|TLS certificate of {s} expires in {v} days|Renew the certificate before it expires
prometheus|Loner|BackupJobFailed|the nightly backup of {s} failed|The backup job exited with an error
zabbix|Loner|/etc/passwd has been changed|/etc/passwd changed on {h}|A system file was modified
zabbix|Loner|Zabbix agent version changed|agent version changed on {h}|The agent was upgraded or downgraded
nagios|Loner|NTP|NTP WARNING: Offset 0.{v} secs|clock offset on {h}
open-falcon|Loner|证书即将过期|{s} 证书将在 {v} 天后过期|请及时更新 {s} 的 TLS 证书
open-falcon|Loner|日志错误关键字|{s} 日志出现 ERROR 关键字 {v} 次|{h} 上 {s} 的日志中匹配到错误关键字
";

fn kinds() -> Vec<Kind> {
    let mut out = Vec::new();
    let mut k = |source: &str, class: Class, name: &str, summary: &str, description: &str| {
        out.push(Kind {
            source: match source {
                "prometheus" => "prometheus",
                "zabbix" => "zabbix",
                "nagios" => "nagios",
                _ => "open-falcon",
            },
            class,
            name: name.into(),
            summary: summary.into(),
            description: description.into(),
        })
    };
    use Class::*;
    for line in KINDS.lines().filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split('|').collect();
        let class = match f[1] {
            "HostDown" => HostDown,
            "HostUnwell" => HostUnwell,
            "App" => App,
            "Storage" => Storage,
            "Switch" => Switch,
            _ => Loner,
        };
        k(f[0], class, f[2], f[3], f[4]);
    }
    for m in [
        "/", "/var", "/data", "/home", "/opt", "/var/log", "/tmp", "/boot",
    ] {
        k(
            "nagios",
            Loner,
            &format!("Disk {m}"),
            &format!("DISK WARNING - free space: {m} {{v}} MB"),
            "disk filling up on {h}",
        );
        k(
            "zabbix",
            Loner,
            &format!("{m}: Disk space is low (used > 80%)"),
            "Space used on {m}: {v}%",
            "Disk space is running low",
        );
        k(
            "open-falcon",
            Loner,
            &format!("df.bytes.free.percent mount={m}"),
            &format!("磁盘 {m} 剩余空间 {{v}}%"),
            "{h} 磁盘空间不足，请清理日志",
        );
    }
    // Per-service checks: each service's own health checks and processes are kinds of
    // their own in the tools that name checks by what they check.
    for s in BACKEND.iter().chain(&EDGE).chain(&MIDDLEWARE) {
        k(
            "nagios",
            App,
            &format!("HTTP {s} health"),
            "HTTP CRITICAL - 502 Bad Gateway",
            &format!("health check of {s} on {{h}} failed"),
        );
        k(
            "zabbix",
            App,
            &format!("Process {s} is not running"),
            "{s} process count is 0 on {h}",
            &format!("{s} 进程不存在，请检查服务状态"),
        );
        k(
            "open-falcon",
            App,
            &format!("{s} 接口调用失败"),
            "{s} 接口失败率 {v}%",
            &format!("{s} 调用失败率升高"),
        );
    }
    for s in STORAGE {
        k(
            "nagios",
            Storage,
            &format!("TCP {s}"),
            "CRITICAL - Socket timeout after 10 seconds",
            &format!("{s} port does not answer on {{h}}"),
        );
        k(
            "zabbix",
            Storage,
            &format!("{s} 集群状态异常"),
            "{s} 集群节点 {h} 异常",
            &format!("{s} 集群有节点离线"),
        );
    }
    out
}

/// One alert ready for the engine: its source and texts as the adapter made them, where
/// it is in the catalog and when it fired.
struct Alert {
    source: &'static str,
    name: String,
    summary: String,
    description: String,
    host: usize,
    at: Millis,
}

struct World {
    cat: Catalog,
    kinds: Vec<Kind>,
    by_class: HashMap<u8, Vec<usize>>,
}

fn class_id(c: Class) -> u8 {
    c as u8
}

impl World {
    fn alert(&self, rng: &mut Rng, class: Class, host: usize, at: Millis) -> Alert {
        let list = &self.by_class[&class_id(class)];
        let kind = &self.kinds[*rng.pick(list)];
        let h = &self.cat.hosts[host];
        let s = &self.cat.services[h.service].id;
        let v = rng.range(2, 99).to_string();
        let i = format!("Gi0/{}", rng.range(1, 48));
        let fill = |t: &str| {
            t.replace("{h}", &h.name)
                .replace("{s}", s)
                .replace("{v}", &v)
                .replace("{i}", &i)
        };
        Alert {
            source: kind.source,
            name: fill(&kind.name),
            summary: fill(&kind.summary),
            description: fill(&kind.description),
            host,
            at,
        }
    }

    /// The alerts of one fault starting at `t`, in time order.
    fn fault(&self, rng: &mut Rng, what: Fault, t: Millis) -> Vec<Alert> {
        let cat = &self.cat;
        let mut out = Vec::new();
        let app_fault = |out: &mut Vec<Alert>, rng: &mut Rng, svc: usize, t: Millis, depth| {
            let mut todo = vec![(svc, t, depth)];
            while let Some((s, t, d)) = todo.pop() {
                let hosts = &cat.services[s].hosts;
                let n = (hosts.len() / 3).clamp(2, 20);
                for _ in 0..n {
                    let h = *rng.pick(hosts);
                    let class = if cat.services[s].tier == Tier::Storage && rng.chance(0.6) {
                        Class::Storage
                    } else {
                        Class::App
                    };
                    out.push({
                        let at = t + rng.range(0, 60 * SEC);
                        self.alert(rng, class, h, at)
                    });
                }
                if d > 0 {
                    for &dep in &cat.services[s].dependents {
                        if rng.chance(0.7) {
                            todo.push((dep, t + rng.range(20 * SEC, 90 * SEC), d - 1));
                        }
                    }
                }
            }
        };
        match what {
            Fault::Switch(sw) => {
                for _ in 0..3 {
                    out.push({
                        let at = t + rng.range(0, 10 * SEC);
                        self.alert(rng, Class::Switch, sw, at)
                    });
                }
                let mut services: std::collections::BTreeSet<usize> = Default::default();
                for h in cat.all_behind(sw) {
                    let host = &cat.hosts[h];
                    let class = if cat.services[host.service].tier == Tier::Network {
                        Class::Switch
                    } else {
                        services.insert(host.service);
                        Class::HostDown
                    };
                    for _ in 0..1 + rng.below(2) {
                        out.push({
                            let at = t + rng.range(20 * SEC, 80 * SEC);
                            self.alert(rng, class, h, at)
                        });
                    }
                }
                for s in services {
                    if rng.chance(0.5) {
                        app_fault(&mut out, rng, s, t + 60 * SEC, 0);
                    }
                }
            }
            Fault::Cascade(svc, depth) => app_fault(&mut out, rng, svc, t, depth),
            Fault::Host(h) => {
                out.push(self.alert(rng, Class::HostUnwell, h, t));
                for _ in 0..rng.below(4) {
                    out.push({
                        let at = t + rng.range(0, 60 * SEC);
                        self.alert(rng, Class::HostUnwell, h, at)
                    });
                }
                for _ in 0..rng.below(3) {
                    out.push({
                        let at = t + rng.range(20 * SEC, 90 * SEC);
                        self.alert(rng, Class::App, h, at)
                    });
                }
            }
            Fault::Loner(h) => out.push(self.alert(rng, Class::Loner, h, t)),
        }
        out.sort_by_key(|a| a.at);
        out
    }

    /// A fault of the everyday mix: mostly loners and unwell hosts, some service faults,
    /// now and then a switch.
    fn everyday(&self, rng: &mut Rng) -> Fault {
        let cat = &self.cat;
        let app_host = |rng: &mut Rng| loop {
            let h = rng.below(cat.hosts.len());
            if cat.services[cat.hosts[h].service].tier != Tier::Network {
                return h;
            }
        };
        match rng.below(100) {
            0..=44 => Fault::Loner(app_host(rng)),
            45..=79 => Fault::Host(app_host(rng)),
            80..=97 => Fault::Cascade(rng.below(cat.services.len() - 1), rng.below(2)),
            _ => Fault::Switch(*rng.pick(&cat.access)),
        }
    }
}

#[derive(Clone, Copy)]
enum Fault {
    Switch(usize),
    Cascade(usize, usize),
    Host(usize),
    Loner(usize),
}

// ---------------------------------------------------------------------------------------
// What the engine keeps, and what it does per newly firing alert.

#[derive(Clone, Default)]
struct State {
    footprints: Footprints,
    /// Stands for `index.incidents` (the `open` filter on candidates).
    incidents: HashMap<i64, bool>,
    recent: FxHashMap<u64, (i64, Millis)>,
    signatures: FxHashMap<u64, u64>,
    next_id: i64,
    alerts: usize,
}

fn signature(source: &str, name: &str, host: Option<&str>) -> u64 {
    let mut what = String::with_capacity(name.len() + 32);
    what.push_str(host.unwrap_or(""));
    what.push('\u{1f}');
    what.push_str(name);
    alert_key(source, &what)
}

/// Per-phase times of one alert.
#[derive(Default, Clone, Copy)]
struct Phases {
    words: Duration,
    choose: Duration,
    note: Duration,
}

/// `note_new_firing`: remember the alert in its incident and learn from it.
fn note(
    w: &World,
    st: &mut State,
    learned: Option<&mut Cofire>,
    a: &Alert,
    (kind, kind_name, tokens): (u64, &str, &[u32]),
    id: i64,
    s: &CorrelationSettings,
) {
    let h = &w.cat.hosts[a.host];
    let svc = &w.cat.services[h.service];
    let host = Some(h.name.as_str());
    let placed = Placed {
        kind,
        tokens,
        ..Placed::bare(&svc.id, host)
    };
    st.footprints.record(id, a.at, &placed, a.at);
    st.incidents.insert(id, true);
    let sig = signature(a.source, &a.name, host);
    st.recent.insert(sig, (id, a.at));
    st.signatures.insert(alert_key(a.source, &a.name), sig);
    if let Some(c) = learned {
        let uplinks = h.uplinks.clone();
        c.observe(
            &Firing {
                kind,
                name: kind_name,
                service: &svc.id,
                host,
                uplinks: &uplinks,
                depends_on: &svc.depends_on,
                at: a.at,
            },
            s.cofire,
        );
    }
}

/// One newly firing alert, as the engine handles it; returns the incident it went to.
/// Not inlined: a profiler's toggle needs the symbol (see the header).
#[inline(never)]
fn handle(
    w: &World,
    st: &mut State,
    learned: Option<&mut Cofire>,
    a: &Alert,
    s: &CorrelationSettings,
    ph: &mut Phases,
) -> i64 {
    let t0 = Instant::now();
    let h = &w.cat.hosts[a.host];
    let svc = &w.cat.services[h.service];
    let host = Some(h.name.as_str());
    // Words::of
    let (kind, kind_name) = text::kind(a.source, &a.name, host);
    let tokens = text::tokens(&[&a.name, &a.summary, &a.description], host);
    let t1 = Instant::now();
    // correlate
    let uplinks = h.uplinks.clone();
    let placed = Placed {
        service: &svc.id,
        service_known: true,
        host,
        uplinks: &uplinks,
        depends_on: &svc.depends_on,
        indirect: &svc.indirect,
        kind,
        tokens: &tokens,
        threshold: s.threshold,
    };
    let incidents = &st.incidents;
    let chosen = st
        .footprints
        .choose(&placed, a.at, s, learned.as_deref(), |id| {
            incidents.get(&id).copied().unwrap_or(false)
        });
    let id = match chosen {
        Some((id, scored)) => {
            black_box(scored.explain(host));
            id
        }
        None => {
            let sig = signature(a.source, &a.name, host);
            let still = st.signatures.contains_key(&alert_key(a.source, &a.name));
            match st.recent.get(&sig).filter(|_| !still) {
                Some(&(id, last)) if a.at - last <= s.recurrence => {
                    black_box(Reason::Recurrence { ago: a.at - last }.explain(None));
                    id
                }
                _ => {
                    st.next_id += 1;
                    st.next_id
                }
            }
        }
    };
    let t2 = Instant::now();
    // note_new_firing
    note(w, st, learned, a, (kind, &kind_name, &tokens), id, s);
    st.alerts += 1;
    let t3 = Instant::now();
    ph.words += t1 - t0;
    ph.choose += t2 - t1;
    ph.note += t3 - t2;
    id
}

// ---------------------------------------------------------------------------------------
// Setting the scene.

/// The learner after `HISTORY` past firings of the everyday mix (and a few big faults),
/// spread over the week before `t0`.
fn warm_learner(w: &World, rng: &mut Rng, t0: Millis, s: &CorrelationSettings) -> Cofire {
    let mut c = Cofire::default();
    let mut t = t0 - 7 * DAY;
    let mut n = 0;
    let mut last_prune = t;
    while n < HISTORY {
        let fault = if rng.chance(0.004) {
            Fault::Switch(*rng.pick(&w.cat.aggs))
        } else {
            w.everyday(rng)
        };
        for a in w.fault(rng, fault, t) {
            observe(w, &mut c, &a, s);
            n += 1;
        }
        t += rng.range(5 * SEC, 9 * MIN);
        if t - last_prune >= MIN {
            c.prune(t, s.cofire);
            last_prune = t;
        }
    }
    c
}

fn observe(w: &World, c: &mut Cofire, a: &Alert, s: &CorrelationSettings) {
    let h = &w.cat.hosts[a.host];
    let svc = &w.cat.services[h.service];
    let (kind, name) = text::kind(a.source, &a.name, Some(&h.name));
    c.observe(
        &Firing {
            kind,
            name: &name,
            service: &svc.id,
            host: Some(&h.name),
            uplinks: &h.uplinks,
            depends_on: &svc.depends_on,
            at: a.at,
        },
        s.cofire,
    );
}

/// `open` firing alerts in incidents the way faults make them, all of it within the last
/// minutes before `t0` so every incident is open to correlation; the learner sees them
/// too. Returns the state and a few of its faults to keep going.
fn open_state(
    w: &World,
    rng: &mut Rng,
    open: usize,
    t0: Millis,
    c: &mut Cofire,
    s: &CorrelationSettings,
) -> (State, usize) {
    let mut faults: Vec<Vec<Alert>> = Vec::new();
    let mut total = 0;
    let big: Vec<Fault> = if open >= 10_000 {
        vec![
            Fault::Switch(w.cat.cores[1]),
            Fault::Switch(w.cat.aggs[0]),
            Fault::Switch(w.cat.aggs[9]),
            Fault::Cascade(0, 3),
            Fault::Cascade(3, 3),
        ]
    } else {
        vec![Fault::Switch(w.cat.access[7]), Fault::Cascade(1, 2)]
    };
    for f in big {
        let mut alerts = w.fault(rng, f, t0 - 4 * MIN);
        alerts.truncate((open * 3 / 4).saturating_sub(total));
        total += alerts.len();
        faults.push(alerts);
    }
    while total < open {
        let f = w.everyday(rng);
        let at = t0 - 4 * MIN + rng.range(0, 3 * MIN);
        let mut alerts = w.fault(rng, f, at);
        alerts.truncate(open - total);
        total += alerts.len();
        faults.push(alerts);
    }
    let mut all: Vec<(usize, Alert)> = faults
        .into_iter()
        .enumerate()
        .flat_map(|(i, v)| v.into_iter().map(move |a| (i, a)))
        .collect();
    // Squeeze every alert into the 4 minutes before t0: all incidents open.
    for (_, a) in &mut all {
        a.at = a.at.clamp(t0 - 4 * MIN, t0 - SEC);
    }
    all.sort_by_key(|(_, a)| a.at);
    let mut st = State::default();
    let incidents = all.iter().map(|(i, _)| *i).max().unwrap_or(0) + 1;
    for (i, a) in &all {
        let h = &w.cat.hosts[a.host];
        let (kind, name) = text::kind(a.source, &a.name, Some(&h.name));
        let tokens = text::tokens(&[&a.name, &a.summary, &a.description], Some(&h.name));
        note(
            w,
            &mut st,
            Some(c),
            a,
            (kind, &name, &tokens),
            *i as i64 + 1,
            s,
        );
        st.alerts += 1;
    }
    st.next_id = incidents as i64 + 1;
    (st, incidents)
}

/// The new alerts: half more of the faults in progress (hosts behind the switches, more
/// services failing), half the everyday mix, one every 6 ms from `t0`.
fn new_alerts(w: &World, rng: &mut Rng, t0: Millis, big: bool) -> Vec<Alert> {
    let mut pool: Vec<Alert> = Vec::new();
    while pool.len() < NEW_ALERTS {
        let f = if rng.chance(0.5) {
            if big {
                match rng.below(3) {
                    0 => Fault::Switch(*rng.pick(&w.cat.aggs[4..8])),
                    1 => Fault::Cascade(rng.below(12), 2),
                    _ => Fault::Switch(*rng.pick(&w.cat.access)),
                }
            } else {
                Fault::Switch(*rng.pick(&w.cat.access))
            }
        } else {
            w.everyday(rng)
        };
        let mut alerts = w.fault(rng, f, t0);
        // Only a taste of each, so the stream mixes many of them.
        alerts.truncate(1 + rng.below(20));
        pool.extend(alerts);
    }
    pool.truncate(NEW_ALERTS);
    // Shuffle, then one every 6 ms.
    for i in (1..pool.len()).rev() {
        let j = rng.below(i + 1);
        pool.swap(i, j);
    }
    for (i, a) in pool.iter_mut().enumerate() {
        a.at = t0 + i as Millis * 6;
    }
    pool
}

// ---------------------------------------------------------------------------------------
// Runs.

struct Run {
    each: Vec<Duration>,
    phases: Phases,
    joined: usize,
    open_incidents: usize,
    alerts_lo: usize,
    alerts_hi: usize,
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn pct(v: &[Duration], p: usize) -> f64 {
    us(v[(v.len() * p / 100).min(v.len() - 1)])
}

fn main() {
    let what = std::env::var("CORRELATION_BENCH").unwrap_or_default();
    if what != "memory" {
        speed();
    }
    if what != "speed" && what != "runs" && what != "profile" {
        memory();
    }
}

fn world(rng: &mut Rng) -> World {
    let cat = Catalog::build(rng);
    let kinds = kinds();
    let mut by_class: HashMap<u8, Vec<usize>> = HashMap::new();
    for (i, k) in kinds.iter().enumerate() {
        by_class.entry(class_id(k.class)).or_default().push(i);
    }
    World {
        cat,
        kinds,
        by_class,
    }
}

fn speed() {
    let s = CorrelationSettings::default();
    let mut rng = Rng(7);
    let w = world(&mut rng);
    let t0: Millis = 1_772_409_600_000; // 2026-03-02
    let hosts = w
        .cat
        .hosts
        .iter()
        .filter(|h| w.cat.services[h.service].tier != Tier::Network)
        .count();
    println!(
        "catalog: {} services, {hosts} hosts, {} switches; {} alert templates",
        w.cat.services.len() - 1,
        w.cat.hosts.len() - hosts,
        w.kinds.len()
    );
    let profile = std::env::var("CORRELATION_BENCH").is_ok_and(|v| v == "profile");
    let sizes: &[(usize, &str)] = if profile {
        &[(10_000, "10,000 open")]
    } else {
        &[(10_000, "10,000 open"), (1_000, "1,000 open")]
    };
    for &(open, label) in sizes {
        let mut rng = Rng(11);
        let warmed = Instant::now();
        let mut learner = warm_learner(&w, &mut rng, t0 - 5 * MIN, &s);
        let (st, incidents) = open_state(&w, &mut rng, open, t0, &mut learner, &s);
        let sizes = learner.len();
        let alerts = new_alerts(&w, &mut rng, t0, open >= 10_000);
        let biggest = {
            let mut v: Vec<usize> = st.footprints.iter().map(|(_, f)| f.hosts.len()).collect();
            v.sort_unstable_by(|a, b| b.cmp(a));
            v.truncate(5);
            v
        };
        println!(
            "\n{label}: {} alerts in {incidents} incidents (hosts in the 5 biggest: {biggest:?}); \
             learner {} kinds, {} pairs after {HISTORY} past firings (set up in {:.1} s)",
            st.alerts,
            sizes.0,
            sizes.1,
            warmed.elapsed().as_secs_f64()
        );
        let modes: &[bool] = if profile {
            &[true]
        } else if open >= 10_000 {
            &[true, false]
        } else {
            &[true]
        };
        for &learning in modes {
            let mut c = if learning {
                Some(warm_copy(&w, open, t0, &s))
            } else {
                None
            };
            let r = run_with(&w, &st, c.as_mut(), &alerts, &s);
            let n = r.each.len() as f64;
            println!(
                "  learning {:3}: {} new alerts ({:.2}% joined an incident), {}-{} open alerts \
                 in {}+ incidents: per alert median {:.1} us, p90 {:.1} us, p99 {:.1} us, \
                 max {:.0} us; mean {:.1} us = words {:.1} + correlate {:.1} + note {:.1}",
                if learning { "on" } else { "off" },
                r.each.len(),
                r.joined as f64 * 100.0 / n,
                r.alerts_lo,
                r.alerts_hi,
                r.open_incidents,
                pct(&r.each, 50),
                pct(&r.each, 90),
                pct(&r.each, 99),
                us(*r.each.last().unwrap()),
                (us(r.phases.words) + us(r.phases.choose) + us(r.phases.note)) / n,
                us(r.phases.words) / n,
                us(r.phases.choose) / n,
                us(r.phases.note) / n,
            );
        }
        let runs_only = profile || std::env::var("CORRELATION_BENCH").is_ok_and(|v| v == "runs");
        if open >= 10_000 && !runs_only {
            let learner = warm_copy(&w, open, t0, &s);
            breakdown(&w, &st, &learner, &alerts, &s);
        }
    }
}

/// A learner as `speed` warmed it (Cofire is not Clone: warmed again from the same seed).
fn warm_copy(w: &World, open: usize, t0: Millis, s: &CorrelationSettings) -> Cofire {
    let mut rng = Rng(11);
    let mut learner = warm_learner(w, &mut rng, t0 - 5 * MIN, s);
    let _ = open_state(w, &mut rng, open, t0, &mut learner, s);
    learner
}

fn run_with(
    w: &World,
    base: &State,
    mut c: Option<&mut Cofire>,
    alerts: &[Alert],
    s: &CorrelationSettings,
) -> Run {
    let mut st = base.clone();
    let mut each = Vec::with_capacity(alerts.len());
    let mut ph = Phases::default();
    let (mut joined, mut hi) = (0, 0);
    for (i, a) in alerts.iter().enumerate() {
        if i % RESET_EVERY == 0 && i > 0 {
            hi = hi.max(st.alerts);
            st = base.clone();
        }
        let before = st.next_id;
        let started = Instant::now();
        let id = handle(w, &mut st, c.as_deref_mut(), a, s, &mut ph);
        each.push(started.elapsed());
        if id <= before {
            joined += 1;
        }
    }
    hi = hi.max(st.alerts);
    each.sort();
    Run {
        each,
        phases: ph,
        joined,
        open_incidents: base.footprints.len(),
        alerts_lo: base.alerts,
        alerts_hi: hi,
    }
}

type Prepared<'a> = (u64, Vec<u32>, Vec<String>, &'a Alert);

fn placed_of<'a>(
    w: &'a World,
    p: &'a Prepared<'_>,
    s: &CorrelationSettings,
) -> (Placed<'a>, Millis) {
    let h = &w.cat.hosts[p.3.host];
    let svc = &w.cat.services[h.service];
    (
        Placed {
            service: &svc.id,
            service_known: true,
            host: Some(&h.name),
            uplinks: &p.2,
            depends_on: &svc.depends_on,
            indirect: &svc.indirect,
            kind: p.0,
            tokens: &p.1,
            threshold: s.threshold,
        },
        p.3.at,
    )
}

/// Where `choose`'s time goes with 10,000 open alerts: the same loop over the open
/// incidents, one part at a time, per new alert (medians over the first 2,000).
fn breakdown(w: &World, st: &State, learner: &Cofire, alerts: &[Alert], s: &CorrelationSettings) {
    let sample = &alerts[..2_000.min(alerts.len())];
    let prepared: Vec<(u64, Vec<u32>, Vec<String>, &Alert)> = sample
        .iter()
        .map(|a| {
            let h = &w.cat.hosts[a.host];
            let (kind, _) = text::kind(a.source, &a.name, Some(&h.name));
            let tokens = text::tokens(&[&a.name, &a.summary, &a.description], Some(&h.name));
            (kind, tokens, h.uplinks.clone(), a)
        })
        .collect();
    let fps: Vec<(i64, &Footprint)> = st.footprints.iter().collect();
    let kinds_total: usize = fps.iter().map(|(_, f)| f.kinds.len()).sum();
    let tokens_total: usize = fps.iter().map(|(_, f)| f.tokens.len()).sum();
    println!(
        "  where choose's time goes ({} open incidents holding {kinds_total} kinds and \
         {tokens_total} tokens in all; median per new alert):",
        fps.len()
    );
    let time = |label: &str, f: &mut dyn FnMut(&Prepared<'_>)| {
        let mut v: Vec<Duration> = prepared
            .iter()
            .map(|p| {
                let t = Instant::now();
                f(p);
                t.elapsed()
            })
            .collect();
        v.sort();
        println!("    {label:<58} {:>8.1} us", pct(&v, 50));
    };

    let open = |id: i64| st.incidents.get(&id).copied().unwrap_or(false);
    time(
        "Footprints::choose, learning on (as the engine calls it)",
        &mut |p| {
            let (a, at) = placed_of(w, p, s);
            black_box(st.footprints.choose(&a, at, s, Some(learner), open));
        },
    );
    time("Footprints::choose, learning off", &mut |p| {
        let (a, at) = placed_of(w, p, s);
        black_box(st.footprints.choose(&a, at, s, None, open));
    });
    time(
        "  of which: Cofire::companions of the alert's kind",
        &mut |p| {
            black_box(learner.companions(p.0, 0.35));
        },
    );
    time(
        "  of which: gathering the candidates, learning on",
        &mut |p| {
            let (a, at) = placed_of(w, p, s);
            black_box(st.footprints.candidates(&a, at, s, Some(learner)));
        },
    );
    for (learning, label) in [(true, "on"), (false, "off")] {
        let learned = Some(learner).filter(|_| learning);
        let mut counts: Vec<usize> = Vec::new();
        let mut same = 0;
        for p in &prepared {
            let (a, at) = placed_of(w, p, s);
            let n = st
                .footprints
                .candidates(&a, at, s, learned)
                .map_or(fps.len(), |c| c.len());
            counts.push(n);
            let fast = st.footprints.choose(&a, at, s, learned, open);
            let all = choose(
                fps.iter().copied().filter(|(id, _)| open(*id)),
                &a,
                at,
                s,
                learned,
            );
            same += (fast == all) as usize;
        }
        counts.sort_unstable();
        println!(
            "      learning {label}: candidates per alert median {}, p90 {}, max {} of {}; the \
             same choice and explanation as the full scan for {same} of {} alerts",
            counts[counts.len() / 2],
            counts[counts.len() * 9 / 10],
            counts[counts.len() - 1],
            fps.len(),
            prepared.len()
        );
    }
    println!("  the full scan (every open incident scored, as before the indexes):");
    time("choose over every open incident, learning on", &mut |p| {
        let (a, at) = placed_of(w, p, s);
        let cands = fps.iter().copied().filter(|(id, _)| open(*id));
        black_box(choose(cands, &a, at, s, Some(learner)));
    });
    time("choose over every open incident, learning off", &mut |p| {
        let (a, at) = placed_of(w, p, s);
        black_box(choose(fps.iter().copied(), &a, at, s, None));
    });
    time(
        "walk the open incidents (is_open_to + open lookup only)",
        &mut |p| {
            let at = p.3.at;
            let n = st
                .footprints
                .iter()
                .filter(|(id, _)| st.incidents.get(id).copied().unwrap_or(false))
                .filter(|(_, f)| f.is_open_to(at, s))
                .count();
            black_box(n);
        },
    );
    time(
        "topology: uplink/service/dependency look-ups in each",
        &mut |p| {
            let (a, at) = placed_of(w, p, s);
            let mut n = 0;
            for (_, f) in &fps {
                n += a.uplinks.iter().filter_map(|u| f.hosts.get(u)).count();
                n += f
                    .services
                    .get(a.service)
                    .map_or(0, |span| (at - span.last < MIN) as usize);
                n += a
                    .depends_on
                    .iter()
                    .filter_map(|d| f.services.get(d))
                    .count();
            }
            black_box(n);
        },
    );
    time(
        "co-fire: rate(kind, k) for every kind k of each",
        &mut |p| {
            let mut best = 0.0f32;
            for (_, f) in &fps {
                for &k in f.kinds.keys() {
                    if let Some(r) = learner.rate(p.0, k) {
                        best = best.max(r);
                    }
                }
            }
            black_box(best);
        },
    );
    time(
        "co-fire: name(best).to_owned() for each (explanation)",
        &mut |p| {
            let mut n = 0;
            for (_, f) in &fps {
                if let Some(&k) = f.kinds.keys().next() {
                    n += learner.name(k).unwrap_or("?").to_owned().len();
                }
            }
            black_box((n, p.0));
        },
    );
    time("text: similarity with each incident's tokens", &mut |p| {
        let mut sum = 0.0f32;
        for (_, f) in &fps {
            sum += text::similarity(&p.1, &f.tokens);
        }
        black_box(sum);
    });
    time(
        "score parts: a Vec of parts per incident (allocation)",
        &mut |_| {
            for _ in &fps {
                let v: Vec<(u8, f32)> = Vec::with_capacity(4);
                black_box(v);
            }
        },
    );
}

/// The learner over ten days of firings at ~2 a second, with 3% of them of a kind never
/// seen before (log-keyword and ad-hoc checks whose names carry free text), its changes
/// taken after each fault as the engine saves them with each batch: its sizes stay under
/// MAX_KINDS and MAX_PAIRS and its heap levels off.
fn memory() {
    let s = CorrelationSettings::default();
    let mut rng = Rng(3);
    let w = world(&mut rng);
    let syllables = [
        "ka", "ro", "mi", "tse", "lun", "va", "dor", "pex", "qua", "zi", "nor", "bel",
    ];
    // Microseconds, bucketed: nothing allocated while counting.
    let mut hist = vec![0u64; 100_000];
    LIVE.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    let mut c = Cofire::default();
    let mut t: Millis = 1_772_409_600_000;
    let start = t;
    let (mut n, mut novel, mut last_prune, mut next_report) = (0usize, 0usize, t, t + DAY);
    let (mut max_kinds, mut max_pairs, mut max_heap) = (0, 0, 0isize);
    let mut worst = Duration::ZERO;
    let mut max_saved = 0;
    println!("\nlearner over 10 days (3% of firings of a new kind; bounds {MAX_KINDS} kinds, {MAX_PAIRS} pairs):");
    println!(
        "  {:>4} {:>10} {:>8} {:>8} {:>10}",
        "day", "firings", "kinds", "pairs", "heap MiB"
    );
    while t < start + 10 * DAY {
        let fault = if rng.chance(0.002) {
            Fault::Switch(*rng.pick(&w.cat.aggs))
        } else {
            w.everyday(&mut rng)
        };
        for mut a in w.fault(&mut rng, fault, t) {
            if rng.chance(0.03) {
                // Never seen before: the count spelled in syllables.
                let mut word = String::new();
                let mut x = novel + 1;
                while x > 0 {
                    word.push_str(syllables[x % syllables.len()]);
                    x /= syllables.len();
                }
                a.name = format!("Log keyword {word} matched");
                novel += 1;
            }
            let started = Instant::now();
            observe(&w, &mut c, &a, &s);
            let d = started.elapsed();
            let last = hist.len() - 1;
            hist[(d.as_micros() as usize).min(last)] += 1;
            worst = worst.max(d);
            n += 1;
        }
        // The engine saves what changed with each batch it applies (runner.rs).
        let (k, p) = c.take_changes();
        max_saved = max_saved.max(k.len() + p.len());
        drop((k, p));
        t += rng.range(2 * SEC, 5 * SEC);
        if t - last_prune >= MIN {
            c.prune(t, s.cofire);
            last_prune = t;
        }
        let (k, p) = c.len();
        max_kinds = max_kinds.max(k);
        max_pairs = max_pairs.max(p);
        max_heap = max_heap.max(LIVE.load(Relaxed));
        if t >= next_report {
            println!(
                "  {:>4} {n:>10} {k:>8} {p:>8} {:>10.1}",
                (t - start) / DAY,
                LIVE.load(Relaxed) as f64 / (1 << 20) as f64
            );
            next_report += DAY;
        }
    }
    COUNTING.store(false, Relaxed);
    let quantile = |q: f64| {
        let (mut seen, goal) = (0u64, (n as f64 * q) as u64);
        hist.iter()
            .position(|&c| {
                seen += c;
                seen > goal
            })
            .unwrap_or(0)
    };
    println!(
        "  {n} firings ({novel} of a new kind): at most {max_kinds} kinds (bound {MAX_KINDS}), \
         {max_pairs} pairs (bound {MAX_PAIRS}), heap at most {:.1} MiB; observe median {} us, \
         p99 {} us, max {:.0} us; at most {max_saved} changed kinds and pairs saved in one \
         batch",
        max_heap as f64 / (1 << 20) as f64,
        quantile(0.5),
        quantile(0.99),
        us(worst)
    );
    if max_kinds > MAX_KINDS + 1 || max_pairs > MAX_PAIRS + 1 {
        println!("  BOUND EXCEEDED");
    }
}

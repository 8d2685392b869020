-- wrk script for tocsin's benchmark (bench/run.sh): every request POSTs BATCH distinct alerts
-- to /api/v2/alerts in the Prometheus Alertmanager API v2 shape, so the same script loads
-- tocsin and Alertmanager alike.
--
--   BATCH=100 wrk -t2 -c8 -d10s --latency -s bench/alerts.lua http://127.0.0.1:7600
--
-- Environment:
--   BATCH     alerts per request (default 100)
--   SERVICES  number of distinct `service` label values svc-0..svc-N-1 (default 50)
--   ID_BASE   added to every alert number, so several runs against one instance stay
--             distinct (default 0)
--
-- Alert numbers are thread * 10^9 + ID_BASE + counter: distinct across threads and
-- requests. `done` prints one line `BENCH_JSON {...}` with the counts and the latency
-- percentiles (microseconds) for bench/bench.py to read.

local batch = tonumber(os.getenv("BATCH") or "100")
local services = tonumber(os.getenv("SERVICES") or "50")
local id_base = tonumber(os.getenv("ID_BASE") or "0")
local severities = { "critical", "warning", "high", "info" }

local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

local counter = 0
local headers = { ["Content-Type"] = "application/json" }
local fmt = string.format
local concat = table.concat

function init(args)
  counter = 0
end

-- One alert, fully distinct by its instance label.
local function alert(n)
  return fmt('{"labels":{"alertname":"BenchCheck%d","service":"svc-%d","instance":"node-%d.bench:9100",'
    .. '"severity":"%s"},"annotations":{"summary":"bench check %d failing on node-%d"},'
    .. '"generatorURL":"http://prometheus.bench:9090/graph?g0.expr=bench_up%%3D%%3D0"}',
    n % 25, n % services, n, severities[n % 4 + 1], n % 25, n)
end

function request()
  local parts = {}
  local base = thread_no * 1000000000 + id_base
  for i = 1, batch do
    counter = counter + 1
    parts[i] = alert(base + counter)
  end
  return wrk.format("POST", "/api/v2/alerts", headers, "[" .. concat(parts, ",") .. "]")
end

function done(summary, latency, requests)
  local e = summary.errors
  local p = {}
  for _, q in ipairs({ 50, 90, 99, 99.9 }) do
    p[#p + 1] = fmt('"%s":%d', tostring(q), latency:percentile(q))
  end
  io.write(fmt('BENCH_JSON {"batch":%d,"duration_us":%d,"requests":%d,"bytes":%d,'
    .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
    .. '"latency_us":{"mean":%.1f,"max":%d,"stdev":%.1f,"p":{%s}}}\n',
    batch, summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency.stdev, concat(p, ",")))
end

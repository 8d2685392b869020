-- wrk script for the per-adapter intake benchmark (bench/adapters.py): every request sends
-- BATCH distinct alerts (or one, for tools that send one per request) in the wire format of
-- the tool KIND, to the path PATH.
--
--   KIND=zabbix PATH_=/hooks/KEY BATCH=1 wrk -t2 -c8 -d10s -s bench/adapters.lua http://127.0.0.1:7600
--
-- Environment: KIND, PATH_ (the request path), BATCH (alerts per request; tools that send
-- one alert per request ignore it), KEY (PagerDuty's routing_key). `done` prints one line
-- `BENCH_JSON {...}` like bench/alerts.lua.

local kind = os.getenv("KIND")
local path = os.getenv("PATH_")
local batch = tonumber(os.getenv("BATCH") or "100")
local key = os.getenv("KEY") or ""
local fmt = string.format
local concat = table.concat

local threads = {}
local next_thread = 0
function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

local counter = 0
local json = { ["Content-Type"] = "application/json" }
local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local ce_batch = { ["Content-Type"] = "application/cloudevents-batch+json" }

local function next_id()
  counter = counter + 1
  return thread_no * 1000000000 + counter
end

local function many(one)
  local parts = {}
  for i = 1, batch do parts[i] = one(next_id()) end
  return "[" .. concat(parts, ",") .. "]"
end

local function am_alert(n)
  return fmt('{"status":"firing","labels":{"alertname":"BenchCheck%d","instance":"node-%d.bench:9100",'
    .. '"severity":"warning","service":"svc-%d"},"annotations":{"summary":"bench check failing on node-%d"},'
    .. '"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z",'
    .. '"generatorURL":"http://prometheus.bench:9090/graph","fingerprint":"f%d"}',
    n % 25, n, n % 50, n, n)
end

-- The core intake is sent as its integration (the key as bearer), like Prometheus with
-- `authorization` set.
local json_bearer = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }

local bodies = {
  ["alertmanager"] = function() return "POST", json_bearer, many(am_alert) end,
  ["tocsin"] = function()
    return "POST", json, many(function(n)
      return fmt('{"summary":"bench check failing on node-%d","severity":"warning",'
        .. '"labels":{"alertname":"BenchCheck%d","host":"node-%d"}}', n, n % 25, n)
    end)
  end,
  ["alertmanager-webhook"] = function()
    return "POST", json, '{"version":"4","groupKey":"{}:{}","status":"firing","receiver":"tocsin",'
      .. '"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am:9093",'
      .. '"truncatedAlerts":0,"alerts":' .. many(am_alert) .. '}'
  end,
  ["grafana"] = function()
    return "POST", json, '{"receiver":"tocsin","status":"firing","orgId":1,"groupLabels":{},'
      .. '"commonLabels":{},"commonAnnotations":{},"externalURL":"http://grafana:3000/","version":"1",'
      .. '"groupKey":"{}:{}","truncatedAlerts":0,"title":"bench","state":"alerting","message":"bench",'
      .. '"alerts":' .. many(am_alert) .. '}'
  end,
  ["nightingale"] = function()
    return "POST", json, many(function(n)
      return fmt('{"id":%d,"hash":"h%d","rule_id":7,"rule_name":"BenchCheck%d","severity":2,'
        .. '"is_recovered":false,"target_ident":"node-%d","tags":["ident=node-%d","service=svc-%d"],'
        .. '"tags_map":{"ident":"node-%d","service":"svc-%d"},"trigger_value":"93.2",'
        .. '"trigger_time":1767225600,"first_trigger_time":1767225600,"group_name":"bench",'
        .. '"rule_note":"bench check failing"}', n, n, n % 25, n, n, n % 50, n, n % 50)
    end)
  end,
  ["cloudevents"] = function()
    return "POST", ce_batch, many(function(n)
      return fmt('{"specversion":"1.0","id":"%d","source":"//bench","type":"bench.check",'
        .. '"subject":"node-%d","data":{"summary":"bench check failing on node-%d","severity":"warning"}}',
        n, n, n)
    end)
  end,
  ["webhook"] = function()
    return "POST", json, many(function(n)
      return fmt('{"id":"%d","title":"bench check failing on node-%d","level":"warning","host":"node-%d"}',
        n, n, n)
    end)
  end,
  ["zabbix"] = function()
    local n = next_id()
    return "POST", json, fmt('{"event_id":"%d","event_value":"1","event_source":"0",'
      .. '"event_update_status":"0","event_ack_status":"No","event_name":"High load on node-%d",'
      .. '"trigger_id":"%d","event_severity":"Average","event_nseverity":"3","host_name":"node-%d",'
      .. '"host_ip":"10.%d.%d.%d","event_date":"2026.01.01","event_time":"00:00:00",'
      .. '"event_tags":"service:svc-%d","event_opdata":"load 9.1"}',
      n, n, n % 1000, n, n % 250, math.floor(n / 250) % 250, n % 250, n % 50)
  end,
  ["nagios"] = function()
    local n = next_id()
    return "POST", form, fmt('NOTIFICATIONTYPE=PROBLEM&HOSTNAME=node-%d&HOSTADDRESS=10.0.0.%d'
      .. '&SERVICEDESC=Disk+%%2Fvar&SERVICESTATE=CRITICAL&SERVICEOUTPUT=DISK+CRITICAL'
      .. '&SERVICEPROBLEMID=%d&LASTSERVICEPROBLEMID=0&TIMET=1767225600', n, n % 250, n)
  end,
  ["open-falcon"] = function()
    local n = next_id()
    return "GET", nil, nil, fmt('?endpoint=node-%d&metric=load.1min&tags=service:svc-%d'
      .. '&status=PROBLEM&step=1&priority=2&time=2026-01-01+00:00:00&tpl_id=1&exp_id=0'
      .. '&stra_id=%d&left_value=9.1', n, n % 50, n % 100)
  end,
  ["pagerduty"] = function()
    local n = next_id()
    return "POST", json, fmt('{"routing_key":"%s","event_action":"trigger","dedup_key":"bench-%d",'
      .. '"payload":{"summary":"bench check failing on node-%d","source":"node-%d",'
      .. '"severity":"warning"}}', key, n, n, n)
  end,
}

local make = bodies[kind]
if make == nil then error("unknown KIND " .. tostring(kind)) end

function request()
  local method, headers, body, query = make()
  return wrk.format(method, path .. (query or ""), headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local p = {}
  for _, q in ipairs({ 50, 90, 99 }) do
    p[#p + 1] = fmt('"%s":%d', tostring(q), latency:percentile(q))
  end
  io.write(fmt('BENCH_JSON {"duration_us":%d,"requests":%d,'
    .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
    .. '"latency_us":{"p":{%s}}}\n',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    concat(p, ",")))
end

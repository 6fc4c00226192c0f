-- wrk script of the benchmark suite (bench/bench.py sets the environment):
--   BENCH_MODE=file  POST /api/v1/incidents, a unique body and Idempotency-Key per request
--   BENCH_MODE=get   GET /api/v1/incidents/<id>, ids drawn at random from BENCH_IDS (a file)
--   BENCH_MODE=path  GET BENCH_PATH (BENCH_NO_CACHE=1 adds Cache-Control: no-cache)
-- BENCH_TOKEN is the bearer token; done() prints one JSON line with the figures.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local body_template = [[{"title": "電子カルテのランサムウェア感染 %s", "category": "ransomware",
"detected_at": "2026-01-20T06:10:00+09:00", "description": "電子カルテサーバーが暗号化され、脅迫文が表示された",
"attack_vector": "vpn", "affected_systems": ["emr", "pacs"], "care_impact": "emergency_suspended",
"personal_data": {"status": "suspected", "persons_estimate": 40000}, "ransom_demand": true,
"ransomware": {"note_text": "Your files are encrypted", "encrypted_extension": ".lockbit", "kinds": ["encryption", "leak_threat"]},
"offline_backup": "affected", "bcp_activated": true, "contact": {"name": "情報システム室 佐藤", "phone": "03-1234-5678"}}]]

function init(args)
  mode = os.getenv("BENCH_MODE") or "path"
  token = os.getenv("BENCH_TOKEN") or ""
  prefix = os.getenv("BENCH_PREFIX") or "wrk"
  path = os.getenv("BENCH_PATH") or "/api/v1/incidents?limit=50"
  n = 0
  ids = {}
  if mode == "get" then
    for line in io.lines(os.getenv("BENCH_IDS")) do
      if #line > 0 then table.insert(ids, line) end
    end
    math.randomseed(os.time() + (tid or 0))
  end
  headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  if os.getenv("BENCH_NO_CACHE") == "1" then headers["Cache-Control"] = "no-cache" end
end

function request()
  if mode == "file" then
    n = n + 1
    local key = prefix .. "-" .. (tid or 0) .. "-" .. n
    headers["Idempotency-Key"] = key
    return wrk.format("POST", "/api/v1/incidents", headers, string.format(body_template, key))
  elseif mode == "get" then
    return wrk.format("GET", "/api/v1/incidents/" .. ids[math.random(#ids)], headers)
  end
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nBENCH_JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end

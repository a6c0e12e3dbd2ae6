-- wrk script for tools/bench: prints one machine-readable line at the end.
--
--   WRK_STOP_AFTER=N   each thread stops after N responses (a request-count
--                      bounded run instead of a duration-bounded one)
--   WRK_METHOD, WRK_BODY, WRK_CONTENT_TYPE   optional request override
--
-- The last line of output is
--   WRKJSON {"requests":..,"duration_us":..,"lat_p50_us":..,...}

local stop_after = tonumber(os.getenv("WRK_STOP_AFTER") or "")

if os.getenv("WRK_METHOD") then
  wrk.method = os.getenv("WRK_METHOD")
end
if os.getenv("WRK_BODY") then
  wrk.body = os.getenv("WRK_BODY")
  wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"
end

if stop_after then
  local seen = 0
  response = function(status, headers, body)
    seen = seen + 1
    if seen >= stop_after then
      wrk.thread:stop()
    end
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"lat_mean_us":%.1f,"lat_stdev_us":%.1f,"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d,' ..
    '"lat_p999_us":%d,"lat_max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end

-- wrk script for bench/oapif_vs_pygeoapi.py: asks for GeoJSON and, when the run ends, prints one line
-- "WRKJSON {...}" with the request count, errors and latency percentiles (microseconds) from wrk's own
-- histogram. No per-response callback, so the client does as little work per request as wrk can.
wrk.headers["Accept"] = "application/geo+json, application/json;q=0.9"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "stdev": %.1f, "p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end

-- Shared by the wrk scripts of ops/bench: one JSON line on stdout when wrk is done,
-- "WRK_JSON {...}", which ops/bench/api.sh picks up. Latencies in milliseconds.
function done(summary, latency, requests)
   local s = summary
   local secs = s.duration / 1e6
   io.write(string.format(
      'WRK_JSON {"requests":%d,"duration_s":%.3f,"req_per_s":%.1f,' ..
      '"latency_ms":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f,"mean":%.3f},' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
      s.requests, secs, s.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
      s.errors.connect, s.errors.read, s.errors.write, s.errors.status, s.errors.timeout))
end

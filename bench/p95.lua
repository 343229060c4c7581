-- wrk reporter: the 50th, 95th and 99th percentile latencies in
-- milliseconds, the request rate, and the non-2xx answers, one per line.
done = function(summary, latency, requests)
  io.write(string.format("p50_ms %.2f\n", latency:percentile(50) / 1000))
  io.write(string.format("p95_ms %.2f\n", latency:percentile(95) / 1000))
  io.write(string.format("p99_ms %.2f\n", latency:percentile(99) / 1000))
  io.write(string.format("requests_per_second %.1f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("non_2xx %d\n", summary.errors.status))
end

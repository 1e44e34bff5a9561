-- wrk reporter for examples/load-test: one line, "requests/s p50 p90 p99 p99.9 requests",
-- latencies in milliseconds. wrk's own --latency table has no 99.9th percentile.
done = function(summary, latency, requests)
    local ms = function(p) return latency:percentile(p) / 1000 end
    io.write(string.format("RESULT %.0f %.3f %.3f %.3f %.3f %d\n",
        summary.requests / (summary.duration / 1e6), ms(50), ms(90), ms(99), ms(99.9), summary.requests))
end

-- wrk script for examples/load-test. With BODY_BYTES set, every request is a POST of that many
-- bytes; otherwise wrk sends its GET. The reporter prints one line, "RESULT requests/s p50 p90 p99
-- p99.9 requests errors", latencies in milliseconds (wrk's own --latency table has no 99.9th
-- percentile); errors counts non-2xx answers, connect, read and write errors and timeouts.
local body_bytes = tonumber(os.getenv("BODY_BYTES") or "")
if body_bytes then
    wrk.method = "POST"
    wrk.body = string.rep("x", body_bytes)
    wrk.headers["Content-Type"] = "application/octet-stream"
end

done = function(summary, latency, requests)
    local ms = function(p) return latency:percentile(p) / 1000 end
    local e = summary.errors
    io.write(string.format("RESULT %.0f %.3f %.3f %.3f %.3f %d %d\n",
        summary.requests / (summary.duration / 1e6), ms(50), ms(90), ms(99), ms(99.9), summary.requests,
        e.status + e.connect + e.read + e.write + e.timeout))
end

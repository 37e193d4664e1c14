-- wrk script of bench/bench_api.sh: POST /api/v1/events, one small JSON
-- event per request, with the API key from $MW_BENCH_KEY.
wrk.method = "POST"
wrk.body = '{"host":"bench1","event":{"action":"bench"},"message":"wrk benchmark event"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("MW_BENCH_KEY") or "")

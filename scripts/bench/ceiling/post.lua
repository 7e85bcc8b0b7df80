-- wrk script: POST the JSON body in the file named by $BODY.
--   BODY=single.json wrk -t2 -c16 -d10s -s scripts/bench/ceiling/post.lua http://127.0.0.1:8080/v1/models/flights-delay/predict
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
wrk.headers["Content-Type"] = "application/json"
f:close()

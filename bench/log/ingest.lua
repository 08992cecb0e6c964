-- wrk script: POSTs the NDJSON body in $EVENTS (100 events) to $TOPIC_PATH.
local file = assert(io.open(os.getenv("EVENTS"), "r"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/x-ndjson"
wrk.path = os.getenv("TOPIC_PATH") or "/v1/ingest/bench"

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end

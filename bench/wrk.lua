-- wrk script shared by every server and workload: cycles through the request bodies (POST) or
-- paths (GET) in $BENCH_REQUESTS, one per line, and counts failed requests: a status other than
-- 200, or a body with GraphQL "errors" or non-empty "userErrors". $BENCH_START (default 0) is
-- the line the first thread starts after.
local requests = {}
for line in io.lines(os.getenv("BENCH_REQUESTS")) do
  requests[#requests + 1] = line
end
local method = os.getenv("BENCH_METHOD") or "POST"
local auth = os.getenv("BENCH_AUTH") or ""
local path = os.getenv("BENCH_PATH") or "/graphql"
local start = tonumber(os.getenv("BENCH_START") or "0")
wrk.headers["Content-Type"] = "application/json"
if auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local i = 0
failed = 0
function init(args)
  -- Each thread starts at a different place in the list.
  i = start + (id or 0) * 7
end

function request()
  i = i % #requests + 1
  if method == "GET" then
    return wrk.format("GET", requests[i])
  end
  return wrk.format("POST", path, nil, requests[i])
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true)
      or string.find(body, '"userErrors":[{', 1, true) then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("failed") or 0)
  end
  io.write(string.format("bench-failed %d\n", total))
end

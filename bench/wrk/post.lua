package.path = "bench/wrk/?.lua;" .. package.path
local common = require "common"
local n = 0
-- BENCH_RUN: set when several generators post at once (bench/seats).
local run = os.getenv("BENCH_RUN") or os.time()

function init(args)
end

local function body(name)
  return '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. name
    .. '","displayName":"Posted ' .. n .. '","active":true,'
    .. '"name":{"givenName":"Posted","familyName":"User"},'
    .. '"emails":[{"value":"' .. name .. '","type":"work","primary":true}]}'
end

function request()
  n = n + 1
  local name = string.format("post-%s-%d-%d@bench.example", run, tid or 0, n)
  return wrk.format("POST", common.prefix .. "/Users", common.headers, body(name))
end

setup = common.setup
done = common.done

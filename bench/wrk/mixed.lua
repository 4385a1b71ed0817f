-- Entra's provisioning cycle: look the user up by userName, then create it (not found)
-- or patch it (found). Alternating per connection: filter(new) -> POST(new) ->
-- filter(existing) -> PATCH(existing).
package.path = "bench/wrk/?.lua;" .. package.path
local common = require "common"
local ids, names
local step, n, pick, fresh = 0, 0, 1, ""
local run = os.time()

function init(args)
  ids, names = common.load_users()
  math.randomseed(os.time() + (tid or 0))
end

function request()
  step = step % 4 + 1
  if step == 1 then
    n = n + 1
    fresh = string.format("entra-%d-%d-%d@bench.example", run, tid or 0, n)
    return wrk.format("GET", common.filter_path(fresh), common.headers)
  elseif step == 2 then
    local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. fresh
      .. '","active":true,"displayName":"Entra ' .. n .. '",'
      .. '"emails":[{"value":"' .. fresh .. '","type":"work","primary":true}]}'
    return wrk.format("POST", common.prefix .. "/Users", common.headers, body)
  elseif step == 3 then
    pick = math.random(#ids)
    return wrk.format("GET", common.filter_path(names[pick]), common.headers)
  else
    local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
      .. '"Operations":[{"op":"replace","path":"displayName","value":"Entra ' .. (tid or 0) .. '-' .. n .. '"}]}'
    return wrk.format("PATCH", common.prefix .. "/Users/" .. ids[pick], common.headers, body)
  end
end

setup = common.setup
done = common.done

-- Deactivate or reactivate a random user of the users file (a leaver, a returner): each
-- deactivation of a holder frees a seat for the head of its pool's queue, and each
-- reactivation joins the back of it (bench/seats).
package.path = "bench/wrk/?.lua;" .. package.path
local common = require "common"
local ids

function init(args)
  ids = common.load_users()
  math.randomseed(os.time() + (tid or 0))
end

function request()
  local active = math.random(2) == 1 and "true" or "false"
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
    .. '"Operations":[{"op":"replace","path":"active","value":' .. active .. '}]}'
  return wrk.format("PATCH", common.prefix .. "/Users/" .. ids[math.random(#ids)], common.headers, body)
end

setup = common.setup
done = common.done

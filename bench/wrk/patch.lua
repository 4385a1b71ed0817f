package.path = "bench/wrk/?.lua;" .. package.path
local common = require "common"
local ids
local n = 0

function init(args)
  ids = common.load_users()
  math.randomseed(os.time() + (tid or 0))
end

function request()
  n = n + 1
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
    .. '"Operations":[{"op":"replace","path":"title","value":"Title ' .. (tid or 0) .. '-' .. n .. '"}]}'
  return wrk.format("PATCH", common.prefix .. "/Users/" .. ids[math.random(#ids)], common.headers, body)
end

setup = common.setup
done = common.done

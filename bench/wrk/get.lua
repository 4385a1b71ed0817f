package.path = "bench/wrk/?.lua;" .. package.path
local common = require "common"
local ids

function init(args)
  ids = common.load_users()
  math.randomseed(os.time() + (tid or 0))
end

function request()
  return wrk.format("GET", common.prefix .. "/Users/" .. ids[math.random(#ids)], common.headers)
end

setup = common.setup
done = common.done

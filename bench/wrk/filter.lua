package.path = "bench/wrk/?.lua;" .. package.path
local common = require "common"
local names

function init(args)
  local _
  _, names = common.load_users()
  math.randomseed(os.time() + (tid or 0))
end

function request()
  return wrk.format("GET", common.filter_path(names[math.random(#names)]), common.headers)
end

setup = common.setup
done = common.done

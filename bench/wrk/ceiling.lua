package.path = "bench/wrk/?.lua;" .. package.path
local common = require "common"
setup = common.setup
done = common.done

-- Shared by the bench/run workloads: the users file (id<TAB>userName per line, written
-- by bench/run), per-thread numbering, and a machine-readable summary line.
local common = {}

common.token = os.getenv("BENCH_TOKEN") or "bench-token-0123456789"
common.prefix = os.getenv("BENCH_PREFIX") or "/scim/v2"
common.headers = {
  ["Authorization"] = "Bearer " .. common.token,
  ["Content-Type"] = "application/scim+json",
}

function common.load_users()
  local ids, names = {}, {}
  local f = io.open(os.getenv("BENCH_USERS_FILE") or "bench/.out/users.tsv", "r")
  if f then
    for line in f:lines() do
      local id, name = line:match("^([^\t]+)\t(.+)$")
      if id then
        ids[#ids + 1] = id
        names[#names + 1] = name
      end
    end
    f:close()
  end
  return ids, names
end

function common.urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function common.filter_path(name)
  return common.prefix .. "/Users?filter=" .. common.urlencode('userName eq "' .. name .. '"')
end

-- Every thread gets its own number, so generated userNames never collide.
local counter = 1
function common.setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function common.done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    bad, summary.requests))
end

return common

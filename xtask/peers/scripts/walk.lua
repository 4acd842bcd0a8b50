-- wrk's script for `cargo xtask bench --peers`: every request another document, round robin.
-- Arguments: PATHS_FILE [DEPTH]: DEPTH requests sent at once on a connection.
local requests = {}
local next_request = 1

function init(args)
  local depth = tonumber(args[2] or "1")
  local batch = {}
  for path in io.lines(args[1]) do
    batch[#batch + 1] = wrk.format("GET", path)
    if #batch == depth then
      requests[#requests + 1] = table.concat(batch)
      batch = {}
    end
  end
  if #requests == 0 then
    error("no paths in " .. args[1])
  end
end

function request()
  local r = requests[next_request]
  next_request = next_request % #requests + 1
  return r
end

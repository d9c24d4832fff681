-- wrk script for bench/tiles_vs_tipg.py: cycles through the request paths of a file (one per line, given after
-- "--"), and prints wrk_report.lua's one-line summary when the run ends.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "wrk_report.lua")
wrk.headers["Accept"] = nil

local paths, i = {}, 0

init = function(args)
  for line in io.lines(args[1]) do
    if line ~= "" then paths[#paths + 1] = line end
  end
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

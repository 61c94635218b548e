-- One benchmark case for wrk: counts every response whose status is not the
-- expected one (wrk itself only counts statuses outside 2xx/3xx, so a sign-in
-- form re-rendered with an error, a 200, would pass unnoticed).
--
-- Script arguments (after `--`): expected status, then optionally a form body
-- to POST (the request is then a POST with a form content type).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   expected = tonumber(args[1]) or 200
   unexpected = 0
   if args[2] then
      wrk.method = "POST"
      wrk.body = args[2]
      wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
   end
end

function response(status, headers, body)
   if status ~= expected then
      unexpected = unexpected + 1
   end
end

function done(summary, latency, requests)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + thread:get("unexpected")
   end
   io.write(string.format("Unexpected status: %d\n", total))
end

-- wrk script: a long conversation (a system prompt and 40 turns, about 17 KB), the size of a real
-- chat history, where the cost of handling the request body shows. The "long conversations" rows
-- of npm run bench, and bench/ab.mjs --wrk-script bench/wrk-long-chat.lua.
-- Method, headers and the summary line bench/run.mjs reads come from wrk-chat.lua, next to this file.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "wrk-chat.lua")
local turns = { '{"role":"system","content":"You are a helpful assistant."}' }
for i = 0, 39 do
  local role = (i % 2 == 1) and "assistant" or "user"
  local text = string.rep("This is turn " .. i .. " of a long conversation about AI gateways, latency budgets, and streaming. ", 5)
  turns[#turns + 1] = string.format('{"role":"%s","content":"%s"}', role, text)
end
wrk.body = '{"model":"gpt-4o-mini","messages":[' .. table.concat(turns, ",") .. '],"max_tokens":256,"temperature":0.7}'

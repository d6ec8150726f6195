// Request/answer encoding and the dispatch onto Backend. Everything that reads bytes from
// the socket goes through parseLine + decodeRequest, which return Errors for any input.
#include "ctl/protocol.h"

#include <array>

#include <fmt/format.h>

namespace sluice::ctl {

namespace {

struct OpEntry {
  Op op;
  const char* name;
};

constexpr std::array<OpEntry, 20> kOps{{
    {Op::kAddService, "add_service"},
    {Op::kEditService, "edit_service"},
    {Op::kDelService, "del_service"},
    {Op::kClear, "clear"},
    {Op::kAddDest, "add_dest"},
    {Op::kEditDest, "edit_dest"},
    {Op::kDelDest, "del_dest"},
    {Op::kZero, "zero"},
    {Op::kSetTimeouts, "set_timeouts"},
    {Op::kGetTimeouts, "get_timeouts"},
    {Op::kList, "list"},
    {Op::kListConns, "list_conns"},
    {Op::kCounters, "counters"},
    {Op::kReload, "reload"},
    {Op::kHealth, "health"},
    {Op::kSyncDaemons, "sync_daemons"},
    {Op::kStartDaemon, "start_daemon"},
    {Op::kStopDaemon, "stop_daemon"},
    {Op::kAddLaddr, "add_laddr"},
    {Op::kDelLaddr, "del_laddr"},
}};

// Which request fields an op takes; "op" itself is always required.
struct FieldRule {
  const char* name;
  bool required;
};

struct FieldRules {
  std::array<FieldRule, 2> f{};
  size_t n = 0;
  const FieldRule* begin() const { return f.data(); }
  const FieldRule* end() const { return f.data() + n; }
};

FieldRules fieldsFor(Op op) {
  switch (op) {
    case Op::kAddService:
    case Op::kEditService: return {{{{"service", true}}}, 1};
    case Op::kDelService: return {{{{"key", true}}}, 1};
    case Op::kAddDest:
    case Op::kEditDest: return {{{{"key", true}, {"dest", true}}}, 2};
    case Op::kDelDest: return {{{{"key", true}, {"rs", true}}}, 2};
    case Op::kAddLaddr:
    case Op::kDelLaddr: return {{{{"key", true}, {"laddr", true}}}, 2};
    case Op::kZero:
    case Op::kList: return {{{{"key", false}}}, 1};
    case Op::kSetTimeouts: return {{{{"timeouts", true}}}, 1};
    case Op::kStartDaemon:
    case Op::kStopDaemon: return {{{{"daemon", true}}}, 1};
    case Op::kClear:
    case Op::kGetTimeouts:
    case Op::kListConns:
    case Op::kCounters:
    case Op::kReload:
    case Op::kHealth:
    case Op::kSyncDaemons: return {};
  }
  return {};
}

// Nesting depth of a JSON text, ignoring brackets inside strings. Bounds the parser's
// work on hostile input (a megabyte of '[' is refused here, not parsed).
int jsonDepth(std::string_view s) {
  int depth = 0, max_depth = 0;
  bool in_str = false, esc = false;
  for (char c : s) {
    if (in_str) {
      if (esc) esc = false;
      else if (c == '\\') esc = true;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    else if (c == '{' || c == '[') max_depth = std::max(max_depth, ++depth);
    else if (c == '}' || c == ']') --depth;
  }
  return max_depth;
}

Result<Json> parseJsonText(std::string_view text) {
  if (jsonDepth(text) > kMaxJsonDepth)
    return makeError("request nests deeper than {} levels", kMaxJsonDepth);
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    auto close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
    return makeError("not valid JSON: {}", what);
  } catch (const std::exception& e) {
    return makeError("not valid JSON: {}", e.what());
  }
}

}  // namespace

const char* opName(Op op) {
  for (const auto& e : kOps)
    if (e.op == op) return e.name;
  return "?";
}

std::optional<Op> opFromName(std::string_view name) {
  for (const auto& e : kOps)
    if (name == e.name) return e.op;
  return std::nullopt;
}

Json encodeRequest(const Request& r) {
  Json j{{"op", opName(r.op)}};
  if (r.service) j["service"] = toJson(*r.service);
  if (r.key) j["key"] = toJson(*r.key);
  if (r.dest) j["dest"] = toJson(*r.dest);
  if (r.rs) j["rs"] = toJson(*r.rs);
  if (r.laddr) j["laddr"] = toJson(*r.laddr);
  if (r.timeouts) j["timeouts"] = toJson(*r.timeouts);
  if (r.daemon) j["daemon"] = toJson(*r.daemon);
  return j;
}

Result<Request> decodeRequest(const Json& j) {
  if (!j.is_object()) return makeError("a request must be a JSON object, got {}", j.type_name());
  auto op_it = j.find("op");
  if (op_it == j.end()) return makeError("request has no 'op' field");
  if (!op_it->is_string()) return makeError("'op' must be a string, got {}", op_it->type_name());
  const auto& op_name = op_it->get_ref<const std::string&>();
  auto op = opFromName(op_name);
  if (!op) {
    std::string known;
    for (const auto& e : kOps) known += fmt::format("{}{}", known.empty() ? "" : ", ", e.name);
    return makeError("unknown op '{}' (known: {})", op_name.substr(0, 40), known);
  }
  auto rules = fieldsFor(*op);
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "op") continue;
    bool allowed = false;
    for (const auto& f : rules) allowed |= it.key() == f.name;
    if (!allowed) return makeError("unknown field '{}' for op '{}'", it.key().substr(0, 40), op_name);
  }
  for (const auto& f : rules)
    if (f.required && !j.contains(f.name))
      return makeError("op '{}' needs the field '{}'", op_name, f.name);

  Request r;
  r.op = *op;
  if (auto it = j.find("service"); it != j.end()) {
    auto v = fromJson<svc::ServiceConfig>(*it, "service");
    if (!v) return v.error();
    r.service = std::move(*v);
  }
  if (auto it = j.find("key"); it != j.end()) {
    auto v = fromJson<svc::ServiceKey>(*it, "key");
    if (!v) return v.error();
    r.key = *v;
  }
  if (auto it = j.find("dest"); it != j.end()) {
    auto v = fromJson<svc::DestConfig>(*it, "dest");
    if (!v) return v.error();
    r.dest = *v;
  }
  if (auto it = j.find("rs"); it != j.end()) {
    auto v = fromJson<net::Endpoint>(*it, "rs");
    if (!v) return v.error();
    r.rs = *v;
  }
  if (auto it = j.find("laddr"); it != j.end()) {
    auto v = fromJson<svc::LocalAddress>(*it, "laddr");
    if (!v) return v.error();
    r.laddr = std::move(*v);
  }
  if (auto it = j.find("timeouts"); it != j.end()) {
    auto v = fromJson<svc::Timeouts>(*it, "timeouts");
    if (!v) return v.error();
    r.timeouts = *v;
  }
  if (auto it = j.find("daemon"); it != j.end()) {
    auto v = fromJson<SyncDaemonArgs>(*it, "daemon");
    if (!v) return v.error();
    r.daemon = std::move(*v);
  }
  return r;
}

Result<Json> parseLine(std::string_view line) {
  if (line.size() > kMaxRequestBytes)
    return makeError("request is {} bytes, more than the limit of {}", line.size(), kMaxRequestBytes);
  return parseJsonText(line);
}

Json okResponse() { return Json{{"ok", true}}; }

Json errorResponse(std::string_view message) {
  return Json{{"ok", false}, {"error", std::string(message)}};
}

namespace {

Json fromStatus(const Status& s) { return s ? okResponse() : errorResponse(s.error().message); }

}  // namespace

Json dispatch(Backend& b, const Request& r) {
  switch (r.op) {
    case Op::kAddService: return fromStatus(b.addService(*r.service));
    case Op::kEditService: return fromStatus(b.editService(*r.service));
    case Op::kDelService: return fromStatus(b.delService(*r.key));
    case Op::kClear: return fromStatus(b.clear());
    case Op::kAddDest: return fromStatus(b.addDest(*r.key, *r.dest));
    case Op::kEditDest: return fromStatus(b.editDest(*r.key, *r.dest));
    case Op::kDelDest: return fromStatus(b.delDest(*r.key, *r.rs));
    case Op::kAddLaddr: return fromStatus(b.addLaddr(*r.key, *r.laddr));
    case Op::kDelLaddr: return fromStatus(b.delLaddr(*r.key, *r.laddr));
    case Op::kZero: return fromStatus(b.zero(r.key));
    case Op::kSetTimeouts: return fromStatus(b.setTimeouts(*r.timeouts));
    case Op::kGetTimeouts: {
      Json j = okResponse();
      j["timeouts"] = toJson(b.timeouts());
      return j;
    }
    case Op::kList: {
      auto services = b.listServices(r.key);
      if (!services) return errorResponse(services.error().message);
      Json arr = Json::array();
      for (const auto& s : *services) arr.push_back(toJson(s));
      Json j = okResponse();
      j["conn_table_size"] = b.connTableSize();
      j["services"] = std::move(arr);
      return j;
    }
    case Op::kListConns: {
      Json arr = Json::array();
      for (const auto& c : b.listConns()) arr.push_back(toJson(c));
      Json j = okResponse();
      j["conns"] = std::move(arr);
      return j;
    }
    case Op::kCounters: {
      Json arr = Json::array();
      for (const auto& c : b.counters()) arr.push_back(toJson(c));
      Json j = okResponse();
      j["counters"] = std::move(arr);
      return j;
    }
    case Op::kReload: {
      auto summary = b.reload();
      if (!summary) return errorResponse(summary.error().message);
      Json j = okResponse();
      j["summary"] = *summary;
      return j;
    }
    case Op::kHealth: {
      auto rows = b.health();
      if (!rows) return errorResponse(rows.error().message);
      Json arr = Json::array();
      for (const auto& h : *rows) arr.push_back(toJson(h));
      Json j = okResponse();
      j["health"] = std::move(arr);
      return j;
    }
    case Op::kSyncDaemons: {
      auto running = b.syncDaemons();
      if (!running) return errorResponse(running.error().message);
      Json j = okResponse();
      j["sync"] = *running ? toJson(**running) : Json(nullptr);
      return j;
    }
    case Op::kStartDaemon: return fromStatus(b.startDaemon(*r.daemon));
    case Op::kStopDaemon: return fromStatus(b.stopDaemon(*r.daemon));
  }
  return errorResponse("unhandled op");
}

std::string handleRequestLine(Backend& backend, std::string_view line) {
  try {
    auto j = parseLine(line);
    if (!j) return dumpJson(errorResponse(j.error().message));
    auto req = decodeRequest(*j);
    if (!req) return dumpJson(errorResponse(req.error().message));
    return dumpJson(dispatch(backend, *req));
  } catch (const std::exception& e) {
    // The backend or the allocator failed; the client still gets an answer.
    return dumpJson(errorResponse(fmt::format("internal error: {}", e.what())));
  } catch (...) {
    return dumpJson(errorResponse("internal error"));
  }
}

Result<Json> parseResponse(std::string_view line) {
  auto j = parseJsonText(line);
  if (!j) return makeError("sluiced sent an unreadable answer: {}", j.error().message);
  if (!j->is_object() || !j->contains("ok") || !(*j)["ok"].is_boolean())
    return makeError("sluiced sent an answer without an 'ok' field");
  if (!(*j)["ok"].get<bool>()) {
    const auto& e = (*j)["error"];
    return Error{e.is_string() ? e.get<std::string>() : std::string("sluiced reported an error")};
  }
  return j;
}

}  // namespace sluice::ctl

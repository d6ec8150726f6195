// state.json: encoding (the ctl JSON codecs for services, dests and timeouts) and the
// atomic write; see state_file.h.
#include "daemon/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstdlib>

#include "common/log.h"
#include "ctl/json_codec.h"

namespace sluice::daemon {

namespace {

const log::Logger kLog("state");

using ctl::Json;

struct Bad {
  std::string msg;
};

const Json& need(const Json& j, const char* key, const std::string& path) {
  if (!j.is_object()) throw Bad{fmt::format("{}: expected an object", path)};
  auto it = j.find(key);
  if (it == j.end()) throw Bad{fmt::format("{}: missing field '{}'", path, key)};
  return *it;
}

uint64_t needUint(const Json& j, const char* key, const std::string& path, uint64_t max) {
  const Json& v = need(j, key, path);
  if (!v.is_number_unsigned() || v.get<uint64_t>() > max)
    throw Bad{fmt::format("{}.{}: expected a number 0..{}", path, key, max)};
  return v.get<uint64_t>();
}

template <class T>
T decode(const Json& j, const std::string& path) {
  auto r = ctl::fromJson<T>(j, path);
  if (!r) throw Bad{r.error().message};
  return std::move(*r);
}

const Json& needArray(const Json& j, const char* key, const std::string& path) {
  const Json& v = need(j, key, path);
  if (!v.is_array()) throw Bad{fmt::format("{}.{}: expected an array", path, key)};
  return v;
}

}  // namespace

std::string encodeState(const SavedState& s) {
  Json j;
  j["version"] = SavedState::kVersion;
  j["conn_seed"] = fmt::format("{:016x}", s.conn_seed);
  j["conn_capacity"] = s.conn_capacity;
  j["pin_dir"] = s.pin_dir;
  j["timeouts"] = ctl::toJson(s.timeouts);
  Json services = Json::array();
  for (const auto& svc : s.table.services) {
    Json dests = Json::array();
    for (const auto& d : svc.dests) dests.push_back({{"dest_id", d.dest_id}, {"dest", ctl::toJson(d.cfg)}});
    Json entry{{"svc_id", svc.svc_id}, {"service", ctl::toJson(svc.cfg)}, {"dests", dests}};
    // FULLNAT local addresses: written only when there are some, so a file without them
    // reads the same in a sluiced that predates them.
    if (!svc.laddrs.empty()) {
      Json laddrs = Json::array();
      for (const auto& l : svc.laddrs) laddrs.push_back(ctl::toJson(l));
      entry["laddrs"] = std::move(laddrs);
    }
    services.push_back(std::move(entry));
  }
  j["services"] = std::move(services);
  Json trash = Json::array();
  for (const auto& t : s.table.trash)
    trash.push_back({{"dest_id", t.dest_id},
                     {"svc_id", t.svc_id},
                     {"service_key", ctl::toJson(t.svc_key)},
                     {"dest", ctl::toJson(t.cfg)}});
  j["trash"] = std::move(trash);
  return j.dump(2) + "\n";
}

Result<SavedState> decodeState(std::string_view text) {
  try {
    Json j = Json::parse(text.begin(), text.end());
    const std::string root = "state";
    SavedState s;
    uint64_t version = needUint(j, "version", root, UINT32_MAX);
    if (version != SavedState::kVersion)
      return makeError("state version {} is not the {} this sluiced writes", version, SavedState::kVersion);
    const Json& seed = need(j, "conn_seed", root);
    if (!seed.is_string()) throw Bad{"state.conn_seed: expected a hex string"};
    std::string seed_str = seed.get<std::string>();
    char* end = nullptr;
    errno = 0;
    s.conn_seed = std::strtoull(seed_str.c_str(), &end, 16);
    if (seed_str.empty() || *end != '\0' || errno != 0) throw Bad{"state.conn_seed: expected a hex string"};
    s.conn_capacity = uint32_t(needUint(j, "conn_capacity", root, UINT32_MAX));
    const Json& pin = need(j, "pin_dir", root);
    if (!pin.is_string()) throw Bad{"state.pin_dir: expected a string"};
    s.pin_dir = pin.get<std::string>();
    s.timeouts = decode<svc::Timeouts>(need(j, "timeouts", root), "state.timeouts");
    const Json& services = needArray(j, "services", root);
    for (size_t i = 0; i < services.size(); ++i) {
      const std::string p = fmt::format("state.services[{}]", i);
      svc::ServiceState st;
      st.svc_id = uint32_t(needUint(services[i], "svc_id", p, UINT32_MAX));
      st.cfg = decode<svc::ServiceConfig>(need(services[i], "service", p), p + ".service");
      const Json& dests = needArray(services[i], "dests", p);
      for (size_t k = 0; k < dests.size(); ++k) {
        const std::string dp = fmt::format("{}.dests[{}]", p, k);
        svc::DestState d;
        d.dest_id = uint32_t(needUint(dests[k], "dest_id", dp, UINT32_MAX));
        d.cfg = decode<svc::DestConfig>(need(dests[k], "dest", dp), dp + ".dest");
        st.dests.push_back(std::move(d));
      }
      if (services[i].contains("laddrs")) {
        const Json& laddrs = needArray(services[i], "laddrs", p);
        for (size_t k = 0; k < laddrs.size(); ++k)
          st.laddrs.push_back(
              decode<svc::LocalAddress>(laddrs[k], fmt::format("{}.laddrs[{}]", p, k)));
      }
      s.table.services.push_back(std::move(st));
    }
    const Json& trash = needArray(j, "trash", root);
    for (size_t i = 0; i < trash.size(); ++i) {
      const std::string p = fmt::format("state.trash[{}]", i);
      svc::TrashedDest t;
      t.dest_id = uint32_t(needUint(trash[i], "dest_id", p, UINT32_MAX));
      t.svc_id = uint32_t(needUint(trash[i], "svc_id", p, UINT32_MAX));
      t.svc_key = decode<svc::ServiceKey>(need(trash[i], "service_key", p), p + ".service_key");
      t.cfg = decode<svc::DestConfig>(need(trash[i], "dest", p), p + ".dest");
      s.table.trash.push_back(std::move(t));
    }
    return s;
  } catch (const Bad& b) {
    return Error{b.msg};
  } catch (const std::exception& e) {
    return makeError("not valid JSON: {}", e.what());
  }
}

Status writeStateFile(const std::string& path, const SavedState& s) {
  const std::string text = encodeState(s);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return makeError("cannot create {}: {}", tmp, std::strerror(errno));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return makeError("cannot write {}: {}", tmp, std::strerror(e));
    }
    off += size_t(n);
  }
  // Data on disk before the rename makes it visible: a crash leaves the old or the new file.
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return makeError("cannot sync {}: {}", tmp, std::strerror(e));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return makeError("cannot rename {} to {}: {}", tmp, path, std::strerror(e));
  }
  return {};
}

Result<std::optional<SavedState>> readStateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<SavedState>();
    return makeError("cannot read {}: {}", path, std::strerror(errno));
  }
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return makeError("cannot read {}: {}", path, std::strerror(e));
    }
    if (n == 0) break;
    text.append(buf, size_t(n));
  }
  ::close(fd);
  auto s = decodeState(text);
  if (!s) return makeError("{}: {}", path, s.error().message);
  return std::optional<SavedState>(std::move(*s));
}

std::function<Status(const svc::TableState&, const svc::Timeouts&)> stateFileSink(
    SavedState base, std::string file) {
  return [base = std::move(base), file = std::move(file)](const svc::TableState& t,
                                                          const svc::Timeouts& to) -> Status {
    SavedState s = base;
    s.table = t;
    s.timeouts = to;
    if (auto st = writeStateFile(file, s); !st) {
      // A stale file would restore wrong ids after a restart; none makes it refuse.
      unlink(file.c_str());
      kLog.error("{}", st.error().message);
      return makeError("the change is in effect, but the state file could not be written "
                       "({}); it was removed, so a restart will refuse the pinned state",
                       st.error().message);
    }
    return {};
  };
}

}  // namespace sluice::daemon

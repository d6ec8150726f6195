// Control-protocol fuzzer: one request line -> parse -> decode -> dispatch to a small
// in-memory backend -> answer. Must never crash, and every answer must itself be one
// valid JSON line. A request that decodes must also survive encode -> decode unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ctl/protocol.h"

namespace {

using namespace sluice;

// Accepts everything and returns a little of everything, so the encoders run too.
class TinyBackend : public ctl::Backend {
 public:
  Status addService(const svc::ServiceConfig& s) override { return remember(s.key); }
  Status editService(const svc::ServiceConfig& s) override { return remember(s.key); }
  Status delService(const svc::ServiceKey& k) override { return remember(k); }
  Status clear() override { return {}; }
  Status addDest(const svc::ServiceKey& k, const svc::DestConfig&) override { return remember(k); }
  Status editDest(const svc::ServiceKey& k, const svc::DestConfig&) override { return remember(k); }
  Status delDest(const svc::ServiceKey& k, const net::Endpoint&) override { return remember(k); }
  Status addLaddr(const svc::ServiceKey& k, const svc::LocalAddress&) override { return remember(k); }
  Status delLaddr(const svc::ServiceKey& k, const svc::LocalAddress&) override { return remember(k); }
  Status zero(const std::optional<svc::ServiceKey>&) override { return {}; }
  Status setTimeouts(const svc::Timeouts& t) override {
    t_ = t;
    return {};
  }
  svc::Timeouts timeouts() const override { return t_; }
  Result<std::vector<ctl::ServiceInfo>> listServices(const std::optional<svc::ServiceKey>& k) const override {
    if (k && k->port == 1) return makeError("No such service");
    ctl::ServiceInfo s;
    s.cfg.key = last_;
    s.dests.resize(1);
    s.laddrs.resize(1);
    return std::vector<ctl::ServiceInfo>{s};
  }
  std::vector<ctl::ConnInfo> listConns() const override { return {ctl::ConnInfo{}}; }
  uint32_t connTableSize() const override { return 4096; }
  std::vector<ctl::CounterInfo> counters() const override { return {{"rx_packets", false, 1, 2}}; }

 private:
  Status remember(const svc::ServiceKey& k) {
    last_ = k;
    if (k.port == 2) return makeError("Service not defined \xff");
    return {};
  }
  svc::Timeouts t_;
  svc::ServiceKey last_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  TinyBackend backend;
  std::string answer = ctl::handleRequestLine(backend, line);
  if (answer.find('\n') != std::string::npos) std::abort();
  auto parsed = ctl::parseLine(answer);
  if (!parsed.ok() || !parsed->is_object() || !parsed->contains("ok")) std::abort();

  auto j = ctl::parseLine(line);
  if (j.ok()) {
    auto req = ctl::decodeRequest(*j);
    if (req.ok()) {
      ctl::Json once = ctl::encodeRequest(*req);
      auto again = ctl::decodeRequest(once);
      if (!again.ok() || ctl::encodeRequest(*again) != once) std::abort();
    }
  }
  return 0;
}

#include <fmt/format.h>

#include "health/tries.h"

namespace sluice::health {

namespace {

// checktype=on / off: the answer is known; still reported from the loop like any other.
class StaticTry final : public TryBase {
 public:
  StaticTry(Loop& loop, const Probe& p, DoneFn done) : TryBase(loop, p, std::move(done)) {
    timer_ = loop_.after(0, [this] {
      timer_ = 0;
      if (cfg().kind == config::CheckKind::kOn) return succeed("always up (checktype on)");
      fail("always down (checktype off)");
    });
  }
  ~StaticTry() override { loop_.cancel(timer_); }

 private:
  Loop::TimerId timer_ = 0;
};

}  // namespace

std::unique_ptr<Try> startStaticTry(Loop& loop, const Probe& p, DoneFn done) {
  return std::make_unique<StaticTry>(loop, p, std::move(done));
}

std::unique_ptr<Try> startTry(Loop& loop, const Probe& p, DoneFn done) {
  using K = config::CheckKind;
  switch (p.check->kind) {
    case K::kTcp: return startTcpTry(loop, p, std::move(done));
    case K::kHttp:
    case K::kSsl: return startHttpTry(loop, p, std::move(done));
    case K::kSmtp: return startSmtpTry(loop, p, std::move(done));
    case K::kDns: return startDnsTry(loop, p, std::move(done));
    case K::kUdp: return startUdpTry(loop, p, std::move(done));
    case K::kPing: return startPingTry(loop, p, std::move(done));
    case K::kMisc: return startMiscTry(loop, p, std::move(done));
    case K::kFile: return startFileTry(loop, p, std::move(done));
    case K::kOn:
    case K::kOff: return startStaticTry(loop, p, std::move(done));
  }
  return startStaticTry(loop, p, std::move(done));
}

net::Endpoint connectTarget(const config::CheckerConfig& c, const net::Endpoint& rs) {
  net::Endpoint to = rs;
  if (c.connect_ip) to.addr = *c.connect_ip;
  if (c.connect_port) to.port = c.connect_port;
  return to;
}

std::string checkName(const net::Endpoint& ep, svc::Proto proto) {
  return fmt::format("[{}]:{}:{}", ep.addr.str(), proto == svc::Proto::kUdp ? "udp" : "tcp", ep.port);
}

}  // namespace sluice::health

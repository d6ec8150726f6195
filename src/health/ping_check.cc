// PING_CHECK: one ICMP (v4) or ICMPv6 echo request on a raw socket connected to the real
// server (so the kernel hands this socket only that host's ICMP); up when the matching echo
// reply comes within connect_timeout. Needs CAP_NET_RAW: without it the reason says so.
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <random>

#include "health/icmp_echo.h"
#include "health/sock.h"
#include "health/tries.h"

namespace sluice::health {

namespace {

class PingTry final : public TryBase {
 public:
  PingTry(Loop& loop, const Probe& p, DoneFn done) : TryBase(loop, p, std::move(done)) {
    static std::atomic<uint16_t> next_seq{1};
    thread_local std::mt19937 rng{std::random_device{}()};
    id_ = uint16_t(rng());
    seq_ = next_seq++;
    v6_ = probe_.to.addr.isV6();
    net::Endpoint to = probe_.to;
    to.port = 0;
    auto fd = openSocket(cfg(), to, SOCK_RAW, v6_ ? int(IPPROTO_ICMPV6) : int(IPPROTO_ICMP), true);
    if (!fd.ok()) {
      failSoon("ICMP " + fd.error().message);  // "ICMP socket: Operation not permitted"
      return;
    }
    if (auto st = sock_.attach(loop_, *fd, EPOLLIN, [this](uint32_t) { onReadable(); }); !st.ok()) {
      failSoon(st.error().message);
      return;
    }
    auto req = buildEchoRequest(v6_, id_, seq_);
    if (send(sock_.fd(), req.data(), req.size(), 0) < 0) {
      int e = errno;
      sock_.reset();
      failSoon("ICMP send: " + errnoText(e));
      return;
    }
    deadline_.arm(loop_, cfg().connect_timeout, [this] {
      sock_.reset();
      fail("no ICMP echo reply within " + secondsText(cfg().connect_timeout));
    });
  }

 private:
  void onReadable() {
    uint8_t buf[1500];
    for (int i = 0; i < 64; ++i) {  // other replies to this host may be queued too
      ssize_t n = recv(sock_.fd(), buf, sizeof buf, 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        int e = errno;
        sock_.reset();
        deadline_.reset();
        return fail("ICMP recv: " + errnoText(e));
      }
      if (isEchoReply(v6_, std::span<const uint8_t>(buf, size_t(n)), id_, seq_)) {
        sock_.reset();
        deadline_.reset();
        return succeed("ICMP echo reply");
      }
    }
  }

  Watched sock_;
  Timer deadline_;
  bool v6_ = false;
  uint16_t id_ = 0;
  uint16_t seq_ = 0;
};

}  // namespace

std::unique_ptr<Try> startPingTry(Loop& loop, const Probe& p, DoneFn done) {
  return std::make_unique<PingTry>(loop, p, std::move(done));
}

}  // namespace sluice::health

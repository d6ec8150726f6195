// UDP_CHECK: send the payload on a connected UDP socket. With require_reply a reply must
// come within connect_timeout (prefix match with udp_reply when given, length within
// min/max); without it, the try succeeds unless an ICMP port unreachable (ECONNREFUSED on
// the connected socket) arrives within connect_timeout.
#include <sys/socket.h>

#include <algorithm>

#include <fmt/format.h>

#include "health/sock.h"
#include "health/tries.h"

namespace sluice::health {

namespace {

class UdpTry final : public TryBase {
 public:
  UdpTry(Loop& loop, const Probe& p, DoneFn done) : TryBase(loop, p, std::move(done)) {
    auto fd = openSocket(cfg(), probe_.to, SOCK_DGRAM, 0, true);
    if (!fd.ok()) {
      failSoon(fd.error().message);
      return;
    }
    if (auto st = sock_.attach(loop_, *fd, EPOLLIN, [this](uint32_t) { onReadable(); }); !st.ok()) {
      failSoon(st.error().message);
      return;
    }
    // keepalived sends a random payload when none is configured; any byte will do.
    static const uint8_t kDefault[] = {0};
    const auto& pl = cfg().udp_payload;
    if (send(sock_.fd(), pl.empty() ? kDefault : pl.data(), pl.empty() ? 1 : pl.size(), 0) < 0) {
      int e = errno;
      sock_.reset();
      failSoon(e == ECONNREFUSED ? "port unreachable" : "send: " + errnoText(e));
      return;
    }
    deadline_.arm(loop_, cfg().connect_timeout, [this] {
      sock_.reset();
      if (cfg().require_reply) return fail("no UDP reply within " + secondsText(cfg().connect_timeout));
      succeed("no port unreachable within " + secondsText(cfg().connect_timeout));
    });
  }

 private:
  void onReadable() {
    uint8_t buf[65536];
    ssize_t n = recv(sock_.fd(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    int e = errno;
    sock_.reset();
    deadline_.reset();
    if (n < 0) return fail(e == ECONNREFUSED ? "port unreachable" : "recv: " + errnoText(e));
    if (!cfg().require_reply) return succeed("UDP reply received");
    size_t len = size_t(n);
    if (len < cfg().min_reply_length) return fail(fmt::format("UDP reply of {} bytes, under {}", len, cfg().min_reply_length));
    if (cfg().max_reply_length && len > cfg().max_reply_length)
      return fail(fmt::format("UDP reply of {} bytes, over {}", len, cfg().max_reply_length));
    const auto& want = cfg().udp_reply;
    size_t cmp = std::min(len, want.size());
    if (!std::equal(want.begin(), want.begin() + ptrdiff_t(cmp), buf)) return fail("UDP reply does not match");
    succeed("UDP reply matched");
  }

  Watched sock_;
  Timer deadline_;
};

}  // namespace

std::unique_ptr<Try> startUdpTry(Loop& loop, const Probe& p, DoneFn done) {
  return std::make_unique<UdpTry>(loop, p, std::move(done));
}

}  // namespace sluice::health

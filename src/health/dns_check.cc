// DNS_CHECK: one UDP query (dns_type, dns_name) to the server; the reply must answer it
// (health/dns_message.h) within connect_timeout.
#include <sys/socket.h>

#include <random>

#include <fmt/format.h>

#include "health/dns_message.h"
#include "health/sock.h"
#include "health/tries.h"

namespace sluice::health {

namespace {

uint16_t randomId() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return uint16_t(rng());
}

class DnsTry final : public TryBase {
 public:
  DnsTry(Loop& loop, const Probe& p, DoneFn done) : TryBase(loop, p, std::move(done)) {
    auto type = dnsTypeCode(cfg().dns_type);
    if (!type) {
      failSoon("unknown DNS type " + cfg().dns_type);
      return;
    }
    type_ = *type;
    id_ = randomId();
    auto q = buildDnsQuery(id_, cfg().dns_name, type_);
    if (!q.ok()) {
      failSoon(q.error().message);
      return;
    }
    auto fd = openSocket(cfg(), probe_.to, SOCK_DGRAM, 0, true);
    if (!fd.ok()) {
      failSoon(fd.error().message);
      return;
    }
    if (auto st = sock_.attach(loop_, *fd, EPOLLIN, [this](uint32_t) { onReadable(); }); !st.ok()) {
      failSoon(st.error().message);
      return;
    }
    if (send(sock_.fd(), q->data(), q->size(), 0) < 0) {
      int e = errno;
      sock_.reset();
      failSoon("send: " + errnoText(e));
      return;
    }
    deadline_.arm(loop_, cfg().connect_timeout, [this] {
      sock_.reset();
      fail("no DNS reply within " + secondsText(cfg().connect_timeout));
    });
  }

 private:
  void onReadable() {
    uint8_t buf[4096];
    ssize_t n = recv(sock_.fd(), buf, sizeof buf, MSG_TRUNC);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    int e = errno;
    sock_.reset();
    deadline_.reset();
    if (n < 0) return fail(e == ECONNREFUSED ? "port unreachable" : "recv: " + errnoText(e));
    auto st = checkDnsResponse(std::span<const uint8_t>(buf, std::min<size_t>(size_t(n), sizeof buf)), id_,
                               cfg().dns_name, type_);
    if (!st.ok()) return fail(st.error().message);
    succeed(fmt::format("DNS {} {} answered", cfg().dns_type, cfg().dns_name));
  }

  Watched sock_;
  Timer deadline_;
  uint16_t id_ = 0;
  uint16_t type_ = 0;
};

}  // namespace

std::unique_ptr<Try> startDnsTry(Loop& loop, const Probe& p, DoneFn done) {
  return std::make_unique<DnsTry>(loop, p, std::move(done));
}

}  // namespace sluice::health

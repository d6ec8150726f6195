// TCP_CHECK: a non-blocking connect that must complete within connect_timeout. The
// connection is closed as soon as it is up; nothing is sent.
#include "health/tries.h"

#include <sys/socket.h>

#include "health/sock.h"

namespace sluice::health {

namespace {

class TcpTry final : public TryBase {
 public:
  TcpTry(Loop& loop, const Probe& p, DoneFn done) : TryBase(loop, p, std::move(done)) {
    auto fd = openSocket(cfg(), probe_.to, SOCK_STREAM, 0, true);
    if (!fd.ok()) { failSoon(fd.error().message); return; }
    auto st = sock_.attach(loop_, *fd, EPOLLOUT, [this](uint32_t) { onWritable(); });
    if (!st.ok()) { failSoon(st.error().message); return; }
    deadline_.arm(loop_, cfg().connect_timeout, [this] {
      sock_.reset();
      fail("connect timeout after " + secondsText(cfg().connect_timeout));
    });
  }

 private:
  void onWritable() {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(sock_.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
    sock_.reset();
    deadline_.reset();
    if (err == 0) return succeed("connected");
    fail("connect: " + errnoText(err));
  }

  Watched sock_;
  Timer deadline_;
};

}  // namespace

std::unique_ptr<Try> startTcpTry(Loop& loop, const Probe& p, DoneFn done) {
  return std::make_unique<TcpTry>(loop, p, std::move(done));
}

}  // namespace sluice::health

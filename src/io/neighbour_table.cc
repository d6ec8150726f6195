// Neighbour watcher; see neighbour_table.h.
#include "io/neighbour_table.h"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace sluice::io {

bool applyNeighUpdate(NeighbourSnapshot::Map& m, const NeighUpdate& u) {
  NeighKey k{u.ifindex, u.addr};
  if (u.usable()) {
    auto [it, inserted] = m.try_emplace(k, *u.mac);
    if (inserted) return true;
    if (it->second == *u.mac) return false;
    it->second = *u.mac;
    return true;
  }
  return m.erase(k) > 0;
}

Status NeighbourWatcher::dumpInto(NeighbourSnapshot::Map& m) {
  m.clear();
  return rtnlDump(RTM_GETNEIGH, AF_UNSPEC, [&](const nlmsghdr* nlh) {
    if (auto u = parseNeighMessage(nlh)) applyNeighUpdate(m, *u);
  });
}

Result<std::unique_ptr<NeighbourWatcher>> NeighbourWatcher::start(NeighbourTable& table) {
  std::unique_ptr<NeighbourWatcher> w(new NeighbourWatcher());
  w->table_ = &table;
  // Subscribe before dumping, so no change falls between the dump and the first event.
  w->events_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (!w->events_) return makeError("neighbour watcher: cannot open rtnetlink: {}", std::strerror(errno));
  if (mnl_socket_bind(w->events_, RTMGRP_NEIGH, MNL_SOCKET_AUTOPID) < 0)
    return makeError("neighbour watcher: cannot subscribe to neighbour events: {}",
                     std::strerror(errno));
  int rcvbuf = 4 << 20;
  // FORCE needs CAP_NET_ADMIN; the plain option is the fallback and a small buffer only means
  // more resyncs.
  if (setsockopt(mnl_socket_get_fd(w->events_), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
    setsockopt(mnl_socket_get_fd(w->events_), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  w->stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (w->stop_fd_ < 0) return makeError("neighbour watcher: eventfd: {}", std::strerror(errno));
  if (Status st = w->dumpInto(w->work_); !st)
    return makeError("neighbour watcher: initial dump failed: {}", st.error().message);
  table.publish(std::make_shared<const NeighbourSnapshot>(w->work_));
  w->thread_ = std::thread([p = w.get()] { p->run(); });
  return w;
}

NeighbourWatcher::~NeighbourWatcher() {
  stop();
  if (events_) mnl_socket_close(events_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

void NeighbourWatcher::stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  (void)!write(stop_fd_, &one, sizeof(one));
  thread_.join();
}

namespace {
int eventCb(const nlmsghdr* nlh, void* data) {
  auto* ctx = static_cast<std::pair<NeighbourSnapshot::Map*, bool>*>(data);
  if (auto u = parseNeighMessage(nlh)) ctx->second |= applyNeighUpdate(*ctx->first, *u);
  return MNL_CB_OK;
}
}  // namespace

void NeighbourWatcher::run() {
  std::vector<char> buf(kNetlinkBufSize);
  const int nl_fd = mnl_socket_get_fd(events_);
  for (;;) {
    pollfd fds[2] = {{nl_fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    int r = poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    std::pair<NeighbourSnapshot::Map*, bool> ctx{&work_, false};
    bool resync = false;
    // Drain everything queued, then publish once.
    for (;;) {
      ssize_t n = recv(nl_fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == ENOBUFS) {  // the kernel dropped events: our copy may be stale
          resync = true;
          continue;
        }
        break;  // EAGAIN: drained
      }
      mnl_cb_run(buf.data(), size_t(n), 0, 0, eventCb, &ctx);
    }
    if (resync) {
      resyncs_.fetch_add(1);
      NeighbourSnapshot::Map fresh;
      if (dumpInto(fresh)) {
        work_ = std::move(fresh);
        ctx.second = true;
      }
    }
    if (ctx.second) table_->publish(std::make_shared<const NeighbourSnapshot>(work_));
  }
}

}  // namespace sluice::io

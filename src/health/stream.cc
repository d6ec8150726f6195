#include "health/stream.h"

#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>

namespace sluice::health {

namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr int kReadsPerEvent = 8;  // then back to the loop, so one fast sender cannot hog it

SSL_CTX* clientContext() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    if (c) {
      SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
      // A server that closes without close_notify ends an until-close body, as in HTTP/1.0.
      SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF);
    }
    return c;
  }();
  return ctx;
}

std::string sslErrorText() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e) return "TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

Status Stream::open(const config::CheckerConfig& c, const net::Endpoint& to, bool tls, const std::string& sni) {
  close();
  auto fd = openSocket(c, to, SOCK_STREAM, 0, true);
  if (!fd.ok()) return fd.error();
  if (tls) {
    SSL_CTX* ctx = clientContext();
    if (!ctx || !(ssl_ = SSL_new(ctx))) {
      ::close(*fd);
      return makeError("TLS setup: {}", sslErrorText());
    }
    SSL_set_fd(ssl_, *fd);
    SSL_set_connect_state(ssl_);
    if (!sni.empty()) SSL_set_tlsext_host_name(ssl_, sni.c_str());
  }
  phase_ = Phase::kConnecting;
  auto st = sock_.attach(loop_, *fd, EPOLLOUT, [this](uint32_t ev) { onEvent(ev); });
  if (!st.ok()) {
    close();
    return st;
  }
  return {};
}

void Stream::close() {
  ++generation_;
  sock_.reset();
  if (ssl_) SSL_free(ssl_);
  ssl_ = nullptr;
  phase_ = Phase::kClosed;
  out_.clear();
  want_write_ = false;
}

void Stream::send(std::string_view bytes) {
  out_.append(bytes);
  if (phase_ != Phase::kOpen) return;
  // Writes only: reading here would call back into the caller while it is still in its own
  // callback; what has arrived is read on the next readiness event.
  uint64_t gen = generation_;
  if (writeSome() && gen == generation_) updateInterest();
}

void Stream::error(std::string why) {
  close();
  if (cb_.error) cb_.error(std::move(why));
}

void Stream::onEvent(uint32_t ev) {
  if (phase_ == Phase::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(sock_.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) return error("connect: " + errnoText(err));
    if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    return onConnected();
  }
  if (phase_ == Phase::kHandshake) return handshake();
  if (phase_ == Phase::kOpen) pump();
}

void Stream::onConnected() {
  if (ssl_) {
    phase_ = Phase::kHandshake;
    return handshake();
  }
  phase_ = Phase::kOpen;
  uint64_t gen = generation_;
  if (cb_.connected) cb_.connected();
  if (gen == generation_) pump();
}

void Stream::handshake() {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    phase_ = Phase::kOpen;
    want_write_ = false;
    uint64_t gen = generation_;
    if (cb_.connected) cb_.connected();
    if (gen == generation_) pump();
    return;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    want_write_ = e == SSL_ERROR_WANT_WRITE;
    return updateInterest();
  }
  if (e == SSL_ERROR_SYSCALL && errno) return error("TLS handshake: " + errnoText(errno));
  error("TLS handshake failed: " + sslErrorText());
}

void Stream::pump() {
  uint64_t gen = generation_;
  if (!writeSome() || gen != generation_) return;
  if (!readSome() || gen != generation_) return;
  updateInterest();
}

void Stream::updateInterest() {
  uint32_t ev = EPOLLIN;
  if (phase_ == Phase::kHandshake) ev = want_write_ ? EPOLLOUT : EPOLLIN;
  else if (!out_.empty() || want_write_) ev |= EPOLLOUT;
  if (auto st = sock_.want(ev); !st.ok()) error(st.error().message);
}

bool Stream::writeSome() {
  while (!out_.empty()) {
    if (ssl_) {
      ERR_clear_error();
      int n = SSL_write(ssl_, out_.data(), int(out_.size()));
      if (n > 0) {
        out_.erase(0, size_t(n));
        want_write_ = false;
        continue;
      }
      int e = SSL_get_error(ssl_, n);
      if (e == SSL_ERROR_WANT_WRITE) return want_write_ = true;
      if (e == SSL_ERROR_WANT_READ) return true;
      error("TLS write: " + sslErrorText());
      return false;
    }
    ssize_t n = ::send(sock_.fd(), out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.erase(0, size_t(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0 && errno == EINTR) continue;
    error("send: " + errnoText(errno));
    return false;
  }
  return true;
}

bool Stream::readSome() {
  char buf[kReadChunk];
  for (int i = 0; i < kReadsPerEvent; ++i) {
    ssize_t n;
    if (ssl_) {
      ERR_clear_error();
      int r = SSL_read(ssl_, buf, int(sizeof buf));
      if (r <= 0) {
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ) return true;
        if (e == SSL_ERROR_WANT_WRITE) return want_write_ = true;
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0)) {
          close();
          if (cb_.eof) cb_.eof();
          return false;
        }
        if (e == SSL_ERROR_SYSCALL) error("TLS read: " + errnoText(errno));
        else error("TLS read: " + sslErrorText());
        return false;
      }
      n = r;
    } else {
      n = ::recv(sock_.fd(), buf, sizeof buf, 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        if (errno == EINTR) continue;
        error("recv: " + errnoText(errno));
        return false;
      }
      if (n == 0) {
        close();
        if (cb_.eof) cb_.eof();
        return false;
      }
    }
    uint64_t gen = generation_;
    if (cb_.data) cb_.data(std::string_view(buf, size_t(n)));
    if (gen != generation_) return false;
  }
  return true;
}

}  // namespace sluice::health

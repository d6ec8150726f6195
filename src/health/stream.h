// A non-blocking TCP connection for the conversational checkers (HTTP_GET, SSL_GET,
// SMTP_CHECK), optionally wrapped in TLS: connect, handshake, queued writes and reads, all
// driven by the loop. TLS is OpenSSL with a memory-free setup: no certificate verification
// (as keepalived without a CA), SNI when asked.
//
// Trade-off: one class for plain and TLS streams, switching on `tls_` inside, rather than a
// transport interface with two implementations: the TLS path differs only in which call
// reads and writes and which readiness it waits for.
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "config/model.h"
#include "health/loop.h"
#include "health/sock.h"

namespace sluice::health {

class Stream {
 public:
  struct Callbacks {
    std::function<void()> connected;                 // (TLS: after the handshake)
    std::function<void(std::string_view)> data;      // bytes read
    std::function<void()> eof;                       // the peer closed
    std::function<void(std::string)> error;          // reason; the stream is closed
  };
  // sni empty = no SNI. The callbacks may close() or destroy the stream's owner's state,
  // but not the stream itself while inside one.
  Stream(Loop& loop, Callbacks cb) : loop_(loop), cb_(std::move(cb)) {}
  ~Stream() { close(); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  Status open(const config::CheckerConfig& c, const net::Endpoint& to, bool tls, const std::string& sni);
  void send(std::string_view bytes);
  void close();

 private:
  enum class Phase { kClosed, kConnecting, kHandshake, kOpen };
  void onEvent(uint32_t ev);
  void onConnected();
  void handshake();
  void pump();             // write what is queued, read what is there
  void updateInterest();
  void error(std::string why);
  bool readSome();         // false when the stream ended (eof/error/closed)
  bool writeSome();

  Loop& loop_;
  Callbacks cb_;
  Watched sock_;
  SSL* ssl_ = nullptr;
  Phase phase_ = Phase::kClosed;
  std::string out_;
  bool want_write_ = false;  // TLS asked for writability to progress
  uint64_t generation_ = 0;  // bumped by close(): a handler checks it after each callback
};

}  // namespace sluice::health

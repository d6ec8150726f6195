// The HTTP endpoint sluiced --metrics ADDR:PORT serves /metrics on.
//
// One thread polls the listening socket, an eventfd that stops it, and every client, all
// non-blocking: one request per connection, answered and closed (Connection: close), so
// there is no keep-alive state to bound. Clients are untrusted (anything that can reach
// the port): a request head is capped (431), each connection has one deadline from accept
// to close, which ends slowloris senders and readers that stop reading alike, and
// connections beyond a cap wait in the listen backlog until one closes. The trade-off: a scrape renders on this
// thread, so one scrape's render delays the others (a scrape every few seconds is the
// expected load); in exchange the render function needs no locking against this server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"
#include "metrics/http_request.h"

namespace sluice::metrics {

struct HttpServerOptions {
  std::chrono::milliseconds deadline{5000};  // accept to close, whatever the client does
  size_t max_connections = 64;
  size_t max_head = kMaxRequestHead;
};

// "127.0.0.1:9100", "[::1]:9100", ":9100" (every address, IPv6 and IPv4). Port 0 asks the
// kernel for one. Exposed for tests.
struct ListenAddress {
  bool any = false;
  std::string host;  // numeric, without brackets; empty when `any`
  uint16_t port = 0;
};
Result<ListenAddress> parseListenAddress(std::string_view addr_port);

class HttpServer {
 public:
  // Binds, listens and starts the thread. `render` is called on that thread, once per
  // GET or HEAD /metrics (HEAD reports the Content-Length a GET would get).
  static Result<std::unique_ptr<HttpServer>> start(std::string_view addr_port, std::function<std::string()> render,
                                                   HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops the thread and closes every socket; connected clients see their connection
  // close. Idempotent; the destructor calls it.
  void stop();
  uint16_t port() const { return port_; }

 private:
  HttpServer(int listen_fd, int stop_fd, uint16_t port, std::function<std::string()> render,
             HttpServerOptions options);
  void run();

  int listen_fd_;
  int stop_fd_;
  uint16_t port_;
  std::function<std::string()> render_;
  HttpServerOptions options_;
  std::thread thread_;
};

}  // namespace sluice::metrics

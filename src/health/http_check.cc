// HTTP_GET and SSL_GET: one GET per url, in order, each on a new connection; every url must
// pass (status in its ranges, MD5 digest of the body, regex) for the try to succeed. Each
// url's connect + request + response is bounded by connect_timeout (so a try by
// urls x connect_timeout), the body by the parser's cap.
//
// Trade-off: all urls in one try, always. keepalived, while recovering without
// fast_recovery, checks one url per delay_loop; here recovery is always "fast" (the flag is
// accepted and has no further effect), which brings a recovered server back sooner and keeps
// one code path.
#include <openssl/evp.h>
#include <regex.h>

#include <fmt/format.h>

#include "health/http_response.h"
#include "health/stream.h"
#include "health/tries.h"

namespace sluice::health {

namespace {

std::string md5Hex(const std::string& body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_Digest(body.data(), body.size(), md, &len, EVP_md5(), nullptr)) return {};
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(uint8_t(c)));
  return s;
}

class HttpTry final : public TryBase {
 public:
  HttpTry(Loop& loop, const Probe& p, DoneFn done)
      : TryBase(loop, p, std::move(done)),
        stream_(loop, Stream::Callbacks{[this] { onConnected(); },
                                         [this](std::string_view d) { onData(d); },
                                         [this] { onEof(); },
                                         [this](std::string why) { failUrl(std::move(why)); }}) {
    if (cfg().urls.empty()) default_url_.emplace_back();
    startUrl();
  }

 private:
  const std::vector<config::UrlCheck>& urls() const { return cfg().urls.empty() ? default_url_ : cfg().urls; }
  const config::UrlCheck& url() const { return urls()[index_]; }
  bool tls() const { return cfg().kind == config::CheckKind::kSsl; }

  std::string hostName() const {
    if (!url().virtualhost.empty()) return url().virtualhost;
    if (!cfg().virtualhost.empty()) return cfg().virtualhost;
    return {};
  }

  void startUrl() {
    parser_ = HttpResponseParser{};
    std::string sni = cfg().enable_sni ? hostName() : std::string{};
    if (auto st = stream_.open(cfg(), probe_.to, tls(), sni); !st.ok()) {
      failSoon(st.error().message);
      return;
    }
    deadline_.arm(loop_, cfg().connect_timeout, [this] {
      failUrl("timeout after " + secondsText(cfg().connect_timeout));
    });
  }

  void onConnected() {
    std::string host = hostName();
    if (host.empty()) {
      host = probe_.to.addr.isV6() ? "[" + probe_.to.addr.str() + "]" : probe_.to.addr.str();
      if (probe_.to.port != (tls() ? 443 : 80)) host += fmt::format(":{}", probe_.to.port);
    }
    const std::string& proto = cfg().http_protocol;
    std::string req = fmt::format("GET {} HTTP/{}\r\nUser-Agent: KeepAliveClient\r\nHost: {}\r\n",
                                  url().path, proto == "1.1" ? "1.1" : "1.0", host);
    if (proto == "1.0C" || proto == "1.1") req += "Connection: close\r\n";
    req += "\r\n";
    stream_.send(req);
  }

  void onData(std::string_view d) {
    auto s = parser_.feed(d);
    if (s == HttpResponseParser::State::kDone) return evaluate();
    if (s == HttpResponseParser::State::kError) failUrl(parser_.error());
  }

  void onEof() {
    auto s = parser_.finish();
    if (s == HttpResponseParser::State::kDone) return evaluate();
    failUrl(parser_.error());
  }

  void evaluate() {
    stream_.close();
    deadline_.reset();
    const auto& u = url();
    int code = parser_.status();
    bool in_range = false;
    if (u.status_codes.empty()) in_range = code >= 200 && code <= 299;
    for (auto [lo, hi] : u.status_codes) in_range |= code >= lo && code <= hi;
    if (!in_range) return failUrl(fmt::format("HTTP status {}", code));
    if (!u.digest.empty() && md5Hex(parser_.body()) != lower(u.digest)) return failUrl("MD5 digest mismatch");
    if (!u.regex.empty()) {
      regex_t re;
      if (regcomp(&re, u.regex.c_str(), REG_EXTENDED | REG_NOSUB) != 0) return failUrl("bad regex");
      bool matched = regexec(&re, parser_.body().c_str(), 0, nullptr, 0) == 0;
      regfree(&re);
      if (matched == u.regex_no_match)
        return failUrl(matched ? "regex matched (regex_no_match)" : "regex did not match");
    }
    last_status_ = code;
    if (++index_ < urls().size()) return startUrl();
    succeed(fmt::format("HTTP status {}", last_status_));
  }

  void failUrl(std::string why) {
    stream_.close();
    deadline_.reset();
    if (urls().size() > 1 || url().path != "/") why += fmt::format(" (url {})", url().path);
    fail(std::move(why));
  }

  Stream stream_;
  Timer deadline_;
  HttpResponseParser parser_;
  std::vector<config::UrlCheck> default_url_;
  size_t index_ = 0;
  int last_status_ = 0;
};

}  // namespace

std::unique_ptr<Try> startHttpTry(Loop& loop, const Probe& p, DoneFn done) {
  return std::make_unique<HttpTry>(loop, p, std::move(done));
}

}  // namespace sluice::health

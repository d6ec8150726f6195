// SMTP_CHECK: read the greeting (220), send HELO helo_name (default: this host's name),
// expect 250, send QUIT. The whole conversation is bounded by connect_timeout.
#include <unistd.h>

#include <fmt/format.h>

#include "health/smtp_reply.h"
#include "health/stream.h"
#include "health/tries.h"

namespace sluice::health {

namespace {

std::string localHostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

class SmtpTry final : public TryBase {
 public:
  SmtpTry(Loop& loop, const Probe& p, DoneFn done)
      : TryBase(loop, p, std::move(done)),
        stream_(loop, Stream::Callbacks{nullptr, [this](std::string_view d) { onData(d); },
                                         [this] { end("connection closed by the server"); },
                                         [this](std::string why) { end(std::move(why)); }}) {
    if (auto st = stream_.open(cfg(), probe_.to, false, {}); !st.ok()) {
      failSoon(st.error().message);
      return;
    }
    deadline_.arm(loop_, cfg().connect_timeout,
                  [this] { end("timeout after " + secondsText(cfg().connect_timeout)); });
  }

 private:
  void onData(std::string_view d) {
    while (!d.empty() && !finished()) {
      auto s = reader_.feed(d);
      d.remove_prefix(reader_.consumed());
      if (s == SmtpReplyReader::State::kError) return end(reader_.error());
      if (s != SmtpReplyReader::State::kDone) return;
      int code = reader_.code();
      reader_.reset();
      if (!helo_sent_) {
        if (code != 220) return end(fmt::format("SMTP greeting {} (expected 220)", code));
        std::string name = cfg().helo_name.empty() ? localHostName() : cfg().helo_name;
        stream_.send("HELO " + name + "\r\n");
        helo_sent_ = true;
      } else {
        if (code != 250) return end(fmt::format("SMTP HELO answered {} (expected 250)", code));
        stream_.send("QUIT\r\n");
        stream_.close();  // no need for the 221: the server already said what we asked
        deadline_.reset();
        return succeed("SMTP greeting 220, HELO 250");
      }
    }
  }

  void end(std::string why) {
    stream_.close();
    deadline_.reset();
    fail(std::move(why));
  }

  Stream stream_;
  Timer deadline_;
  SmtpReplyReader reader_;
  bool helo_sent_ = false;
};

}  // namespace

std::unique_ptr<Try> startSmtpTry(Loop& loop, const Probe& p, DoneFn done) {
  return std::make_unique<SmtpTry>(loop, p, std::move(done));
}

}  // namespace sluice::health

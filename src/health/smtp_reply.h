// An SMTP reply reader for SMTP_CHECK: pure, incremental and bounded. A reply is one or more
// lines "NNN-text" ending with "NNN text" (RFC 5321 4.2); every line of a reply must carry
// the same code.
//
// Trade-off: strict (a line that is not "NNN[ -]..." is an error) since the checker only
// needs to know whether the server said 220/250, and a bounded reply (kMaxLines lines of
// kMaxLine bytes) keeps a hostile server from holding memory.
#pragma once

#include <string>
#include <string_view>

namespace sluice::health {

class SmtpReplyReader {
 public:
  static constexpr size_t kMaxLine = 1024;
  static constexpr size_t kMaxLines = 64;
  enum class State { kNeedMore, kDone, kError };

  // Consumes bytes up to the end of one reply; returns kDone then (the rest is not read:
  // `consumed()` says how much of this call's input was used).
  State feed(std::string_view data);
  void reset() { *this = SmtpReplyReader{}; }

  State state() const { return state_; }
  int code() const { return code_; }
  const std::string& text() const { return text_; }   // the last line's text
  const std::string& error() const { return error_; }
  size_t consumed() const { return consumed_; }

 private:
  State fail(std::string why);
  State line(std::string_view l);

  State state_ = State::kNeedMore;
  std::string cur_;
  std::string text_;
  std::string error_;
  int code_ = 0;
  size_t lines_ = 0;
  size_t consumed_ = 0;
};

}  // namespace sluice::health

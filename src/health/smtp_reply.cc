#include "health/smtp_reply.h"

namespace sluice::health {

SmtpReplyReader::State SmtpReplyReader::fail(std::string why) {
  error_ = std::move(why);
  return state_ = State::kError;
}

SmtpReplyReader::State SmtpReplyReader::feed(std::string_view data) {
  consumed_ = 0;
  while (state_ == State::kNeedMore && !data.empty()) {
    size_t nl = data.find('\n');
    std::string_view part = data.substr(0, nl);
    if (cur_.size() + part.size() > kMaxLine) return fail("SMTP reply line too long");
    cur_.append(part);
    if (nl == std::string_view::npos) {
      consumed_ += data.size();
      return state_;
    }
    consumed_ += nl + 1;
    data.remove_prefix(nl + 1);
    std::string l = std::move(cur_);
    cur_.clear();
    if (!l.empty() && l.back() == '\r') l.pop_back();
    line(l);
  }
  return state_;
}

SmtpReplyReader::State SmtpReplyReader::line(std::string_view l) {
  if (++lines_ > kMaxLines) return fail("SMTP reply has too many lines");
  if (l.size() < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' || l[2] > '9')
    return fail("not an SMTP reply");
  int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
  if (code_ && code != code_) return fail("SMTP reply lines with different codes");
  code_ = code;
  if (l.size() > 3 && l[3] != ' ' && l[3] != '-') return fail("not an SMTP reply");
  text_ = std::string(l.size() > 4 ? l.substr(4) : std::string_view{});
  if (l.size() > 3 && l[3] == '-') return state_;
  return state_ = State::kDone;
}

}  // namespace sluice::health

#include "health/http_response.h"

#include <algorithm>
#include <cctype>

namespace sluice::health {

namespace {

constexpr size_t kMaxLine = 1024;  // chunk-size and trailer lines

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(uint8_t(x)) == std::tolower(uint8_t(y)); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool containsToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t c = list.find(',');
    if (iequals(trim(list.substr(0, c)), token)) return true;
    if (c == std::string_view::npos) break;
    list.remove_prefix(c + 1);
  }
  return false;
}

// Decimal, no sign, at most 18 digits; false on anything else.
bool parseDecimal(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  out = v;
  return true;
}

}  // namespace

HttpResponseParser::State HttpResponseParser::fail(std::string why) {
  error_ = std::move(why);
  phase_ = Phase::kDone;
  return state_ = State::kError;
}

HttpResponseParser::State HttpResponseParser::appendBody(std::string_view d) {
  if (body_.size() + d.size() > limits_.max_body) return fail("body too large");
  body_.append(d);
  return state_;
}

HttpResponseParser::State HttpResponseParser::feed(std::string_view data) {
  while (state_ == State::kNeedMore && !data.empty()) {
    switch (phase_) {
      case Phase::kHead: {
        // Look for the blank line across the old tail and the new bytes.
        size_t old = head_.size();
        size_t take = std::min(data.size(), limits_.max_header + 4 - std::min(old, limits_.max_header + 4));
        head_.append(data.substr(0, take));
        size_t from = old >= 3 ? old - 3 : 0;
        size_t end = head_.find("\r\n\r\n", from);
        size_t sep = 4;
        size_t lf = head_.find("\n\n", old >= 1 ? old - 1 : 0);
        if (lf != std::string::npos && (end == std::string::npos || lf < end)) end = lf, sep = 2;
        if (end == std::string::npos) {
          if (head_.size() > limits_.max_header) return fail("header section too large");
          data.remove_prefix(take);
          break;
        }
        if (end + sep > limits_.max_header) return fail("header section too large");
        size_t used = end + sep - old;  // bytes of `data` that belong to the head
        head_.resize(end);
        data.remove_prefix(used);
        if (parseHead() != State::kNeedMore) return state_;
        break;
      }
      case Phase::kBodyLength: {
        size_t n = size_t(std::min<uint64_t>(remaining_, data.size()));
        if (appendBody(data.substr(0, n)) == State::kError) return state_;
        remaining_ -= n;
        data.remove_prefix(n);
        if (remaining_ == 0) phase_ = Phase::kDone, state_ = State::kDone;
        break;
      }
      case Phase::kBodyClose:
        if (appendBody(data) == State::kError) return state_;
        data = {};
        break;
      case Phase::kChunkSize:
      case Phase::kChunkDataEnd:
      case Phase::kTrailer: {
        size_t nl = data.find('\n');
        std::string_view part = data.substr(0, nl);
        if (line_.size() + part.size() > kMaxLine) return fail("chunked line too long");
        line_.append(part);
        if (nl == std::string_view::npos) {
          data = {};
          break;
        }
        data.remove_prefix(nl + 1);
        std::string_view line = line_;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (phase_ == Phase::kChunkDataEnd) {
          if (!line.empty()) return fail("bad chunk end");
          phase_ = Phase::kChunkSize;
        } else if (phase_ == Phase::kTrailer) {
          if ((trailer_bytes_ += line_.size()) > limits_.max_header) return fail("trailer too large");
          if (line.empty()) phase_ = Phase::kDone, state_ = State::kDone;
        } else {
          line = line.substr(0, line.find(';'));  // chunk extensions ignored
          line = trim(line);
          if (line.empty() || line.size() > 15) return fail("bad chunk size");
          uint64_t size = 0;
          for (char c : line) {
            int v = std::isdigit(uint8_t(c)) ? c - '0' : (std::tolower(uint8_t(c)) >= 'a' && std::tolower(uint8_t(c)) <= 'f') ? std::tolower(uint8_t(c)) - 'a' + 10 : -1;
            if (v < 0) return fail("bad chunk size");
            size = size * 16 + uint64_t(v);
          }
          if (size > limits_.max_body - body_.size()) return fail("body too large");
          remaining_ = size;
          phase_ = size == 0 ? Phase::kTrailer : Phase::kChunkData;
        }
        line_.clear();
        break;
      }
      case Phase::kChunkData: {
        size_t n = size_t(std::min<uint64_t>(remaining_, data.size()));
        if (appendBody(data.substr(0, n)) == State::kError) return state_;
        remaining_ -= n;
        data.remove_prefix(n);
        if (remaining_ == 0) phase_ = Phase::kChunkDataEnd;
        break;
      }
      case Phase::kDone:
        return state_;
    }
  }
  return state_;
}

HttpResponseParser::State HttpResponseParser::parseHead() {
  std::string_view head = head_;
  size_t eol = head.find('\n');
  std::string_view status_line = head.substr(0, eol);
  if (!status_line.empty() && status_line.back() == '\r') status_line.remove_suffix(1);
  // "HTTP/1.x SSS reason"
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ')
    return fail("bad status line");
  uint64_t code = 0;
  if (!parseDecimal(status_line.substr(9, 3), code) || code < 100 || code > 999 ||
      (status_line.size() > 12 && status_line[12] != ' '))
    return fail("bad status line");
  status_ = int(code);
  bool chunked = false;
  bool have_length = false;
  uint64_t length = 0;
  std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 1);
  while (!rest.empty()) {
    size_t e = rest.find('\n');
    std::string_view line = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail("bad header line");
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      uint64_t v = 0;
      if (!parseDecimal(value, v) || (have_length && v != length)) return fail("bad Content-Length");
      have_length = true;
      length = v;
    } else if (iequals(name, "Transfer-Encoding")) {
      if (containsToken(value, "chunked")) chunked = true;
    }
  }
  head_.clear();
  head_.shrink_to_fit();
  if (status_ / 100 == 1 || status_ == 204 || status_ == 304) {
    phase_ = Phase::kDone;
    return state_ = State::kDone;
  }
  if (chunked) {
    phase_ = Phase::kChunkSize;
  } else if (have_length) {
    if (length > limits_.max_body) return fail("body too large");
    remaining_ = length;
    phase_ = Phase::kBodyLength;
    if (length == 0) phase_ = Phase::kDone, state_ = State::kDone;
  } else {
    phase_ = Phase::kBodyClose;
  }
  return state_;
}

HttpResponseParser::State HttpResponseParser::finish() {
  if (state_ != State::kNeedMore) return state_;
  if (phase_ == Phase::kBodyClose) {
    phase_ = Phase::kDone;
    return state_ = State::kDone;
  }
  if (phase_ == Phase::kHead) return fail(head_.empty() ? "connection closed before any response" : "connection closed in the headers");
  return fail("connection closed in the body");
}

}  // namespace sluice::health

// FILE_CHECK (keepalived's track_file on a real server): the file holds a number. With
// weight 0 a non-zero value is down and zero is up; otherwise the check is up and
// value x weight (negated with reverse) is the offset to add to the real server's weight;
// an offset that does not fit a 32-bit weight is down. Read each delay_loop, at most
// kMaxRead bytes; a missing file or one without a number is down, with the reason.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "health/sock.h"
#include "health/tries.h"

namespace sluice::health {

namespace {

constexpr size_t kMaxRead = 64;

Outcome judge(const config::CheckerConfig& c) {
  int fd = open(c.file_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return {false, fmt::format("cannot read {}: {}", c.file_path, errnoText(errno)), {}};
  char buf[kMaxRead];
  ssize_t n = read(fd, buf, sizeof buf);
  int e = errno;
  close(fd);
  if (n < 0) return {false, fmt::format("cannot read {}: {}", c.file_path, errnoText(e)), {}};
  std::string_view s(buf, size_t(n));
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || (end != s.data() + s.size() && !std::isspace(uint8_t(*end))))
    return {false, fmt::format("{} does not hold a number", c.file_path), {}};
  if (c.file_weight == 0) {
    if (value != 0) return {false, fmt::format("{} holds {}", c.file_path, value), {}};
    return {true, fmt::format("{} holds 0", c.file_path), {}};
  }
  // |value| < 2^63 and |weight| < 2^31: the product can overflow int64, so check first.
  __int128 offset = __int128(value) * c.file_weight * (c.file_reverse ? -1 : 1);
  if (offset < std::numeric_limits<int32_t>::min() || offset > std::numeric_limits<int32_t>::max())
    return {false, fmt::format("{} holds {}: weight offset out of range", c.file_path, value), {}};
  return {true, fmt::format("{} holds {}", c.file_path, value), int32_t(offset)};
}

// Reading a small regular file does not block in practice; it is still done from a loop
// callback, as the Try contract asks.
class FileTry final : public TryBase {
 public:
  FileTry(Loop& loop, const Probe& p, DoneFn done) : TryBase(loop, p, std::move(done)) {
    timer_.arm(loop_, 0, [this] { finish(judge(cfg())); });
  }

 private:
  Timer timer_;
};

}  // namespace

std::unique_ptr<Try> startFileTry(Loop& loop, const Probe& p, DoneFn done) {
  return std::make_unique<FileTry>(loop, p, std::move(done));
}

}  // namespace sluice::health

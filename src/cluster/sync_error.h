// Errors of the session-sync decoder and authenticator: a code the caller can count and
// switch on, plus a sentence a person can act on. The control plane's Result<T> carries only
// the sentence; sync needs the code too, because every way a datagram is refused is a
// drop counter, so this is Result with a typed error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "common/result.h"

namespace sluice::cluster {

enum class WireErrc : uint8_t {
  kTruncated,     // fewer bytes than the header or its lengths announce
  kOversized,     // more than kMaxDatagram bytes, or a count/length above the limits
  kBadMagic,      // not a Sluice sync datagram
  kBadVersion,    // a version this build does not speak
  kBadType,       // unknown message type
  kBadLength,     // payload length inconsistent with the type and the entry count
  kBadCount,      // entry count not allowed for the type
  kReserved,      // a reserved byte or a field unused by this type is not zero
  kBadKind,       // an entry is neither a connection nor a template
  kBadProto,      // not TCP or UDP
  kBadFamily,     // address family not IPv4/IPv6
  kBadAddress,    // an address that cannot be (zero, or IPv4 with bytes past the 4th)
  kBadState,      // a connection state not valid for the protocol or kind
  kBadMethod,     // unknown forwarding method
  kBadFlags,      // unknown flag bits, or flags contradicting the kind
  kBadTimeout,    // remaining timeout zero or above the maximum
  kBadService,    // service port/fwmark contradicting the connection
  kBadTemplate,   // a template link where none can be, or a malformed one
  kBadLocal,      // FULLNAT local address/port missing, or present for another method
};

std::string_view wireErrcName(WireErrc c) noexcept;

struct WireError {
  WireErrc code;
  std::string message;
};

template <class... Args>
WireError wireError(WireErrc code, fmt::format_string<Args...> f, Args&&... args) {
  return WireError{code, fmt::format(f, std::forward<Args>(args)...)};
}

template <class T>
class [[nodiscard]] WireResult {
 public:
  WireResult(T value) : v_(std::move(value)) {}
  WireResult(WireError e) : v_(std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  const WireError& error() const { return std::get<1>(v_); }
  // For callers that speak the control plane's Result.
  Error toError() const { return Error{error().message}; }

 private:
  std::variant<T, WireError> v_;
};

template <>
class [[nodiscard]] WireResult<void> {
 public:
  WireResult() = default;
  WireResult(WireError e) : err_(std::move(e)), ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const WireError& error() const { return err_; }

 private:
  WireError err_{WireErrc::kTruncated, {}};
  bool ok_ = true;
};

}  // namespace sluice::cluster

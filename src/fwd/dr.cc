#include "fwd/dr.h"

#include <cstring>

namespace sluice::fwd {

void xmitDr(std::span<uint8_t> frame, const sl_dest& d) noexcept {
  std::memcpy(frame.data(), d.dmac, 6);
  std::memcpy(frame.data() + 6, d.smac, 6);
}

}  // namespace sluice::fwd

// See peer_macs.h.
#include "dp/peer_macs.h"

#include <algorithm>

#include "abi/predicates.h"

namespace sluice::dp {

void PeerMacs::publish(std::span<const net::MacAddr> macs) {
  auto keys = std::make_shared<std::vector<uint64_t>>();
  keys->reserve(macs.size());
  for (const net::MacAddr& m : macs) keys->push_back(sl_mac_key(m.data()));
  std::lock_guard lock(mu_);
  published_ = std::move(keys);
  version_.fetch_add(1, std::memory_order_release);
}

bool PeerMacs::contains(const uint8_t* mac) const noexcept {
  if (!current_) return false;
  // At most SL_MAX_PEER_MACS keys: a scan of a few cache lines beats a hash.
  return std::find(current_->begin(), current_->end(), sl_mac_key(mac)) != current_->end();
}

}  // namespace sluice::dp

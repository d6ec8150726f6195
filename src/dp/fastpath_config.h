// Fills the XDP fast path's config record (abi/fastpath.h) from the C++ path's own
// tables, so both paths share one definition of TCP transitions, activity and timeouts.
#pragma once

#include <cstdint>

#include "conn/tcp_state.h"
#include "abi/fastpath.h"

namespace sluice::dp {

void fillFastPathConfig(sl_dp_config& cfg, uint64_t conn_seed, uint32_t conn_buckets,
                        uint32_t max_dests, uint32_t stat_slots,
                        const conn::TimeoutTable& timeouts) noexcept;
void setFastPathTimeouts(sl_dp_config& cfg, const conn::TimeoutTable& timeouts) noexcept;

}  // namespace sluice::dp

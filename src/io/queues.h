// How many receive queues a data-plane interface has, and which CPUs their interrupts are
// affined to: what sluiced needs to open one AF_XDP socket per queue and to choose how
// many workers to run. Read from the kernel at start; queue counts changed later with
// `ethtool -L` are not followed (restart sluiced).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace sluice::io {

// Queues with an rx ring: combined + rx-only channels (ethtool -l, SIOCETHTOOL
// ETHTOOL_GCHANNELS); where the driver does not report channels, the rx-N directories of
// /sys/class/net/IFNAME/queues. Never 0 on success.
Result<uint32_t> rxQueueCount(const std::string& ifname);

// The CPUs that the interface's MSI/MSI-X interrupts are affined to, from
// /sys/class/net/IFNAME/device/msi_irqs and /proc/irq/N/effective_affinity_list (or
// smp_affinity_list), sorted, without duplicates. Empty for devices with no interrupts of
// their own (veth, tun, ...). A NIC's misc/admin interrupts are included, so this can
// overcount its queue cores by one.
std::vector<unsigned> irqCpus(const std::string& ifname);

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}; malformed parts are skipped.
std::vector<unsigned> parseCpuList(const std::string& text);

}  // namespace sluice::io

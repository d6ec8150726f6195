// Queue counts and IRQ cores; see queues.h.
#include "io/queues.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sluice::io {

namespace {

// ETHTOOL_GCHANNELS; 0 when the driver does not implement it (or reports no rx queues).
uint32_t channelRxQueues(const std::string& ifname) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  ethtool_channels ch{};
  ch.cmd = ETHTOOL_GCHANNELS;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&ch);
  int r = ioctl(fd, SIOCETHTOOL, &ifr);
  close(fd);
  if (r != 0) return 0;
  return ch.combined_count + ch.rx_count;
}

uint32_t sysfsRxQueues(const std::string& ifname) {
  std::error_code ec;
  uint32_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/sys/class/net/" + ifname + "/queues", ec))
    if (e.path().filename().string().starts_with("rx-")) ++n;
  return n;
}

std::string readFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

Result<uint32_t> rxQueueCount(const std::string& ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ || ifname.find('/') != std::string::npos)
    return makeError("'{}' is not an interface name", ifname);
  if (uint32_t n = channelRxQueues(ifname)) return n;
  if (uint32_t n = sysfsRxQueues(ifname)) return n;
  return makeError("cannot tell how many receive queues {} has: ethtool -l {} reports none and "
                   "/sys/class/net/{}/queues lists no rx-N (is sysfs mounted for this network "
                   "namespace?)",
                   ifname, ifname, ifname);
}

std::vector<unsigned> parseCpuList(const std::string& text) {
  std::vector<unsigned> out;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    while (!part.empty() && (part.back() == '\n' || part.back() == ' ')) part.pop_back();
    if (part.empty()) continue;
    unsigned lo = 0, hi = 0;
    const char* b = part.data();
    const char* e = b + part.size();
    auto [p, ec] = std::from_chars(b, e, lo);
    if (ec != std::errc()) continue;
    hi = lo;
    if (p != e) {
      if (*p != '-') continue;
      auto [q, ec2] = std::from_chars(p + 1, e, hi);
      if (ec2 != std::errc() || q != e || hi < lo || hi - lo > 4096) continue;
    }
    for (unsigned c = lo; c <= hi; ++c) out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<unsigned> irqCpus(const std::string& ifname) {
  std::vector<unsigned> cpus;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator("/sys/class/net/" + ifname + "/device/msi_irqs", ec)) {
    const std::string irq = e.path().filename().string();
    std::string list = readFirstLine("/proc/irq/" + irq + "/effective_affinity_list");
    if (list.empty()) list = readFirstLine("/proc/irq/" + irq + "/smp_affinity_list");
    for (unsigned c : parseCpuList(list)) cpus.push_back(c);
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

}  // namespace sluice::io

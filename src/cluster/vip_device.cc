// The VIP device's bookkeeping; the kernel work is in vip_link.cc.
#include "cluster/vip_device.h"

namespace sluice::cluster {

Result<std::unique_ptr<VipDevice>> VipDevice::create(std::string name) {
  auto link = TunLink::open(name);
  if (!link) return link.error();
  return withLink(std::move(name), std::move(*link));
}

Result<std::unique_ptr<VipDevice>> VipDevice::withLink(std::string name,
                                                       std::unique_ptr<VipLink> link) {
  if (Status st = validateVipDeviceName(name); !st) return st.error();
  if (!link) return makeError("VIP device '{}': no link", name);
  return std::unique_ptr<VipDevice>(new VipDevice(std::move(name), std::move(link)));
}

Status VipDevice::add(const net::IpAddr& vip) {
  if (Status st = validateVip(vip); !st)
    return makeError("cannot add VIP to {}: {}", name_, st.error().message);
  // Recorded only once the kernel has it: addresses() never claims what is not announced.
  if (Status st = link_->addAddress(vip); !st) return st;
  vips_.insert(vip);
  return {};
}

Status VipDevice::remove(const net::IpAddr& vip) {
  if (!vip.isV4() && !vip.isV6()) return makeError("cannot remove a VIP without an address");
  // Kept on failure: the kernel may still announce it, and a retry must try again.
  if (Status st = link_->removeAddress(vip); !st) return st;
  vips_.erase(vip);
  return {};
}

std::vector<net::IpAddr> VipDevice::addresses() const { return {vips_.begin(), vips_.end()}; }

}  // namespace sluice::cluster

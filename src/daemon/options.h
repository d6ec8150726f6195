// sluiced's command line.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "config/model.h"
#include "io/xdp_loader.h"

namespace sluice::daemon {

struct Options {
  std::vector<std::string> interfaces;               // -i, at least one
  std::string socket_path = "/run/sluice/sluiced.sock";
  size_t conn_table_size = size_t(1) << 20;          // --conn-table-size
  uint16_t fnat_port_lo = 1024, fnat_port_hi = 32767;  // --fnat-ports LO-HI
  io::XdpMode xdp_mode = io::XdpMode::kNativeOrGeneric;
  bool fast_path = true;                             // --no-fast-path: slow path only
  bool expire_nodest_conn = false;                   // --expire-nodest-conn (the IPVS sysctl)
  unsigned workers = 0;                              // --workers: 0 = the default rule
  std::string state_dir;                             // --state-dir: survive restarts
  std::string pin_dir;                               // --pin-dir: where on bpffs
  bool release = false;                              // --release: drop the pinned state
  std::string config_file;                           // -f: keepalived.conf or ldirectord.cf
  std::string cluster_file;                          // --cluster: a sluice_cluster block alone
  config::Format config_format = config::Format::kAuto;  // --format
  bool check = false;                                // --check: validate -f and exit
  std::string metrics_addr;                          // --metrics ADDR:PORT
  bool verbose = false;
  bool help = false;
};

Result<Options> parseOptions(int argc, char** argv);
const char* usageText();

}  // namespace sluice::daemon

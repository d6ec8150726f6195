#include "svc/model.h"

namespace sluice::svc {

const char* fwdName(FwdMethod m) {
  switch (m) {
    case FwdMethod::kDr: return "Route";
    case FwdMethod::kTun: return "Tunnel";
    case FwdMethod::kNat: return "Masq";
    case FwdMethod::kFullNat: return "FullNat";
    case FwdMethod::kLocal: return "Local";
  }
  return "?";
}

namespace {

struct NotYet {
  FwdMethod method;
  const char* why;
};

// The forwarding methods the data path drops today (dp::Datapath::forward counts them as
// fwd_unsupported, the XDP program leaves them to it).
constexpr NotYet kFwdNotYet[] = {
    {FwdMethod::kTun, "Tunnel forwarding (-i) is not implemented yet; use -g (DR)"},
    {FwdMethod::kFullNat, "FULLNAT forwarding (-b) is not implemented yet; use -g (DR)"},
    {FwdMethod::kLocal, "Local forwarding (a real server on the director itself) is not implemented "
                        "yet; use -g (DR) to another host"},
};

}  // namespace

Status checkImplemented(FwdMethod m) {
  for (const NotYet& n : kFwdNotYet)
    if (n.method == m) return Error{n.why};
  return {};
}

Status checkImplemented(const ServiceKey& k) {
  // The data path is never given a packet's firewall mark yet, so such a service would
  // match nothing.
  if (k.fwmark != 0)
    return makeError("Firewall-mark services (-f) are not implemented yet; use -t or -u with the "
                     "virtual address and port");
  return {};
}

}  // namespace sluice::svc

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

}  // namespace sluice::svc

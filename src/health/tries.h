// The checker kinds, one start function each (one .cc file each); startTry() in
// checker_factory.cc picks one by CheckKind.
#pragma once

#include <memory>

#include "health/checker.h"

namespace sluice::health {

std::unique_ptr<Try> startTcpTry(Loop& loop, const Probe& p, DoneFn done);
std::unique_ptr<Try> startHttpTry(Loop& loop, const Probe& p, DoneFn done);  // HTTP_GET, SSL_GET
std::unique_ptr<Try> startSmtpTry(Loop& loop, const Probe& p, DoneFn done);
std::unique_ptr<Try> startDnsTry(Loop& loop, const Probe& p, DoneFn done);
std::unique_ptr<Try> startUdpTry(Loop& loop, const Probe& p, DoneFn done);
std::unique_ptr<Try> startPingTry(Loop& loop, const Probe& p, DoneFn done);
std::unique_ptr<Try> startMiscTry(Loop& loop, const Probe& p, DoneFn done);
std::unique_ptr<Try> startFileTry(Loop& loop, const Probe& p, DoneFn done);
std::unique_ptr<Try> startStaticTry(Loop& loop, const Probe& p, DoneFn done);  // kOn, kOff

}  // namespace sluice::health

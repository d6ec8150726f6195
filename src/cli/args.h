// The ipvsadm command language: one command (the first option, as in ipvsadm) plus its
// options, turned into a Command. Validation follows ipvsadm 1.31 rule for rule and
// message for message (its command x option table, "Zero port specified for
// non-persistent service", ...), because scripts and operators grep for those words.
// The tunnel options of ipvsadm 1.31 (--tun-type, --tun-port, --tun-nocsum, --tun-csum,
// --tun-remcsum with -a/-e; --tun-info with -L) follow its tunnel_opt_check table too.
// The extensions: -b with -a/-e/-d selects FULLNAT (as DPVS spells it), with every other
// command it takes ipvsadm's scheduler flags; --json; the commands --counters, --reload and --health.
// DPVS's FULLNAT local addresses: -P/--add-laddr, -Q/--del-laddr, -G/--get-laddr with
// -z/--laddr ADDR and -F/--ifname IFNAME (optional here, where DPVS requires it); the
// client-address mode with -A/-E: --client-addr toa|none|proxy-v2 (ours), or DPVS's
// --proxy-protocol v2|disable.
// --start-daemon and --stop-daemon parse as in ipvsadm; what they do is ctl/sync_daemon.h's.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "ctl/sync_daemon.h"
#include "svc/model.h"

namespace sluice::cli {

enum class Cmd {
  kNone,
  kAddService,
  kEditService,
  kDelService,
  kFlush,
  kList,
  kAddDest,
  kDelDest,
  kEditDest,
  kSetTimeouts,
  kRestore,
  kSave,
  kZero,
  kCounters,  // Sluice extension: the data-plane counters, slow and fast path
  kReload,    // Sluice extension: re-read sluiced's config file (sluiced -f), as SIGHUP
  kHealth,    // Sluice extension: the config file's real servers and their checkers
  kStartDaemon,  // --start-daemon: answered from session sync (ctl/sync_daemon.h)
  kStopDaemon,   // --stop-daemon: likewise
  kAddLaddr,     // DPVS -P: add a FULLNAT local address to a service
  kDelLaddr,     // DPVS -Q
  kGetLaddr,     // DPVS -G: list local addresses and their ports in use
  kHelp,
  kVersion,
};

// ipvsadm's name for a command, as its error messages print it ("add-service").
const char* cmdName(Cmd c);

// Option bits, in the order of ipvsadm's option table (it reports problems in this order).
enum Opt : uint64_t {
  kOptNumeric = 1ull << 0,
  kOptConnection = 1ull << 1,
  kOptService = 1ull << 2,
  kOptScheduler = 1ull << 3,
  kOptPersistent = 1ull << 4,
  kOptNetmask = 1ull << 5,
  kOptServer = 1ull << 6,
  kOptForward = 1ull << 7,
  kOptWeight = 1ull << 8,
  kOptUThreshold = 1ull << 9,
  kOptLThreshold = 1ull << 10,
  kOptTimeout = 1ull << 11,
  kOptDaemon = 1ull << 12,
  kOptStats = 1ull << 13,
  kOptRate = 1ull << 14,
  kOptThresholds = 1ull << 15,
  kOptPersistentConn = 1ull << 16,
  kOptNoSort = 1ull << 17,
  kOptExact = 1ull << 18,
  kOptOps = 1ull << 19,
  kOptSchedFlags = 1ull << 20,
  kOptJson = 1ull << 21,
  // ipvsadm's daemon options, after ours rather than at their places in its table: the
  // order only decides which of two problems is reported first.
  kOptMcastInterface = 1ull << 22,
  kOptSyncId = 1ull << 23,
  kOptMcastGroup = 1ull << 24,
  kOptMcastPort = 1ull << 25,
  kOptMcastTtl = 1ull << 26,
  kOptSyncMaxlen = 1ull << 27,
  // ipvsadm 1.31's tunnel options, at their places in its table (after the daemon's).
  kOptTunInfo = 1ull << 28,
  kOptTunType = 1ull << 29,
  kOptTunPort = 1ull << 30,
  kOptTunNoCsum = 1ull << 31,
  kOptTunCsum = 1ull << 32,
  kOptTunRemCsum = 1ull << 33,
  // DPVS's local-address options, and the client-address mode (--client-addr or DPVS's
  // --proxy-protocol: one option, given once).
  kOptLaddr = 1ull << 34,
  kOptIfname = 1ull << 35,
  kOptClientAddr = 1ull << 36,
};
constexpr int kNumOpts = 37;

struct Command {
  Cmd cmd = Cmd::kNone;
  uint64_t options = 0;         // Opt bits given
  svc::ServiceConfig service;   // key valid when kOptService is set
  svc::DestConfig dest;         // valid when kOptServer is set
  svc::LocalAddress laddr;      // -z and -F
  svc::Timeouts timeouts;       // --set
  ctl::SyncDaemonArgs daemon;   // --start-daemon, --stop-daemon
  bool has(Opt o) const { return options & o; }
};

// A refused command line: ipvsadm's one-line message, and which of ipvsadm's two ways of
// refusing it was. `usage`: what popt itself rejects (no command first, an unknown option, a
// missing or unwanted argument), after which ipvsadm exits 255 (tryhelp_exit(-1), or -1 from
// main); otherwise one of ipvsadm's own checks, fail(2, ...), which exits 2.
struct ParseError {
  std::string message;
  bool usage = false;
};

class [[nodiscard]] ParseResult {
 public:
  ParseResult(Command c) : v_(std::move(c)) {}
  ParseResult(ParseError e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  Command& operator*() { return std::get<0>(v_); }
  const Command& operator*() const { return std::get<0>(v_); }
  Command* operator->() { return &std::get<0>(v_); }
  const Command* operator->() const { return &std::get<0>(v_); }
  const ParseError& error() const { return std::get<1>(v_); }

 private:
  std::variant<Command, ParseError> v_;
};

// `args` excludes the program name. An empty list means "-L" (ipvsadm lists by default).
ParseResult parseCommand(const std::vector<std::string>& args, const std::string& program = "sluiceadm");

// Splits one restore line into arguments: whitespace-separated, '#' starts a comment,
// a leading "ipvsadm" / "sluiceadm" word (or a path ending in one) is dropped.
std::vector<std::string> splitRestoreLine(const std::string& line);

}  // namespace sluice::cli

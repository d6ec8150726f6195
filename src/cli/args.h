// The ipvsadm command language: one command (the first option, as in ipvsadm) plus its
// options, turned into a Command. Validation follows ipvsadm 1.31 rule for rule and
// message for message (its command x option table, "Zero port specified for
// non-persistent service", ...), because scripts and operators grep for those words.
// The extensions: -b with -a/-e/-d selects FULLNAT (as DPVS spells it), with every other
// command it takes ipvsadm's scheduler flags; --json; the commands --counters, --reload and --health.
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
  kHelp,
  kVersion,
};

// ipvsadm's name for a command, as its error messages print it ("add-service").
const char* cmdName(Cmd c);

// Option bits, in the order of ipvsadm's option table (it reports problems in this order).
enum Opt : uint32_t {
  kOptNumeric = 1u << 0,
  kOptConnection = 1u << 1,
  kOptService = 1u << 2,
  kOptScheduler = 1u << 3,
  kOptPersistent = 1u << 4,
  kOptNetmask = 1u << 5,
  kOptServer = 1u << 6,
  kOptForward = 1u << 7,
  kOptWeight = 1u << 8,
  kOptUThreshold = 1u << 9,
  kOptLThreshold = 1u << 10,
  kOptTimeout = 1u << 11,
  kOptDaemon = 1u << 12,
  kOptStats = 1u << 13,
  kOptRate = 1u << 14,
  kOptThresholds = 1u << 15,
  kOptPersistentConn = 1u << 16,
  kOptNoSort = 1u << 17,
  kOptExact = 1u << 18,
  kOptOps = 1u << 19,
  kOptSchedFlags = 1u << 20,
  kOptJson = 1u << 21,
  // ipvsadm's daemon options, after ours rather than at their places in its table: the
  // order only decides which of two problems is reported first.
  kOptMcastInterface = 1u << 22,
  kOptSyncId = 1u << 23,
  kOptMcastGroup = 1u << 24,
  kOptMcastPort = 1u << 25,
  kOptMcastTtl = 1u << 26,
  kOptSyncMaxlen = 1u << 27,
};
constexpr int kNumOpts = 28;

struct Command {
  Cmd cmd = Cmd::kNone;
  uint32_t options = 0;         // Opt bits given
  svc::ServiceConfig service;   // key valid when kOptService is set
  svc::DestConfig dest;         // valid when kOptServer is set
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

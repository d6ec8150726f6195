// Small helpers shared by the subcommands of sluice-bench (the benchmark's own tool, not part
// of the daemon): argument lookup, MAC and interface queries, loading a bench/bpf object with
// its settings struct in place, and a stop flag set by SIGINT/SIGTERM. Errors end the process
// with a message: this is a measurement tool run by a script, not a library.
#pragma once

#include <bpf/libbpf.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

using Mac = std::array<uint8_t, 6>;

[[noreturn]] void die(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// "--name value" pairs after the subcommand.
class Args {
 public:
  Args(int argc, char** argv);
  std::string str(const char* name, const char* fallback = nullptr) const;
  uint64_t num(const char* name, uint64_t fallback) const;
  double real(const char* name, double fallback) const;

 private:
  std::vector<std::pair<std::string, std::string>> kv_;
};

Mac parseMac(const std::string& s);
Mac ifaceMac(const std::string& ifname);
uint32_t ifaceIndex(const std::string& ifname);
uint32_t parseIpv4(const std::string& s);  // host order
uint64_t nowNs();

// Opens OBJ_DIR/NAME.bpf.o, copies `state` (size bytes) into its .bss as the initial value,
// and loads it. The object stays open for the life of the process.
bpf_object* loadObject(const std::string& obj_dir, const char* name, const void* state, size_t size);
bpf_program* program(bpf_object* obj, const char* name);
int mapFd(bpf_object* obj, const char* name);
// Attaches through a BPF link, so the program goes away with the process on any exit path.
bpf_link* attachXdp(bpf_program* prog, const std::string& ifname);

extern std::atomic<bool> g_stop;
void installStopHandlers();
// Creates FILE (empty) to tell the calling script that setup is done.
void signalReady(const std::string& file);

int runGen(const Args& a);
int runMeasure(const Args& a);
int runXdpFwd(const Args& a);
int runXskFwd(const Args& a);

}  // namespace bench

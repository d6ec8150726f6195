// MISC_CHECK: run misc_path (split into words, or through /bin/sh -c with misc_shell) and
// judge its exit status as keepalived does: 0 up, 1 down, 2..255 up with weight status - 2
// when misc_dynamic (any non-zero status is down without it). misc_timeout (0: delay_loop)
// ends it with SIGKILL to its process group. The child is reaped through a pidfd in the
// loop; its first output line (bounded) is kept for the reason, the rest is discarded.
//
// Trade-off: fork/exec rather than posix_spawn, because misc_user needs setgid/setuid in the
// child; the child runs only async-signal-safe calls before exec (argv and the user are
// resolved in the parent).
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "health/command_line.h"
#include "health/sock.h"
#include "health/tries.h"

namespace sluice::health {

namespace {

constexpr size_t kFirstLineMax = 200;

int pidfdOpen(pid_t pid) { return int(syscall(SYS_pidfd_open, pid, 0)); }

struct User {
  uid_t uid;
  gid_t gid;
};

// "user" or "user group"; nullopt with an error text when unknown.
Result<std::optional<User>> resolveUser(const std::string& spec) {
  if (spec.empty()) return std::optional<User>{};
  auto words = splitCommandLine(spec);
  if (words.empty()) return std::optional<User>{};
  std::vector<char> buf(16384);
  passwd pw;
  passwd* pr = nullptr;
  if (getpwnam_r(words[0].c_str(), &pw, buf.data(), buf.size(), &pr) != 0 || !pr)
    return makeError("misc_user {}: no such user", words[0]);
  User u{pw.pw_uid, pw.pw_gid};
  if (words.size() > 1) {
    group gr;
    group* grp = nullptr;
    if (getgrnam_r(words[1].c_str(), &gr, buf.data(), buf.size(), &grp) != 0 || !grp)
      return makeError("misc_user: no such group {}", words[1]);
    u.gid = gr.gr_gid;
  }
  return std::optional<User>{u};
}

class MiscTry final : public TryBase {
 public:
  MiscTry(Loop& loop, const Probe& p, DoneFn done) : TryBase(loop, p, std::move(done)) {
    if (auto st = spawn(); !st.ok()) {
      failSoon(st.error().message);
      return;
    }
    Nanos t = cfg().misc_timeout ? cfg().misc_timeout : cfg().delay_loop;
    deadline_.arm(loop_, t, [this, t] {
      timeout_ = t;
      kill(-pid_, SIGKILL);  // the whole process group: a shell's children too
      kill(pid_, SIGKILL);
    });
  }

  ~MiscTry() override {
    if (pid_ > 0) {  // still running: kill it and let the loop reap it
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      if (int fd = child_.release(); fd >= 0) loop_.adoptChild(fd);
    }
  }

 private:
  Status spawn() {
    std::vector<std::string> words;
    if (cfg().misc_shell) words = {"/bin/sh", "-c", cfg().misc_path};
    else words = splitCommandLine(cfg().misc_path);
    if (words.empty()) return makeError("misc_path is empty");
    auto user = resolveUser(cfg().misc_user);
    if (!user.ok()) return user.error();
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    bool has_slash = words[0].find('/') != std::string::npos;

    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return makeError("pipe: {}", errnoText(errno));
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
      close(out[0]);
      close(out[1]);
      return makeError("/dev/null: {}", errnoText(errno));
    }
    pid_t pid = fork();
    if (pid == 0) {
      // Child: async-signal-safe calls only.
      setpgid(0, 0);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      dup2(devnull, 0);
      dup2(out[1], 1);
      dup2(devnull, 2);
      if (*user) {
        if (setgroups(0, nullptr) != 0 || setgid((*user)->gid) != 0 || setuid((*user)->uid) != 0) _exit(126);
      }
      if (has_slash) execv(argv[0], argv.data());
      else execvp(argv[0], argv.data());
      _exit(127);
    }
    int e = errno;
    close(out[1]);
    close(devnull);
    if (pid < 0) {
      close(out[0]);
      return makeError("fork: {}", errnoText(e));
    }
    pid_ = pid;
    int pidfd = pidfdOpen(pid);
    if (pidfd < 0) {
      e = errno;
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);  // just killed: returns at once
      pid_ = -1;
      close(out[0]);
      return makeError("pidfd_open: {}", errnoText(e));
    }
    fcntl(pidfd, F_SETFD, FD_CLOEXEC);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    if (auto st = child_.attach(loop_, pidfd, EPOLLIN, [this](uint32_t) { onExit(); }); !st.ok()) {
      close(out[0]);
      return st;
    }
    if (auto st = output_.attach(loop_, out[0], EPOLLIN, [this](uint32_t) { onOutput(); }); !st.ok())
      return st;  // the destructor kills the child
    return {};
  }

  void onOutput() {
    char buf[4096];
    for (int i = 0; i < 16; ++i) {
      ssize_t n = read(output_.fd(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) output_.reset();
        return;
      }
      for (ssize_t j = 0; j < n && !line_done_; ++j) {
        if (buf[j] == '\n' || first_line_.size() >= kFirstLineMax) line_done_ = true;
        else if (buf[j] != '\r') first_line_ += buf[j];
      }
    }
  }

  void onExit() {
    siginfo_t si{};
    if (waitid(P_PIDFD, child_.fd(), &si, WEXITED | WNOHANG) != 0) {
      // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN reaps automatically).
      int e = errno;
      pid_ = -1;
      child_.reset();
      output_.reset();
      deadline_.reset();
      return fail("cannot read the exit status: " + errnoText(e));
    }
    if (si.si_pid == 0) return;  // not exited yet
    pid_ = -1;
    if (output_.fd() >= 0) onOutput();  // what the child wrote before exiting
    child_.reset();
    output_.reset();
    deadline_.reset();
    std::string said = first_line_.empty() ? std::string{} : ": " + first_line_;
    if (timeout_) return fail("timeout after " + secondsText(timeout_) + ", killed");
    if (si.si_code != CLD_EXITED) return fail(fmt::format("killed by signal {}{}", si.si_status, said));
    int status = si.si_status;
    if (status == 0) return succeed("exit status 0" + said);
    if (status == 1 || !cfg().misc_dynamic) return fail(fmt::format("exit status {}{}", status, said));
    finish(Outcome{true, fmt::format("exit status {}{}", status, said), int32_t(status - 2)});
  }

  Watched child_;   // the pidfd
  Watched output_;  // the read end of the child's stdout
  Timer deadline_;
  pid_t pid_ = -1;
  Nanos timeout_ = 0;
  std::string first_line_;
  bool line_done_ = false;
};

}  // namespace

std::unique_ptr<Try> startMiscTry(Loop& loop, const Probe& p, DoneFn done) {
  return std::make_unique<MiscTry>(loop, p, std::move(done));
}

}  // namespace sluice::health

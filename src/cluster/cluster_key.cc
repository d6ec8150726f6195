// Loading the cluster key file; see cluster_key.h.
#include "cluster/cluster_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::cluster {

Result<std::string> loadClusterKey(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return makeError("cluster key {}: cannot open: {}", path, std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) return makeError("cluster key {}: {}", path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return makeError("cluster key {}: not a regular file", path);
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    return makeError(
        "cluster key {}: group or others may access it (mode {:03o}); run `chmod 600 {}`", path,
        st.st_mode & 0777, path);
  std::string key;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return makeError("cluster key {}: cannot read: {}", path, std::strerror(errno));
    }
    if (n == 0) break;
    key.append(buf, size_t(n));
    if (key.size() > kMaxClusterKeyFile)
      return makeError("cluster key {}: longer than {} bytes; a key file holds one key", path,
                       kMaxClusterKeyFile);
  }
  if (!key.empty() && key.back() == '\n') key.pop_back();
  if (!key.empty() && key.back() == '\r') key.pop_back();
  if (key.size() < kMinClusterKeyFile)
    return makeError(
        "cluster key {}: {} bytes, at least {} needed (e.g. `openssl rand -hex 32 > {}`)", path,
        key.size(), kMinClusterKeyFile, path);
  return key;
}

}  // namespace sluice::cluster

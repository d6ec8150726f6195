// The cluster key file: long enough, and private.
#include "cluster/cluster_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace sluice::cluster {
namespace {

class ClusterKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice_cluster_key_XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = tmpl;
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void write(const std::string& content, mode_t mode) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << content;
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
  }
  std::string path_;
};

const std::string k64(64, 'a');

TEST_F(ClusterKeyTest, APrivateKeyOfEnoughBytesLoadsWithoutItsNewline) {
  write(k64 + "\n", 0600);
  auto k = loadClusterKey(path_);
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(*k, k64);
  write(k64 + "\r\n", 0400);
  EXPECT_EQ(*loadClusterKey(path_), k64);
}

TEST_F(ClusterKeyTest, AFileOthersMayReadIsRefusedWithTheFix) {
  for (mode_t m : {0640, 0604, 0660, 0644}) {
    write(k64, m);
    auto k = loadClusterKey(path_);
    ASSERT_FALSE(k.ok()) << std::oct << m;
    EXPECT_NE(k.error().message.find("chmod 600"), std::string::npos) << k.error().message;
  }
}

TEST_F(ClusterKeyTest, AShortKeyIsRefused) {
  write(std::string(31, 'x') + "\n", 0600);
  auto k = loadClusterKey(path_);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().message.find("at least 32"), std::string::npos) << k.error().message;
  write(std::string(32, 'x'), 0600);
  EXPECT_TRUE(loadClusterKey(path_).ok());
}

TEST_F(ClusterKeyTest, MissingOrNotAFileIsRefused) {
  EXPECT_FALSE(loadClusterKey(path_ + ".absent").ok());
  EXPECT_FALSE(loadClusterKey("/tmp").ok());
  write(std::string(kMaxClusterKeyFile + 1, 'x'), 0600);
  EXPECT_FALSE(loadClusterKey(path_).ok());
}

}  // namespace
}  // namespace sluice::cluster

// state.json: the round trip keeps every id and field, the file replaces atomically, and
// anything that cannot be trusted is an error naming where.
#include "daemon/state_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "daemon/pinned_state.h"
#include "unit/svc/svc_test_util.h"

using namespace sluice;
using namespace sluice::daemon;
using namespace sluice::svc::testing;

namespace {

SavedState sample() {
  SavedState s;
  s.conn_seed = 0xfedcba9876543210ull;  // above 2^63: must survive JSON
  s.conn_capacity = 4096;
  s.pin_dir = "/sys/fs/bpf/sluice/x-1234";
  s.timeouts = svc::Timeouts{600, 30, 90};
  svc::ServiceState a;
  a.svc_id = 3;
  a.cfg = svcCfg(tcpKey("10.0.0.1", 80), "wrr");
  a.cfg.persistent = true;
  a.cfg.persistence_timeout = 60;
  a.cfg.persistence_prefix = 24;
  a.dests.push_back({7, destCfg("10.1.0.1:80", svc::FwdMethod::kDr, 5)});
  a.dests.back().cfg.u_threshold = 100;
  a.dests.back().cfg.l_threshold = 50;
  a.dests.push_back({2, destCfg("10.1.0.2:80", svc::FwdMethod::kDr, 0)});
  svc::ServiceState b;
  b.svc_id = 0;
  b.cfg = svcCfg(markKey(9, net::Family::kV6), "mh");
  s.table.services = {a, b};
  s.table.trash.push_back({11, 5, udpKey("10.0.0.9", 53), destCfg("10.1.0.9:53")});
  return s;
}

void expectSame(const SavedState& x, const SavedState& y) {
  EXPECT_EQ(x.conn_seed, y.conn_seed);
  EXPECT_EQ(x.conn_capacity, y.conn_capacity);
  EXPECT_EQ(x.pin_dir, y.pin_dir);
  EXPECT_EQ(x.timeouts.tcp, y.timeouts.tcp);
  EXPECT_EQ(x.timeouts.tcp_fin, y.timeouts.tcp_fin);
  EXPECT_EQ(x.timeouts.udp, y.timeouts.udp);
  ASSERT_EQ(x.table.services.size(), y.table.services.size());
  for (size_t i = 0; i < x.table.services.size(); ++i) {
    const auto &p = x.table.services[i], &q = y.table.services[i];
    EXPECT_EQ(p.svc_id, q.svc_id);
    EXPECT_EQ(p.cfg.key, q.cfg.key);
    EXPECT_EQ(p.cfg.scheduler, q.cfg.scheduler);
    EXPECT_EQ(p.cfg.persistent, q.cfg.persistent);
    EXPECT_EQ(p.cfg.persistence_timeout, q.cfg.persistence_timeout);
    EXPECT_EQ(p.cfg.persistence_prefix, q.cfg.persistence_prefix);
    ASSERT_EQ(p.dests.size(), q.dests.size());
    for (size_t k = 0; k < p.dests.size(); ++k) {
      EXPECT_EQ(p.dests[k].dest_id, q.dests[k].dest_id);
      EXPECT_EQ(p.dests[k].cfg.ep, q.dests[k].cfg.ep);
      EXPECT_EQ(p.dests[k].cfg.weight, q.dests[k].cfg.weight);
      EXPECT_EQ(p.dests[k].cfg.u_threshold, q.dests[k].cfg.u_threshold);
      EXPECT_EQ(p.dests[k].cfg.l_threshold, q.dests[k].cfg.l_threshold);
      EXPECT_EQ(p.dests[k].cfg.fwd, q.dests[k].cfg.fwd);
    }
  }
  ASSERT_EQ(x.table.trash.size(), y.table.trash.size());
  for (size_t i = 0; i < x.table.trash.size(); ++i) {
    EXPECT_EQ(x.table.trash[i].dest_id, y.table.trash[i].dest_id);
    EXPECT_EQ(x.table.trash[i].svc_id, y.table.trash[i].svc_id);
    EXPECT_EQ(x.table.trash[i].svc_key, y.table.trash[i].svc_key);
    EXPECT_EQ(x.table.trash[i].cfg.ep, y.table.trash[i].cfg.ep);
  }
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sluice-state-test.XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(StateFile, EncodeDecodeRoundTrip) {
  SavedState s = sample();
  auto d = decodeState(encodeState(s));
  ASSERT_TRUE(d.ok()) << d.error().message;
  expectSame(s, *d);
}

// A restart restores the tunnel options (written by ctl/json_codec, left out for DR), and
// a file written before they existed still reads.
TEST(StateFile, TunnelOptionsSurviveARestart) {
  SavedState s = sample();
  svc::DestConfig gue = destCfg("10.1.0.3:80", svc::FwdMethod::kTun, 2);
  gue.tun_type = SL_TUN_GUE;
  gue.tun_port = 6080;
  gue.tun_flags = SL_TUN_F_CSUM;
  s.table.services[0].dests.push_back({4, gue});
  s.table.trash[0].cfg.fwd = svc::FwdMethod::kTun;  // ipip: nothing extra written
  const std::string text = encodeState(s);
  // One tun_type in the file: the GUE server's.
  const size_t first = text.find("\"tun_type\": \"gue\"");
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_EQ(text.find("tun_type", first + 2), std::string::npos) << text;
  EXPECT_EQ(text.find("tun_type"), first + 1);
  auto d = decodeState(text);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->table.services[0].dests.at(2).cfg, gue);
  EXPECT_EQ(d->table.trash[0].cfg, s.table.trash[0].cfg);
  auto old = decodeState(encodeState(sample()));
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->table.services[0].dests[0].cfg.tun_type, SL_TUN_IPIP);
}

// FULLNAT: a restart restores the local addresses and the client-address mode; a service
// without local addresses writes no "laddrs" (a file from before them reads the same).
TEST(StateFile, LocalAddressesSurviveARestart) {
  SavedState s = sample();
  s.table.services[0].laddrs = {{ip("192.168.100.200"), "eth1"}, {ip("192.168.100.201"), ""}};
  s.table.services[0].cfg.client_addr = svc::ClientAddr::kNone;
  const std::string text = encodeState(s);
  EXPECT_NE(text.find("\"laddrs\""), std::string::npos);
  auto d = decodeState(text);
  ASSERT_TRUE(d.ok()) << d.error().message;
  expectSame(s, *d);
  EXPECT_EQ(d->table.services[0].laddrs, s.table.services[0].laddrs);
  EXPECT_EQ(d->table.services[0].cfg.client_addr, svc::ClientAddr::kNone);
  EXPECT_TRUE(d->table.services[1].laddrs.empty());

  SavedState plain = sample();
  EXPECT_EQ(encodeState(plain).find("laddrs"), std::string::npos);
  // A bad entry names where it is.
  std::string bad = text;
  bad.replace(bad.find("192.168.100.201"), 15, "192.168.100.999");
  auto e = decodeState(bad);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "state.services[0].laddrs[1].addr: '192.168.100.999' is not an IPv4 or IPv6 address");
}

TEST(StateFile, WriteReplacesAtomicallyAndReadsBack) {
  TempDir dir;
  std::string path = dir.path() + "/state.json";
  auto none = readStateFile(path);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  SavedState s = sample();
  ASSERT_TRUE(writeStateFile(path, s).ok());
  s.table.services.pop_back();
  s.timeouts.tcp = 1234;
  ASSERT_TRUE(writeStateFile(path, s).ok());
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0) << "temp file left behind";
  struct stat st{};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto r = readStateFile(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  expectSame(s, **r);
}

// The Director's sink: every change rewrites the file with the base (seed, size, pins) and
// the new configuration; a write that fails removes the file (a stale one would restore
// wrong ids) and says so to the operator.
TEST(StateFile, SinkWritesEveryChangeAndRemovesTheFileWhenItCannot) {
  TempDir dir;
  const std::string path = dir.path() + "/state.json";
  SavedState base = sample();
  auto sink = stateFileSink(base, path);
  SavedState next = sample();
  next.table.services.pop_back();
  ASSERT_TRUE(sink(next.table, next.timeouts).ok());
  auto r = readStateFile(path);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->table.services.size(), next.table.services.size());
  EXPECT_EQ((*r)->conn_seed, base.conn_seed);
  // A directory where the temp file must go makes the write fail.
  ASSERT_EQ(mkdir((path + ".tmp").c_str(), 0700), 0);
  Status st = sink(base.table, base.timeouts);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("could not be written"), std::string::npos) << st.error().message;
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "the stale file was removed";
}

TEST(StateFile, UnusableFilesAreErrorsNamingTheProblem) {
  TempDir dir;
  std::string path = dir.path() + "/state.json";
  auto writeRaw = [&](const std::string& text) { std::ofstream(path) << text; };

  writeRaw("{\"version\": 1, \"conn_seed\": \"ab\"");  // cut short, as by a full disk
  auto r = readStateFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;

  std::string good = encodeState(sample());
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    auto pos = t.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return t.replace(pos, from.size(), to);
  };
  auto err = [](const std::string& text) {
    auto d = decodeState(text);
    EXPECT_FALSE(d.ok());
    return d.ok() ? std::string() : d.error().message;
  };
  EXPECT_NE(err(replaced("\"version\": 1", "\"version\": 2")).find("version 2"), std::string::npos);
  EXPECT_NE(err(replaced("\"svc_id\": 3", "\"svc_id\": -3")).find("state.services[0].svc_id"),
            std::string::npos);
  EXPECT_NE(err(replaced("\"dest_id\": 7", "\"dest_id\": \"7\"")).find("dests[0].dest_id"),
            std::string::npos);
  EXPECT_NE(err(replaced("\"conn_seed\": \"fedcba9876543210\"", "\"conn_seed\": \"xyz\""))
                .find("conn_seed"),
            std::string::npos);
  EXPECT_NE(err(replaced("\"trash\"", "\"rubbish\"")).find("missing field 'trash'"), std::string::npos);
  EXPECT_NE(err(replaced("\"scheduler\": \"wrr\"", "\"scheduler\": 5")).find("services[0].service"),
            std::string::npos);
}

TEST(PinName, StablePerDirectoryAndDistinct) {
  EXPECT_EQ(defaultPinName("/var/lib/sluice"), defaultPinName("/var/lib/sluice"));
  EXPECT_NE(defaultPinName("/var/lib/sluice"), defaultPinName("/srv/lib/sluice"));
  EXPECT_EQ(defaultPinName("/var/lib/sluice").rfind("sluice-", 0), 0u);
  // Only characters that are safe in a path component.
  std::string odd = defaultPinName("/tmp/a b:c\\d");
  EXPECT_EQ(odd.find_first_not_of(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."),
            std::string::npos)
      << odd;
  EXPECT_EQ(defaultPinName("/").rfind("state-", 0), 0u);
}

}  // namespace

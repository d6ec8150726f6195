#include "ctl/protocol.h"

#include <gtest/gtest.h>

#include "ctl/client.h"
#include "support/ctl_fake_backend.h"

namespace sluice::ctl {
namespace {

Json answer(Backend& b, const std::string& line) {
  std::string out = handleRequestLine(b, line);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  return Json::parse(out);
}

std::string errorOf(Backend& b, const std::string& line) {
  Json j = answer(b, line);
  EXPECT_EQ(j["ok"], false) << line;
  return j.value("error", "");
}

TEST(Protocol, OpNames) {
  for (auto op : {Op::kAddService, Op::kEditService, Op::kDelService, Op::kClear, Op::kAddDest, Op::kEditDest,
                  Op::kDelDest, Op::kZero, Op::kSetTimeouts, Op::kGetTimeouts, Op::kList, Op::kListConns, Op::kCounters})
    EXPECT_EQ(opFromName(opName(op)), op);
  EXPECT_EQ(opName(Op::kListConns), std::string("list_conns"));
  EXPECT_FALSE(opFromName("drop_table").has_value());
  EXPECT_EQ(opName(Op::kCounters), std::string("counters"));
}

TEST(Protocol, CountersOp) {
  testing::FakeBackend b;
  b.counter_values = {{"rx_packets", false, 3, 40}, {"no_real_server", true, 2, 0}};
  EXPECT_EQ(answer(b, R"({"op":"counters"})"),
            Json::parse(R"({"ok":true,"counters":[{"name":"rx_packets","drop":false,"slow":3,"fast":40},
                                                  {"name":"no_real_server","drop":true,"slow":2,"fast":0}]})"));
  EXPECT_EQ(errorOf(b, R"({"op":"counters","key":{"fwmark":7}})"), "unknown field 'key' for op 'counters'");

  // The typed client over the same dispatch.
  DirectTransport t(b);
  Client client(t);
  auto got = client.counters();
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].name, "rx_packets");
  EXPECT_EQ((*got)[0].fast, 40u);
  EXPECT_TRUE((*got)[1].drop);
  EXPECT_EQ((*got)[1].slow, 2u);
}

TEST(Protocol, RequestRoundTrip) {
  Request r;
  r.op = Op::kAddDest;
  r.key = svc::ServiceKey{};
  r.key->addr = *net::IpAddr::parse("10.0.0.1");
  r.key->port = 80;
  r.dest = svc::DestConfig{};
  r.dest->ep = *net::Endpoint::parse("192.168.1.1:8080");
  r.dest->fwd = svc::FwdMethod::kNat;
  auto back = decodeRequest(Json::parse(dumpJson(encodeRequest(r))));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->op, Op::kAddDest);
  EXPECT_EQ(back->key, r.key);
  EXPECT_EQ(back->dest->ep, r.dest->ep);
  EXPECT_EQ(back->dest->fwd, svc::FwdMethod::kNat);
  EXPECT_FALSE(back->service.has_value());
}

TEST(Protocol, ServesABackend) {
  testing::FakeBackend b;
  EXPECT_EQ(answer(b, R"({"op":"add_service","service":{"key":{"proto":"tcp","addr":"10.0.0.1","port":80}}})"),
            Json::parse(R"({"ok":true})"));
  EXPECT_EQ(answer(b, R"({"op":"add_dest","key":{"proto":"tcp","addr":"10.0.0.1","port":80},
                          "dest":{"addr":"192.168.1.1","port":80,"weight":5}})")["ok"],
            true);
  Json list = answer(b, R"({"op":"list"})");
  EXPECT_EQ(list["ok"], true);
  EXPECT_EQ(list["conn_table_size"], 4096);
  ASSERT_EQ(list["services"].size(), 1u);
  EXPECT_EQ(list["services"][0]["dests"][0]["dest"]["weight"], 5);
  Json t = answer(b, R"({"op":"get_timeouts"})");
  EXPECT_EQ(t["timeouts"], Json::parse(R"({"tcp":900,"tcp_fin":120,"udp":300})"));
  EXPECT_EQ(answer(b, R"({"op":"list_conns"})"), Json::parse(R"({"ok":true,"conns":[]})"));
  EXPECT_EQ(answer(b, R"({"op":"zero"})")["ok"], true);
  EXPECT_FALSE(b.last_zero_key.has_value());
  EXPECT_EQ(answer(b, R"({"op":"del_dest","key":{"proto":"tcp","addr":"10.0.0.1","port":80},
                          "rs":{"addr":"192.168.1.1","port":80}})")["ok"],
            true);
  EXPECT_EQ(answer(b, R"({"op":"clear"})")["ok"], true);
  EXPECT_TRUE(b.services.empty());
}

TEST(Protocol, LocalAddressOps) {
  EXPECT_EQ(opFromName("add_laddr"), Op::kAddLaddr);
  EXPECT_EQ(opFromName("del_laddr"), Op::kDelLaddr);
  testing::FakeBackend b;
  ASSERT_EQ(answer(b, R"({"op":"add_service","service":{"key":{"proto":"tcp","addr":"10.0.0.1","port":80}}})")["ok"],
            true);
  EXPECT_EQ(answer(b, R"({"op":"add_laddr","key":{"proto":"tcp","addr":"10.0.0.1","port":80},
                          "laddr":{"addr":"192.168.100.200","ifname":"eth1"}})"),
            Json::parse(R"({"ok":true})"));
  EXPECT_EQ(errorOf(b, R"({"op":"add_laddr","key":{"proto":"tcp","addr":"10.0.0.1","port":80},
                           "laddr":{"addr":"192.168.100.200"}})"),
            "Local address already exists");
  Json list = answer(b, R"({"op":"list"})");
  EXPECT_EQ(list["services"][0]["laddrs"],
            Json::parse(R"([{"addr":"192.168.100.200","ifname":"eth1","conns":0}])"));
  EXPECT_EQ(errorOf(b, R"({"op":"add_laddr","key":{"proto":"tcp","addr":"10.0.0.1","port":80}})"),
            "op 'add_laddr' needs the field 'laddr'");
  EXPECT_EQ(errorOf(b, R"({"op":"del_laddr","laddr":{"addr":"192.168.100.200"}})"),
            "op 'del_laddr' needs the field 'key'");
  EXPECT_EQ(errorOf(b, R"({"op":"del_laddr","key":{"proto":"tcp","addr":"10.0.0.1","port":80},
                           "laddr":{"addr":"192.168.100.200"},"rs":{"addr":"1.2.3.4","port":1}})"),
            "unknown field 'rs' for op 'del_laddr'");

  // The typed client, through the same dispatch.
  DirectTransport t(b);
  Client client(t);
  svc::ServiceKey k;
  k.addr = *net::IpAddr::parse("10.0.0.1");
  k.port = 80;
  ASSERT_TRUE(client.delLaddr(k, {*net::IpAddr::parse("192.168.100.200"), ""}).ok());
  Status gone = client.delLaddr(k, {*net::IpAddr::parse("192.168.100.200"), ""});
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().message, "No such local address");
  ASSERT_TRUE(client.addLaddr(k, {*net::IpAddr::parse("192.168.100.9"), ""}).ok());
  auto l = client.list(k);
  ASSERT_TRUE(l.ok()) << l.error().message;
  ASSERT_EQ(l->services.at(0).laddrs.size(), 1u);
  EXPECT_EQ(l->services[0].laddrs[0].laddr.addr, *net::IpAddr::parse("192.168.100.9"));
}

TEST(Protocol, BackendErrorsBecomeErrorAnswers) {
  testing::FakeBackend b;
  EXPECT_EQ(errorOf(b, R"({"op":"del_service","key":{"fwmark":7}})"), "No such service");
  EXPECT_EQ(errorOf(b, R"({"op":"list","key":{"fwmark":7}})"), "No such service");
}

TEST(Protocol, SyncDaemonOps) {
  testing::FakeBackend b;
  for (auto op : {Op::kSyncDaemons, Op::kStartDaemon, Op::kStopDaemon}) EXPECT_EQ(opFromName(opName(op)), op);
  // No sluice_cluster block: no sync, and the ipvsadm answers.
  EXPECT_EQ(answer(b, R"({"op":"sync_daemons"})"), Json::parse(R"({"ok":true,"sync":null})"));
  EXPECT_EQ(errorOf(b, R"({"op":"stop_daemon","daemon":{"role":"master"}})"), "No daemon is running");
  EXPECT_EQ(errorOf(b, R"({"op":"start_daemon"})"), "op 'start_daemon' needs the field 'daemon'");
  EXPECT_EQ(errorOf(b, R"({"op":"start_daemon","daemon":{"role":"slave"}})"),
            "daemon.role: expected \"master\" or \"backup\", got string \"slave\"");
  EXPECT_EQ(errorOf(b, R"({"op":"sync_daemons","daemon":{"role":"master"}})"),
            "unknown field 'daemon' for op 'sync_daemons'");

  SyncDaemonInfo info;
  info.interface = "eth1";
  info.addr = *net::IpAddr::parse("10.0.0.11");
  info.syncid = 1;
  info.port = 8848;
  info.maxlen = 1400;
  info.peers = 2;
  b.sync = info;
  EXPECT_EQ(answer(b, R"({"op":"sync_daemons"})")["sync"]["interface"], "eth1");
  EXPECT_EQ(answer(b, R"({"op":"start_daemon","daemon":{"role":"backup","mcast_interface":"eth1","syncid":1}})"),
            Json::parse(R"({"ok":true})"));

  // The typed client, both ways.
  DirectTransport t(b);
  Client client(t);
  auto got = client.syncDaemons();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, b.sync);
  SyncDaemonArgs args;
  args.syncid = 2;
  auto refused = client.startDaemon(args);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.rfind("--syncid 2: this director's sync id is its node id, 1", 0), 0u)
      << refused.error().message;
  EXPECT_FALSE(client.stopDaemon(args).ok());
  b.sync.reset();
  got = client.syncDaemons();
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST(Protocol, MalformedRequests) {
  testing::FakeBackend b;
  EXPECT_EQ(errorOf(b, "[]"), "a request must be a JSON object, got array");
  EXPECT_EQ(errorOf(b, "{}"), "request has no 'op' field");
  EXPECT_EQ(errorOf(b, R"({"op":1})"), "'op' must be a string, got number");
  EXPECT_EQ(errorOf(b, R"({"op":"nuke"})").rfind("unknown op 'nuke' (known: add_service, ", 0), 0u);
  EXPECT_EQ(errorOf(b, R"({"op":"clear","key":{"fwmark":1}})"), "unknown field 'key' for op 'clear'");
  EXPECT_EQ(errorOf(b, R"({"op":"add_dest","key":{"fwmark":1}})"), "op 'add_dest' needs the field 'dest'");
  EXPECT_EQ(errorOf(b, R"({"op":"del_service","key":{"fwmark":"1"}})"),
            "key.fwmark: expected an integer 0..4294967295, got string \"1\"");
  EXPECT_EQ(errorOf(b, "{\"op\":").rfind("not valid JSON: ", 0), 0u);
  EXPECT_EQ(errorOf(b, "").rfind("not valid JSON: ", 0), 0u);
  EXPECT_EQ(errorOf(b, std::string(100, '[')), "request nests deeper than 32 levels");
  EXPECT_EQ(errorOf(b, std::string(kMaxRequestBytes + 1, ' ')),
            "request is 1048577 bytes, more than the limit of 1048576");
  EXPECT_EQ(errorOf(b, "{\"op\":\"clear\"} x").rfind("not valid JSON: ", 0), 0u);
  // Invalid UTF-8 is refused, and the answer is still valid JSON (answer() parses it).
  EXPECT_EQ(errorOf(b, "{\"op\":\"\xff\xfe\"}").rfind("not valid JSON: ", 0), 0u);
  EXPECT_EQ(b.calls, 0);
}

TEST(Protocol, ParseResponse) {
  EXPECT_TRUE(parseResponse(R"({"ok":true,"x":1})").ok());
  auto e = parseResponse(R"({"ok":false,"error":"Service not defined"})");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "Service not defined");
  EXPECT_FALSE(parseResponse(R"({"x":1})").ok());
  EXPECT_FALSE(parseResponse("garbage").ok());
}

}  // namespace
}  // namespace sluice::ctl

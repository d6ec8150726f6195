#include "cluster/sync_wire.h"

#include <gtest/gtest.h>

#include <functional>

#include "unit/cluster/entries.h"

namespace sluice::cluster {
namespace {

using namespace testing;

std::vector<uint8_t> plain(const Message& m) {
  auto b = encodePlain(m);
  EXPECT_TRUE(b.ok()) << b.error().message;
  return b.ok() ? *b : std::vector<uint8_t>{};
}

void expectRoundTrip(const Message& m) {
  auto bytes = plain(m);
  auto back = decodePlain(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, m);
  // And the bytes are canonical: encoding the decoded message gives them again.
  EXPECT_EQ(plain(*back), bytes);
}

TEST(SyncWire, ConnUpdateRoundTripsEveryKindOfEntry) {
  std::vector<SyncEntry> es = {drConn(), fullNatV6Controlled(), templateEntry(), udpFwmarkConn()};
  for (uint16_t p = 1; es.size() < kMaxUpdateEntries; ++p) es.push_back(drConn(p));
  Message m = update(es);
  expectRoundTrip(m);
  EXPECT_EQ(plain(m).size(), kHeaderSize + kMaxUpdateEntries * kEntryWireSize);
  EXPECT_LE(plain(m).size() + kTagSize, kMaxDatagram);
}

TEST(SyncWire, BulkRequestChunkAndHeartbeatRoundTrip) {
  Message req = heartbeat(0);
  req.type = MsgType::kBulkRequest;
  req.request_id = 0xdeadbeef;
  expectRoundTrip(req);

  Message chunk = update({});
  chunk.type = MsgType::kBulkChunk;
  chunk.request_id = 0xdeadbeef;
  chunk.chunk_index = 41;
  for (uint16_t p = 1; p <= kMaxChunkEntries; ++p) chunk.entries.push_back(drConn(p));
  expectRoundTrip(chunk);
  EXPECT_LE(plain(chunk).size() + kTagSize, kMaxDatagram);

  Message last = chunk;
  last.entries.clear();  // an empty table still ends its copy with a last chunk
  last.last_chunk = true;
  expectRoundTrip(last);

  expectRoundTrip(heartbeat(kHeartbeatReady));
  expectRoundTrip(heartbeat(0));
}

TEST(SyncWire, HeaderIsBigEndianAtTheDocumentedOffsets) {
  Message m = heartbeat();
  m.node_id = 0x01020304;
  m.epoch = 0x1112131415161718;
  m.seq = 0x2122232425262728;
  auto b = plain(m);
  ASSERT_EQ(b.size(), kHeaderSize + kControlPrefix);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 4), "SLSY");
  EXPECT_EQ(b[4], kSyncVersion);
  EXPECT_EQ(b[5], uint8_t(MsgType::kHeartbeat));
  EXPECT_EQ(b[8], 0x01);
  EXPECT_EQ(b[11], 0x04);
  EXPECT_EQ(b[12], 0x11);
  EXPECT_EQ(b[19], 0x18);
  EXPECT_EQ(b[20], 0x21);
  EXPECT_EQ(b[27], 0x28);
  EXPECT_EQ(b[29], 0);  // count
  EXPECT_EQ(b[31], kControlPrefix);
  EXPECT_EQ(b[35], kHeartbeatReady);
}

TEST(SyncWire, EpochsOfLaterStartsCompareGreater) {
  EXPECT_GT(makeEpoch(1000, 0), makeEpoch(999, 0xffffffff));
  EXPECT_NE(makeEpoch(1000, 1), makeEpoch(1000, 2));
}

// A valid entry with one field broken, and the error the validator must name.
struct EntryCase {
  const char* what;
  std::function<void(SyncEntry&)> edit;
  WireErrc want;
};

TEST(SyncWire, ValidatorNamesEachBrokenEntryField) {
  const EntryCase cases[] = {
      {"kind", [](SyncEntry& e) { e.kind = SL_KEY_REPLY; }, WireErrc::kBadKind},
      {"proto", [](SyncEntry& e) { e.proto = 1; }, WireErrc::kBadProto},
      {"family none", [](SyncEntry& e) { e.client.addr.family = net::Family::kNone; }, WireErrc::kBadFamily},
      {"mixed client family", [](SyncEntry& e) { e.vip = ep("2001:db8::1", 80); }, WireErrc::kBadFamily},
      {"dest family", [](SyncEntry& e) { e.dest.addr.family = net::Family::kNone; }, WireErrc::kBadFamily},
      {"method", [](SyncEntry& e) { e.fwd = 5; }, WireErrc::kBadMethod},
      {"zero client", [](SyncEntry& e) { e.client.addr = *net::IpAddr::parse("0.0.0.0"); }, WireErrc::kBadAddress},
      {"zero vip", [](SyncEntry& e) { e.vip.addr = *net::IpAddr::parse("0.0.0.0"); }, WireErrc::kBadAddress},
      {"zero dest", [](SyncEntry& e) { e.dest.addr = *net::IpAddr::parse("0.0.0.0"); }, WireErrc::kBadAddress},
      {"v4 tail", [](SyncEntry& e) { e.dest.addr.bytes[9] = 1; }, WireErrc::kBadAddress},
      {"tcp state", [](SyncEntry& e) { e.state = SL_STATE_UDP; }, WireErrc::kBadState},
      {"tcp state range", [](SyncEntry& e) { e.state = SL_STATE_COUNT; }, WireErrc::kBadState},
      {"udp state", [](SyncEntry& e) { e.proto = 17; }, WireErrc::kBadState},
      {"local flag", [](SyncEntry& e) { e.flags = SL_CONN_F_INACTIVE; }, WireErrc::kBadFlags},
      {"unknown flag", [](SyncEntry& e) { e.flags = 0x80; }, WireErrc::kBadFlags},
      {"template flag", [](SyncEntry& e) { e.flags = SL_CONN_F_TEMPLATE; }, WireErrc::kBadFlags},
      {"assured conn", [](SyncEntry& e) { e.flags = SL_CONN_F_ASSURED; }, WireErrc::kBadFlags},
      {"controlled unlinked", [](SyncEntry& e) { e.flags = SL_CONN_F_CONTROLLED; }, WireErrc::kBadFlags},
      {"timeout 0", [](SyncEntry& e) { e.timeout_s = 0; }, WireErrc::kBadTimeout},
      {"timeout max", [](SyncEntry& e) { e.timeout_s = kMaxSyncTimeoutS + 1; }, WireErrc::kBadTimeout},
      {"svc port", [](SyncEntry& e) { e.svc_port = 81; }, WireErrc::kBadService},
      {"fwmark port", [](SyncEntry& e) { e.svc_fwmark = 3; }, WireErrc::kBadService},
      {"tmpl unlinked", [](SyncEntry& e) { e.tmpl_vport = 80; }, WireErrc::kBadTemplate},
      {"tmpl family", [](SyncEntry& e) { e.has_template = true; e.tmpl_caddr = *net::IpAddr::parse("::"); }, WireErrc::kBadTemplate},
      {"tmpl vport", [](SyncEntry& e) { e.has_template = true; e.tmpl_caddr = *net::IpAddr::parse("198.51.100.0"); e.tmpl_vport = 81; }, WireErrc::kBadTemplate},
      {"local on DR", [](SyncEntry& e) { e.local = ep("10.0.0.1", 1); }, WireErrc::kBadLocal},
      {"local port on DR", [](SyncEntry& e) { e.local.port = 1; }, WireErrc::kBadLocal},
      {"FULLNAT without local", [](SyncEntry& e) { e.fwd = SL_FWD_FULLNAT; }, WireErrc::kBadLocal},
      {"FULLNAT port 0", [](SyncEntry& e) { e.fwd = SL_FWD_FULLNAT; e.local = ep("10.0.0.1", 0); }, WireErrc::kBadLocal},
  };
  ASSERT_TRUE(validateEntry(drConn()).ok());
  for (const auto& c : cases) {
    SyncEntry e = drConn();
    c.edit(e);
    auto s = validateEntry(e);
    ASSERT_FALSE(s.ok()) << c.what;
    EXPECT_EQ(s.error().code, c.want) << c.what << ": " << s.error().message;
    EXPECT_FALSE(s.error().message.empty());
    // The encoder refuses the same entry, so nothing invalid ever leaves a director.
    auto enc = encodePlain(update({e}));
    ASSERT_FALSE(enc.ok()) << c.what;
    EXPECT_EQ(enc.error().code, c.want) << c.what;
  }
}

TEST(SyncWire, TemplateRulesAreTheirOwn) {
  ASSERT_TRUE(validateEntry(templateEntry()).ok());
  SyncEntry t = templateEntry();
  t.client.port = 1;
  EXPECT_EQ(validateEntry(t).error().code, WireErrc::kBadTemplate);
  t = templateEntry();
  t.state = SL_TCP_ESTABLISHED;
  EXPECT_EQ(validateEntry(t).error().code, WireErrc::kBadState);
  t = templateEntry();
  t.flags = SL_CONN_F_ASSURED;  // no TEMPLATE bit
  EXPECT_EQ(validateEntry(t).error().code, WireErrc::kBadFlags);
  t = templateEntry();
  t.has_template = true;
  t.tmpl_caddr = *net::IpAddr::parse("198.51.100.0");
  EXPECT_EQ(validateEntry(t).error().code, WireErrc::kBadTemplate);
  t = templateEntry();
  t.client.addr = *net::IpAddr::parse("0.0.0.0");  // -M 0.0.0.0: every client one template
  EXPECT_TRUE(validateEntry(t).ok());
}

// Bytes of a one-entry update, with the entry at kHeaderSize.
std::vector<uint8_t> oneEntry(const SyncEntry& e = drConn()) { return plain(update({e})); }

TEST(SyncWire, DecoderNamesEachBrokenByte) {
  struct ByteCase {
    const char* what;
    size_t offset;
    uint8_t value;
    WireErrc want;
  };
  const size_t E = kHeaderSize;
  const ByteCase cases[] = {
      {"magic", 0, 'X', WireErrc::kBadMagic},
      {"version", 4, 2, WireErrc::kBadVersion},
      {"type 0", 5, 0, WireErrc::kBadType},
      {"type 5", 5, 5, WireErrc::kBadType},
      {"reserved", 6, 1, WireErrc::kReserved},
      {"count 2", 29, 2, WireErrc::kBadLength},
      {"count 13", 29, 13, WireErrc::kBadCount},
      {"count 0", 29, 0, WireErrc::kBadCount},
      {"length", 31, 111, WireErrc::kBadLength},
      {"kind", E + 0, 9, WireErrc::kBadKind},
      {"proto", E + 1, 132, WireErrc::kBadProto},
      {"family", E + 2, 5, WireErrc::kBadFamily},
      {"dest family", E + 3, 0, WireErrc::kBadFamily},
      {"method", E + 4, 200, WireErrc::kBadMethod},
      {"state", E + 5, 77, WireErrc::kBadState},
      {"flags", E + 6, SL_CONN_F_INACTIVE, WireErrc::kBadFlags},
      {"links", E + 7, 2, WireErrc::kReserved},
      {"entry reserved", E + 30, 1, WireErrc::kReserved},
      {"timeout", E + 16, 0xff, WireErrc::kBadTimeout},
      {"v4 client tail", E + 32 + 4, 1, WireErrc::kBadAddress},
      {"local on DR", E + 80, 10, WireErrc::kBadLocal},
      {"template without link", E + 96, 1, WireErrc::kBadTemplate},
  };
  ASSERT_TRUE(decodePlain(oneEntry()).ok());
  for (const auto& c : cases) {
    auto b = oneEntry();
    b[c.offset] = c.value;
    auto m = decodePlain(b);
    ASSERT_FALSE(m.ok()) << c.what;
    EXPECT_EQ(m.error().code, c.want) << c.what << ": " << m.error().message;
  }
}

TEST(SyncWire, TypeSpecificFieldsAreChecked) {
  Message chunk = update({});
  chunk.type = MsgType::kBulkChunk;
  auto b = plain(chunk);
  b[kHeaderSize + 8] = 2;  // unknown chunk flag
  EXPECT_EQ(decodePlain(b).error().code, WireErrc::kReserved);
  b = plain(chunk);
  b[kHeaderSize + 11] = 1;
  EXPECT_EQ(decodePlain(b).error().code, WireErrc::kReserved);

  b = plain(heartbeat());
  b[kHeaderSize + 3] = 2;  // unknown heartbeat flag
  EXPECT_EQ(decodePlain(b).error().code, WireErrc::kReserved);
  b = plain(heartbeat());
  b[kHeaderSize + 7] = 1;
  EXPECT_EQ(decodePlain(b).error().code, WireErrc::kReserved);

  // The encoder refuses fields of another type, so encode/decode stays a bijection.
  Message m = update({drConn()});
  m.request_id = 1;
  EXPECT_EQ(encodePlain(m).error().code, WireErrc::kReserved);
  m = heartbeat();
  m.last_chunk = true;
  EXPECT_EQ(encodePlain(m).error().code, WireErrc::kReserved);
  m = update(std::vector<SyncEntry>(kMaxUpdateEntries + 1, drConn()));
  EXPECT_EQ(encodePlain(m).error().code, WireErrc::kBadCount);
  m = update({});
  EXPECT_EQ(encodePlain(m).error().code, WireErrc::kBadCount);
}

TEST(SyncWire, TruncatedAtEveryOffsetIsRefusedAsTruncated) {
  std::vector<SyncEntry> es(kMaxUpdateEntries, fullNatV6Controlled());
  auto full = plain(update(es));
  for (size_t n = 0; n < full.size(); ++n) {
    auto m = decodePlain(std::span<const uint8_t>(full.data(), n));
    ASSERT_FALSE(m.ok()) << n;
    EXPECT_EQ(m.error().code, WireErrc::kTruncated) << n << ": " << m.error().message;
  }
}

TEST(SyncWire, OversizedAndTrailingBytesAreRefused) {
  auto b = oneEntry();
  b.push_back(0);
  EXPECT_EQ(decodePlain(b).error().code, WireErrc::kBadLength);
  std::vector<uint8_t> big(kHeaderSize + kMaxPayload + 1, 0);
  EXPECT_EQ(decodePlain(big).error().code, WireErrc::kOversized);
  // Sealed datagrams get the tag's room and not a byte more.
  EXPECT_EQ(decodeHeader(std::vector<uint8_t>(kMaxDatagram + 1, 0), kTagSize).error().code,
            WireErrc::kOversized);
}

net::MacAddr mac(uint8_t last) { return {0x02, 0x00, 0x5e, 0x10, 0x00, last}; }

TEST(SyncWire, HeartbeatCarriesTheSendersMacs) {
  Message m = heartbeat();
  m.macs = {mac(1), mac(2)};
  expectRoundTrip(m);
  auto b = plain(m);
  ASSERT_EQ(b.size(), kHeaderSize + kControlPrefix + 2 * kMacSize);
  EXPECT_EQ(b[29], 0);  // the header's count is entries, and a heartbeat has none
  EXPECT_EQ(b[31], kControlPrefix + 2 * kMacSize);
  EXPECT_EQ(b[kHeaderSize + 4], 2);  // MAC count
  EXPECT_EQ(b[kHeaderSize + 8], 0x02);
  EXPECT_EQ(b[kHeaderSize + 13], 1);
  EXPECT_EQ(b[kHeaderSize + 19], 2);

  m.macs.assign(kMaxHeartbeatMacs, mac(7));
  expectRoundTrip(m);
  EXPECT_LE(plain(m).size() + kTagSize, kMaxDatagram);
  m.macs.push_back(mac(8));
  EXPECT_EQ(encodePlain(m).error().code, WireErrc::kBadCount);
  Message u = update({drConn()});
  u.macs = {mac(1)};
  EXPECT_EQ(encodePlain(u).error().code, WireErrc::kReserved);
}

TEST(SyncWire, HeartbeatMacCountMustMatchItsLength) {
  Message m = heartbeat();
  m.macs = {mac(1), mac(2)};
  auto good = plain(m);

  auto b = good;
  b[kHeaderSize + 4] = 1;  // announces fewer MACs than the payload holds
  EXPECT_EQ(decodePlain(b).error().code, WireErrc::kBadLength);
  b[kHeaderSize + 4] = 3;  // more
  EXPECT_EQ(decodePlain(b).error().code, WireErrc::kBadLength);
  b[kHeaderSize + 4] = 200;  // past the bound
  EXPECT_EQ(decodePlain(b).error().code, WireErrc::kBadCount);
  b = good;
  b[kHeaderSize + 5] = 1;  // reserved
  EXPECT_EQ(decodePlain(b).error().code, WireErrc::kReserved);

  // A length that is not 8 + 6k, or more MACs than allowed, is refused from the header.
  b = good;
  b.push_back(0);
  b[31] += 1;
  EXPECT_EQ(decodePlain(b).error().code, WireErrc::kBadLength);
  m.macs.assign(kMaxHeartbeatMacs, mac(7));
  b = plain(m);
  b.insert(b.end(), kMacSize, 0);
  b[31] += kMacSize;
  b[kHeaderSize + 4] = kMaxHeartbeatMacs + 1;
  EXPECT_EQ(decodePlain(b).error().code, WireErrc::kBadLength);

  // Cut anywhere inside the MAC list: truncated.
  for (size_t n = kHeaderSize; n < good.size(); ++n)
    EXPECT_EQ(decodePlain(std::span<const uint8_t>(good.data(), n)).error().code, WireErrc::kTruncated) << n;
}

}  // namespace
}  // namespace sluice::cluster

// The keys that tie a NAT connection to its reply twin (conn/conn_table.h, "NAT reply
// twins"). IPVS finds a reply's connection by looking the reply's tuple up in the same
// table with the ends swapped (ip_vs_conn_out_get, hashing each connection by both its
// client and its real-server side). Here each side is its own entry, so a reply costs one
// hash on whatever interface and queue it arrives, in either data path: the twin names the
// real server (dest_id), whose forwarding record gives the service's address and port,
// and with those the connection's own key.
#pragma once

#include <cstring>

#include "abi/records.h"
#include "conn/conn_table.h"
#include "conn/tuple_key.h"
#include "dp/dest_table.h"
#include "net/packet.h"

namespace sluice::dp {

// The twin key of NAT connection `k` bound to real server `d`: the tuple its replies carry,
// CIP:cport <- RIP:rport (rport: the virtual port when the real server's is 0).
inline sl_conn_key twinKeyOf(const sl_conn_key& k, const sl_dest& d) noexcept {
  sl_conn_key t = k;
  std::memcpy(t.vaddr, d.addr, 16);
  if (d.port) t.vport = d.port;
  t.kind = SL_KEY_REPLY;
  t.pad = 0;
  return t;
}

// FULLNAT: the twin of connection `k` whose requests leave from `local` (LIP:lport, the
// connection's extension record) to real server `d`: the tuple its replies carry,
// LIP:lport <- RIP:rport. Its own extension record holds the client's end (fnatTwinExt).
inline sl_conn_key fnatTwinKeyOf(const sl_conn_key& k, const sl_conn_ext& local,
                                 const sl_dest& d) noexcept {
  sl_conn_key t = k;
  std::memcpy(t.caddr, local.addr, 16);
  t.cport = local.port;
  std::memcpy(t.vaddr, d.addr, 16);
  if (d.port) t.vport = d.port;
  t.kind = SL_KEY_REPLY;
  t.pad = 0;
  return t;
}
inline sl_conn_ext fnatTwinExt(const sl_conn_key& k) noexcept {
  sl_conn_ext e{};
  std::memcpy(e.addr, k.caddr, 16);
  e.port = k.cport;
  return e;
}

// The key of the connection twin `t` leads to, by its real server's record `d`: the
// service's address, and its port (a port-0 service: the reply's source port, which the
// model makes the real server's port too).
inline sl_conn_key connKeyOfTwin(const sl_conn_key& t, const sl_dest& d) noexcept {
  sl_conn_key k = t;
  std::memcpy(k.vaddr, d.vaddr, 16);
  if (d.vport) k.vport = d.vport;
  k.kind = SL_KEY_CONN;
  return k;
}
// The same for any twin: a FULLNAT twin's client end is in its extension record `e`.
inline sl_conn_key connKeyOfTwin(const sl_conn& t, const sl_conn_ext& e,
                                 const sl_dest& d) noexcept {
  sl_conn_key k = connKeyOfTwin(t.key, d);
  if (t.fwd == SL_FWD_FULLNAT) {
    std::memcpy(k.caddr, e.addr, 16);
    k.cport = e.port;
  }
  return k;
}

// The twin key a packet gives if it is a reply: its own tuple with the ends swapped.
inline sl_conn_key replyKeyOf(const net::Parsed& p) noexcept {
  return conn::tupleKey(p.family, p.proto, p.daddr, p.dport, p.saddr, p.sport, SL_KEY_REPLY);
}

// The table's way to name a twin from its connection and back, through the dest records.
class NatReplyKeys final : public conn::ReplyKeys {
 public:
  explicit NatReplyKeys(const DestTable& dests) : dests_(dests) {}
  bool twinKeyOf(const sl_conn& c, const sl_conn_ext& e,
                 sl_conn_key* out) const noexcept override {
    const std::optional<sl_dest> d = dests_.read(c.dest_id);
    if (!d) return false;
    *out = c.fwd == SL_FWD_FULLNAT ? fnatTwinKeyOf(c.key, e, *d) : dp::twinKeyOf(c.key, *d);
    return true;
  }
  bool connKeyOf(const sl_conn& t, const sl_conn_ext& e,
                 sl_conn_key* out) const noexcept override {
    const std::optional<sl_dest> d = dests_.read(t.dest_id);
    if (!d) return false;
    *out = connKeyOfTwin(t, e, *d);
    return true;
  }

 private:
  const DestTable& dests_;
};

}  // namespace sluice::dp

// Connection lifecycle on top of ConnTable: create an entry bound to a service and real
// server, advance it on every packet, and the persistence templates that pin a client to
// a real server. Mirrors ip_vs_conn_new / ip_vs_bind_dest, set_tcp_state and
// ip_vs_sched_persist; the counting itself is DestAccounting's, reached through the table.
//
// Usage on the slow path (as ip_vs_in):
//   c = lookup(key) ?: createConn(...)   // miss + schedulable: create (counts inactive)
//   updateConn(c, dir, tcp_flags, ...)   // every packet, the creating one included
#pragma once

#include <cstdint>

#include "common/clock.h"
#include "conn/conn_table.h"
#include "conn/tcp_state.h"
#include "abi/records.h"

namespace sluice::conn {

// What a new connection (or template) is bound to, once, at creation.
struct Binding {
  uint32_t svc_id = 0;
  uint32_t dest_id = 0;
  uint8_t fwd = SL_FWD_DR;  // SL_FWD_*
};

// DR, TUN and local delivery never see the real server's replies (IPVS sets
// IP_VS_CONN_F_NOOUTPUT for every method but MASQ), so their input packets use the
// INPUT_ONLY transitions.
constexpr bool seesOnlyInput(uint8_t fwd) noexcept {
  return fwd != SL_FWD_NAT && fwd != SL_FWD_FULLNAT;
}

// The state a new entry starts in: TCP (and anything unknown) NONE, UDP "UDP",
// ICMP/ICMPv6 "ICMP".
uint8_t initialState(uint8_t proto) noexcept;

// Inserts `key` (kind SL_KEY_CONN) and binds it: state initialState(), its timeout,
// SL_CONN_F_INACTIVE set and counted as inactive, overload checked. With `tmpl`, the new
// connection is controlled by that template (whose last_seen is refreshed). Returns
// nullptr when the table is full: the caller counts kConnTableFull and drops.
// `ext`: the entry's extension record (FULLNAT: its local end), written before the entry
// is unlocked; nullptr: zero.
sl_conn* createConn(ConnTable& table, const sl_conn_key& key, const Binding& b,
                    const TimeoutTable& timeouts, Nanos now, sl_conn* tmpl = nullptr,
                    const sl_conn_ext* ext = nullptr) noexcept;

// One packet of `c` travelling in `dir` (kInput or kOutput; kInput on a DR/TUN connection
// becomes kInputOnly). TCP: next state from the flags (as set_tcp_state), moving the
// connection between active and inactive when that changes. Every protocol: timeout
// from the (new) state, last_seen = now. Templates are left alone.
// Returns true when `c`, controlled by a template not yet assured, has just become
// ESTABLISHED: the caller then calls assureTemplate() once it has let go of c's entry lock
// (templates are reached under the table's writer lock, which is taken before entry locks).
bool updateConn(ConnTable& table, sl_conn& c, Direction dir, uint8_t tcp_flags,
                const TimeoutTable& timeouts, Nanos now) noexcept;
// ip_vs_control_assure_ct: the template controlling the connection of `key` is assured
// (SL_CONN_F_ASSURED; -Lnc shows ASSURED). Takes the writer lock.
void assureTemplate(ConnTable& table, const sl_conn_key& key, Nanos now) noexcept;

// --- NAT reply twins (see ConnTable "NAT reply twins") ---

// Inserts, or takes over, the reply twin `twin_key` (kind SL_KEY_REPLY) of a NAT connection
// bound to `b`: no state, never counted, no timeout of its own. Call it with the writer
// lock held, before the connection itself is inserted (an insert may move entries), so a
// reply never finds a connection without its twin. nullptr when the table is full.
// A FULLNAT twin's `ext` holds the client's end (the twin's key no longer does).
sl_conn* createTwin(ConnTable& table, const sl_conn_key& twin_key, const Binding& b,
                    Nanos now, const sl_conn_ext* ext = nullptr) noexcept;

// --- persistence templates ---

// The template key for a connection key: client address masked to `prefix_len` bits,
// client port 0, kind SL_KEY_TEMPLATE; the virtual port becomes 0 when `any_port` (a
// port-0 service: one template covers every port of the VIP).
sl_conn_key templateKey(const sl_conn_key& conn_key, unsigned prefix_len, bool any_port) noexcept;

// The live template for `tkey`, or nullptr.
inline sl_conn* findTemplate(ConnTable& table, const sl_conn_key& tkey, Nanos now) noexcept {
  return table.lookup(tkey, now);
}

// Inserts and binds a template (counted in PersistConn): state NONE, timeout = the
// service's persistence timeout. nullptr when the table is full.
sl_conn* createTemplate(ConnTable& table, const sl_conn_key& tkey, const Binding& b,
                        uint32_t timeout_s, Nanos now) noexcept;

// The template's real server became unusable (ip_vs_check_template): make it unreachable
// by lookups, as IPVS does by rehashing it with port 65535, while it lives on until the
// connections it controls are gone. A new template can then be created for the same key.
void invalidateTemplate(sl_conn& tmpl) noexcept;

}  // namespace sluice::conn

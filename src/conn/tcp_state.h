// IPVS connection states: the TCP transition table, the per-state timeouts and the names
// ipvsadm -Lnc prints.
//
// The tables follow net/netfilter/ipvs/ip_vs_proto_tcp.c (tcp_states, not the secure_tcp
// "dos" variant). A DR/TUN director only ever sees client->server packets, so such
// connections use the INPUT_ONLY rows (IPVS: IP_VS_CONN_F_NOOUTPUT); NAT/FULLNAT use INPUT
// and OUTPUT. Everything here is a pure function of small integers so the XDP program can
// carry the same tables as constant arrays.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "abi/records.h"

namespace sluice::conn {

// Which way a packet travels relative to the connection, as IPVS's IP_VS_DIR_*.
enum class Direction : uint8_t {
  kInput = 0,      // client -> virtual service
  kOutput = 1,     // real server -> client (NAT/FULLNAT replies)
  kInputOnly = 2,  // client -> service on a connection whose replies bypass us (DR/TUN)
};

// TCP flag bits as they sit in byte 13 of the TCP header.
constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kTcpRst = 0x04;
constexpr uint8_t kTcpAck = 0x10;

// IPVS's tcp_state_idx(): RST wins over SYN over FIN over ACK; -1 when none is set.
int tcpEventIndex(uint8_t tcp_flags) noexcept;

// The state a TCP connection in `state` moves to on a packet with `tcp_flags` travelling
// in `dir`. As IPVS, a packet with none of RST/SYN/FIN/ACK moves it to CLOSE. States
// outside the TCP range (UDP, ICMP, garbage) are returned unchanged.
uint8_t nextTcpState(uint8_t state, Direction dir, uint8_t tcp_flags) noexcept;

// Whether a connection in `state` counts in its real server's ActiveConn. Since Linux 4.8
// ("ipvs: count pre-established TCP states as active") IPVS counts SYN_SENT, SYN_RECV and
// SYNACK as well as ESTABLISHED; everything else (and every UDP/ICMP entry) is inactive.
bool isActiveState(uint8_t state) noexcept;

// "ESTABLISHED", "SYN_RECV", ..., "UDP", "ICMP"; "ERR!" for an unknown value.
std::string_view stateName(uint8_t state) noexcept;

// Per-state timeouts in seconds. Default values are IPVS's; ipvsadm --set changes three.
class TimeoutTable {
 public:
  constexpr TimeoutTable() = default;

  uint32_t seconds(uint8_t state) const noexcept {
    return state < SL_STATE_COUNT ? s_[state] : s_[SL_TCP_CLOSE];
  }
  void setSeconds(uint8_t state, uint32_t seconds) noexcept {
    if (state < SL_STATE_COUNT) s_[state] = seconds;
  }

  // ipvsadm --set tcp tcpfin udp: ESTABLISHED, FIN_WAIT and UDP; 0 leaves one unchanged.
  void applySet(uint32_t tcp, uint32_t tcpfin, uint32_t udp) noexcept {
    if (tcp) s_[SL_TCP_ESTABLISHED] = tcp;
    if (tcpfin) s_[SL_TCP_FIN_WAIT] = tcpfin;
    if (udp) s_[SL_STATE_UDP] = udp;
  }
  // What ipvsadm -L --timeout prints.
  uint32_t tcp() const noexcept { return s_[SL_TCP_ESTABLISHED]; }
  uint32_t tcpFin() const noexcept { return s_[SL_TCP_FIN_WAIT]; }
  uint32_t udp() const noexcept { return s_[SL_STATE_UDP]; }

  friend bool operator==(const TimeoutTable&, const TimeoutTable&) = default;

 private:
  // Indexed by SL_TCP_* / SL_STATE_*.
  std::array<uint32_t, SL_STATE_COUNT> s_ = {
      2,    // NONE
      900,  // ESTABLISHED
      120,  // SYN_SENT
      60,   // SYN_RECV
      120,  // FIN_WAIT
      120,  // TIME_WAIT
      10,   // CLOSE
      60,   // CLOSE_WAIT
      30,   // LAST_ACK
      120,  // LISTEN
      120,  // SYNACK
      300,  // UDP
      60,   // ICMP
  };
};

}  // namespace sluice::conn

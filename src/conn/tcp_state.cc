// The IPVS TCP transition tables (ip_vs_proto_tcp.c, tcp_states[]), rows per event and
// direction, columns per current state. Kept as data so the BPF side can copy the array.
#include "conn/tcp_state.h"

namespace sluice::conn {
namespace {

constexpr uint8_t kNumTcpStates = SL_TCP_SYNACK + 1;  // NONE..SYNACK

// Short names keep the table readable as a table.
constexpr uint8_t NO = SL_TCP_NONE, ES = SL_TCP_ESTABLISHED, SS = SL_TCP_SYN_SENT,
                  SR = SL_TCP_SYN_RECV, FW = SL_TCP_FIN_WAIT, TW = SL_TCP_TIME_WAIT,
                  CL = SL_TCP_CLOSE, CW = SL_TCP_CLOSE_WAIT, LA = SL_TCP_LAST_ACK,
                  LI = SL_TCP_LISTEN, SA = SL_TCP_SYNACK;

using Row = std::array<uint8_t, kNumTcpStates>;

// [direction][event][state]; events in tcpEventIndex() order: syn, fin, ack, rst.
constexpr std::array<std::array<Row, 4>, 3> kNext = {{
    // INPUT
    {{
        //  NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA
        {{SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR}},  // syn
        {{CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW}},  // fin
        {{ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES}},  // ack
        {{CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR}},  // rst
    }},
    // OUTPUT
    {{
        {{SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR}},  // syn
        {{TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW}},  // fin
        {{ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES}},  // ack
        {{CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL}},  // rst
    }},
    // INPUT_ONLY
    {{
        {{SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR}},  // syn
        {{CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW}},  // fin
        {{ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES}},  // ack
        {{CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL}},  // rst
    }},
}};

constexpr std::array<std::string_view, SL_STATE_COUNT> kNames = {
    "NONE",     "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT", "CLOSE",
    "CLOSE_WAIT", "LAST_ACK",  "LISTEN",   "SYNACK",   "UDP",      "ICMP",
};

}  // namespace

int tcpEventIndex(uint8_t f) noexcept {
  if (f & kTcpRst) return 3;
  if (f & kTcpSyn) return 0;
  if (f & kTcpFin) return 1;
  if (f & kTcpAck) return 2;
  return -1;
}

uint8_t nextTcpState(uint8_t state, Direction dir, uint8_t tcp_flags) noexcept {
  if (state >= kNumTcpStates || uint8_t(dir) > uint8_t(Direction::kInputOnly)) return state;
  int ev = tcpEventIndex(tcp_flags);
  if (ev < 0) return SL_TCP_CLOSE;
  return kNext[uint8_t(dir)][ev][state];
}

bool isActiveState(uint8_t state) noexcept {
  return state == SL_TCP_ESTABLISHED || state == SL_TCP_SYN_SENT || state == SL_TCP_SYN_RECV ||
         state == SL_TCP_SYNACK;
}

std::string_view stateName(uint8_t state) noexcept {
  return state < kNames.size() ? kNames[state] : std::string_view("ERR!");
}

}  // namespace sluice::conn

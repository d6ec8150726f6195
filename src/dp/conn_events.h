// Who hears about the connections the slow path creates, ends and reopens: session sync (src/cluster) sends
// them to the peer directors, so a survivor of a director's death already holds the flows
// that the consistent hash alone would not send to the same real server.
#pragma once

#include "abi/records.h"

namespace sluice::dp {

class ConnEventSink {
 public:
  virtual ~ConnEventSink() = default;
  // Called on a worker thread once a new connection (and, for a persistent service, the
  // template that controls it, or nullptr) is in the table, with copies taken while the
  // entries were locked: the table may move them afterwards. Must not block or allocate
  // without bound: it is on the packet path (a full queue drops and counts).
  // `ext`: the connection's extension record (FULLNAT: its local end), copied with it.
  virtual void connCreated(const sl_conn& conn, const sl_conn* tmpl,
                           const sl_conn_ext& ext) noexcept = 0;
  // A TCP connection has just stepped into a closing state (FIN_WAIT, TIME_WAIT, CLOSE...),
  // or out of one back into a handshake (a SYN on a port whose entry was FIN_WAIT, which
  // IPVS lets follow the old entry): the copy as that packet left it. A peer that kept its
  // copy ESTABLISHED would send the next connection on the same ports to this one's real
  // server, and one that never heard of the reopened connection would schedule it afresh.
  // In cluster mode the fast path leaves these steps to the slow path.
  virtual void connStateChanged(const sl_conn& conn, const sl_conn_ext& ext) noexcept {
    (void)conn;
    (void)ext;
  }
};

}  // namespace sluice::dp

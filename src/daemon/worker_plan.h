// How many slow-path workers sluiced runs and which AF_XDP sockets (interface, rx queue)
// each one serves. A pure function of the interfaces' queue counts and interrupt cores,
// so the rule is unit-tested without NICs.
//
// The rule. Every rx queue of every data-plane interface gets a socket, since the NIC's
// RSS puts a flow's packets on any of them. Worker w serves queue q of each interface when
// q % workers == w. Every worker must serve a queue on every interface, because a frame
// leaves through one of the worker's own sockets on the egress interface (a queue binds to
// one UMEM, and each worker has its own): so there are never more workers than the
// smallest interface has queues. Default count: one per core that the interfaces' queue
// interrupts are affined to; for devices without interrupts (veth), min(total queues,
// online CPUs); then the cap above.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "io/afxdp.h"

namespace sluice::daemon {

struct InterfaceQueues {
  std::string name;
  uint32_t ifindex = 0;
  uint32_t queues = 1;              // rx queues (io::rxQueueCount)
  std::vector<unsigned> irq_cpus;   // io::irqCpus; empty: no interrupts of its own
};

struct WorkerPlan {
  std::vector<std::vector<io::XskPort>> ports;  // per worker: its sockets
  // "eth0 queues 0,2; eth1 queues 0,2" per worker, for the start-up log.
  std::vector<std::string> describe(std::span<const InterfaceQueues> ifs) const;
};

// Refuses an interface with more rx queues than the XDP program has socket slots for
// (SL_STEER_QUEUES_PER_IFACE): its extra queues' new flows could not reach a worker.
Status checkQueueSlots(std::span<const InterfaceQueues> ifs);

// The default worker count (see the rule above); at least 1.
unsigned defaultWorkers(std::span<const InterfaceQueues> ifs, unsigned online_cpus);

// Splits the queues between `workers` workers (0: the default). Refuses more workers than
// the smallest interface has queues, naming the interface and the fix.
Result<WorkerPlan> planWorkers(std::span<const InterfaceQueues> ifs, unsigned workers,
                               unsigned online_cpus);

}  // namespace sluice::daemon

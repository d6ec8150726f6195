// Layouts shared by the benchmark's BPF programs (bench/bpf/*.bpf.c) and the user-space tool
// that loads them (bench/tool). Each program keeps its settings in one global struct, the
// only variable of its .bss section, which the tool writes after loading (map key 0); one
// struct per program keeps the section layout obvious on both sides.
#pragma once

#include <linux/types.h>

#define BENCH_FRAME_LEN 60  // a 64-byte Ethernet frame less its FCS

enum bench_gen_mode {
  BENCH_GEN_RANDOM = 0,  // random source port, fixed source address
  BENCH_GEN_CYCLE = 1,   // source ports port_base .. port_base + nflows - 1, in turn
  BENCH_GEN_UNIQUE = 2,  // (source address, source port) from a counter: no flow repeats
};

#define BENCH_UNIQUE_PORTS 64512u  // source ports 1024..65535 per source address

struct bench_gen_state {
  __u8 frame[64];       // template: Ethernet + IPv4 + UDP, first BENCH_FRAME_LEN bytes used
  __u32 mode;           // enum bench_gen_mode
  __u32 nflows;         // BENCH_GEN_CYCLE: how many flows
  __u32 saddr_base;     // host order; BENCH_GEN_UNIQUE adds the flow's address index
  __u16 port_base;      // BENCH_GEN_CYCLE: first source port
  __u16 pad;
  __u64 ctr;            // packets written so far (the generator runs on one CPU)
};

// Sink counters: per-CPU array. Valid frames (our MAC, IPv4, UDP) count under the last
// byte of their destination address; the rest under the two keys after that.
#define BENCH_SINK_OTHER 256    // IPv4 UDP to us, but not something we can classify
#define BENCH_SINK_WRONG 257    // not IPv4 UDP, or not addressed to the sink's MAC
#define BENCH_SINK_KEYS 258

struct bench_sink_state {
  __u8 mac[6];
  __u16 pad;
};

struct bench_fwd_state {   // engine (a): the minimal XDP forwarder
  __u8 dmac[6];
  __u8 smac[6];
};

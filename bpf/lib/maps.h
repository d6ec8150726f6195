/* The maps the XDP program shares with the daemon (sized by the loader, the big ones
 * mmap'ed by it), and the named counters, counted per CPU as the C++ path counts them. */
#ifndef SLUICE_BPF_MAPS_H
#define SLUICE_BPF_MAPS_H

enum sl_counter {
#define SL_X(e, n, d) SLC_##e,
  SLUICE_COUNTERS(SL_X)
#undef SL_X
  SLC_COUNT
};

/* ---------------------------------------------------------------- maps */

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SL_STEER_MAX_SERVICES);
  __type(key, struct sl_steer_key);
  __type(value, struct sl_steer_val);
} services SEC(".maps");

/* Addresses that carry at least one service (key: port 0, proto 0): fragments to them are
 * the daemon's business. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SL_STEER_MAX_SERVICES);
  __type(key, struct sl_steer_key);
  __type(value, struct sl_steer_val);
} vips SEC(".maps");

/* The other directors of a cluster (key: sl_mac_key(), the MAC padded to 8 bytes): a frame
 * from one of them to a VIP was balanced to this host by that peer. Looked up only while
 * dp_config.peer_macs says the map is not empty. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SL_MAX_PEER_MACS);
  __type(key, __u64);
  __type(value, __u8);
} peer_macs SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SL_STEER_MAX_IFACES);
  __type(key, __u32);
  __type(value, __u32);
} xsk_base SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, SL_STEER_XSK_SLOTS);
  __type(key, __u32);
  __type(value, __u32);
} xsks SEC(".maps");

/* Egress interfaces for redirects (ifindex -> ifindex): a devmap lets the kernel bulk
 * the transmissions, which a plain bpf_redirect() does not. */
struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
  __uint(max_entries, SL_STEER_MAX_IFACES);
  __type(key, __u32);
  __type(value, __u32);
} tx_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SL_STEER_NUM_STATS);
  __type(key, __u32);
  __type(value, __u64);
} steer_stats SEC(".maps");

/* The shared tables: sized by the loader before load, mmap'ed by the daemon. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct sl_conn_bucket);
} conns SEC(".maps");

/* One extension record per entry of `conns`, same bucket, same slot (abi/records.h). */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct sl_conn_ext_bucket);
} conn_ext SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sl_dest);
} dests SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sl_dest_counts);
} dest_counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sl_stats);
} dest_stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sl_dp_config);
} dp_config SEC(".maps");

/* All named counters of one CPU in one value: one lookup per packet, then plain adds. */
struct sl_counter_block {
  __u64 v[SLC_COUNT];
};
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sl_counter_block);
} dp_counters SEC(".maps");

/* A key built per packet off the stack (lib/nat_reply.h): the main program's frame and a
 * global function's must fit 512 bytes together. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sl_conn_key);
} scratch_key SEC(".maps");

/* Kernel verdicts, counted as the C++ path counts them. */
static __always_inline void bump2(__u32 a, __u32 b) {
  __u32 zero = 0;
  struct sl_counter_block* c = bpf_map_lookup_elem(&dp_counters, &zero);
  if (c && a < SLC_COUNT && b < SLC_COUNT) {
    c->v[a] += 1;
    c->v[b] += 1;
  }
}

static __always_inline int steer_count(__u32 idx, int action) {
  __u64* c = bpf_map_lookup_elem(&steer_stats, &idx);
  if (c) *c += 1;
  return action;
}

/* Kernel verdicts, counted as the C++ path counts them. */
static __always_inline int pass(void) {
  bump2(SLC_kRxPackets, SLC_kPassPackets);
  return XDP_PASS;
}
static __always_inline int drop(__u32 reason) {
  bump2(SLC_kRxPackets, reason);
  return XDP_DROP;
}

static __always_inline void bump1(__u32 a) {
  __u32 zero = 0;
  struct sl_counter_block* c = bpf_map_lookup_elem(&dp_counters, &zero);
  if (c && a < SLC_COUNT) c->v[a] += 1;
}

#endif /* SLUICE_BPF_MAPS_H */

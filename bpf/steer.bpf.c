/* Sluice's XDP program: the fast path for established connections, and the steering that
 * sends everything needing policy to the daemon's AF_XDP sockets (the slow path).
 *
 * For every frame it does what dp::Datapath::process does, in the same order, and must
 * reach the same verdict with the same counters (tests/golden run both on one table):
 *   - parse with the same bounds checks; not IP -> kernel; malformed -> drop with the same
 *     named counter (the kernel would drop it too);
 *   - TCP/UDP whose connection is in the shared table, DR, TUN or NAT, resolved dest,
 *     unlocked, unexpired: update state/timeout/last_seen/counts/stats, rewrite the MACs
 *     (TUN: and encapsulate, unless lib/xmit_tun.h leaves the packet to the slow path; NAT:
 *     and rewrite the destination), transmit;
 *   - a NAT connection's reply (its reply twin in the table, lib/nat_reply.h): the source
 *     back to VIP:vport, state by the OUTPUT table, out by the kernel's route to the client
 *     (bpf_fib_lookup), or to the slow path when the program cannot send it itself;
 *     the same with a dest on this host (SL_DEST_F_LOCAL, IPVS's LOCALNODE): update, then
 *     kernel, untouched;
 *   - anything else that may be ours (new flow, expired entry, SYN on a closing one, an
 *     entry user space holds, an unresolved dest, a method not done here) -> slow path;
 *   - an ICMP/ICMPv6 error to a VIP whose quote names a connection -> slow path, which
 *     forwards it to that connection's real server (path MTU discovery needs it there); a
 *     malformed quote -> drop with the same named counter as net/icmp_quote.cc;
 *   - a TCP/UDP frame to a VIP from a peer director's MAC (`peer_macs`, cluster mode) ->
 *     kernel, before any lookup: that peer balanced it to this host as a real server;
 *   - a TCP segment of a service with no connection: a SYN (or, with adopt_midflow, any
 *     segment but a RST) -> slow path, which creates the connection; else -> kernel;
 *   - the rest (no connection, no service; other ICMP, errors about no connection;
 *     fragments not for a VIP) -> kernel.
 * A frame sent to the slow path is counted there, not here, so the two paths' counters add
 * up to what the C++ path alone would count.
 *
 * The trade-off: the program holds no policy (no scheduling, no table inserts), so it
 * stays small enough to verify, and a packet it cannot finish costs one AF_XDP round trip.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "abi/conn_hash.h"
#include "abi/counters_list.h"
#include "abi/fastpath.h"
#include "abi/predicates.h"
#include "abi/steer.h"
#include "lib/conn.h"
#include "lib/dest.h"
#include "lib/csum.h"
#include "lib/icmp.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/steer.h"
#include "lib/xmit_dr.h"
#include "lib/xmit_tun.h"
#include "lib/xmit_nat.h"
#include "lib/xmit_fnat.h"
#include "lib/nat_reply.h"

char LICENSE[] SEC("license") = "GPL";

/* Whether the frame's source MAC is a peer director's (the `peer_macs` map). */
static __always_inline int from_peer(void* data, void* end) {
  if (data + 12 > end) return 0;
  __u64 k = sl_mac_key((const __u8*)data + 6);
  return bpf_map_lookup_elem(&peer_macs, &k) != 0;
}

/* ---------------------------------------------------------------- the program */

SEC("xdp")
int sluice_steer(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  struct pkt p = {};
  __u32 reason = 0;

  int r = parse(data, end, &p, &reason);
  if (r == PARSE_NOT_IP) {
    steer_count(SL_STEER_PASS_NOT_IP, 0);
    return pass();
  }
  if (r == PARSE_DROP) {
    steer_count(SL_STEER_PASS_MALFORMED, 0);
    return drop(reason);
  }
  if (p.key.proto != IPPROTO_TCP && p.key.proto != IPPROTO_UDP) {
    if (p.icmp && !p.fragment && icmp_error_type(&p)) {
      struct sl_steer_key vk = {};
      __builtin_memcpy(vk.addr, p.key.vaddr, 16);
      vk.family = p.key.family;
      if (bpf_map_lookup_elem(&vips, &vk)) return icmp_error(ctx, data, end, &p);
      __u32 zero = 0;
      struct sl_dp_config* cfg = bpf_map_lookup_elem(&dp_config, &zero);
      if (cfg && cfg->nat_replies) return icmp_error_nat(ctx, data, end, &p, cfg);
    }
    steer_count(SL_STEER_PASS_NO_MATCH, 0);
    return pass();
  }

  __u32 zero = 0;
  struct sl_dp_config* cfg = bpf_map_lookup_elem(&dp_config, &zero);
  if (!cfg) return XDP_PASS;

  /* A peer director balanced this frame to us (we are its real server): the local
   * stack's, before any lookup, so it is never balanced again (a DR loop). */
  if (cfg->peer_macs && from_peer(data, end)) {
    struct sl_steer_key vk = {};
    __builtin_memcpy(vk.addr, p.key.vaddr, 16);
    vk.family = p.key.family;
    if (bpf_map_lookup_elem(&vips, &vk)) {
      bump1(SLC_kPeerBalanced);
      steer_count(SL_STEER_PASS_NO_MATCH, 0);
      return pass();
    }
  }

  if (p.fragment) {
    struct sl_steer_key vk = {};
    __builtin_memcpy(vk.addr, p.key.vaddr, 16);
    vk.family = p.key.family;
    if (!bpf_map_lookup_elem(&vips, &vk)) {
      steer_count(SL_STEER_PASS_FRAGMENT, 0);
      return pass();
    }
    return drop(p.key.family == SL_AF_V4 ? SLC_kIpv4Fragment : SLC_kIpv6Fragment);
  }

  /* Until the daemon has set the table up, every frame of a service is the slow path's. */
  if (!cfg->enabled) {
    if (!is_service(&p)) {
      steer_count(SL_STEER_PASS_NO_MATCH, 0);
      return pass();
    }
    return to_slow_path(ctx);
  }

  p.key.kind = SL_KEY_CONN;
  const struct sl_conn_key* key = &p.key;
  struct sl_conn* c = 0;
  __u64 hash = 0;
  if (cfg->conn_buckets) {
    __u32 b1, b2;
    hash = sl_conn_hash(key, cfg->conn_seed);
    sl_conn_buckets(hash, cfg->conn_buckets, &b1, &b2);
    c = find_in(b1, key);
    if (!c && b2 != b1) c = find_in(b2, key);
  }

  /* No connection: with NAT real servers about, it may be a NAT connection's reply. */
  if (!c && cfg->nat_replies && cfg->conn_buckets) {
    int v = nat_reply(ctx, &p, cfg);
    if (v != NAT_NOT_REPLY) return v;
    /* Untouched, but the verifier forgets packet pointers across a call that may write. */
    data = (void*)(long)ctx->data;
    end = (void*)(long)ctx->data_end;
  }

  if (!c) {
    /* No connection: a new flow of a service is the slow path's; anything else is not ours.
     * A TCP segment that cannot open a connection (no SYN, or RST) goes to the kernel,
     * which resets it: IPVS leaves it to the stack too (tcp_conn_schedule). In cluster mode
     * (adopt_midflow) any segment but a RST is the slow path's, which adopts the flow. */
    if (!is_service(&p)) {
      steer_count(SL_STEER_PASS_NO_MATCH, 0);
      return pass();
    }
    if (p.key.proto == IPPROTO_TCP && !sl_may_schedule(p.tcp_flags, cfg->adopt_midflow)) {
      bump1(SLC_kNoConnNotSyn);
      steer_count(SL_STEER_PASS_NO_MATCH, 0);
      return pass();
    }
    return to_slow_path(ctx);
  }

  /* An existing connection: finish it here if nothing needs the daemon. */
  __u32 w = *(volatile __u32*)&c->word;
  __u8 state = w & 0xff, fwd = (w >> 8) & 0xff, flags = (w >> 16) & 0xff, lock = w >> 24;
  /* FULLNAT: the same steps in a function of its own (lib/xmit_fnat.h), which the verifier
   * checks apart from this one. */
  if (fwd == SL_FWD_FULLNAT && !lock) return fnat_forward(ctx, &p, cfg, w);
  if (lock || !cfg->forward || (fwd != SL_FWD_DR && fwd != SL_FWD_TUN && fwd != SL_FWD_NAT) ||
      (flags & (SL_CONN_F_TEMPLATE | SL_CONN_F_ONE_PACKET)))
    return to_slow_path(ctx);
  /* The coarse clock (CLOCK_MONOTONIC_COARSE) costs a load instead of a clock read; it
   * trails the daemon's CLOCK_MONOTONIC by at most a tick, nothing against timeouts of
   * seconds, and the expiry test below tolerates a last_seen slightly in its future. */
  __u64 now = bpf_ktime_get_coarse_ns();
  __u64 last = c->last_seen_ns;
  if (now > last && now - last > (__u64)c->timeout_s * 1000000000ull) return to_slow_path(ctx);
  if (p.key.proto == IPPROTO_TCP && sl_syn_may_reuse(p.tcp_flags, state)) return to_slow_path(ctx);
  if (cfg->csum_check && partial_checksum(data, end, &p)) return to_slow_path(ctx);

  __u32 dest_id = c->dest_id;
  struct dest_view d;
  if (!read_dest(cfg, dest_id, &d)) return to_slow_path(ctx);
  /* A deleted real server (not available) is the slow path's to refuse; the method is the
   * connection's, bound at its creation, whatever the real server's is now. */
  if (!(d.flags & SL_DEST_F_LIVE) || !(d.flags & SL_DEST_F_AVAILABLE) ||
      !(d.flags & (SL_DEST_F_RESOLVED | SL_DEST_F_LOCAL)))
    return to_slow_path(ctx);
  /* A tunnelled packet the fast path cannot finish goes before the entry is touched, so
   * the slow path sees it exactly as if it had come straight there. */
  if (fwd == SL_FWD_TUN && !(d.flags & SL_DEST_F_LOCAL) && !tun_fast_ok(&p, &d))
    return to_slow_path(ctx);

  /* State and activity, as conn::updateConn does: DR and TUN see only the input
   * direction, NAT both (its replies take nat_reply()). */
  if (!conn_step(cfg, c, w, fwd == SL_FWD_NAT ? CONN_INPUT : CONN_INPUT_ONLY, p.key.proto,
                 p.tcp_flags, dest_id, now, last))
    return to_slow_path(ctx);

  dest_stats_add(cfg, dest_id, p.ip_len, 0);

  /* A real server on this host (IPVS's LOCALNODE): the local stack's, whatever the method;
   * transmitted to our own MAC it would never come back. */
  if (d.flags & SL_DEST_F_LOCAL) {
    bump2(SLC_kRxPackets, SLC_kLocalDelivered);
    return XDP_PASS;
  }
  /* By the connection's method, bound when it was created (DR, TUN and NAT get this far). */
  if (fwd == SL_FWD_TUN) return xmit_tun(ctx, &p, &d, hash);
  if (fwd == SL_FWD_NAT) return xmit_nat(ctx, &p, &d);
  return xmit_dr(ctx, data, &d);
}

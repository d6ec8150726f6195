/* The data-plane counter list as an X-macro, in plain C so the XDP program (bpf/) indexes
 * its per-CPU counter array with the same numbers the C++ path uses (dp/counters.h). */
#ifndef SLUICE_ABI_COUNTERS_LIST_H
#define SLUICE_ABI_COUNTERS_LIST_H

// X(enum name, "metric name", is_drop)
#define SLUICE_COUNTERS(X)                                          \
  /* packet I/O */                                                  \
  X(kRxPackets, "rx_packets", 0)                                    \
  X(kTxPackets, "tx_packets", 0)                                    \
  X(kPassPackets, "pass_packets", 0)                                \
  /* Ethernet / VLAN */                                             \
  X(kEthTruncated, "eth_truncated", 1)                              \
  X(kVlanTruncated, "vlan_truncated", 1)                            \
  X(kVlanTooDeep, "vlan_too_deep", 1)                               \
  /* IPv4 */                                                        \
  X(kIpv4Truncated, "ipv4_truncated", 1)                            \
  X(kIpv4BadVersion, "ipv4_bad_version", 1)                         \
  X(kIpv4BadIhl, "ipv4_bad_ihl", 1)                                 \
  X(kIpv4BadTotalLen, "ipv4_bad_total_len", 1)                      \
  X(kIpv4Fragment, "ipv4_fragment", 1)                              \
  /* IPv6 */                                                        \
  X(kIpv6Truncated, "ipv6_truncated", 1)                            \
  X(kIpv6BadVersion, "ipv6_bad_version", 1)                         \
  X(kIpv6BadPayloadLen, "ipv6_bad_payload_len", 1)                  \
  X(kIpv6ExtTruncated, "ipv6_ext_truncated", 1)                     \
  X(kIpv6ExtTooMany, "ipv6_ext_too_many", 1)                        \
  X(kIpv6Fragment, "ipv6_fragment", 1)                              \
  /* L4 */                                                          \
  X(kTcpTruncated, "tcp_truncated", 1)                              \
  X(kTcpBadDoff, "tcp_bad_doff", 1)                                 \
  X(kUdpTruncated, "udp_truncated", 1)                              \
  X(kUdpBadLen, "udp_bad_len", 1)                                   \
  X(kIcmpTruncated, "icmp_truncated", 1)                            \
  X(kIcmp6Truncated, "icmp6_truncated", 1)                          \
  /* ICMP errors quoting a connection (net/icmp_quote.h) */         \
  X(kIcmpForwarded, "icmp_forwarded", 0)                            \
  X(kIcmpQuoteTruncated, "icmp_quote_truncated", 1)                 \
  X(kIcmpQuoteBadHeader, "icmp_quote_bad_header", 1)                \
  X(kIcmpQuoteBadLen, "icmp_quote_bad_len", 1)                      \
  /* service / connection handling */                               \
  X(kConnNew, "conn_new", 0)                                        \
  X(kConnReused, "conn_reused", 0)                                  \
  X(kTemplateNew, "template_new", 0)                                \
  X(kNoRealServer, "no_real_server", 1)                             \
  X(kIcmpUnreachSent, "icmp_unreach_sent", 0)                       \
  X(kIcmpRateLimited, "icmp_unreach_ratelimited", 1)                \
  X(kIcmpNoRoom, "icmp_unreach_no_room", 1)                         \
  X(kNoConnNotSyn, "no_conn_not_syn", 0)                            \
  X(kAdoptedMidflow, "adopted_midflow", 0)                          \
  X(kPeerBalanced, "peer_balanced", 0)                              \
  X(kLocalDelivered, "local_delivered", 0)                          \
  X(kNatReplies, "nat_replies", 0)                                  \
  X(kNatTwinStale, "nat_reply_twin_stale", 0)                       \
  X(kNatIcmpReplies, "nat_icmp_replies", 0)                         \
  X(kCsumFinished, "csum_partial_finished", 0)                      \
  X(kConnTableFull, "conn_table_full", 1)                           \
  X(kNoNeighbour, "no_neighbour", 1)                                \
  X(kDestGone, "dest_gone", 1)                                      \
  X(kNodestExpired, "conn_nodest_expired", 0)                       \
  X(kFwdUnsupported, "fwd_unsupported", 1)                          \
  /* TUN forwarding (fwd/tun.h, bpf/lib/xmit_tun.h) */               \
  X(kTunNoRoom, "tun_no_room", 1)                                   \
  X(kTunNoSource, "tun_no_source", 1)                               \
  X(kTunTooBig, "tun_too_big", 1)                                   \
  X(kIcmpFragNeededSent, "icmp_frag_needed_sent", 0)                \
  /* FULLNAT (fwd/fullnat.h, laddr/pool.h, bpf/lib/xmit_fnat.h) */   \
  X(kFnatNoLaddr, "fullnat_no_laddr", 1)                            \
  X(kFnatPortsExhausted, "fullnat_ports_exhausted", 1)              \
  X(kFnatReplies, "fullnat_replies", 0)                             \
  X(kToaInserted, "toa_inserted", 0)                                \
  X(kToaNoRoom, "toa_no_room", 0)                                   \
  X(kMssAdjusted, "mss_adjusted", 0)                                \
  X(kTxFailed, "tx_failed", 1)

#endif /* SLUICE_ABI_COUNTERS_LIST_H */

// A stub XDP program that passes every frame, attached by lab/lib.sh to the switch-side
// peer of the director's veth. Its only job is to make that peer run NAPI, so frames the
// director sends with XDP_TX / XDP_REDIRECT are received instead of silently dropped.
// No headers on purpose: it compiles with a bare `clang -target bpf`.
__attribute__((section("xdp"), used)) int xdp_pass(void *ctx) { (void)ctx; return 2; /* XDP_PASS */ }
char _license[] __attribute__((section("license"), used)) = "GPL";

#!/usr/bin/env python3
"""Summarises a bench/run.sh results folder: runs.jsonl (one line per engine per run) and
meta.json in, results.json and results.md out (the markdown is also printed).

Per engine: median, min and max of packets/s per director core over the runs, ns of director
CPU per packet, and the ratio to engine (a). Ratios are taken inside each run and then the
median is reported, so drift between runs (other load on the machine) cancels out as far as
it can. `--line JSON` prints a one-line progress summary of a single measurement instead.
"""
import json
import statistics
import sys
from pathlib import Path

TARGETS = [  # (label, engine, reference engine, factor, strict)
    ("(e) >= 0.8 x (a)", "e", "a", 0.8, False),
    ("(f) >= 0.8 x (b)", "f", "b", 0.8, False),
    ("(f) > (d)", "f", "d", 1.0, True),
    ("(g) >= 0.6 x (a)", "g", "a", 0.6, False),
    ("(h) >= 0.6 x (a)", "h", "a", 0.6, False),
    ("(i) >= 0.6 x (a)", "i", "a", 0.6, False),
]


def fmt_rate(v):
    if v is None:
        return "-"
    return f"{v / 1e6:.3f} M" if v >= 1e5 else f"{v / 1e3:.1f} k"


def sched_text(meta):
    if meta.get("scheduling") == "rt":
        return ("--rt (SCHED_FIFO: kernel engines' NAPI 50; user-space engine 20 above its NAPI 10; "
                "sink NAPI 50 above the generator 10)")
    return (f"nice (kernel engines' NAPI -20; user-space engines at -20 with their NAPI at "
            f"{meta.get('user_napi_nice', 10)})")


def offered_in_window(m, gen):
    """Packets/s the generator sent during the measurement window, from its per-call spans
    (each call is assumed to send at an even rate); None when not known."""
    spans = (gen or {}).get("spans")
    if not spans or "t0_ns" not in m:
        return None
    t0, t1 = m["t0_ns"], m["t1_ns"]
    n = 0.0
    for a, b, k in spans:
        overlap = min(b, t1) - max(a, t0)
        if overlap > 0 and b > a:
            n += k * overlap / (b - a)
    return n / ((t1 - t0) / 1e9)


def progress(line):
    d = json.loads(line)
    m = d.get("measure") or {}
    if "error" in m:
        return f"  ({d['engine']}) run {d['run']}: FAILED: {m['error']}"
    g = d.get("gen") or {}
    return (f"  ({d['engine']}) run {d['run']}: {fmt_rate(m['pps_per_core'])}pps/core, "
            f"{m['ns_per_packet']:.0f} ns/pkt, delivered {fmt_rate(m['pps'])}pps, "
            f"director {m['director_cores']:.2f} cores (CPU busy {m['director_cpu_busy']:.2f}), "
            f"offered {fmt_rate(offered_in_window(m, g))}pps"
            + (f", generator {g['cpu_s'] / g['seconds']:.2f} cores" if g.get("cpu_s") and g.get("seconds") else ""))


def summarise(out_dir):
    meta = json.loads((out_dir / "meta.json").read_text())
    rows = [json.loads(l) for l in (out_dir / "runs.jsonl").read_text().splitlines() if l.strip()]
    engines = list(meta["engines"].keys())
    ok = {}      # engine -> run -> measure
    errors = {}
    for r in rows:
        m = r.get("measure") or {}
        if "error" in m:
            errors.setdefault(r["engine"], []).append(f"run {r['run']}: {m['error']}")
        else:
            ok.setdefault(r["engine"], {})[r["run"]] = dict(m, gen=r.get("gen"), notes=r.get("notes"),
                                                            egress_drops=r.get("egress_drops"))

    summary = {}
    for e in engines:
        runs = ok.get(e, {})
        vals = [m["pps_per_core"] for m in runs.values()]
        s = {"name": meta["engines"][e]["name"], "traffic": meta["engines"][e]["traffic"],
             "runs_ok": len(vals), "errors": errors.get(e, [])}
        if vals:
            med = statistics.median(vals)
            s.update(
                pps_per_core_median=med, pps_per_core_min=min(vals), pps_per_core_max=max(vals),
                ns_per_packet_median=1e9 / med,
                delivered_pps_median=statistics.median(m["pps"] for m in runs.values()),
                offered_pps_median=statistics.median(
                    offered_in_window(m, m["gen"]) or 0 for m in runs.values()),
                director_cores_median=statistics.median(m["director_cores"] for m in runs.values()),
                director_cpu_busy_median=statistics.median(m["director_cpu_busy"] for m in runs.values()),
                wrong_packets=sum(m.get("wrong", 0) for m in runs.values()),
                egress_drops=sum(m.get("egress_drops") or 0 for m in runs.values()),
                delivered_total=sum(m["delivered"] for m in runs.values()),
                per_run={str(k): v["pps_per_core"] for k, v in sorted(runs.items())},
                charged_last_run=runs[max(runs)]["charged"],
                notes_last_run=runs[max(runs)].get("notes"))
        summary[e] = s

    def ratio(e, ref):
        """Median over runs of the ratio measured inside each run."""
        a, b = ok.get(e, {}), ok.get(ref, {})
        per = [a[r]["pps_per_core"] / b[r]["pps_per_core"] for r in a if r in b and b[r]["pps_per_core"]]
        return (statistics.median(per), min(per), max(per)) if per else None

    for e in engines:
        rt = ratio(e, "a")
        if rt:
            summary[e]["ratio_to_a"] = {"median": rt[0], "min": rt[1], "max": rt[2]}

    targets = []
    for label, e, ref, factor, strict in TARGETS:
        rt = ratio(e, ref)
        if rt is None:
            targets.append({"target": label, "measured": None, "met": None})
            continue
        met = rt[0] > factor if strict else rt[0] >= factor
        targets.append({"target": label, "measured": f"({e})/({ref}) = {rt[0]:.3f} "
                        f"(runs {rt[1]:.3f}..{rt[2]:.3f})", "ratio": rt[0], "met": met})

    result = {"meta": meta, "engines": summary, "targets": targets}
    (out_dir / "results.json").write_text(json.dumps(result, indent=2) + "\n")

    md = [f"# Sluice packet-rate benchmark, {meta['date']}", "",
          f"{meta['host']}: kernel {meta['kernel']}, {meta['cpus']} CPUs ({meta['cpu_model']}), "
          f"commit {meta['commit']}, load average at start {meta['loadavg_at_start']}. "
          f"{meta['runs']} run(s), {meta['warmup_s']} s warm-up + {meta['window_s']} s window each, "
          f"64-byte UDP frames. Director on CPU {meta['director_cpu']}, generator and sink on CPU "
          f"{meta['generator_cpu']}. Scheduling: {sched_text(meta)}. "
          f"Generator: {meta.get('generator', 'live XDP frames (BPF_PROG_TEST_RUN)')}.", "",
          "Rate = packets delivered to the sink / director CPU seconds (its NAPI threads + every "
          "process in its namespace). Ratios are taken within each run, median over runs. "
          "Run-to-run noise on this machine is up to ±20 %.", "",
          "| engine | traffic | pps per director core: median | min | max | ns/packet | vs (a) "
          "| delivered pps | offered pps | director cores used |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for e in engines:
        s = summary[e]
        if not s["runs_ok"]:
            md.append(f"| ({e}) {s['name']} | {s['traffic']} | failed | | | | | | | |")
            continue
        r = s.get("ratio_to_a")
        ratio_txt = f"{r['median']:.3f}" if r else "-"
        md.append(f"| ({e}) {s['name']} | {s['traffic']} | {fmt_rate(s['pps_per_core_median'])} "
                  f"| {fmt_rate(s['pps_per_core_min'])} | {fmt_rate(s['pps_per_core_max'])} "
                  f"| {s['ns_per_packet_median']:.0f} | {ratio_txt} "
                  f"| {fmt_rate(s['delivered_pps_median'])} | {fmt_rate(s['offered_pps_median'])} "
                  f"| {s['director_cores_median']:.2f} |")
    md += ["", "Offered: what the generator sent during the window. Director cores used well below 1 "
           "means the director was not the limit: either the generator was (the rate per core is "
           "then still fair, though a half-idle NAPI thread pays more wake-ups per packet), or, "
           "without --rt on a busy machine, other work starved the director's threads (then "
           "the rate per core reflects stalls more than the engine)."]
    lossy = {e: s["egress_drops"] for e, s in summary.items()
             if s.get("egress_drops", 0) > 0.001 * s.get("delivered_total", 0)}
    if lossy:
        md += ["", f"Frames the director sent that the sink's ring refused (all runs; they are not "
               f"counted as delivered, so these engines are understated): {lossy}"]
    md += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for t in targets:
        met = "not measured" if t["met"] is None else ("**yes**" if t["met"] else "**no**")
        md.append(f"| {t['target']} | {t['measured'] or '-'} | {met} |")
    bad = [(e, s["errors"]) for e, s in summary.items() if s["errors"]]
    if bad:
        md += ["", "## Failed measurements", ""]
        md += [f"* ({e}): {'; '.join(errs)}" for e, errs in bad]
    wrong = {e: s.get("wrong_packets", 0) for e, s in summary.items() if s.get("wrong_packets")}
    if wrong:
        md += ["", f"Frames at the sink that were not IPv4/UDP to its MAC (not counted): {wrong}"]
    md += ["", "## Where the director's CPU went (last run, cores)", ""]
    for e in engines:
        s = summary[e]
        if s.get("charged_last_run"):
            md.append(f"* ({e}) " + ", ".join(f"{c['comm']} {c['cores']:.2f}" for c in s["charged_last_run"]))
    for e in ("d", "e", "f", "g", "h", "i"):
        notes = summary.get(e, {}).get("notes_last_run")
        if not notes:
            continue
        if "sluiceadm_stats" in notes:
            p = out_dir / notes["sluiceadm_stats"]
            if p.exists():
                md += ["", f"## sluiceadm -Ln --stats --exact after ({e}), last run", "", "```",
                       p.read_text().rstrip(), "```"]
        elif "conntrack_count" in notes:
            md += ["", f"({e}) conntrack entries after the last window: {notes['conntrack_count']} "
                   f"(max {notes['conntrack_max']})"]
    text = "\n".join(md) + "\n"
    (out_dir / "results.md").write_text(text)
    print(text)
    print(f"results: {out_dir}/results.md, results.json, runs.jsonl")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--line":
        print(progress(sys.argv[2]))
    elif len(sys.argv) == 2:
        summarise(Path(sys.argv[1]))
    else:
        sys.exit("usage: report.py RESULTS_DIR | --line JSON")


if __name__ == "__main__":
    main()

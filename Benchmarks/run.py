#!/usr/bin/env python3
"""Switchboard's benchmarks, in one run on this machine, release build. Results go to stdout as
Markdown; docs/benchmarks.md holds a copy with the machine and this command.

    swift build -c release && python3 Benchmarks/run.py [--quick] [--only abi,http,list,memory,swap,isolation,sandbox,template,postgres,composite,churn,baseline] [--json FILE] [--baseline DIR]

With --json, every headline figure is also written to FILE as one JSON object (keys in FIGURES).
With --baseline DIR (the release folder of another build, say the commit before a change), the
`baseline` section serves the contact route from both builds side by side, in one run.

Needs wrk and node (apt-get install wrk nodejs), and PostgreSQL for its section (apt-get install postgresql). Every server listens on 127.0.0.1 only, every
load is bounded in time, and every process started here is stopped before the script ends.
"""

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http import client as http_client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# SWITCHBOARD_RELEASE: a release build elsewhere (`swift build -c release --scratch-path DIR` puts it in DIR/release).
RELEASE = os.environ.get("SWITCHBOARD_RELEASE") or os.path.join(ROOT, ".build", "release")
SWITCHBOARD = os.path.join(RELEASE, "switchboard")
QUICK = "--quick" in sys.argv
SECTIONS = ["abi", "http", "list", "memory", "swap", "isolation", "sandbox", "template", "postgres", "composite", "churn", "baseline"]
ONLY = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else SECTIONS
BASELINE = sys.argv[sys.argv.index("--baseline") + 1] if "--baseline" in sys.argv else None
WRK_SECONDS = 5 if QUICK else 10
ROUNDS = 1 if QUICK else 3
CONTACT = "14155550101"
JSON_FILE = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
# The headline figures of the run, by the keys the performance targets use; --json writes them.
FIGURES = {}

children = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, port, log_name, env=None):
    log = open(os.path.join(WORK, log_name), "w")
    process = subprocess.Popen(args, stdout=log, stderr=log, env=env)
    children.append(process)
    began = time.perf_counter()
    deadline = began + 60
    while time.perf_counter() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, time.perf_counter() - began
        except OSError:
            time.sleep(0.002)
    raise RuntimeError(f"{args[0]} did not listen on {port}")


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def http(method, port, path, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=body.encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return response.status, response.read()


def memory_kib(process, field):
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def serve(data, port, log_level="warning"):
    return start([SWITCHBOARD, "serve", "--port", str(port), "--data", data, "--log-level", log_level,
                  "--plugins", RELEASE], port, f"serve-{port}.log")


def wrk(port, path, seconds=WRK_SECONDS, latency=False, connections=32):
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s"] + (["--latency"] if latency else []) + [f"http://127.0.0.1:{port}{path}"]
    output = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M))
    return {"rps": rps, "requests": requests, "non2xx": int(non2xx.group(1)) if non2xx else 0, "errors": errors.group(1) if errors else "none",
            "latency": percentiles}


def section(title):
    print(f"\n## {title}\n", flush=True)


def abi():
    section("Calls through the C ABI, and plugin loads")
    output = subprocess.run([os.path.join(RELEASE, "ABIBenchmark"), RELEASE, "20000" if QUICK else "100000"],
                            capture_output=True, text=True, check=True).stdout
    print("```\n" + output.strip() + "\n```")
    FIGURES["abi_added_ns"] = int(re.search(r"through the C ABI \(\.so\):\s+\d+ ns/call\s+\(\+(-?\d+) ns", output).group(1))
    FIGURES["abi_answer_added_ns"] = int(re.search(r"checkedAnswer through the ABI:\s+\d+ ns/call\s+\(\+(-?\d+) ns", output).group(1))
    FIGURES["abi_check_exists_added_ns"] = int(re.search(r"check-exists, through the ABI:\s+\d+ ns/call\s+\(\+(-?\d+) ns", output).group(1))


def three_way():
    section("GET /api/contacts?contactId=…: Switchboard (local engine) vs bare Hummingbird vs Node http")
    data = os.path.join(WORK, "three-way")
    port = free_port()
    server, _ = serve(data, port)
    http("PUT", port, f"/api/default/contacts/{CONTACT}@c.us", '{"firstName": "Grace", "lastName": "Hopper"}')
    _, body = http("GET", port, f"/api/contacts?contactId={CONTACT}")
    body_file = os.path.join(WORK, "contact.json")
    with open(body_file, "wb") as f:
        f.write(body)
    bare_port, node_port = free_port(), free_port()
    bare, _ = start([os.path.join(RELEASE, "BareHummingbird"), str(bare_port), body_file], bare_port, "bare.log")
    node, _ = start(["node", os.path.join(ROOT, "Benchmarks", "node-server.js"), str(node_port), body_file], node_port, "node.log")
    for port_ in (bare_port, node_port):
        assert http("GET", port_, f"/api/contacts?contactId={CONTACT}")[1] == body, "all three must answer the same bytes"

    results = {"switchboard": [], "bare": [], "node": []}
    # The server's own CPU time per request (user and system, all its threads): steadier than
    # requests/s on a machine whose speed drifts, and what a difference in work per request shows.
    cpu = {"switchboard": [], "bare": [], "node": []}
    path = f"/api/contacts?contactId={CONTACT}"
    for _ in range(ROUNDS):
        # Interleaved rounds, so drift on the machine hits all three alike.
        for name, port_, process in (("switchboard", port, server), ("bare", bare_port, bare), ("node", node_port, node)):
            before = cpu_seconds(process)
            run = wrk(port_, path)
            assert run["non2xx"] == 0 and run["errors"] == "none", (name, run)
            results[name].append(run["rps"])
            cpu[name].append((cpu_seconds(process) - before) / run["requests"] * 1e6)
    for process in (server, bare, node):
        stop(process)

    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"wrk -t1 -c32 -d{WRK_SECONDS}s, {ROUNDS} interleaved rounds each, body {len(body)} bytes, identical for all three.\n")
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    print("| server | requests/s, median | rounds | vs bare Hummingbird | server CPU µs per request, median |")
    print("|---|---|---|---|---|")
    for name, label in (("switchboard", "Switchboard, `local` engine, session lookup, ABI call, JSON"),
                        ("bare", "bare Hummingbird, constant body"), ("node", "Node.js `http`, constant body")):
        rounds = ", ".join(f"{v:.0f}" for v in results[name])
        print(f"| {label} | {medians[name]:.0f} | {rounds} | {medians[name] / medians['bare']:.2f}× | {cpu_medians[name]:.1f} |")
    FIGURES["http_ratio_vs_hummingbird"] = round(medians["switchboard"] / medians["bare"], 3)
    FIGURES["http_cpu_us_per_request"] = round(cpu_medians["switchboard"], 1)
    FIGURES["bare_cpu_us_per_request"] = round(cpu_medians["bare"], 1)
    FIGURES["http_cpu_ratio_bare_vs_switchboard"] = round(cpu_medians["bare"] / cpu_medians["switchboard"], 3)
    FIGURES["node_ratio_vs_hummingbird"] = round(medians["node"] / medians["bare"], 3)


def big_list():
    section("GET /api/contacts/all with 100,000 contacts")
    data = os.path.join(WORK, "big")
    seed = os.path.join(WORK, "seed.json")
    count = 100_000
    with open(seed, "w") as f:
        json.dump({"contacts": [{"id": f"49151{i:08d}", "name": f"Contact {i:06d}", "about": "hello"} for i in range(count)]}, f)
    began = time.perf_counter()
    subprocess.run([SWITCHBOARD, "import", seed, "--data", data], check=True, capture_output=True)
    import_seconds = time.perf_counter() - began
    port = free_port()
    server, start_seconds = serve(data, port)
    # The server answers as soon as it listens; the first call waits for the session's snapshot.
    began = time.perf_counter()
    http("GET", port, "/api/contacts/all?limit=1")
    first_answer = time.perf_counter() - began
    rss_before = memory_kib(server, "VmRSS")

    def timed(path, repeats):
        times = []
        size = 0
        for _ in range(repeats):
            began = time.perf_counter()
            _, body = http("GET", port, path)
            times.append(time.perf_counter() - began)
            size = len(body)
        return statistics.median(times), size

    def streamed(path, repeats):
        # curl's own clock, so the figures leave out this script's reading of 19.5 MB.
        firsts, totals = [], []
        size = 0
        for _ in range(repeats):
            out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{time_starttransfer} %{time_total} %{size_download}",
                                  f"http://127.0.0.1:{port}{path}"], check=True, capture_output=True, text=True).stdout.split()
            firsts.append(float(out[0]))
            totals.append(float(out[1]))
            size = int(out[2])
        return statistics.median(firsts), statistics.median(totals), size

    first_byte, full, full_size = streamed("/api/contacts/all", 3 if QUICK else 5)
    peak = memory_kib(server, "VmHWM")
    first_page, _ = timed("/api/contacts/all?limit=100&offset=0", 50)
    deep_page, _ = timed(f"/api/contacts/all?limit=100&offset={count - 100}", 50)
    by_name_deep, _ = timed(f"/api/contacts/all?limit=100&offset={count - 100}&sortBy=name&sortOrder=desc", 50)
    stop(server)
    print(f"Seed of {count:,} contacts imported with `switchboard import` in {import_seconds:.1f} s; "
          f"the server then listened after {start_seconds * 1000:.0f} ms and answered its first list in {first_answer * 1000:.0f} ms.\n")
    print("| request | median | note |")
    print("|---|---|---|")
    print(f"| all {count:,}, unpaginated | {full * 1000:.0f} ms | {full_size / 1e6:.1f} MB of JSON, chunked; first byte after {first_byte * 1000:.1f} ms |")
    print(f"| limit=100, offset=0 | {first_page * 1000:.2f} ms | |")
    print(f"| limit=100, offset={count - 100:,} | {deep_page * 1000:.2f} ms | {deep_page / first_page:.2f}× the first page |")
    print(f"| limit=100, offset={count - 100:,}, sortBy=name desc | {by_name_deep * 1000:.2f} ms | {by_name_deep / first_page:.2f}× the first page |")
    print(f"\nResident memory: {rss_before / 1024:.0f} MiB with the 100,000 contacts loaded; "
          f"peak {peak / 1024:.0f} MiB after the unpaginated lists.")
    FIGURES["list_100k_ms"] = round(full * 1000, 1)
    FIGURES["list_100k_peak_mib"] = round(peak / 1024, 1)
    FIGURES["list_100k_first_byte_ms"] = round(first_byte * 1000, 1)


def start_until_answering(data, port):
    began = time.perf_counter()
    process = subprocess.Popen([SWITCHBOARD, "serve", "--port", str(port), "--data", data, "--log-level", "warning",
                                "--plugins", RELEASE], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children.append(process)
    while True:
        try:
            if http("GET", port, "/api/contacts/all")[0] == 200:
                return process, time.perf_counter() - began
        except OSError:
            time.sleep(0.002)


def memory_and_start():
    section("Memory and start-up")
    port = free_port()
    count = 3 if QUICK else 10
    # A restart keeps its data folder, whose scan cache says what each unchanged plugin declares:
    # it maps only the engines its sessions use. The first start of the folder is not counted.
    restart_data = os.path.join(WORK, "restarts")
    shutil.rmtree(restart_data, ignore_errors=True)
    restarts = []
    for index in range(count + 1):
        process, seconds = start_until_answering(restart_data, port)
        if index > 0:
            restarts.append(seconds)
        restart_idle = memory_kib(process, "VmRSS")
        stop(process)
    # A first start, on an empty data folder each time: every shipped plugin is mapped to read it.
    data = os.path.join(WORK, "sessions")
    starts = []
    for _ in range(count):
        shutil.rmtree(data, ignore_errors=True)
        process, seconds = start_until_answering(data, port)
        starts.append(seconds)
        if len(starts) < count:
            stop(process)
    server = process
    idle = memory_kib(server, "VmRSS")
    sessions = 1000
    began = time.perf_counter()
    for i in range(sessions):
        http("POST", port, "/api/sessions", json.dumps({"name": f"s{i}", "engine": "local"}))
    create_seconds = time.perf_counter() - began
    loaded = memory_kib(server, "VmRSS")
    status, body = http("GET", port, "/api/sessions")
    working = sum(1 for s in json.loads(body) if s["status"] == "WORKING")
    # `local` keeps no SQLite connection between calls: each write opens the session's database,
    # commits and closes it (which checkpoints the WAL).
    writes = []
    for i in range(100 if QUICK else 300):
        began = time.perf_counter()
        http("PUT", port, f"/api/s0/contacts/{4915100000000 + i}@c.us", json.dumps({"firstName": f"Write {i}"}))
        writes.append(time.perf_counter() - began)
    stop(server)
    print("Start to first answer of `GET /api/contacts/all` (process spawn, plugin scan, session restore, listen):\n")
    print("| start | median | min | max |\n|---|---|---|---|")
    for label, times in (("first start, empty data folder", starts), ("restart, same data folder", restarts)):
        print(f"| {label} ({len(times)} starts) | {statistics.median(times) * 1000:.0f} ms | {min(times) * 1000:.0f} ms | {max(times) * 1000:.0f} ms |")
    print("\n| state | resident memory |")
    print("|---|---|")
    print(f"| idle after a first start, session `default` on `local` | {idle / 1024:.1f} MiB |")
    print(f"| idle after a restart | {restart_idle / 1024:.1f} MiB |")
    print(f"| {working:,} sessions WORKING on `local` (created in {create_seconds:.1f} s over HTTP) | {loaded / 1024:.1f} MiB "
          f"({(loaded - idle) / sessions:.0f} KiB per session) |")
    print(f"\nA contact written to one of them (`PUT /api/s0/contacts/…`, {len(writes)} in a row): median {statistics.median(writes) * 1000:.2f} ms.")
    FIGURES["start_ms"] = round(statistics.median(starts) * 1000, 1)
    FIGURES["restart_ms"] = round(statistics.median(restarts) * 1000, 1)
    FIGURES["idle_rss_mib"] = round(idle / 1024, 1)
    FIGURES["restart_idle_rss_mib"] = round(restart_idle / 1024, 1)
    # `default` and the 1,000 created.
    FIGURES["sessions_1001_rss_mib"] = round(loaded / 1024, 1)
    FIGURES["local_write_ms"] = round(statistics.median(writes) * 1000, 2)


def swap_under_load():
    section("Latency while a session's engine is swapped under load")
    data = os.path.join(WORK, "swap")
    port = free_port()
    server, _ = serve(data, port)
    # Both engines know this contact, so every answer is a 200 whichever engine serves it.
    http("PUT", port, f"/api/default/contacts/{CONTACT}@c.us", '{"firstName": "Grace", "lastName": "Hopper"}')
    path = f"/api/contacts?contactId={CONTACT}"
    baseline = wrk(port, path, latency=True)

    swaps = []
    done = threading.Event()

    def swap_loop():
        engines = ["fixed", "local"]
        while not done.is_set():
            began = time.perf_counter()
            status, _ = http("PUT", port, "/api/sessions/default", json.dumps({"engine": engines[len(swaps) % 2]}))
            assert status == 200
            swaps.append(time.perf_counter() - began)
            time.sleep(0.1)

    thread = threading.Thread(target=swap_loop)
    thread.start()
    during = wrk(port, path, latency=True)
    done.set()
    thread.join()
    stop(server)
    print(f"wrk -t1 -c32 -d{WRK_SECONDS}s --latency on `{path}`; during the second run the session `default` "
          f"swapped between `fixed` and `local` every 100 ms ({len(swaps)} swaps, each PUT answered in a median "
          f"{statistics.median(swaps) * 1000:.1f} ms).\n")
    print("| run | requests/s | p50 | p90 | p99 | non-2xx | socket errors |")
    print("|---|---|---|---|---|---|---|")
    for label, run in (("no swaps", baseline), (f"{len(swaps)} swaps", during)):
        lat = run["latency"]
        print(f"| {label} | {run['rps']:.0f} | {lat.get('50')} | {lat.get('90')} | {lat.get('99')} | {run['non2xx']} | {run['errors']} |")
    FIGURES["swap_p99_ratio"] = round(latency_seconds(during["latency"]["99"]) / latency_seconds(baseline["latency"]["99"]), 3)


def latency_seconds(latency):
    """wrk's "1.97ms" (or us, s) in seconds."""
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", latency).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def isolation():
    section("The same contact route on `local` in-process vs in an engine process, and restarts after a crash")
    data = os.path.join(WORK, "isolation")
    port = free_port()
    server, _ = serve(data, port)
    http("POST", port, "/api/sessions", json.dumps({"name": "isolated", "engine": "local", "isolation": "process"}))
    for session in ("default", "isolated"):
        http("PUT", port, f"/api/{session}/contacts/{CONTACT}@c.us", '{"firstName": "Grace", "lastName": "Hopper"}')
    paths = {"in-process": f"/api/contacts?contactId={CONTACT}&session=default",
             "process": f"/api/contacts?contactId={CONTACT}&session=isolated"}
    assert http("GET", port, paths["in-process"])[1] == http("GET", port, paths["process"])[1], "both answer the same bytes"
    results = {name: [] for name in paths}
    single = {name: [] for name in paths}
    for _ in range(ROUNDS):
        for name, path in paths.items():
            run = wrk(port, path)
            assert run["non2xx"] == 0 and run["errors"] == "none", (name, run)
            results[name].append(run["rps"])
            # One connection: requests one after another, so 1/rate is the time of one request.
            alone = subprocess.run(["wrk", "-t1", "-c1", f"-d{max(2, WRK_SECONDS // 2)}s", f"http://127.0.0.1:{port}{path}"],
                                   capture_output=True, text=True, check=True).stdout
            single[name].append(float(re.search(r"Requests/sec:\s+([\d.]+)", alone).group(1)))
    stop(server)
    medians = {name: statistics.median(values) for name, values in results.items()}
    per_call = {name: 1e6 / statistics.median(values) for name, values in single.items()}
    print(f"wrk -t1 -c32 -d{WRK_SECONDS}s and wrk -t1 -c1, {ROUNDS} interleaved rounds; the same `local` plugin file, "
          "two sessions of one server, each with its own database holding the same contact.\n")
    print("| isolation | requests/s, median (c32) | rounds | vs in-process | µs per request, one connection |")
    print("|---|---|---|---|---|")
    for name in paths:
        rounds = ", ".join(f"{v:.0f}" for v in results[name])
        print(f"| {name} | {medians[name]:.0f} | {rounds} | {medians[name] / medians['in-process']:.2f}× | {per_call[name]:.1f} |")
    print(f"\nAdded cost of the engine process per call: {per_call['process'] - per_call['in-process']:.1f} µs "
          "(one connection, median of the rounds).\n")
    FIGURES["isolation_ratio"] = round(medians["process"] / medians["in-process"], 3)

    # A third-party plugin that segfaults on contacts.get: time from the 503 to the session's WORKING.
    plugin = compile_fixture("faulty")
    restarts = []
    for round_ in range(3 if QUICK else 5):
        port = free_port()
        server, _ = start([SWITCHBOARD, "serve", "--port", str(port), "--data", os.path.join(WORK, f"crash-{round_}"),
                           "--log-level", "critical", "--plugins", RELEASE, "--plugin", plugin], port, f"crash-{round_}.log")
        http("POST", port, "/api/sessions", json.dumps({"name": "crashy", "engine": "faulty", "engineConfig": {"segfault": True}}))
        try:
            http("GET", port, "/api/contacts?contactId=1&session=crashy")
        except urllib.error.HTTPError as error:
            assert error.code == 503, error.code
        crashed = time.perf_counter()
        while json.loads(http("GET", port, "/api/sessions/crashy")[1])["status"] != "WORKING":
            time.sleep(0.002)
        restarts.append((time.perf_counter() - crashed) * 1000)
        stop(server)
    print(f"Crash to `WORKING` again ({len(restarts)} servers, the first crash of each, so the backoff is its first 100 ms): "
          f"median {statistics.median(restarts):.0f} ms, min {min(restarts):.0f} ms, max {max(restarts):.0f} ms; "
          "measured from the 503 of the crashing call to the first `GET /api/sessions/crashy` showing `WORKING`.")
    FIGURES["crash_to_working_ms"] = round(statistics.median(restarts), 1)


def compile_fixture(name):
    """A C fixture plugin of the tests, built as they build it."""
    plugin = os.path.join(WORK, f"{name}.so")
    if not os.path.exists(plugin):
        subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-I", os.path.join(ROOT, "Sources", "ContactsEngineSDK", "Sources", "CContactsEngine", "include"),
                        os.path.join(ROOT, "Tests", "Fixtures", "plugins", f"{name}_engine.c"), "-o", plugin, "-lpthread"], check=True)
    return plugin


def engine_processes(server):
    """The engine host of each engine process the server started (the init's child), and its init."""
    found = []
    for init in subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split():
        for host in subprocess.run(["pgrep", "-P", init], capture_output=True, text=True).stdout.split():
            found.append((int(init), int(host)))
    return found


def rss_kib(pid, field="Rss"):
    """Resident (Rss) or proportional (Pss: shared pages divided among their sharers) memory."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        return next(int(line.split()[1]) for line in rollup if line.startswith(field + ":"))


def sandbox():
    section("Engine processes with and without the sandbox: start, memory, and the contact route")
    plugin = compile_fixture("faulty")
    servers = {}
    for mode in ("strict", "off"):
        port = free_port()
        process, _ = start([SWITCHBOARD, "serve", "--port", str(port), "--data", os.path.join(WORK, f"sandbox-{mode}"),
                            "--log-level", "warning", "--plugins", RELEASE, "--plugin", plugin, "--sandbox", mode], port, f"sandbox-{mode}.log")
        servers[mode] = (process, port)

    # Start: POST /api/sessions answers once the engine process runs, confined, and the instance exists.
    starts = {mode: [] for mode in servers}
    for round_ in range(5 if QUICK else 15):
        for mode, (_, port) in servers.items():
            began = time.perf_counter()
            http("POST", port, "/api/sessions", json.dumps({"name": f"s{round_}", "engine": "faulty"}))
            starts[mode].append((time.perf_counter() - began) * 1000)
    print("| sandbox | session create to `WORKING` (engine process started, confined, instance made), median | min | max |")
    print("|---|---|---|---|")
    for mode, values in starts.items():
        print(f"| {mode} | {statistics.median(values):.1f} ms | {min(values):.1f} ms | {max(values):.1f} ms |")
    FIGURES["engine_start_sandboxed_ms"] = round(statistics.median(starts["strict"]), 1)
    FIGURES["engine_start_unsandboxed_ms"] = round(statistics.median(starts["off"]), 1)

    # Memory: each engine process is an init and the engine host; a C engine, and a Swift one (`local`).
    process, port = servers["strict"]
    http("POST", port, "/api/sessions", json.dumps({"name": "swift", "engine": "local", "isolation": "process"}))
    time.sleep(1)
    hosts = engine_processes(process)
    swift_host = None
    for init, host in hosts:
        with open(f"/proc/{host}/maps") as maps:
            if "LocalEngine" in maps.read():
                swift_host = (init, host)
    c_hosts = [pair for pair in hosts if pair != swift_host]
    c_rss = statistics.median([rss_kib(host) for _, host in c_hosts]) / 1024
    init_pss = statistics.median([rss_kib(init, "Pss") for init, _ in hosts]) / 1024
    c_pss = statistics.median([rss_kib(host, "Pss") for _, host in c_hosts]) / 1024
    swift_rss = rss_kib(swift_host[1]) / 1024 if swift_host else float("nan")
    print(f"\nMemory of one sandboxed engine process (median over {len(c_hosts)} processes of the C engine): resident (Rss) "
          f"C engine (`faulty_engine.c`) {c_rss:.1f} MiB, its own share of it (Pss) {c_pss:.1f} MiB; Swift engine (`libLocalEngine.so`) "
          f"{swift_rss:.1f} MiB resident; the namespace's init beside each, a fork of the engine host sharing its pages, "
          f"{init_pss:.1f} MiB Pss.\n")
    FIGURES["engine_process_rss_c_mib"] = round(c_rss, 1)
    FIGURES["engine_process_rss_swift_mib"] = round(swift_rss, 1)
    FIGURES["engine_process_pss_c_mib"] = round(c_pss, 1)
    FIGURES["engine_init_pss_mib"] = round(init_pss, 1)

    # The contact route on a sandboxed engine process vs an unsandboxed one, interleaved rounds.
    rps = {mode: [] for mode in servers}
    for _ in range(ROUNDS):
        for mode, (_, port) in servers.items():
            run = wrk(port, "/api/contacts?contactId=1&session=s0")
            assert run["non2xx"] == 0 and run["errors"] == "none", (mode, run)
            rps[mode].append(run["rps"])
    for process, _ in servers.values():
        stop(process)
    medians = {mode: statistics.median(values) for mode, values in rps.items()}
    print(f"wrk -t1 -c32 -d{WRK_SECONDS}s, {ROUNDS} interleaved rounds, `contacts.get` on the C engine in its own process:\n")
    print("| sandbox | requests/s, median | rounds | vs unsandboxed |")
    print("|---|---|---|---|")
    for mode in ("strict", "off"):
        print(f"| {mode} | {medians[mode]:.0f} | {', '.join(f'{v:.0f}' for v in rps[mode])} | {medians[mode] / medians['off']:.2f}× |")
    FIGURES["sandbox_route_ratio"] = round(medians["strict"] / medians["off"], 3)


def engine_template():
    section("A third-party engine package's cold build (docs/engine-template)")
    header = open(os.path.join(ROOT, "Sources/ContactsEngineSDK/Sources/CContactsEngine/include/switchboard_engine.h")).read()
    version = ".".join(re.search(rf"#define SB_ABI_VERSION_{part} (\d+)", header).group(1) for part in ("MAJOR", "MINOR")) + ".0"
    # The SDK as it is published: its folder as a repository of its own, reached through a
    # SwiftPM mirror of the URL the template names (no network here).
    sdk = os.path.join(WORK, "contacts-engine-sdk")
    shutil.copytree(os.path.join(ROOT, "Sources/ContactsEngineSDK"), sdk, ignore=shutil.ignore_patterns(".build*"))
    git = ["git", "-C", sdk, "-c", "user.name=bench", "-c", "user.email=bench@switchboard.invalid"]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "SDK"], ["tag", version]):
        subprocess.run(git + step, check=True)
    url = re.search(r'\.package\(url: "([^"]+)"', open(os.path.join(ROOT, "docs/engine-template/Package.swift")).read()).group(1)
    rows = []
    for configuration in ("debug", "release"):
        seconds = []
        for round in range(ROUNDS):
            package = os.path.join(WORK, f"template-{configuration}-{round}")
            shutil.copytree(os.path.join(ROOT, "docs/engine-template"), package)
            subprocess.run(["swift", "package", "--package-path", package, "config", "set-mirror", "--original", url, "--mirror", sdk],
                           check=True, capture_output=True)
            began = time.monotonic()
            subprocess.run(["swift", "build", "-c", configuration, "--package-path", package], check=True, capture_output=True)
            seconds.append(time.monotonic() - began)
            pins = json.load(open(os.path.join(package, "Package.resolved")))["pins"]
            checkouts = subprocess.run(["du", "-sm", os.path.join(package, ".build", "checkouts")], capture_output=True, text=True).stdout.split()[0]
        rows.append((configuration, statistics.median(seconds), min(seconds), max(seconds), len(pins), checkouts))
        FIGURES[f"template_{configuration}_build_s"] = round(statistics.median(seconds), 1)
    print("| build | median s | range s | packages resolved | checkouts MB |\n|---|---|---|---|---|")
    for configuration, median, low, high, pins, checkouts in rows:
        print(f"| `swift build -c {configuration}`, from an empty folder | {median:.1f} | {low:.1f} to {high:.1f} | {pins} | {checkouts} |")


def postgres_cluster():
    """A throwaway PostgreSQL cluster on 127.0.0.1 (Debian's initdb and pg_ctl, as the postgres
    user when run as root); returns its URL and the command that stops it."""
    versions = sorted(int(v) for v in os.listdir("/usr/lib/postgresql") if v.isdigit())
    bin_dir = f"/usr/lib/postgresql/{versions[-1]}/bin"
    directory = tempfile.mkdtemp(prefix="switchboard-bench-pg-", dir="/tmp")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    if os.getuid() == 0:
        shutil.chown(directory, "postgres")
    port = free_port()
    subprocess.run(as_postgres + [f"{bin_dir}/initdb", "-D", f"{directory}/data", "-U", "postgres", "--auth=trust", "--no-sync"],
                   check=True, capture_output=True)
    subprocess.run(as_postgres + [f"{bin_dir}/pg_ctl", "-D", f"{directory}/data", "-l", f"{directory}/log", "-w", "-o",
                                  f"-c listen_addresses=127.0.0.1 -p {port} -k {directory}", "start"], check=True, capture_output=True)
    stop = as_postgres + [f"{bin_dir}/pg_ctl", "-D", f"{directory}/data", "-m", "fast", "-w", "stop"]
    return f"postgres://postgres@127.0.0.1:{port}/postgres", stop, directory


def shared_store():
    section("The contact route on `local` over PostgreSQL vs SQLite, and two replicas vs one")
    url, stop_cluster, cluster_dir = postgres_cluster()
    try:
        ports = [free_port(), free_port()]
        servers = [start([SWITCHBOARD, "serve", "--port", str(p), "--data", os.path.join(WORK, f"replica-{i}"), "--log-level", "warning",
                          "--plugins", RELEASE, "--store", url], p, f"replica-{i}.log")[0] for i, p in enumerate(ports)]
        # Sessions live in the shared store: created once, served by both replicas.
        http("POST", ports[0], "/api/sessions", json.dumps({"name": "pg", "engine": "local", "engineConfig": {"postgres": url}}))
        http("POST", ports[0], "/api/sessions", json.dumps({"name": "sqlite", "engine": "local"}))
        for session in ("pg", "sqlite"):
            http("PUT", ports[0], f"/api/{session}/contacts/{CONTACT}@c.us", '{"firstName": "Grace", "lastName": "Hopper"}')
        paths = {name: f"/api/contacts?contactId={CONTACT}&session={name}" for name in ("pg", "sqlite")}
        deadline = time.monotonic() + 30
        while b"Grace Hopper" not in http("GET", ports[1], paths["pg"])[1]:
            assert time.monotonic() < deadline, "replica B never served A's contact"
            time.sleep(0.1)

        backends = {"sqlite": [], "pg": []}
        one, two = [], []
        for _ in range(ROUNDS):
            for name in ("sqlite", "pg"):
                run = wrk(ports[0], paths[name])
                assert run["non2xx"] == 0 and run["errors"] == "none", (name, run)
                backends[name].append(run["rps"])
            one.append(wrk(ports[0], paths["pg"])["rps"])
            # The same 32 connections, split over the two replicas.
            runs = [None, None]
            threads = [threading.Thread(target=lambda i=i: runs.__setitem__(i, wrk(ports[i], paths["pg"], connections=16))) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert all(r["non2xx"] == 0 and r["errors"] == "none" for r in runs), runs
            two.append(sum(r["rps"] for r in runs))
        for server in servers:
            stop(server)
    finally:
        subprocess.run(stop_cluster, capture_output=True)
        shutil.rmtree(cluster_dir, ignore_errors=True)

    median = {name: statistics.median(values) for name, values in backends.items()}
    print(f"wrk -t1 -d{WRK_SECONDS}s, {ROUNDS} interleaved rounds; sessions in the PostgreSQL store; the `pg` session's `local` "
          "keeps its address book in the same cluster, the `sqlite` session's in its own file. Both serve reads from memory "
          "and look for other writers at most once a second.\n")
    print("| run | requests/s, median | rounds | ratio |\n|---|---|---|---|")
    for name, label in (("sqlite", "`local` on SQLite, one replica, c32"), ("pg", "`local` on PostgreSQL, one replica, c32")):
        rounds = ", ".join(f"{v:.0f}" for v in backends[name])
        print(f"| {label} | {median[name]:.0f} | {rounds} | {median[name] / median['sqlite']:.2f}× SQLite |")
    print(f"| `local` on PostgreSQL, one replica, c32 (replica round) | {statistics.median(one):.0f} | "
          f"{', '.join(f'{v:.0f}' for v in one)} | 1.00× |")
    print(f"| `local` on PostgreSQL, two replicas, c16 each, summed | {statistics.median(two):.0f} | "
          f"{', '.join(f'{v:.0f}' for v in two)} | {statistics.median(two) / statistics.median(one):.2f}× one replica |")
    FIGURES["postgres_vs_sqlite_ratio"] = round(median["pg"] / median["sqlite"], 3)
    FIGURES["two_replicas_vs_one_ratio"] = round(statistics.median(two) / statistics.median(one), 3)


def composite():
    section("The same contact route on a single-engine session vs a composite session")
    data = os.path.join(WORK, "composite")
    port = free_port()
    server, _ = serve(data, port)
    # contacts.get routes to a `local` member first; the other member and routes are there so
    # the lookup has a real composition to go through.
    http("POST", port, "/api/sessions", json.dumps({
        "name": "mixed",
        "members": [{"name": "book", "engine": "local"}, {"name": "dir", "engine": "fixed"}],
        "routes": {"contacts.get": ["book", "dir"], "contacts.list": ["dir"], "*": ["book"]}}))
    for session in ("default", "mixed"):
        http("PUT", port, f"/api/{session}/contacts/{CONTACT}@c.us", '{"firstName": "Grace", "lastName": "Hopper"}')
    paths = {"single": f"/api/contacts?contactId={CONTACT}&session=default",
             "composite": f"/api/contacts?contactId={CONTACT}&session=mixed"}
    assert http("GET", port, paths["single"])[1] == http("GET", port, paths["composite"])[1], "both answer the same bytes"
    results = {name: [] for name in paths}
    latency = {name: [] for name in paths}
    # A few percent is the figure, well under how much a shared machine drifts in 10 s: many
    # short rounds, each the two sessions back to back in alternating order, compared pairwise.
    rounds, seconds = (3, 3) if QUICK else (12, 4)
    for round_ in range(rounds):
        for name in (("single", "composite") if round_ % 2 == 0 else ("composite", "single")):
            run = wrk(port, paths[name], seconds=seconds, latency=True)
            assert run["non2xx"] == 0 and run["errors"] == "none", (name, run)
            results[name].append(run["rps"])
            latency[name].append(latency_seconds(run["latency"]["50"]) * 1000)
    stop(server)
    medians = {name: statistics.median(values) for name, values in results.items()}
    paired = statistics.median(c / s for c, s in zip(results["composite"], results["single"]))
    print(f"wrk -t1 -c32 -d{seconds}s --latency, {rounds} rounds, each both sessions back to back in alternating order; one server, "
          "session `default` on `local`, session `mixed` of members `book` (`local`) and `dir` (`fixed`) with `contacts.get` routed "
          "to `book` first; each `local` database holds the same contact, and both answer the same bytes.\n")
    print("| session | requests/s, median | rounds | vs single-engine, medians | median latency, ms (median of rounds) |")
    print("|---|---|---|---|---|")
    for name, label in (("single", "single engine, `local`"), ("composite", "composite, `contacts.get` → `book` (`local`)")):
        shown = ", ".join(f"{v:.0f}" for v in results[name])
        print(f"| {label} | {medians[name]:.0f} | {shown} | {medians[name] / medians['single']:.2f}× | "
              f"{statistics.median(latency[name]):.2f} |")
    print(f"\nMedian of the {rounds} paired ratios (composite / single, same round): {paired:.3f}×.")
    FIGURES["composite_vs_single_ratio"] = round(paired, 3)


def cpu_seconds(process):
    with open(f"/proc/{process.pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def churn():
    section("Creating and deleting sessions, first thousand vs last")
    count = 2000 if QUICK else 3000
    print(f"One server, fresh data folder; {count} `local` sessions, each created (`POST /api/sessions`) and deleted at once, "
          "one after the other over one kept-alive connection; the time and the server's CPU time of each thousand. "
          "Without purge every deleted session's state folder stays; with `?purge=true` it goes.\n")
    print("| delete | per thousand, s (wall) | per thousand, CPU s | last / first, wall | last / first, CPU |")
    print("|---|---|---|---|---|")
    for label, query in (("kept", ""), ("`?purge=true`", "?purge=true")):
        data = os.path.join(WORK, f"churn{query and '-purge'}")
        port = free_port()
        server, _ = serve(data, port)
        connection = http_client.HTTPConnection("127.0.0.1", port, timeout=60)

        def call(method, path, body=None):
            connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            assert answer.status < 300, (method, path, answer.status)

        wall, cpu = [], []
        began, began_cpu = time.perf_counter(), cpu_seconds(server)
        for i in range(count):
            call("POST", "/api/sessions", json.dumps({"name": f"churn{i}", "engine": "local"}))
            call("DELETE", f"/api/sessions/churn{i}{query}")
            if (i + 1) % 1000 == 0:
                now, now_cpu = time.perf_counter(), cpu_seconds(server)
                wall.append(now - began)
                cpu.append(now_cpu - began_cpu)
                began, began_cpu = now, now_cpu
        connection.close()
        stop(server)
        print(f"| {label} | {', '.join(f'{w:.1f}' for w in wall)} | {', '.join(f'{c:.1f}' for c in cpu)} | "
              f"{wall[-1] / wall[0]:.2f}× | {cpu[-1] / cpu[0]:.2f}× |")
        FIGURES[f"churn_{'purge' if query else 'kept'}_last_vs_first_wall"] = round(wall[-1] / wall[0], 2)


def before_and_after():
    if BASELINE is None:
        return
    section(f"Before and after, side by side: this build and `{BASELINE}`")
    builds = {"this build": RELEASE, "baseline": BASELINE}
    servers = {}
    for name, folder in builds.items():
        port = free_port()
        process, _ = start([os.path.join(folder, "switchboard"), "serve", "--port", str(port), "--data", os.path.join(WORK, f"compare-{port}"),
                            "--log-level", "warning", "--plugins", folder], port, f"compare-{port}.log")
        http("POST", port, "/api/sessions", json.dumps({"name": "isolated", "engine": "local", "isolation": "process"}))
        for session in ("default", "isolated"):
            http("PUT", port, f"/api/{session}/contacts/{CONTACT}@c.us", '{"firstName": "Grace", "lastName": "Hopper"}')
        servers[name] = (process, port)
    paths = {"in-process": f"/api/contacts?contactId={CONTACT}&session=default",
             "process": f"/api/contacts?contactId={CONTACT}&session=isolated"}
    _, body = http("GET", servers["this build"][1], paths["in-process"])
    for name, (_, port) in servers.items():
        for path in paths.values():
            assert http("GET", port, path)[1] == body, f"{name} answers {path} with other bytes"
    body_file = os.path.join(WORK, "compare-contact.json")
    with open(body_file, "wb") as f:
        f.write(body)
    bare_port = free_port()
    bare, _ = start([os.path.join(RELEASE, "BareHummingbird"), str(bare_port), body_file], bare_port, "compare-bare.log")
    rates = {"bare": []}
    single = {}
    for _ in range(ROUNDS):
        # Interleaved: bare Hummingbird, then each build's two sessions, at 32 connections and at one.
        run = wrk(bare_port, paths["in-process"])
        rates["bare"].append(run["rps"])
        for name, (_, port) in servers.items():
            for kind, path in paths.items():
                run = wrk(port, path)
                assert run["non2xx"] == 0 and run["errors"] == "none", (name, kind, run)
                rates.setdefault((name, kind), []).append(run["rps"])
                alone = wrk(port, path, seconds=max(2, WRK_SECONDS // 2), connections=1)
                single.setdefault((name, kind), []).append(1e6 / alone["rps"])
    for process, _ in servers.values():
        stop(process)
    stop(bare)
    median = {key: statistics.median(values) for key, values in rates.items()}
    print(f"wrk -t1 -c32 -d{WRK_SECONDS}s (and -c1 for the µs per request), {ROUNDS} interleaved rounds; each build serves the "
          "same contact from `local`, in-process (`default`) and in an engine process (`isolated`).\n")
    print("| build | in-process, requests/s | ÷ bare Hummingbird | engine process, requests/s | ÷ in-process | µs per request, one connection: in-process / engine process |")
    print("|---|---|---|---|---|---|")
    for name in servers:
        inside, outside = median[(name, "in-process")], median[(name, "process")]
        print(f"| {name} | {inside:.0f} | {inside / median['bare']:.2f}× | {outside:.0f} | {outside / inside:.2f}× | "
              f"{statistics.median(single[(name, 'in-process')]):.1f} / {statistics.median(single[(name, 'process')]):.1f} |")
    print(f"\nbare Hummingbird: {median['bare']:.0f} requests/s (rounds: {', '.join(f'{v:.0f}' for v in rates['bare'])}).")
    for name, key in (("this build", "after"), ("baseline", "before")):
        FIGURES[f"http_ratio_vs_hummingbird_{key}"] = round(median[(name, "in-process")] / median["bare"], 3)
        FIGURES[f"isolation_ratio_{key}"] = round(median[(name, "process")] / median[(name, "in-process")], 3)
        FIGURES[f"engine_process_us_one_connection_{key}"] = round(statistics.median(single[(name, "process")]), 1)


def main():
    if any(name != "template" for name in ONLY):
        for tool in ("wrk", "node"):
            if shutil.which(tool) is None:
                sys.exit(f"{tool} is missing: apt-get install wrk nodejs")
        if not os.path.exists(SWITCHBOARD):
            sys.exit("build first: swift build -c release")
    print(f"# Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"Machine: {os.cpu_count()} cores ({cpu}), {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
          f"`{subprocess.run(['swift', '--version'], capture_output=True, text=True).stdout.splitlines()[0].strip()}`; "
          f"node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}; release build.")
    for name, run in zip(SECTIONS, (abi, three_way, big_list, memory_and_start, swap_under_load, isolation, sandbox, engine_template,
                                    shared_store, composite, churn, before_and_after)):
        if name in ONLY:
            run()
    if JSON_FILE:
        with open(JSON_FILE, "w") as f:
            json.dump(FIGURES, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    WORK = tempfile.mkdtemp(prefix="switchboard-bench-")
    # Engine processes run as nobody and reach their state folders in here by path.
    os.chmod(WORK, 0o755)
    try:
        main()
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
        shutil.rmtree(WORK, ignore_errors=True)

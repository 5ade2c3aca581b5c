"""A fault in one of 4 ranks, shared by lost_rank.sh and hung_rank.sh.

scenario() starts WORLD ranks of `alexnet train` with torchrun's variables (so each rank's pid is
known), waits until `ready(run)` (bounded), sends `sig` to the victim, and requires every other
rank to exit non-zero within timeout + margin, printing one line that matches `want`. It prints
each survivor's exit time and line, and returns the run directory.
"""
import os, re, signal, socket, subprocess, sys, time

WORLD = 4


def free_port():  # the kernel's choice, released at once: launches side by side do not collide
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rows(run):
    try:
        with open(run + "/metrics/steps.csv") as f:
            return len(f.read().splitlines()) - 1
    except OSError:
        return 0


def scenario(alexnet, work, flags, name, victim, sig, timeout, margin, want, ready):
    run, port = "%s/%s" % (work, name), free_port()
    what = {signal.SIGKILL: "killed", signal.SIGSTOP: "stopped"}[sig]
    ranks = []
    for r in range(WORLD):
        env = dict(os.environ, RANK=str(r), WORLD_SIZE=str(WORLD), LOCAL_RANK=str(r),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        err = open("%s/%s.rank%d.err" % (work, name, r), "w+")
        ranks.append((subprocess.Popen([alexnet, "train"] + flags + ["--out", run], env=env,
                                       stdout=subprocess.DEVNULL, stderr=err), err))
    took = {}
    try:
        deadline = time.monotonic() + 60
        while not ready(run) and all(p.poll() is None for p, _ in ranks):
            if time.monotonic() > deadline:
                sys.exit("FAIL: %s not ready within 60 s" % run)
            time.sleep(0.02)
        for r, (p, err) in enumerate(ranks):
            if p.poll() is not None:
                err.seek(0)
                sys.exit("FAIL: rank %d ended (status %s) before it was %s:\n%s" % (
                    r, p.returncode, what, err.read()))
        ranks[victim][0].send_signal(sig)
        hit = time.monotonic()
        while len(took) < WORLD - 1 and time.monotonic() - hit < timeout + margin:
            for r, (p, _) in enumerate(ranks):
                if r != victim and r not in took and p.poll() is not None:
                    took[r] = time.monotonic() - hit
            time.sleep(0.01)
    finally:
        if ranks[victim][0].poll() is None:
            ranks[victim][0].send_signal(signal.SIGCONT)  # a stopped rank, so that it can be killed
        for p, _ in ranks:
            if p.poll() is None:
                p.kill()
            p.wait()
    print("%s: rank %d %s at step %d; the others exited after %s" % (
        name, victim, what, rows(run) + 1, ", ".join("rank %d %.2f s" % (r, took[r]) for r in sorted(took))))
    said, problems = {}, []
    for r, (p, err) in enumerate(ranks):
        if r == victim:
            continue
        err.seek(0)
        said[r] = [l for l in err.read().splitlines() if l.strip()]
        if r not in took:
            problems.append("rank %d still running %.0f s after rank %d was %s (--timeout %gs)" % (
                r, timeout + margin, victim, what, timeout))
        elif p.returncode == 0:
            problems.append("rank %d exited 0 after rank %d was %s" % (r, victim, what))
        elif len(said[r]) != 1 or not re.search(want, said[r][0]):
            problems.append("rank %d (status %d) should say one line matching %r" % (r, p.returncode, want))
    # Every survivor's status and words, so that a failure shows the whole job, not its first rank.
    for r in sorted(said):
        print("  rank %d, status %s: %s" % (r, ranks[r][0].returncode, "\n    ".join(said[r]) or "(nothing)"))
    if problems:
        sys.exit("FAIL: " + "; ".join(problems))
    return run

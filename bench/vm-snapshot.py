# SPDX-License-Identifier: Apache-2.0
"""One measurement of bench/vm-snapshot: starts the VMM(s), drives them (capsa's
CLI clients, QEMU's QMP on a Unix socket), watches the guest's serial console and
prints the result as key=value lines on stdout.

  vm-snapshot.py snapshot capsa|qemu MEM_MIB FILE
      boot, wait until the guest is ready and settled, then time the snapshot
      (capsa: vm pause + vm snapshot; QEMU: stop + migrate "exec:cat > FILE"
      until query-migrate says completed). Prints secs= and last= (the last
      complete console line's number before the pause).
  vm-snapshot.py restore capsa|qemu MEM_MIB FILE LAST
      time from exec of the VMM until the console shows line LAST+2 (capsa: vm
      restore FILE; QEMU: -incoming "exec:cat FILE", then cont once loaded).
      LAST+1 may be whole in the UART's FIFO at the pause; LAST+2 can only come
      from a running vCPU. Prints secs=.
  vm-snapshot.py migrate capsa|qemu MEM_MIB PORT
      live migration over 127.0.0.1:PORT to a waiting peer; prints total= and
      downtime= as the VMM reports them (seconds; capsa's runs from the pause to
      the target running the VM, QEMU's to the source's last byte sent), sent=
      (the pause to the last byte sent: capsa's downtime_sent_ms, QEMU's
      downtime again) and gap= (seconds between the last console line on the
      source and the next one on the target).

Environment: CAPSA, QEMU, KERNEL, INITRD, WORK (a scratch directory), TICK_MS
(the guest's console period, 0 for back to back; restore passes the snapshot's
to QEMU so that the command lines match), SETTLE (seconds to let the guest
settle after its ready line).
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

CAPSA = os.environ.get("CAPSA", "build/capsa")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
KERNEL = os.environ.get("KERNEL", "")
INITRD = os.environ.get("INITRD", "")
WORK = os.environ.get("WORK", "/tmp")
TICK_MS = int(os.environ.get("TICK_MS", "5"))
SETTLE = float(os.environ.get("SETTLE", "1.0"))
TIMEOUT = 120.0
LINE = re.compile(rb"tick (\d+)\r?\n")


class Fail(Exception):
    pass


class Console:
    """Reads a VMM's serial console from a pipe on a thread; keeps the number
    and arrival time of every complete "tick N" line and whether the ready
    line was seen."""

    def __init__(self, pipe, watch=None):
        self.fd = pipe.fileno()
        self.cv = threading.Condition()
        self.ready = None
        self.last = 0
        self.last_t = None
        self.first_t = None  # arrival of the first complete line
        self.watch = watch  # a line number to time the arrival of
        self.watch_t = None
        self.eof = False
        self.tail = b""
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        buf = b""
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                data = b""
            t = time.monotonic()
            with self.cv:
                if not data:
                    self.eof = True
                    self.cv.notify_all()
                    return
                buf += data
                self.tail = (self.tail + data)[-2000:]
                if self.ready is None and b"snapbench: ready" in buf:
                    self.ready = t
                cut = 0
                for m in LINE.finditer(buf):
                    n = int(m.group(1))
                    self.last, self.last_t, cut = n, t, m.end()
                    if self.first_t is None:
                        self.first_t = t
                    if self.watch is not None and n >= self.watch and self.watch_t is None:
                        self.watch_t = t
                buf = buf[cut:] if cut else buf[-64:] if self.ready else buf[-4096:]
                self.cv.notify_all()

    def wait(self, pred, what, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        with self.cv:
            while not pred():
                left = end - time.monotonic()
                if self.eof or left <= 0:
                    raise Fail(f"{what}: {'the VMM exited' if self.eof else 'timed out'}; "
                               f"console ends {self.tail[-300:]!r}")
                self.cv.wait(min(left, 0.5))

    def watched(self, what):
        """Arrival time of the first line numbered `watch` or more."""
        self.wait(lambda: self.watch_t is not None, what)
        return self.watch_t

    def first(self, what):
        self.wait(lambda: self.first_t is not None, what)
        return self.first_t

    def settle(self):
        self.wait(lambda: self.ready is not None, "waiting for the guest's ready line")
        self.wait(lambda: self.last > 0 and time.monotonic() >= self.ready + SETTLE,
                  "waiting for the guest's first lines")


class QMP:
    def __init__(self, path, proc):
        end = time.monotonic() + TIMEOUT
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if proc.poll() is not None or time.monotonic() > end:
                    raise Fail(f"QEMU's QMP socket {path} did not come up")
                time.sleep(0.0005)
        self.f = self.sock.makefile("rb")
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        line = self.f.readline()
        if not line:
            raise Fail("QEMU closed its QMP socket")
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise Fail(f"QMP {name}: {r['error'].get('desc')}")

    def wait_migration(self):
        end = time.monotonic() + TIMEOUT
        while True:
            r = self.cmd("query-migrate")
            st = r.get("status")
            if st == "completed":
                return r
            if st in ("failed", "cancelled") or time.monotonic() > end:
                raise Fail(f"QEMU migration {st}: {r.get('error-desc', '')}")
            time.sleep(0.0005)


def cmdline(tick_ms, reboot):
    return f"console=ttyS0 reboot={reboot} panic=-1 tick_ms={tick_ms}"


def capsa_boot(mem, sock, tick_ms):
    return [CAPSA, "vm", "run", "--accel", "emu", "--kernel", KERNEL, "--initrd", INITRD,
            "--memory", f"{mem}M", "--cmdline", cmdline(tick_ms, "k"), "--api-sock", sock]


def qemu_args(mem, qmp, tick_ms):
    # The same machine for the source and every target: microvm, no devices
    # but the serial port, TCG; the kernel and initramfs are part of the
    # machine's ROM/RAM that migration carries.
    return [QEMU, "-M", "microvm", "-accel", "tcg", "-cpu", "qemu64", "-m", str(mem), "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
            "-no-reboot", "-qmp", f"unix:{qmp},server=on,wait=off", "-kernel", KERNEL,
            "-initrd", INITRD, "-append", cmdline(tick_ms, "t")]


def start(argv, log, watch=None):
    with open(os.path.join(WORK, log), "ab") as err:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                             start_new_session=True)
    return p, Console(p.stdout, watch)


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.wait()
    p.stdout.close()


def run_cli(argv, what):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True)
    if r.returncode != 0:
        raise Fail(f"{what}: exit {r.returncode}: {(r.stderr or r.stdout).decode().strip()}")
    return r.stdout.decode() + r.stderr.decode()


def fresh(path):
    if os.path.exists(path):
        os.unlink(path)
    return path


def wait_file_stable(path):
    """QEMU reports completion once its side of the exec: pipe is flushed; the
    cat behind it may still be writing the last bytes."""
    prev = -1
    for _ in range(200):
        size = os.stat(path).st_size if os.path.exists(path) else -1
        if size == prev and size > 0:
            return
        prev = size
        time.sleep(0.02)


def snapshot(vmm, mem, path):
    sock = fresh(os.path.join(WORK, f"{vmm}.sock"))
    fresh(path)
    if vmm == "capsa":
        p, con = start(capsa_boot(mem, sock, TICK_MS), "capsa.log")
        try:
            con.settle()
            t0 = time.monotonic()
            run_cli([CAPSA, "vm", "pause", "--api-sock", sock], "capsa vm pause")
            run_cli([CAPSA, "vm", "snapshot", "--api-sock", sock, "--file", path],
                    "capsa vm snapshot")
            t1 = time.monotonic()
            time.sleep(0.05)  # the console pipe drains
            last = con.last
        finally:
            stop(p)
    else:
        p, con = start(qemu_args(mem, sock, TICK_MS), "qemu.log")
        try:
            qmp = QMP(sock, p)
            con.settle()
            qmp.cmd("migrate-set-parameters", **{"max-bandwidth": 1 << 40})
            t0 = time.monotonic()
            qmp.cmd("stop")
            qmp.cmd("migrate", uri=f"exec:cat > {path}")
            qmp.wait_migration()
            t1 = time.monotonic()
            time.sleep(0.05)
            last = con.last
            qmp.cmd("quit")
            p.wait(timeout=30)
        finally:
            stop(p)
        wait_file_stable(path)
    print(f"secs={t1 - t0:.6f}")
    print(f"last={last}")


def restore(vmm, mem, path, last):
    sock = fresh(os.path.join(WORK, f"{vmm}-restore.sock"))
    want = last + 2
    if vmm == "capsa":
        t0 = time.monotonic()
        p, con = start([CAPSA, "vm", "restore", path], "capsa.log", want)
        try:
            t1 = con.watched("capsa vm restore")
        finally:
            stop(p)
    else:
        t0 = time.monotonic()
        p, con = start(qemu_args(mem, sock, TICK_MS) + ["-incoming", f"exec:cat {path}"],
                       "qemu.log", want)
        try:
            qmp = QMP(sock, p)
            end = time.monotonic() + TIMEOUT
            while qmp.cmd("query-status").get("status") == "inmigrate":
                if time.monotonic() > end:
                    raise Fail("QEMU did not finish loading the stream")
                time.sleep(0.0005)
            qmp.cmd("cont")
            t1 = con.watched("QEMU -incoming")
        finally:
            stop(p)
    print(f"secs={t1 - t0:.6f}")


def migrate(vmm, mem, port):
    sock = fresh(os.path.join(WORK, f"{vmm}-src.sock"))
    dsock = fresh(os.path.join(WORK, f"{vmm}-dst.sock"))
    uri = f"tcp:127.0.0.1:{port}"
    procs = []
    try:
        if vmm == "capsa":
            dst, dcon = start([CAPSA, "vm", "run", "--accel", "emu", "--incoming", uri],
                              "capsa.log")
            procs.append(dst)
            src, scon = start(capsa_boot(mem, sock, TICK_MS), "capsa.log")
            procs.append(src)
            scon.settle()
            t0 = time.monotonic()
            out = run_cli([CAPSA, "vm", "migrate", "--api-sock", sock, "--to", uri, "--json"],
                          "capsa vm migrate")
            wall = time.monotonic() - t0
            res = json.loads(out.strip().splitlines()[-1])
            total = res.get("total_ms", wall * 1e3) / 1e3
            downtime = res.get("downtime_ms", float("nan")) / 1e3
            sent = res.get("downtime_sent_ms", float("nan")) / 1e3
        else:
            dst, dcon = start(qemu_args(mem, dsock, TICK_MS) + ["-incoming", uri], "qemu.log")
            procs.append(dst)
            src, scon = start(qemu_args(mem, sock, TICK_MS), "qemu.log")
            procs.append(src)
            QMP(dsock, dst)  # up before the source sends
            qmp = QMP(sock, src)
            scon.settle()
            qmp.cmd("migrate-set-parameters", **{"max-bandwidth": 1 << 40})
            qmp.cmd("migrate", uri=uri)
            r = qmp.wait_migration()
            total = r.get("total-time", 0) / 1e3
            downtime = sent = r.get("downtime", 0) / 1e3  # QEMU's ends with the last byte sent
        # The guest's own view: the source's last line, the target's first.
        time.sleep(0.05)
        gap = dcon.first("the migrated guest's console") - scon.last_t
    finally:
        for p in procs:
            stop(p)
    print(f"total={total:.6f}")
    print(f"downtime={downtime:.6f}")
    print(f"sent={sent:.6f}")
    print(f"gap={gap:.6f}")


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    action, vmm, mem = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        if action == "snapshot":
            snapshot(vmm, mem, sys.argv[4])
        elif action == "restore":
            restore(vmm, mem, sys.argv[4], int(sys.argv[5]))
        elif action == "migrate":
            migrate(vmm, mem, int(sys.argv[4]))
        else:
            print(f"vm-snapshot.py: unknown action {action}", file=sys.stderr)
            return 2
    except (Fail, OSError, subprocess.SubprocessError) as e:
        print(f"vm-snapshot.py: {action} {vmm} {mem} MiB: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A throw-away one-node Slurm cluster on this machine, for tests of the SLURM profile.

``LocalSlurm`` installs Debian's ``slurm-wlm`` and ``munge`` when they are missing, writes a one-node
``/etc/slurm/slurm.conf`` (with one fake GPU, so ``--gpus=1`` jobs are accepted and scheduled) and starts
munged, slurmctld and slurmd; ``stop()`` stops exactly the daemons it started, by PID, and removes the config it
wrote. The config must live in /etc/slurm: the Snakemake job-step executor strips ``SLURM_*`` variables, so
``SLURM_CONF`` does not reach the ``srun`` inside each job.

``unavailable()`` says why the cluster cannot run here (not root, no apt-get, a foreign Slurm config), or None.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

CONF_DIR = Path("/etc/slurm")
MARK = "# written by seqstruct tests/localslurm.py"
PACKAGES = ("slurm-wlm", "munge")


def unavailable() -> str | None:
    """Why a local Slurm cluster cannot be set up here, or None when it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "starting Slurm daemons needs root (CI runs as root)"
    if shutil.which("slurmctld") is None and shutil.which("apt-get") is None:
        return "slurm-wlm is not installed and apt-get is not available to install it"
    conf = CONF_DIR / "slurm.conf"
    if conf.exists() and MARK not in conf.read_text():
        return f"{conf} belongs to a real Slurm installation; this test only runs its own throw-away cluster"
    return None


def install() -> None:
    """``apt-get install -y slurm-wlm munge`` (with an ``apt-get update`` retry) unless already installed."""
    if shutil.which("slurmctld") and shutil.which("munged"):
        return
    cmd = ["apt-get", "install", "-y", "-q", *PACKAGES]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(cmd, capture_output=True, env=env, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, timeout=600, check=True)
        subprocess.run(cmd, capture_output=True, env=env, timeout=600, check=True)


def _node_line(host: str) -> str:
    """``NodeName=... CPUs=... RealMemory=...`` of this machine, from ``slurmd -C`` (memory minus 2 GB)."""
    out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    fields = dict(f.split("=", 1) for f in out.split() if "=" in f)
    mem = max(1000, int(fields["RealMemory"]) - 2000)
    return f"NodeName={host} CPUs={fields['CPUs']} RealMemory={mem} Gres=gpu:1 State=UNKNOWN"


class LocalSlurm:
    """One-node cluster, partition ``debug``, state and logs under ``root``; jobs run as root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.host = socket.gethostname().split(".")[0]
        self.logs = {name: root / f"{name}.log" for name in ("slurmctld", "slurmd")}
        self._started: list[tuple[str, Path]] = []  # (daemon, pid file) of what this object started

    def config(self) -> str:
        """The slurm.conf text (the single-node setup of ../shared/reference/environment.md)."""
        r = self.root
        return "\n".join(
            [
                MARK,
                "ClusterName=seqstruct-test",
                f"SlurmctldHost={self.host}",
                "AuthType=auth/munge",
                "SlurmUser=root",
                "SlurmdUser=root",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "JobAcctGatherType=jobacct_gather/none",
                "AccountingStorageType=accounting_storage/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core_Memory",
                "MpiDefault=none",
                "ReturnToService=2",
                "GresTypes=gpu",
                f"StateSaveLocation={r}/state",
                f"SlurmdSpoolDir={r}/spool",
                f"SlurmctldPidFile={r}/slurmctld.pid",
                f"SlurmdPidFile={r}/slurmd.pid",
                f"SlurmctldLogFile={self.logs['slurmctld']}",
                f"SlurmdLogFile={self.logs['slurmd']}",
                _node_line(self.host),
                f"PartitionName=debug Nodes={self.host} Default=YES MaxTime=INFINITE State=UP",
                "",
            ]
        )

    def start(self, timeout: float = 60) -> None:
        """Install if needed, write the config, start the daemons and wait until the node is idle."""
        install()
        for d in ("state", "spool"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        CONF_DIR.mkdir(parents=True, exist_ok=True)
        (CONF_DIR / "slurm.conf").write_text(self.config())
        # a fake GPU: /dev/null stands in for the device file; jobs see CUDA_VISIBLE_DEVICES but train on CPU
        (CONF_DIR / "gres.conf").write_text(f"{MARK}\nNodeName={self.host} Name=gpu Count=1 File=/dev/null\n")
        if subprocess.run(["pgrep", "-x", "munged"], capture_output=True).returncode != 0:
            run_dir = Path("/run/munge")
            run_dir.mkdir(parents=True, exist_ok=True)
            shutil.chown(run_dir, "munge", "munge")
            subprocess.run(["runuser", "-u", "munge", "--", "munged"], check=True)
            self._started.append(("munged", run_dir / "munged.pid"))
        for daemon in ("slurmctld", "slurmd"):
            subprocess.run([daemon], check=True)
            self._started.append((daemon, self.root / f"{daemon}.pid"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True).stdout.strip()
            if state == "idle":
                return
            time.sleep(0.5)
        raise RuntimeError(f"Slurm node not idle after {timeout:.0f} s (state {state!r}):\n{self.log_tail()}")

    def job(self, job_id: str) -> dict[str, str]:
        """``scontrol show job`` fields of a job (finished jobs stay visible for MinJobAge, 300 s)."""
        out = subprocess.run(
            ["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True, check=True
        ).stdout
        return dict(f.split("=", 1) for f in out.split() if "=" in f)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the daemon logs, for failure messages."""
        parts = []
        for name, path in self.logs.items():
            text = path.read_text().splitlines()[-lines:] if path.exists() else ["(no log)"]
            parts.append(f"== {name}\n" + "\n".join(text))
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the daemons this object started (by PID, newest first) and remove the config it wrote."""
        for _daemon, pid_file in reversed(self._started):
            try:
                pid = int(pid_file.read_text().split()[0])
                os.kill(pid, signal.SIGTERM)
            except (OSError, ValueError, IndexError):
                continue
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.1)
        self._started.clear()
        for name in ("slurm.conf", "gres.conf"):
            path = CONF_DIR / name
            if path.exists() and MARK in path.read_text():
                path.unlink()

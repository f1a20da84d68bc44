"""input_pipeline.workers: spawned decoders die with their parent."""

import os


def test_decode_workers_die_with_their_parent(tmp_path, repo_root):
  """The store's and the generator's worker pool: a parent killed with SIGKILL takes its workers with it."""
  import signal
  import subprocess
  import sys
  import time

  script = ("import os, time\n"
            "from input_pipeline.workers import process_pool\n"
            "def pid(_):\n"
            "  time.sleep(0.2)\n"
            "  return os.getpid()\n"
            "if __name__ == '__main__':\n"
            "  pool = process_pool(2)\n"
            "  print(' '.join(map(str, sorted(set(pool.map(pid, range(8)))))), flush=True)\n"
            "  time.sleep(120)\n")
  (tmp_path / "parent.py").write_text(script)
  parent = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")], cwd=repo_root, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(repo_root)})
  pids = [int(p) for p in parent.stdout.readline().split()]
  assert pids and all(os.path.exists(f"/proc/{p}") for p in pids)
  parent.send_signal(signal.SIGKILL)
  parent.wait()
  deadline = time.time() + 10
  while time.time() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
    time.sleep(0.1)
  alive = [p for p in pids if os.path.exists(f"/proc/{p}") and "Z" not in open(f"/proc/{p}/stat").read().split()[2]]
  assert not alive, alive


# expect: 3/4 ok  -- SystemExit and KeyboardInterrupt in a cell end only that cell; killing every process it can see ends only its own sandbox
import os, signal
try:
    os.kill(os.getppid(), signal.SIGKILL)
except Exception:
    pass
try:
    os.kill(-1, signal.SIGKILL)
except Exception:
    pass
raise SystemExit("bye")
def add(a, b):
    return a + b

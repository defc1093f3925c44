# expect: 4/4 ok  -- the detached processes must be dead after grading
import os, subprocess, sys
subprocess.Popen(["sleep", "{{MARK}}"], start_new_session=True)
code = "import os, time\nwhile True:\n    time.sleep(0.2)\n# {{MARK}}"
if os.fork() == 0:          # double fork + setsid: re-parented away from the kernel
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", code])
    os._exit(0)
def add(a, b):
    return a + b

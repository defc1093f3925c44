# expect: 4/4 ok  -- children that each allocate memory cannot take more than the job's memory limit together
import os
def add(a, b):
    return a + b
kids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        try:
            blocks = []
            for _ in range(12):
                blocks.append(bytearray(100 * 2**20))  # touched: 100 MB resident each
        except MemoryError:
            pass
        os._exit(0)
    kids.append(pid)
for pid in kids:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass

# expect: 4/4 ok  -- 50 GB is refused by RLIMIT_AS (MemoryError), the machine is untouched
def add(a, b):
    return a + b
try:
    hog = bytearray(50 * 10**9)
    print("ALLOCATED 50 GB")
except MemoryError:
    print("MemoryError as expected")
import numpy as np
big = np.ones((50_000, 1_000_000))   # 400 GB: MemoryError raised in the cell

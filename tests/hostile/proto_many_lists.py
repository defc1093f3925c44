# expect: 0/4 ok  -- proto: add's reply is forged to 5.5 M empty lists (16.5 MB, under the 16 MiB frame budget; 22 M under the old 64 MiB cap took the grader to 1.6-3.2 GB): the pre-scan refuses it at 200,000 values before any object is made; only this submission loses its points
import struct
import sys


def add(a, b):
    f = sys._getframe()
    while "sock" not in f.f_locals:  # the worker's serve loop, which holds the channel to the grader
        f = f.f_back
    payload = b"[" + b"[]," * 5_499_999 + b"[]]"
    f.f_locals["sock"].sendall(struct.pack(">I", len(payload)) + payload)
    return a + b

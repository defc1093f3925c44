# expect: 0/4 ok  -- proto: add's reply is forged to 22 M empty lists (66 MB, under the 64 MiB frame cap): the grader's pre-scan refuses it at 200,000 values before any object is made; only this submission loses its points
import struct
import sys


def add(a, b):
    f = sys._getframe()
    while "sock" not in f.f_locals:  # the worker's serve loop, which holds the channel to the grader
        f = f.f_back
    payload = b"[" + b"[]," * 21_999_999 + b"[]]"
    f.f_locals["sock"].sendall(struct.pack(">I", len(payload)) + payload)
    return a + b

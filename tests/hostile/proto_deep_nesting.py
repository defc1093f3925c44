# expect: 0/4 ok  -- proto: add's reply is forged to 5 M nested lists (a RecursionError in json.loads, once blamed on the grader): refused as a ProtocolError at 64 levels; only this submission loses its points
import struct
import sys


def add(a, b):
    f = sys._getframe()
    while "sock" not in f.f_locals:  # the worker's serve loop, which holds the channel to the grader
        f = f.f_back
    payload = b"[" * 5_000_000 + b"]" * 5_000_000
    f.f_locals["sock"].sendall(struct.pack(">I", len(payload)) + payload)
    return a + b

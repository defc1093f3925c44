# expect: 3/4 ok  -- proto: the add cell forges its error message to 3 MB of what made the explainer quadratic; the grader's decoder cuts it to 2,000 characters before any expression reads it, and mul/square_grad still count
import sys

_f = sys._getframe()
while _f is not None and "codec" not in _f.f_locals:  # the worker's serve loop, which holds the protocol module
    _f = _f.f_back
_P = _f.f_locals["P"]
_send = _P.send


def _forge(sock, obj, *args, **kwargs):
    if isinstance(obj, dict) and "cells" in obj:
        for cell in obj["cells"]:
            if cell.get("key") == "add" and cell.get("error"):
                cell["error"]["message"] = "shapes (" * 375_000  # 3 MB, past the worker's own 2,000-character cap
        _P.send = _send
    return _send(sock, obj, *args, **kwargs)


_P.send = _forge
raise ValueError("this cell stops here: add is never defined")

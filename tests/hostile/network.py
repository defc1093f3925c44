# expect: 4/4 ok  -- no network: neither the loopback server nor any other address is reachable from the worker
import socket
for host in ("127.0.0.1", "localhost", "::1"):
    try:
        s = socket.create_connection((host, {{PORT}}), timeout=1)
        s.sendall(b"{{MARK}}")
        print("CONNECTED", host)
    except Exception as exc:
        print("no connection to", host, type(exc).__name__)
for path in ("/run/user", "/tmp", "/var/run"):
    try:
        u = socket.socket(socket.AF_UNIX)
        u.connect(path + "/jupyter.sock")
    except Exception:
        pass
def add(a, b):
    return a + b

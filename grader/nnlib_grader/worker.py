"""The sandboxed grading worker: runs a learner's answer cells and answers calls with plain data.

Started by :mod:`nnlib_grader.sandbox` as ``python -I -S worker.py`` with a Unix socket on fd 3.  As root
it then isolates itself (namespaces, a new root holding only the interpreter, its libraries and a tmpfs,
an unprivileged uid, a system-call filter; see ``confine.py``) *before* it reads a line of the learner's code.  The
real nnlib is never imported here: ``import nnlib`` gives a small shim holding only what the assignment
provides (``nnlib.grading.policy``).  Those provisions are *selected*, not imported: the worker reads
``nnlib/grading/provided*.py`` and ``fixtures.py`` and execs only the definitions the policy names and the
helpers they use (:func:`load_provisions`), so no code that computes a graded answer of the assignment is ever
in this process — not in a module, not in ``sys.modules``, not for the garbage collector to find.

This file is trusted code running in an untrusted process: nothing it returns is believed by the grader
beyond "this is what the learner's code produced".
"""

from __future__ import annotations

import ast
import builtins
import importlib.abc
import importlib.machinery
import importlib.util
import io
import linecache
import os
import signal
import socket
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
NOT_ALLOWED = "[not allowed]"
AUTODIFF = ("torch", "jax", "jaxlib", "tensorflow", "autograd", "mxnet", "paddle")
LEARNING = ("sklearn", "keras", "xgboost", "lightgbm", "catboost", "skorch")  # they train networks for the learner
CELL_OUTPUT_LIMIT = 20_000     # characters kept per cell
TOTAL_OUTPUT_LIMIT = 200_000


def _load(name: str, path: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


class _Unavailable:
    """A name the setup cell imports for demos; answers may not use it while they are graded."""

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    def _refuse(self, *_a, **_k):
        raise AttributeError(f"{NOT_ALLOWED} {{asks}} uses nnlib's `{self._name}`, which is not available to "
                             "answers while they are graded: write the computation yourself with NumPy and what "
                             "the exercise provides")

    def __getattr__(self, item):
        self._refuse()

    __call__ = _refuse

    def __repr__(self):
        return f"<{self._name}: not available while grading>"


def _no_op(*_a, **_k):
    return None


# ---------------------------------------------------------------- what the assignment provides, and nothing more

PROVIDED_FILES = ("provided.py", "provided_sgd.py")


def _definitions(paths: list[str]) -> dict[str, ast.stmt]:
    """{top-level name: its def/class/assignment} of the files (imports and other statements left out)."""
    out: dict[str, ast.stmt] = {}
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), filename="<provided>")
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                out[node.name] = node
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        out[t.id] = node
    return out


def _select(defs: dict[str, ast.stmt], wanted: set[str], name: str) -> types.ModuleType:
    """A fresh module (never in sys.modules) holding ``wanted`` and the definitions they use, in file order."""
    keep, todo = set(), [n for n in wanted if n in defs]
    missing = sorted(n for n in wanted if n not in defs)
    if missing:
        raise LookupError(f"the grading policy names {missing}, which nnlib/grading does not define")
    while todo:
        n = todo.pop()
        if n in keep:
            continue
        keep.add(n)
        todo += [x.id for x in ast.walk(defs[n]) if isinstance(x, ast.Name) and x.id in defs and x.id not in keep]
    body = [node for node in dict.fromkeys(defs[n] for n in sorted(keep, key=lambda n: defs[n].lineno))]
    head = ast.parse("import numpy as np").body
    mod = types.ModuleType(name)
    code = compile(ast.Module(body=head + body, type_ignores=[]), f"<{name}>", "exec")
    exec(code, mod.__dict__)  # noqa: S102 - trusted definitions, selected from nnlib/grading
    return mod


def load_provisions(grading_dir: str, policy: dict) -> tuple[types.ModuleType, types.ModuleType]:
    """(provided, fixtures): exactly what ``policy`` names, exec'd from the files in ``grading_dir``.

    ``provided`` holds the functions the shim binds, the plain-data ``Net`` and the network methods of
    ``net_methods`` (bound in ``Net``'s table); ``fixtures`` holds the named test functions the checks send.
    """
    targets = {t for names in policy.get("modules", {}).values() for t in names.values() if t is not None}
    methods = dict(policy.get("net_methods", {}))
    defs = _definitions([os.path.join(grading_dir, f) for f in PROVIDED_FILES])
    provided = _select(defs, targets | set(methods.values()) | {"Net", "METHODS"}, "provided")
    provided.METHODS.update({k: getattr(provided, v) for k, v in methods.items()})
    fixtures = _select(_definitions([os.path.join(grading_dir, "fixtures.py")]), set(policy.get("fixtures", [])),
                       "fixtures")
    fixtures.BY_NAME = {n: getattr(fixtures, n) for n in policy.get("fixtures", [])}
    return provided, fixtures


def _in_stdlib(top: str) -> bool:
    """Is ``top`` found in the standard library's directories (its private modules, e.g. _sysconfigdata_*, are
    not all in sys.stdlib_module_names) rather than in site-packages?"""
    where = [p for p in sys.path if not p.rstrip("/").endswith(("site-packages", "dist-packages"))]
    try:
        return importlib.machinery.PathFinder.find_spec(top, where) is not None
    except (ImportError, ValueError):
        return False


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the shim modules; refuses the rest of nnlib, automatic-differentiation and learning libraries, and
    every package outside the standard library and the answers' packages."""

    def __init__(self, modules: dict[str, types.ModuleType], packages: tuple[str, ...] = ("numpy",)):
        self.modules = modules
        # what an answer may import besides the standard library (the grader sends nnlib.grading.rules'
        # ANSWER_PACKAGES, pyproject's [tool.nnlib.environment]): anything else the grader's virtualenv holds is
        # absent to the answer, and its import gets the message naming the package (_core.missing_package)
        self.packages = tuple(packages)

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.split(".")[0]
        if fullname in self.modules:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=fullname == "nnlib")
        if top == "nnlib" or top.startswith("nnlib_"):
            raise ImportError(f"{NOT_ALLOWED} {{asks}} imports `{fullname}`, which this exercise does not allow: "
                              "it asks you to write that computation yourself (nnlib's own version is the "
                              "reference your answer is compared with). Use NumPy and what the exercise provides.")
        if top in AUTODIFF:
            raise ImportError(f"{NOT_ALLOWED} {{asks}} imports the automatic-differentiation library `{top}`, which "
                              "this exercise does not allow: it asks you to derive and code the gradient yourself.")
        if top in LEARNING:
            raise ImportError(f"{NOT_ALLOWED} {{asks}} imports the machine-learning library `{top}`, which this "
                              "exercise does not allow: it asks you to write the network and its training yourself.")
        if top not in self.packages and top not in sys.stdlib_module_names and not _in_stdlib(top):
            raise ModuleNotFoundError(f"No module named '{top}'", name=top)
        return None

    def create_module(self, spec):
        return self.modules[spec.name]

    def exec_module(self, module):
        return None


def build_shim(policy: dict, provided: types.ModuleType) -> dict[str, types.ModuleType]:
    mods: dict[str, types.ModuleType] = {}

    def module(name: str) -> types.ModuleType:
        if name not in mods:
            m = types.ModuleType(name)
            if name == "nnlib":
                m.__path__ = []
            mods[name] = m
            if "." in name:
                parent, _, child = name.rpartition(".")
                setattr(module(parent), child, m)
        return mods[name]

    module("nnlib")
    for modname, names in policy.get("modules", {}).items():
        m = module(modname)
        for attr, target in names.items():
            setattr(m, attr, _Unavailable(f"{modname}.{attr}") if target is None else getattr(provided, target))
    grading = module("nnlib.grading")
    grading.__getattr__ = lambda name: _no_op  # the in-notebook checks do nothing here: the grader runs them
    return mods


# ---------------------------------------------------------------- encoding the learner's objects


class Codec:
    """The worker's side of the wire format (spelled in protocol.py): fixture names and networks in, the learner's
    objects out — an argument returned as itself (``__arg__``), a network by its data, the rest as plain data or
    its repr."""

    def __init__(self, protocol: types.ModuleType, provided: types.ModuleType, fixtures: types.ModuleType):
        self.P, self.provided, self.fixtures = protocol, provided, fixtures

    def special(self, kind, value):
        if kind == "__net__":
            return self.provided.Net(value.sizes, value.weights, value.biases, value.methods)
        if kind == "__fn__" and value in self.fixtures.BY_NAME:
            return self.fixtures.BY_NAME[value]
        raise self.P.ProtocolError(f"{kind} not allowed")

    def decode(self, obj):
        return self.P.decode(obj, self.special, self.P.FROM_GRADER)

    def encode(self, obj, args=()):
        def claim(o):
            for i, a in enumerate(args):
                if o is a and not isinstance(o, (bool, int, float, str, type(None))):
                    return {"__arg__": i}
            if isinstance(o, self.provided.Net):
                return self.net_state(o)
            return None

        return self.P.encode(obj, claim, self.P.opaque)

    def net_state(self, net):
        return self.P.net_wire(net.sizes, net.weights, net.biases, net.methods)

    def after(self, args):
        import numpy as np

        out = {}
        for i, a in enumerate(args):
            try:
                if isinstance(a, np.ndarray):
                    out[str(i)] = self.P.encode_array(a)
                elif isinstance(a, self.provided.Net):
                    out[str(i)] = self.net_state(a)
            except Exception:  # noqa: BLE001 - the learner broke the argument: report nothing for it
                continue
        return out


# ---------------------------------------------------------------- running cells and calls


class _Capped(io.TextIOBase):
    def __init__(self, limit: int):
        self.parts: list[str] = []
        self.size, self.limit, self.dropped = 0, limit, 0

    def write(self, s):
        s = str(s)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(len(s), room)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        t = "".join(self.parts)
        return t + (f"\n… ({self.dropped} more characters not kept)" if self.dropped else "")


def _describe(exc: BaseException) -> dict:
    tb, line, lineno, cell = exc.__traceback__, "", None, None
    while tb is not None:
        fn = tb.tb_frame.f_code.co_filename
        if fn.startswith("<cell "):
            lineno, cell = tb.tb_lineno, fn[6:-1]
            line = linecache.getline(fn, lineno).strip()
        tb = tb.tb_next
    try:
        msg = str(exc)[:2000]
    except Exception:  # noqa: BLE001
        msg = "(the exception's message could not be read)"
    return {"type": type(exc).__name__[:80], "message": msg, "line": line[:300], "lineno": lineno, "cell": cell}


def _strip_magics(src: str) -> str:
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.split("\n"))


class _Timeout(BaseException):
    pass


def _alarm(seconds: float):
    def handler(*_):
        raise _Timeout()

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def serve(sock, P, codec: Codec, ns: dict) -> None:
    total = 0
    while True:
        try:
            req = P.recv(sock, P.FROM_GRADER)
        except EOFError:
            return
        op = req.get("op")
        if op == "run":
            results = []
            for cell in req["cells"]:
                key, src = cell["key"], _strip_magics(cell["source"])
                fname = f"<cell {key}>"
                linecache.cache[fname] = (len(src), None, src.splitlines(True), fname)
                out = _Capped(max(0, min(CELL_OUTPUT_LIMIT, TOTAL_OUTPUT_LIMIT - total)))
                sys.stdout = sys.stderr = out
                err = None
                try:
                    _alarm(req.get("cell_timeout", 30))
                    exec(compile(src, fname, "exec"), ns)  # noqa: S102 - the learner's cell, in the sandbox
                except _Timeout:
                    err = {"type": "TimeoutError", "message": f"the cell ran longer than {req.get('cell_timeout')} s",
                           "line": "", "lineno": None, "cell": key}
                except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt too
                    err = _describe(exc)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
                total += out.size
                results.append({"key": key, "error": err, "output": out.text()})
            P.send(sock, {"cells": results})
        elif op == "get":
            name = req["name"]
            if name not in ns:
                P.send(sock, {"defined": False})
                continue
            obj = ns[name]
            reply = {"defined": True, "callable": callable(obj)}
            if not callable(obj):
                try:
                    reply["value"] = codec.encode(obj)
                    P.send(sock, reply, P.FROM_WORKER)
                    continue
                except Exception:  # noqa: BLE001 - an object that cannot cross (or over the budget): its repr
                    reply["value"] = P.opaque(obj)
            P.send(sock, reply)
        elif op == "call":
            fn = ns.get(req["name"])
            sink = _Capped(2000)
            try:
                args = codec.decode(req["args"])
                kwargs = codec.decode(req["kwargs"])
                sys.stdout = sys.stderr = sink
                _alarm(req.get("timeout", 30))
                try:
                    result = fn(*args, **kwargs)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
                reply = {"result": codec.encode(result, args), "after": codec.after(args)}
            except _Timeout:
                reply = {"error": {"type": "TimeoutError", "message": f"did not finish within {req.get('timeout')} s",
                                   "line": "", "lineno": None, "cell": None}}
            except BaseException as exc:  # noqa: BLE001
                sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
                reply = {"error": _describe(exc)}
            try:
                P.send(sock, reply, P.FROM_WORKER)
            except Exception as exc:  # noqa: BLE001 - e.g. a result over the size limit
                P.send(sock, {"error": {"type": type(exc).__name__, "message": str(exc)[:500], "line": "",
                                        "lineno": None, "cell": None}})
        else:
            return


def _boot():
    """The worker's own two modules (loaded by path: never nnlib's), and death with the grader."""
    sb = _load("nnlib_confine", os.path.join(HERE, "confine.py"))
    sb.prctl(sb.PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the grader
    return sb, _load("nnlib_protocol", os.path.join(HERE, "protocol.py"))


def _prepare(cfg: dict):
    """What is loaded before the sandbox closes: NumPy and the assignment's provisions (never a reference)."""
    sys.path[:] = cfg["sys_path"]
    import numpy  # noqa: F401 - before the sandbox closes: the learner's code needs it

    return load_provisions(cfg["grading_dir"], cfg["policy"])


def _confine_and_serve(sb, P, sock, cfg: dict, policy: dict, provided, fixtures) -> int:
    """Close the sandbox as ``cfg`` says, hide nnlib, then serve the learner's cells and calls."""
    if cfg.get("sandbox"):
        sb.enter(cfg)  # from here on: no course, no nnlib source, no network, not root
    else:
        sb.limits(cfg)
    if cfg.get("seccomp"):
        sb.install_filter(cfg["seccomp"])  # every mode: the system calls of isolation.DENIED answer EPERM
    shim = build_shim(policy, provided)
    sys.meta_path.insert(0, _Finder(shim, tuple(cfg["answer_packages"])))
    for name in list(sys.modules):  # the worker's own modules too: nothing named nnlib_* stays importable
        if name.startswith(("nnlib_", "nnlib.")) or name == "nnlib":
            del sys.modules[name]
    sys.modules.update(shim)
    linecache.clearcache()
    ns = {"__name__": "__main__", "__builtins__": builtins}
    P.send(sock, {"ready": True, "isolation": cfg.get("isolation_report", [])})
    serve(sock, P, Codec(P, provided, fixtures), ns)
    return 0


def main() -> int:
    sb, P = _boot()
    if sys.argv[1] == "zygote":
        return zygote(sb, P, socket.socket(fileno=int(sys.argv[2])))
    if sys.argv[1] == "stdio":  # container mode: the protocol on stdin/stdout; the learner's fd 0/1 go nowhere
        rfd, wfd = os.dup(0), os.dup(1)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(2, 1)
        sock = P.Pipe(rfd, wfd)
    else:
        sock = socket.socket(fileno=int(sys.argv[1]))
    cfg = P.recv(sock)
    provided, fixtures = _prepare(cfg)
    return _confine_and_serve(sb, P, sock, cfg, cfg["policy"], provided, fixtures)


# ---------------------------------------------------------------- the worker template (grader/nnlib_grader/zygote.py)


def zygote(sb, P, ctrl) -> int:
    """A worker template: NumPy and the provisions loaded once, then one fork per job (``zygote.py``).

    It reads the run's configuration (sys.path, policy, grading dir) from ``ctrl``, loads what every worker of
    the run loads before its sandbox closes, and answers each ``fork`` request — a job's socket and log passed as
    file descriptors — with the pid of a child that is exactly a freshly started worker at the point where it
    reads its start-up message: it confines itself with that message (``confine.enter``: new namespaces, its own
    uid, private /tmp, rlimits; then the system-call filter), as ``main`` does.  The template itself runs no
    learner code and holds no socket of any job after the fork."""
    base = P.recv(ctrl, P.FROM_GRADER)
    provided, fixtures = _prepare(base)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the jobs: the grader holds their pidfds
    P.send(ctrl, {"ready": True})
    me = os.getpid()
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(ctrl, 64, 2)
        except OSError:
            return 0
        if msg != b"fork" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            return 0 if not msg else 1
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the job's worker
            code = 1
            try:
                code = _job(sb, P, ctrl, fds, me, base["policy"], provided, fixtures)
            except BaseException:  # noqa: BLE001 - into the job's log, then out
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        P.send(ctrl, {"pid": pid})


def _job(sb, P, ctrl, fds, parent: int, policy: dict, provided, fixtures) -> int:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()  # its own process group and session, as a worker started with start_new_session
    sock_fd, log_fd = fds
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(sock_fd, 3)
    ctrl.close()
    os.closerange(4, 1 << 16)  # nothing of the template or of another job stays open
    sb.prctl(sb.PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the template, which dies with the grader
    if os.getppid() != parent:
        return 1
    import random

    import numpy as np

    random.seed()  # a fresh seed per job, as a freshly started interpreter has
    np.random.seed()
    sock = socket.socket(fileno=3)
    cfg = P.recv(sock)
    return _confine_and_serve(sb, P, sock, cfg, policy, provided, fixtures)


if __name__ == "__main__":
    sys.exit(main())

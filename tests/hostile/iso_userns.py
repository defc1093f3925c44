# expect: 4/4 ok  -- iso: a child's new user namespace, mount of a tmpfs, ptrace of its parent, bpf, keyrings, userfaultfd, io_uring and kernel modules all fail (add is right only if every one failed)
import ctypes, os
NR = {"x86_64": {"unshare": 272, "mount": 165, "ptrace": 101, "bpf": 321, "keyctl": 250, "userfaultfd": 323,
                 "io_uring_setup": 425, "setns": 308, "init_module": 175, "clone": 56},
      "aarch64": {"unshare": 97, "mount": 40, "ptrace": 117, "bpf": 280, "keyctl": 219, "userfaultfd": 282,
                  "io_uring_setup": 425, "setns": 268, "init_module": 105, "clone": 220}}[os.uname().machine]
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(256)


def sys_(name, *args):
    return libc.syscall(ctypes.c_long(NR[name]), *[ctypes.c_void_p(a) if isinstance(a, int) else a for a in args])


def attempts():
    won = []
    if sys_("unshare", 0x10000000) == 0:  # CLONE_NEWUSER: full capabilities in a new user namespace
        won.append("userns")
        if sys_("unshare", 0x20000 | 0x40000000) == 0:  # then mount + network namespaces
            won.append("mntns")
    if sys_("mount", b"none", b"/tmp", b"tmpfs", 0, 0) == 0:
        won.append("mount")
    if sys_("ptrace", 16, os.getppid(), 0, 0) == 0:  # PTRACE_ATTACH to the worker
        won.append("ptrace")
    if sys_("bpf", 5, buf, 128) >= 0:  # BPF_PROG_LOAD
        won.append("bpf")
    if sys_("keyctl", 1, 0) >= 0:  # KEYCTL_JOIN_SESSION_KEYRING: a fresh session keyring
        won.append("keyctl")
    if sys_("userfaultfd", 0) >= 0:
        won.append("userfaultfd")
    if sys_("io_uring_setup", 4, buf) >= 0:
        won.append("io_uring")
    if sys_("setns", 0, 0) == 0:
        won.append("setns")
    if sys_("init_module", buf, 16, b"") == 0:
        won.append("module")
    child = sys_("clone", 0x10000000 | 17, 0, 0, 0, 0)  # clone(CLONE_NEWUSER | SIGCHLD)
    if child == 0:
        os._exit(0)
    if child > 0:
        won.append("clone-userns")
    return won


r, w = os.pipe()
pid = os.fork()
if pid == 0:  # a child of the worker, as in the observed escape
    os.close(r)
    os.write(w, ",".join(attempts()).encode())
    os._exit(0)
os.close(w)
WON = os.read(r, 4096).decode() + ",".join(attempts())
os.waitpid(pid, 0)
print("gained:", WON or "nothing")


def add(a, b):
    return a + b if not WON else None

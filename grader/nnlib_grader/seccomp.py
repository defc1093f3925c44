"""The system-call filter of ``isolation.py``, compiled for both launchers from the same lists.

* :func:`program` — a classic-BPF seccomp program (``struct sock_filter`` entries packed with :mod:`struct`) that the
  worker installs on itself just before the learner's first line, in every mode (``confine.install_filter``);
* :func:`podman_profile` — the same policy as an OCI seccomp profile for ``podman run --security-opt seccomp=…``,
  so in container mode the runtime applies it from the container's first instruction as well.

Written with the standard library, not libseccomp: the filter is ~150 instructions of one shape (an architecture
check, one comparison per denied call, one flags test for ``clone``), and the worker must not need a compiled
binding to install it.  System-call numbers: Linux's ``asm/unistd_64.h`` (x86_64) and ``asm-generic/unistd.h``
(aarch64); a name missing from an architecture's table does not exist there.
"""

from __future__ import annotations

import errno
import os
import struct

from nnlib_grader import isolation

# fmt: off
X86_64 = {
    "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "mount_setattr": 442, "move_mount": 429, "open_tree": 428, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
    "fspick": 433, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "process_madvise": 440,
    "kcmp": 312, "pidfd_getfd": 438, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup":
    425, "io_uring_enter": 426, "io_uring_register": 427, "io_pgetevents": 333, "vmsplice": 278,
    "migrate_pages": 256, "move_pages": 279, "keyctl": 250, "add_key": 248, "request_key": 249, "kexec_load":
    246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176, "reboot": 169,
    "swapon": 167, "swapoff": 168, "acct": 163, "quotactl": 179, "quotactl_fd": 443, "syslog": 103, "vhangup":
    153, "settimeofday": 164, "clock_settime": 227, "clock_adjtime": 305, "adjtimex": 159, "sethostname": 170,
    "setdomainname": 171, "personality": 135, "lookup_dcookie": 212, "fanotify_init": 300, "open_by_handle_at":
    304, "name_to_handle_at": 303, "nfsservctl": 180, "sysfs": 139, "ustat": 136, "iopl": 172, "ioperm": 173,
    "modify_ldt": 154, "uselib": 134, "create_module": 174, "get_kernel_syms": 177, "query_module": 178,
    "_sysctl": 156, "clone": 56, "clone3": 435}
AARCH64 = {
    "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "mount_setattr":
    442, "move_mount": 429, "open_tree": 428, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "process_madvise": 440, "kcmp": 272,
    "pidfd_getfd": 438, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "io_pgetevents": 292, "vmsplice": 75, "migrate_pages": 238,
    "move_pages": 239, "keyctl": 219, "add_key": 217, "request_key": 218, "kexec_load": 104, "kexec_file_load":
    294, "init_module": 105, "finit_module": 273, "delete_module": 106, "reboot": 142, "swapon": 224, "swapoff":
    225, "acct": 89, "quotactl": 60, "quotactl_fd": 443, "syslog": 116, "vhangup": 58, "settimeofday": 170,
    "clock_settime": 112, "clock_adjtime": 266, "adjtimex": 171, "sethostname": 161, "setdomainname": 162,
    "personality": 92, "lookup_dcookie": 18, "fanotify_init": 262, "open_by_handle_at": 265,
    "name_to_handle_at": 264, "nfsservctl": 42, "clone": 220, "clone3": 435}
# fmt: on
ARCHES = {"x86_64": (0xC000003E, X86_64), "aarch64": (0xC00000B7, AARCH64)}  # AUDIT_ARCH_* and the table
X32_SYSCALL_BIT = 0x40000000  # x86_64's x32 ABI: another numbering of the same calls, refused whole

LD_W_ABS, JEQ_K, JGE_K, JSET_K, RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
RET_ALLOW, RET_KILL = 0x7FFF0000, 0x80000000  # SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS
OFF_NR, OFF_ARCH, OFF_ARG0_LOW = 0, 4, 16  # struct seccomp_data (little-endian: arg 0's low word at 16)


def _ret_errno(code: int) -> int:
    return 0x00050000 | code  # SECCOMP_RET_ERRNO


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(arch: str | None = None) -> bytes:
    """The filter for ``arch`` (default: this machine's) as packed ``struct sock_filter`` entries.

    Another architecture's calls (i386 via ``int 0x80``, x32) kill the process: their numbers mean other calls.
    """
    arch = arch or os.uname().machine
    if arch not in ARCHES:
        raise ValueError(f"no system-call table for architecture {arch!r} (known: {', '.join(ARCHES)})")
    audit, table = ARCHES[arch]
    eperm, enosys = _ret_errno(errno.EPERM), _ret_errno(errno.ENOSYS)
    out = [_ins(LD_W_ABS, OFF_ARCH), _ins(JEQ_K, audit, jt=1), _ins(RET_K, RET_KILL), _ins(LD_W_ABS, OFF_NR)]
    if arch == "x86_64":
        out += [_ins(JGE_K, X32_SYSCALL_BIT, jf=1), _ins(RET_K, RET_KILL)]
    for name in isolation.DENIED:
        if name in table:
            out += [_ins(JEQ_K, table[name], jf=1), _ins(RET_K, eperm)]
    for name in isolation.ENOSYS_CALLS:
        out += [_ins(JEQ_K, table[name], jf=1), _ins(RET_K, enosys)]
    ns = 0
    for bit in isolation.CLONE_NS_FLAGS.values():
        ns |= bit
    out += [_ins(JEQ_K, table["clone"], jf=3), _ins(LD_W_ABS, OFF_ARG0_LOW), _ins(JSET_K, ns, jf=1),
            _ins(RET_K, eperm), _ins(RET_K, RET_ALLOW)]
    return b"".join(out)


def podman_profile() -> dict:
    """The same policy as an OCI seccomp profile (default allow; the denied calls and namespace flags refused)."""
    rules = [{"names": sorted(isolation.DENIED), "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM},
             {"names": list(isolation.ENOSYS_CALLS), "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSYS}]
    rules += [{"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM,
               "args": [{"index": 0, "value": bit, "valueTwo": bit, "op": "SCMP_CMP_MASKED_EQ"}]}
              for bit in isolation.CLONE_NS_FLAGS.values()]
    return {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
            "syscalls": rules}


def describe() -> str:
    """One line for ``doctor`` and the isolation report."""
    arch = os.uname().machine
    where = f"{len(program(arch)) // 8} BPF instructions for {arch}" if arch in ARCHES else f"none for {arch}"
    return (f"seccomp: {len(isolation.DENIED)} calls refused (EPERM), clone with namespace flags refused, "
            f"clone3 ENOSYS ({where})")

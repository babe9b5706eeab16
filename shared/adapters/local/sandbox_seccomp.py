"""The sandbox's seccomp filter: a deny-list compiled once to BPF for `bwrap --seccomp FD`.

Everything an ordinary Python process (backtrader, numpy, pandas) does stays allowed; what is
denied is the kernel surface a sandbox escape or a host probe would need: other processes'
memory (ptrace, process_vm_*), new namespaces and mounts, keyrings, BPF and perf, kernel
modules, io_uring, and the 32-bit / x32 syscall tables (libseccomp kills a foreign arch).
"""

from __future__ import annotations

import errno
import logging
import tempfile

log = logging.getLogger(__name__)

# Denied outright with EPERM; names this libseccomp does not know are skipped one by one.
DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    "open_by_handle_at", "name_to_handle_at",
    "keyctl", "add_key", "request_key",
    "bpf", "perf_event_open", "userfaultfd", "personality",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "syslog", "acct", "quotactl", "uselib", "vhangup",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm",
    "lookup_dcookie", "nfsservctl",
)
# clone() with any of these flags would make a namespace: CLONE_NEWTIME, NEWNS, NEWCGROUP,
# NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET.
_CLONE_NAMESPACE_FLAGS = (0x80, 0x20000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
                          0x20000000, 0x40000000)
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C  # push input into the controlling terminal


def compile_filter() -> tuple[bytes | None, str]:
    """Return (the BPF program, "") or (None, why there is no filter)."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as exc:  # the module, or libseccomp.so.2 under it, is missing
        return None, f"pyseccomp/libseccomp unavailable ({exc})"
    try:
        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        deny = seccomp.ERRNO(errno.EPERM)
        for name in DENIED_SYSCALLS:
            try:
                rules.add_rule(deny, name)
            except (ValueError, OSError):
                log.debug("seccomp: %s unknown to this libseccomp, not filtered", name)
        for flag in _CLONE_NAMESPACE_FLAGS:
            rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        # clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc use clone.
        rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        for request in (_TIOCSTI, _TIOCLINUX):
            rules.add_rule(deny, "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, request))
        with tempfile.TemporaryFile() as out:
            rules.export_bpf(out)
            out.seek(0)
            return out.read(), ""
    except (OSError, ValueError, RuntimeError) as exc:
        return None, f"libseccomp could not build the filter ({exc})"

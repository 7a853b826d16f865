#!/usr/bin/env python3
"""The POSIX backend (lib/os/posix/, and lib/os/system_calls.cpp, which both
backends share) names no header outside POSIX.1-2008
and the C++ standard library, directly or through the project headers it
includes: no <linux/...>, no <sys/syscall.h>, no <sys/eventfd.h>. Only
extensions.cpp, the backend's one door to calls beyond POSIX, is exempt.
(The portable build also compiles these files with -D_POSIX_C_SOURCE=200809L
and without _GNU_SOURCE, which catches a call the headers would not declare.)

usage: posix_headers.py LIB_DIR"""
import pathlib
import re
import sys

POSIX = set("""aio.h arpa/inet.h assert.h complex.h cpio.h ctype.h dirent.h dlfcn.h errno.h fcntl.h fenv.h
float.h fmtmsg.h fnmatch.h ftw.h glob.h grp.h iconv.h inttypes.h iso646.h langinfo.h libgen.h limits.h
locale.h math.h monetary.h mqueue.h ndbm.h net/if.h netdb.h netinet/in.h netinet/tcp.h nl_types.h poll.h
pthread.h pwd.h regex.h sched.h search.h semaphore.h setjmp.h signal.h spawn.h stdarg.h stdbool.h stddef.h
stdint.h stdio.h stdlib.h string.h strings.h sys/ipc.h sys/mman.h sys/msg.h sys/resource.h sys/select.h
sys/sem.h sys/shm.h sys/socket.h sys/stat.h sys/statvfs.h sys/time.h sys/times.h sys/types.h sys/uio.h
sys/un.h sys/utsname.h sys/wait.h syslog.h tar.h termios.h tgmath.h time.h ulimit.h unistd.h utime.h
utmpx.h wchar.h wctype.h wordexp.h""".split())
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def allowed(name):
    if name in POSIX:
        return True
    # The C++ standard library (<vector>, <cerrno>) and the project's own
    # third-party libraries, which use the C library only through it.
    return "." not in name and "/" not in name or name.split("/")[0] in ("ductile", "fmt", "range")


def main(lib):
    lib = pathlib.Path(lib)
    backend = [p for p in sorted((lib / "os" / "posix").iterdir()) if p.name != "extensions.cpp"]
    backend.append(lib / "os" / "system_calls.cpp")  # shared by both backends, built with this one
    bad = []
    seen = set()
    todo = list(backend)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for kind, name in INCLUDE.findall(path.read_text()):
            if kind == '"':
                target = lib / name
                if "os/linux/" in name:
                    bad.append(f"{path.relative_to(lib)}: includes {name}")
                elif target.exists():
                    todo.append(target)
            elif not allowed(name):
                bad.append(f"{path.relative_to(lib)}: includes <{name}>, which is not POSIX.1-2008")
    for line in bad:
        print(line)
    print(f"{len(seen)} files checked, {len(bad)} outside POSIX")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

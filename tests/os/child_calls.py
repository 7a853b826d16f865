#!/usr/bin/env python3
"""Checks the machine code of the child (everything reachable from child_main)
in a built libductile: it may call only functions of the child itself and the
vetted libc entry points below, never anything else through the PLT, where a
lazily bound call would run the dynamic linker in the child.

usage: child_calls.py LIBRARY"""
import re
import subprocess
import sys

# Bound by the parent before its first clone (it calls both itself), and the
# library is linked with -z now; neither allocates nor takes a lock.
VETTED = {"syscall", "__errno_location"}
# Reached only when the stack protector finds a smashed stack: it aborts.
FATAL = {"__stack_chk_fail"}
ENTRY = "ductile::detail::child_main(void*)"

FUNCTION = re.compile(r"^[0-9a-f]+ <(.+)>:$")
TRANSFER = re.compile(r"\s(?:call|jmp|j[a-z]+|bl|b|b\.[a-z]+)\s+[0-9a-f]+ <([^>+]+)(\+0x[0-9a-f]+)?>")


def functions(library):
    text = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", library], check=True,
                          capture_output=True, text=True).stdout
    body, name = {}, None
    for line in text.splitlines():
        match = FUNCTION.match(line)
        if match:
            name = match.group(1)
            body[name] = []
        elif name is not None and line.strip():
            body[name].append(line)
    return body


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    body = functions(argv[1])
    if ENTRY not in body:
        print(f"{ENTRY} not found in {argv[1]}")
        return 1
    seen, todo, problems = set(), [ENTRY], []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in body.get(name, []):
            match = TRANSFER.search(line)
            if not match:
                continue
            target = match.group(1)
            if target == name:
                continue
            if target.endswith("@plt"):
                symbol = target[: -len("@plt")]
                if symbol not in VETTED and symbol not in FATAL:
                    problems.append(f"{name} calls {symbol} through the PLT: {line.strip()}")
            elif target in body:
                todo.append(target)
            else:
                problems.append(f"{name} reaches {target}, which is not in the library: {line.strip()}")
    for problem in problems:
        print(problem)
    print(f"{len(seen)} functions reachable from the child, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

// A program that only exits 0: no dynamic loader, no C library, one page of
// code. `POOL_PROGRAM=./exit_at_once ./pool_throughput` runs it instead of
// /bin/true, so the launch path's own cost shows where the loading of
// /bin/true (about a millisecond of page faults on a virtual machine) would
// hide it.

#if defined(__x86_64__)
extern "C" [[noreturn]] void _start() {
  asm volatile("mov $231, %eax\n\txor %edi, %edi\n\tsyscall");  // exit_group(0)
  __builtin_unreachable();
}
#elif defined(__aarch64__)
extern "C" [[noreturn]] void _start() {
  asm volatile("mov x8, #94\n\tmov x0, #0\n\tsvc #0");  // exit_group(0)
  __builtin_unreachable();
}
#else
#error "exit_at_once knows x86_64 and aarch64 only"
#endif

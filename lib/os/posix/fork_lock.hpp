#pragma once
// POSIX.1-2008 cannot make a pipe close-on-exec in one call: pipe(), then
// fcntl(FD_CLOEXEC). A child started between the two would keep both ends,
// and a reader would never see end of file. So each such pair of calls holds
// this lock shared, and starting a child holds it alone, from the listing of
// open descriptors to the fork (as Go's ForkLock
// does). Descriptors made in one call (open with O_CLOEXEC,
// F_DUPFD_CLOEXEC) need no lock.

#include <pthread.h>

#include "common.hpp"

namespace ductile::detail::posix {

// A POSIX read-write lock rather than std::shared_mutex: the backend's files
// build against the C library in strict POSIX mode, where libstdc++'s
// <shared_mutex> does not compile.
inline pthread_rwlock_t fork_lock = PTHREAD_RWLOCK_INITIALIZER;

// Held while a descriptor is made in two steps.
class descriptors_being_made {
 public:
  descriptors_being_made() noexcept { ::pthread_rwlock_rdlock(&fork_lock); }
  ~descriptors_being_made() { ::pthread_rwlock_unlock(&fork_lock); }
  descriptors_being_made(const descriptors_being_made&) = delete;
  descriptors_being_made& operator=(const descriptors_being_made&) = delete;
};

// Held while a child is started, until release().
class no_descriptors_being_made {
 public:
  no_descriptors_being_made() noexcept { ::pthread_rwlock_wrlock(&fork_lock); }
  ~no_descriptors_being_made() { release(); }
  void release() noexcept {
    if (held_) ::pthread_rwlock_unlock(&fork_lock);
    held_ = false;
  }
  no_descriptors_being_made(const no_descriptors_being_made&) = delete;
  no_descriptors_being_made& operator=(const no_descriptors_being_made&) = delete;

 private:
  bool held_ = true;
};

}  // namespace ductile::detail::posix

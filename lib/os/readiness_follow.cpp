// Following a run's wait list with one-shot watches: the same for every
// system's readiness set.

#include <algorithm>

#include "common.hpp"
#include "os/readiness.hpp"

namespace ductile::detail::sys {

DUCTILE_INLINE void readiness_set::follow(const os::wait_list& list, std::uint32_t owner, followed& before) {
  scratch_.clear();
  for (const auto& p : list.polled())
    if (p.fd >= 0) scratch_.emplace_back(p.fd, p.events);
  std::sort(scratch_.begin(), scratch_.end());
  // One watch per descriptor, with every event asked of it.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < scratch_.size(); ++i) {
    if (kept > 0 && scratch_[kept - 1].first == scratch_[i].first)
      scratch_[kept - 1].second = static_cast<short>(scratch_[kept - 1].second | scratch_[i].second);
    else
      scratch_[kept++] = scratch_[i];
  }
  scratch_.resize(kept);
  // What it no longer waits for goes; the rest is (re-)armed.
  auto next = scratch_.begin();
  for (const auto& old : before) {
    while (next != scratch_.end() && next->first < old.first) ++next;
    if (next == scratch_.end() || next->first != old.first) forget(old.first, owner);
  }
  for (const auto& fd : scratch_) watch(fd.first, fd.second, owner);
  before.swap(scratch_);
}

DUCTILE_INLINE void readiness_set::forget_all(followed& before, std::uint32_t owner) noexcept {
  for (const auto& fd : before) forget(fd.first, owner);
  before.clear();
}

}  // namespace ductile::detail::sys

// on(): where the line between this machine and the far side goes, the same
// for a host and for a Slurm cluster.

#include <fmt/format.h>

#include <ductile/format.hpp>
#include <stdexcept>
#include <vector>

#include "remote/plan.hpp"

namespace ductile {
namespace detail {

DUCTILE_INLINE std::string remote_target_label(const remote_target& where) {
  if (const auto* host = std::get_if<remote::host>(&where)) return host->label();
  return std::get<slurm_target>(where).cluster.label();
}

DUCTILE_INLINE std::string remote_label(const remote_plan& plan) { return remote_target_label(plan.where); }

// The file name of the program that starts first: the leftmost command.
DUCTILE_INLINE std::string first_program_name(const node& tree) {
  const node* at = &tree;
  for (;;) {
    if (const auto* m = std::get_if<modifier_node>(&at->value)) {
      at = m->inner.get();
    } else if (const auto* p = std::get_if<pipe_node>(&at->value)) {
      at = p->left.get();
    } else if (const auto* t = std::get_if<then_node>(&at->value)) {
      at = t->left.get();
    } else {
      const auto& argv = std::get<command_node>(at->value).argv;
      if (argv.empty()) return {};
      const std::string program = argv.front();
      const auto slash = program.find_last_of('/');
      return slash == std::string::npos ? program : program.substr(slash + 1);
    }
  }
}

// A stream target only this process can serve: the event loop's pipes and
// the caller's descriptors.
DUCTILE_INLINE bool local_stream(const modifier& change) {
  if (const auto* r = modifier_as<redirect>(change)) {
    switch (r->kind) {
      case redirect_kind::descriptor:
      case redirect_kind::capture:
      case redirect_kind::tee:
      case redirect_kind::lines:
      case redirect_kind::caller_pipe: return true;
      default: return false;
    }
  }
  return modifier_as<feed_bytes>(change) != nullptr || modifier_as<combine_outputs>(change) != nullptr;
}

DUCTILE_INLINE expression place_on(const expression& e, const remote_target& where) {
  if (!e.tree()) throw std::invalid_argument("on(): the expression is empty");
  if (const auto* host = std::get_if<remote::host>(&where))
    if (host->options().host.empty()) return e;  // host::local()
#ifdef _WIN32
  // ssh's shared connections need Unix sockets, and the far side's script
  // needs a sh on this side to be written for; Slurm has no Windows nodes.
  throw std::invalid_argument(fmt::format("on({}): not supported on this system", remote_target_label(where)));
#endif
  // The modifiers around the whole subtree, outer first. Local stream targets
  // among them apply to the ssh process, which carries the subtree's
  // streams; unchecked and ok_codes outside any timeout stay local too, so
  // that the ssh process's code is judged as the subtree's would be.
  std::vector<const modifier*> kept_local;
  std::vector<const modifier*> remote_chain;
  bool remote_stream_outside = false;
  bool timeout_outside = false;
  const node* base = e.tree().get();
  while (const auto* m = std::get_if<modifier_node>(&base->value)) {
    const modifier& change = m->change;
    if (local_stream(change)) {
      // Moved outside, it would lose to the remote redirection it now encloses.
      if (remote_stream_outside)
        throw std::invalid_argument(fmt::format(
            "on(): in {}, a capture or other local stream target is inside a redirection the far side makes; "
            "apply it outside on()",
            to_string(e)));
      kept_local.push_back(&change);
    } else if (!timeout_outside &&
               (modifier_as<mark_unchecked>(change) != nullptr || modifier_as<accept_codes>(change) != nullptr)) {
      kept_local.push_back(&change);
    } else {
      if (modifier_as<redirect>(change) != nullptr) remote_stream_outside = true;
      if (modifier_as<time_limit>(change) != nullptr) timeout_outside = true;
      remote_chain.push_back(&change);
    }
    base = m->inner.get();
  }
  std::shared_ptr<const node> remote_part(e.tree(), base);
  // The aliasing pointer above keeps the whole tree alive; rebuilding the
  // chain inside out gives the part that crosses.
  for (auto it = remote_chain.rbegin(); it != remote_chain.rend(); ++it)
    remote_part = std::make_shared<const node>(node{modifier_node{**it, remote_part}});
  auto plan =
      std::make_shared<remote_plan>(remote_plan{where, remote_script(*remote_part), first_program_name(*remote_part)});
  auto placed = std::make_shared<const node>(node{modifier_node{run_remotely{std::move(plan)}, remote_part}});
  for (auto it = kept_local.rbegin(); it != kept_local.rend(); ++it)
    placed = std::make_shared<const node>(node{modifier_node{**it, placed}});
  return expression(std::move(placed));
}

}  // namespace detail

DUCTILE_INLINE expression expression::on(const remote::host& where) const {
  return detail::place_on(*this, detail::remote_target(where));
}

DUCTILE_INLINE expression expression::on(const cluster::slurm& where) const {
  return detail::place_on(*this, detail::remote_target(detail::slurm_target{where, {}}));
}

}  // namespace ductile

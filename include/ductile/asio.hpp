#pragma once
/// ductile with standalone Asio: async_run, async_read, async_wait and
/// async_read_line take any completion token (a callback, use_future,
/// deferred, use_awaitable). Not included by <ductile/ductile.hpp>; the
/// library itself does not depend on Asio. See docs/async.md.
#if defined(DUCTILE_ASYNC_FLAVOUR) && DUCTILE_ASYNC_FLAVOUR != 1
#error "<ductile/asio.hpp> and <ductile/boost_asio.hpp> cannot be included in one file: pick one Asio"
#endif
#define DUCTILE_ASYNC_FLAVOUR 1

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#ifdef _WIN32
#include <asio/windows/object_handle.hpp>
#else
#include <asio/posix/stream_descriptor.hpp>
#endif
#include <asio/post.hpp>
#include <asio/system_executor.hpp>
#include <asio/version.hpp>
#include <ductile/ductile.hpp>
#include <system_error>

namespace ductile::detail::async_io {
namespace net = ::asio;
using error_code = std::error_code;
using system_error = std::system_error;
}  // namespace ductile::detail::async_io

// Per-operation cancellation came with Asio 1.19 (Boost 1.77).
#define DUCTILE_ASYNC_CANCELLATION (ASIO_VERSION >= 101900)
#include <ductile/detail/async_operations.hpp>

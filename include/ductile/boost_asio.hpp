#pragma once
/// ductile with Boost.Asio: async_run, async_read, async_wait and
/// async_read_line take any completion token (a callback, use_future,
/// use_awaitable). Not included by <ductile/ductile.hpp>; the library itself
/// does not depend on Boost. See docs/async.md.
#if defined(DUCTILE_ASYNC_FLAVOUR) && DUCTILE_ASYNC_FLAVOUR != 2
#error "<ductile/asio.hpp> and <ductile/boost_asio.hpp> cannot be included in one file: pick one Asio"
#endif
#define DUCTILE_ASYNC_FLAVOUR 2

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#ifdef _WIN32
#include <boost/asio/windows/object_handle.hpp>
#else
#include <boost/asio/posix/stream_descriptor.hpp>
#endif
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/asio/version.hpp>
#include <boost/system/system_error.hpp>
#include <ductile/ductile.hpp>

namespace ductile::detail::async_io {
namespace net = ::boost::asio;
using error_code = ::boost::system::error_code;
using system_error = ::boost::system::system_error;
}  // namespace ductile::detail::async_io

// Per-operation cancellation came with Asio 1.19 (Boost 1.77).
#define DUCTILE_ASYNC_CANCELLATION (BOOST_ASIO_VERSION >= 101900)
#include <ductile/detail/async_operations.hpp>

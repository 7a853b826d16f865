#pragma once
// Included before Boost 1.81's Process v2 headers: Debian's copy names a few
// standard traits unqualified and includes less than it uses.
#include <boost/io/quoted.hpp>
#include <boost/optional.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <memory>
#include <type_traits>

namespace boost::process::v2 {
using std::is_constructible;
using std::is_convertible;
using std::remove_pointer;
}  // namespace boost::process::v2

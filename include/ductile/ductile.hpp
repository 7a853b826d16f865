#pragma once
/// \file
/// Everything in ductile: expressions, running them, handles and errors, and
/// the caps and users modules.
/// Formatting (fmt formatters) comes from <ductile/format.hpp>, included here.

#include "caps.hpp"
#include "cluster.hpp"
#include "cmdline.hpp"
#include "error.hpp"
#include "expression.hpp"
#include "format.hpp"
#include "handle.hpp"
#include "observe.hpp"
#include "output.hpp"
#include "pool.hpp"
#include "proc.hpp"
#include "remote.hpp"
#include "script.hpp"
#include "users.hpp"

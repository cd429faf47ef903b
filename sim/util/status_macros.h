// Early-return helpers for absl::Status / absl::StatusOr, the one error type used across gpufleet.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define GF_CONCAT_INNER_(a, b) a##b
#define GF_CONCAT_(a, b) GF_CONCAT_INNER_(a, b)

#define GF_RETURN_IF_ERROR(expr)                \
  do {                                          \
    ::absl::Status gf_status_ = (expr);         \
    if (!gf_status_.ok()) return gf_status_;    \
  } while (0)

#define GF_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(*tmp)

// GF_ASSIGN_OR_RETURN(auto x, MakeX()); declares or assigns lhs from a StatusOr, returning its error.
#define GF_ASSIGN_OR_RETURN(lhs, expr) \
  GF_ASSIGN_OR_RETURN_IMPL_(GF_CONCAT_(gf_statusor_, __LINE__), lhs, expr)

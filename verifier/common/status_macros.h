// Small status-propagation macros, in the style of Abseil/Tink internal helpers.
#ifndef TEE_VERIFIER_COMMON_STATUS_MACROS_H_
#define TEE_VERIFIER_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TEE_STATUS_CONCAT_INNER_(a, b) a##b
#define TEE_STATUS_CONCAT_(a, b) TEE_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                         \
  do {                                                \
    ::absl::Status tee_status_ = (expr);              \
    if (!tee_status_.ok()) return tee_status_;        \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F());` declares x from an absl::StatusOr or returns its error.
#define ASSIGN_OR_RETURN(lhs, rexpr)                                              \
  ASSIGN_OR_RETURN_IMPL_(TEE_STATUS_CONCAT_(tee_statusor_, __LINE__), lhs, rexpr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                           \
  if (!statusor.ok()) return statusor.status();      \
  lhs = *std::move(statusor)

#endif  // TEE_VERIFIER_COMMON_STATUS_MACROS_H_

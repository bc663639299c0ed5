// Early-return helpers for absl::Status and absl::StatusOr.
//
// Debian's Abseil (20220623) ships no status macros, so the project defines
// its own once here.
//
//   MB_RETURN_IF_ERROR(store.Commit(batch));
//   MB_ASSIGN_OR_RETURN(Member member, LoadMember(number));
#ifndef MILEAGEBANK_LIBS_STATUS_STATUS_MACROS_H_
#define MILEAGEBANK_LIBS_STATUS_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MB_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::absl::Status mb_status_ = (expr);           \
    if (!mb_status_.ok()) return mb_status_;      \
  } while (false)

#define MB_STATUS_CONCAT_INNER_(a, b) a##b
#define MB_STATUS_CONCAT_(a, b) MB_STATUS_CONCAT_INNER_(a, b)

#define MB_ASSIGN_OR_RETURN(lhs, expr) \
  MB_ASSIGN_OR_RETURN_IMPL_(MB_STATUS_CONCAT_(mb_statusor_, __LINE__), lhs, expr)

#define MB_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  if (!statusor.ok()) return statusor.status();        \
  lhs = std::move(statusor).value()

#endif  // MILEAGEBANK_LIBS_STATUS_STATUS_MACROS_H_

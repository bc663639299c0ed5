// AuditLog: the trail of every staff and partner write through the gateway
// (who, with which key and roles, did what to which member, from where, and
// how it ended), kept in the gateway's store for ADMIN's QueryAudit.
//
// Records are numbered in the order they are appended and never changed, so
// the trail reads like a log and pages by sequence. Append returns only once
// the record is on disk: the gateway appends before it answers the caller,
// so no acknowledged write is missing from the trail after a crash.
//
// Queries walk the trail in sequence order applying the filters; a query for
// one member walks that member's index instead, since "what happened to
// this member" is the common question and a member's records are few among
// many.
//
//   auto audit = AuditLog::Open(store);
//   MB_ASSIGN_OR_RETURN(v1::AuditRecord kept, (*audit)->Append(record));
//   MB_ASSIGN_OR_RETURN(v1::QueryAuditResponse page, (*audit)->Query(request));
//
// Tables (libs/store/keys.h encodings; Tables() lists them):
//   audit            Int64(sequence) -> mileagebank.gateway.v1.AuditRecord
//   audit_by_member  String(member_number) Int64(sequence) -> ""
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_AUDIT_LOG_H_
#define MILEAGEBANK_SERVICES_GATEWAY_AUDIT_LOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/store/store.h"
#include "mileagebank/gateway/v1/gateway.pb.h"
#include "services/gateway/state.h"

namespace mileagebank::gateway {

// The trail kept in this process's store (state.h).
class AuditLog final : public AuditTrail {
 public:
  using Clock = std::function<absl::Time()>;

  // Opens the trail kept in `store` (opened with Tables(); it outlives the
  // AuditLog), continuing after its last sequence.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(
      store::Store* store, Clock clock = absl::Now);

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  static std::vector<std::string> Tables();

  // AuditTrail.
  absl::StatusOr<v1::AuditRecord> Append(v1::AuditRecord record) override;
  absl::StatusOr<v1::QueryAuditResponse> Query(
      const v1::QueryAuditRequest& request) const override;

 private:
  AuditLog(store::Store* store, Clock clock, int64_t last_sequence)
      : store_(store), clock_(std::move(clock)), last_sequence_(last_sequence) {}

  store::Store* const store_;
  const Clock clock_;

  // Orders appends: sequences are given in the order batches are enqueued.
  absl::Mutex mutex_;
  int64_t last_sequence_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_AUDIT_LOG_H_

#include "services/gateway/audit_log.h"

#include <optional>
#include <utility>

#include "google/protobuf/util/time_util.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kAuditTable[] = "audit";
constexpr char kByMemberTable[] = "audit_by_member";

std::string SequenceKey(int64_t sequence) {
  return store::KeyBuilder().Int64(sequence).Build();
}

absl::Status Corrupt() {
  return absl::DataLossError("gateway store: corrupt audit record");
}

// The filters of a query other than the one chosen to walk by.
bool Matches(const v1::QueryAuditRequest& request,
             const v1::AuditRecord& record) {
  if (!request.key_id().empty() && record.key_id() != request.key_id()) {
    return false;
  }
  if (!request.office_code().empty() &&
      record.office_code() != request.office_code()) {
    return false;
  }
  if (!request.member_number().empty() &&
      record.member_number() != request.member_number()) {
    return false;
  }
  if (!request.operation().empty() &&
      record.operation() != request.operation()) {
    return false;
  }
  if (request.has_from() && record.time() < request.from()) return false;
  if (request.has_to() && !(record.time() < request.to())) return false;
  return true;
}

}  // namespace

std::vector<std::string> AuditLog::Tables() {
  return {kAuditTable, kByMemberTable};
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(store::Store* store,
                                                         Clock clock) {
  int64_t last_sequence = 0;
  bool readable = true;
  MB_RETURN_IF_ERROR(store->Scan(
      kAuditTable, store::ScanRange{"", "", /*reverse=*/true},
      [&](absl::string_view key, absl::string_view) {
        readable = store::KeyReader(key).Int64(&last_sequence);
        return false;
      }));
  if (!readable) return Corrupt();
  return std::unique_ptr<AuditLog>(
      new AuditLog(store, std::move(clock), last_sequence));
}

absl::StatusOr<v1::AuditRecord> AuditLog::Append(v1::AuditRecord record) {
  uint64_t ticket = 0;
  {
    absl::MutexLock lock(&mutex_);
    record.set_sequence(++last_sequence_);
    *record.mutable_time() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_()));
    store::WriteBatch batch = store_->NewBatch();
    batch.PutProto(kAuditTable, SequenceKey(record.sequence()), record);
    if (!record.member_number().empty()) {
      batch.Put(kByMemberTable,
                store::KeyBuilder()
                    .String(record.member_number())
                    .Int64(record.sequence())
                    .Build(),
                "");
    }
    ticket = store_->Enqueue(batch);
  }
  store_->Wait(ticket);
  return record;
}

absl::StatusOr<v1::QueryAuditResponse> AuditLog::Query(
    const v1::QueryAuditRequest& request) const {
  FieldErrors errors;
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    errors.Add("page_size", "0 (the default, 100) to 1000");
  }
  if (request.after_sequence() < 0) {
    errors.Add("after_sequence", "0 or more");
  }
  if (request.has_from() && request.has_to() &&
      request.to() < request.from()) {
    errors.Add("to", "not before from");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  const int page_size =
      request.page_size() == 0 ? kDefaultPageSize : request.page_size();

  v1::QueryAuditResponse response;
  absl::Status failure;
  // Takes one record in sequence order; false once the page is full and one
  // more match shows there is a next page.
  auto take = [&](v1::AuditRecord record) {
    if (!Matches(request, record)) return true;
    if (response.records_size() == page_size) {
      response.set_next_after_sequence(
          response.records(page_size - 1).sequence());
      return false;
    }
    *response.add_records() = std::move(record);
    return true;
  };

  const int64_t first = request.after_sequence() + 1;
  if (request.member_number().empty()) {
    MB_RETURN_IF_ERROR(store_->Scan(
        kAuditTable, store::ScanRange{SequenceKey(first), ""},
        [&](absl::string_view, absl::string_view value) {
          v1::AuditRecord record;
          if (!record.ParseFromArray(value.data(), value.size())) {
            failure = Corrupt();
            return false;
          }
          return take(std::move(record));
        }));
  } else {
    const std::string prefix =
        store::KeyBuilder().String(request.member_number()).Build();
    store::ScanRange range = store::PrefixRange(prefix);
    range.start = store::KeyBuilder(prefix).Int64(first).Build();
    MB_RETURN_IF_ERROR(store_->Scan(
        kByMemberTable, range, [&](absl::string_view key, absl::string_view) {
          store::KeyReader reader(key);
          std::string member;
          int64_t sequence = 0;
          v1::AuditRecord record;
          if (!reader.String(&member) || !reader.Int64(&sequence)) {
            failure = Corrupt();
            return false;
          }
          absl::StatusOr<bool> found =
              store_->GetProto(kAuditTable, SequenceKey(sequence), &record);
          if (!found.ok() || !*found) {
            failure = found.ok() ? Corrupt() : found.status();
            return false;
          }
          return take(std::move(record));
        }));
  }
  MB_RETURN_IF_ERROR(failure);
  return response;
}

}  // namespace mileagebank::gateway

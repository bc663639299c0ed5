// Partners: the settlement service's registry of partners and their
// contracts (product rules section 6): register, update under a field mask
// with optimistic concurrency, suspend and reactivate, read, list, and the
// earning table accrual credits a partner airline's flights by.
//
// Table "partners", key String(partner_code) -> v1.Partner. Every change is
// one fsynced batch with its event (PartnerRegistered / PartnerUpdated).
//
// Thread-safe: changes to one partner are serialised by its lock.
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_PARTNERS_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_PARTNERS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/store/key_locks.h"
#include "libs/store/store.h"
#include "mileagebank/settlement/v1/settlement.pb.h"

namespace mileagebank::settlement {

// The table partners live in.
inline constexpr char kPartnersTable[] = "partners";

// Checks a partner as registered (everything but version, timestamps and
// file sequences), reporting every violation with its path under `field`.
// `host_carrier` may not be used as a partner code.
absl::Status ValidatePartner(const v1::Partner& partner, absl::string_view field,
                             absl::string_view host_carrier);

class Partners {
 public:
  using Clock = std::function<absl::Time()>;

  // `store` outlives the Partners and was opened with kPartnersTable.
  Partners(store::Store* store, std::string host_carrier,
           Clock clock = absl::Now);

  absl::StatusOr<v1::RegisterPartnerResponse> RegisterPartner(
      const v1::RegisterPartnerRequest& request);
  absl::StatusOr<v1::UpdatePartnerResponse> UpdatePartner(
      const v1::UpdatePartnerRequest& request);
  absl::StatusOr<v1::ChangePartnerStatusResponse> ChangePartnerStatus(
      const v1::ChangePartnerStatusRequest& request);
  absl::StatusOr<v1::GetPartnerResponse> GetPartner(
      const v1::GetPartnerRequest& request);
  absl::StatusOr<v1::ListPartnersResponse> ListPartners(
      const v1::ListPartnersRequest& request);
  absl::StatusOr<v1::GetEarningTableResponse> GetEarningTable(
      const v1::GetEarningTableRequest& request);

  // Registers `partner` unless its code is registered already (then it is
  // left as it is): the seed partners of the configuration.
  absl::Status Seed(const v1::Partner& partner);

  // The file exchange's counters (last_accepted_file_seq,
  // last_outbound_file_seq) change with the files they count, in the files'
  // batches:
  //   store::KeyLocks::Guard guard = partners->Lock(code);
  //   v1::Partner partner = *partners->Find(code);
  //   partner.set_last_accepted_file_seq(seq);
  //   partners->Stage(partner, batch);   // then enqueue the batch
  // They are counters, not contract changes, so the version stays.
  store::KeyLocks::Guard Lock(absl::string_view code);
  // The partner, writes in line included; NOT_FOUND naming partner_code.
  absl::StatusOr<v1::Partner> Find(absl::string_view code);
  void Stage(const v1::Partner& partner, store::WriteBatch& batch) const;

 private:
  // The partner, or NOT_FOUND naming partner_code.
  absl::StatusOr<v1::Partner> Load(absl::string_view code);
  // Writes `partner` (version bumped, updated now) with `event`, durably.
  absl::Status Save(v1::Partner& partner, const google::protobuf::Message& event);

  store::Store* store_;
  const std::string host_carrier_;
  const Clock clock_;
  store::KeyLocks locks_;
};

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_PARTNERS_H_

// PartnerDirectory: the partners accrual credits for, as the settlement
// service (which owns partners and their contracts) has them: type, status,
// and for airlines the class earning table and minimum.
//
// It keeps a replica of settlement's partners in accrual's store, built by
// following settlement's event stream (Apply), and asks settlement itself
// (through a SettlementLookup) about a partner the replica does not know
// yet, such as one registered a moment ago whose event has not arrived.
// Such an answer is kept in memory under its version and used until the
// replica holds that version or a newer one, so a burst of credits for a new
// partner asks settlement once.
//
// When settlement cannot be reached, partners in the replica are credited as
// the replica has them; a partner it does not know is UNAVAILABLE, never
// credited under a guessed table.
//
//   GrpcSettlementLookup settlement(config.settlement_target());
//   PartnerDirectory partners(&ledger_store, &settlement);
//   absl::StatusOr<Partner> ca = partners.Find("partner_code", "CA");
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_PARTNER_DIRECTORY_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_PARTNER_DIRECTORY_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "libs/store/store.h"
#include "mileagebank/common/v1/events.pb.h"
#include "mileagebank/settlement/v1/settlement.pb.h"
#include "services/accrual/earning_rules.h"
#include "services/accrual/records.pb.h"
#include "services/accrual/store.h"

namespace mileagebank::accrual {

// A partner as accrual credits it.
struct Partner {
  std::string code;
  settlement::v1::PartnerType type = settlement::v1::PARTNER_TYPE_UNSPECIFIED;
  // Only an ACTIVE partner's activity is credited.
  settlement::v1::PartnerStatus status =
      settlement::v1::PARTNER_STATUS_UNSPECIFIED;
  // Airlines: the contract's table (the product rules' table when the
  // contract has none) and minimum (0: none).
  EarningTable earning = EarningTable::ProductDefault(0);
  // Settlement's version of the partner.
  int64_t version = 0;
};

// The settlement service, behind an interface so that tests can fake it.
// Implementations are thread-safe.
class SettlementLookup {
 public:
  virtual ~SettlementLookup() = default;
  // The partner as settlement has it now; NOT_FOUND for a partner it does
  // not know. Any other error means settlement gave no answer; its message
  // says why and where settlement was looked for.
  virtual absl::StatusOr<settlement::v1::Partner> GetPartner(
      absl::string_view partner_code) = 0;
};

class PartnerDirectory {
 public:
  // Both outlive the directory.
  PartnerDirectory(LedgerStore* store, SettlementLookup* fallback)
      : store_(store), fallback_(fallback) {}
  PartnerDirectory(const PartnerDirectory&) = delete;
  PartnerDirectory& operator=(const PartnerDirectory&) = delete;

  // The partner `code`, whatever its status. NOT_FOUND naming `field` for a
  // partner settlement does not know (or a code no partner can have);
  // UNAVAILABLE naming `field`, the partner and the settlement service when
  // the replica does not know it and settlement cannot be asked.
  absl::StatusOr<Partner> Find(absl::string_view field, absl::string_view code);

  // Applies one settlement event to the replica, in `batch`: a registered
  // or changed partner replaces what the replica had. Settlement's other
  // events (files, statements) leave it alone.
  absl::Status Apply(const common::v1::Event& event, store::WriteBatch& batch);

 private:
  LedgerStore* store_;
  SettlementLookup* fallback_;
  absl::Mutex mutex_;
  // Settlement's answers about partners the replica did not know, by code.
  std::map<std::string, records::PartnerState, std::less<>> asked_
      ABSL_GUARDED_BY(mutex_);
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_PARTNER_DIRECTORY_H_

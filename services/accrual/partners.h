// The partners accrual credits for, with their earning tables: from the
// configuration until the settlement service owns partners.
//
// Immutable after construction; thread-safe.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_PARTNERS_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_PARTNERS_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_field.h"
#include "mileagebank/config/v1/accrual.pb.h"
#include "services/accrual/earning_rules.h"

namespace mileagebank::accrual {

struct Partner {
  std::string code;
  // AIRLINE, HOTEL, CAR, CARD or RETAIL.
  std::string type;
  bool active = true;
  // Airlines only.
  EarningTable earning = EarningTable::ProductDefault(0);
};

class PartnerRegistry {
 public:
  PartnerRegistry() = default;
  static absl::StatusOr<PartnerRegistry> FromConfig(
      const google::protobuf::RepeatedPtrField<config::v1::PartnerConfig>&
          partners);

  // The partner, or NOT_FOUND naming `field`.
  absl::StatusOr<const Partner*> Find(absl::string_view field,
                                      absl::string_view code) const;

 private:
  std::map<std::string, Partner, std::less<>> partners_;
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_PARTNERS_H_

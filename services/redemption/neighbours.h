// The services redemption calls, behind interfaces so that tests can fake
// them: membership (who the member is, nominees, password), accrual (holds)
// and settlement (partners). The gRPC implementations use libs/client:
// deadlines on every call, retries of the idempotent ones.
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_REDEMPTION_NEIGHBOURS_H_
#define MILEAGEBANK_SERVICES_REDEMPTION_NEIGHBOURS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/client/client.h"
#include "libs/client/settlement_partners.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "mileagebank/settlement/v1/settlement.grpc.pb.h"

namespace mileagebank::redemption {

class MembershipGateway {
 public:
  virtual ~MembershipGateway() = default;
  // The member (NOT_FOUND when unknown).
  virtual absl::StatusOr<membership::v1::Member> GetMember(
      absl::string_view member_number) = 0;
  virtual absl::StatusOr<membership::v1::VerifyPasswordResponse> VerifyPassword(
      absl::string_view member_number, absl::string_view password) = 0;
};

class AccrualGateway {
 public:
  virtual ~AccrualGateway() = default;
  // Idempotent on `request_id`: the same request returns the same hold.
  virtual absl::StatusOr<accrual::v1::Hold> CreateHold(
      absl::string_view member_number, int64_t miles,
      absl::string_view request_id, absl::Duration ttl,
      absl::string_view reference) = 0;
  // Each idempotent on the hold.
  virtual absl::StatusOr<accrual::v1::Hold> CaptureHold(
      absl::string_view hold_id) = 0;
  virtual absl::StatusOr<accrual::v1::Hold> ReleaseHold(
      absl::string_view hold_id, absl::string_view reason) = 0;
  virtual absl::StatusOr<accrual::v1::Hold> RedepositHold(
      absl::string_view hold_id, int64_t fee_miles) = 0;
};

class SettlementGateway {
 public:
  virtual ~SettlementGateway() = default;
  // The partner as settlement has it; NOT_FOUND when it has none by that
  // code. Any other error means settlement gave no answer.
  virtual absl::StatusOr<settlement::v1::Partner> GetPartner(
      absl::string_view partner_code) = 0;
};

class GrpcMembership : public MembershipGateway {
 public:
  explicit GrpcMembership(const std::string& target) : client_(target) {}
  absl::StatusOr<membership::v1::Member> GetMember(
      absl::string_view member_number) override;
  absl::StatusOr<membership::v1::VerifyPasswordResponse> VerifyPassword(
      absl::string_view member_number, absl::string_view password) override;

 private:
  client::ServiceClient<membership::v1::Membership> client_;
};

class GrpcAccrual : public AccrualGateway {
 public:
  explicit GrpcAccrual(const std::string& target) : client_(target) {}
  absl::StatusOr<accrual::v1::Hold> CreateHold(
      absl::string_view member_number, int64_t miles,
      absl::string_view request_id, absl::Duration ttl,
      absl::string_view reference) override;
  absl::StatusOr<accrual::v1::Hold> CaptureHold(absl::string_view hold_id) override;
  absl::StatusOr<accrual::v1::Hold> ReleaseHold(absl::string_view hold_id,
                                                absl::string_view reason) override;
  absl::StatusOr<accrual::v1::Hold> RedepositHold(absl::string_view hold_id,
                                                  int64_t fee_miles) override;

 private:
  client::ServiceClient<accrual::v1::Accrual> client_;
};

class GrpcSettlement : public SettlementGateway {
 public:
  explicit GrpcSettlement(const std::string& target) : settlement_(target) {}
  // Asked briefly: a quote or a redemption waits for it.
  absl::StatusOr<settlement::v1::Partner> GetPartner(
      absl::string_view partner_code) override {
    return settlement_.GetPartner(partner_code);
  }

 private:
  client::SettlementPartners settlement_;
};

}  // namespace mileagebank::redemption

#endif  // MILEAGEBANK_SERVICES_REDEMPTION_NEIGHBOURS_H_

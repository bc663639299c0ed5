#include "services/accrual/request_checks.h"

#include "gtest/gtest.h"
#include "libs/crypto/password.h"
#include "mileagebank/accrual/v1/accrual.pb.h"

namespace mileagebank::accrual {
namespace {

v1::PostPartnerFlightRequest PartnerFlight() {
  v1::PostPartnerFlightRequest request;
  request.set_member_number("100000001");
  request.set_partner_code("CA");
  request.mutable_flight_identity()->set_ticket_number("9991234567890");
  request.mutable_flight_identity()->set_coupon_number(2);
  v1::Flight* flight = request.mutable_flight();
  flight->set_carrier("CA");
  flight->set_flight_number(981);
  flight->set_origin("PEK");
  flight->set_destination("JFK");
  flight->set_booking_class("J");
  flight->mutable_flight_date()->set_year(2026);
  flight->mutable_flight_date()->set_month(11);
  flight->mutable_flight_date()->set_day(30);
  request.mutable_source()->set_file_id("CA-000001");
  request.mutable_source()->set_record_number(17);
  request.mutable_actor()->set_operator_id("settlement");
  return request;
}

// What keys were first recorded with: the request copied, its actor
// cleared, serialized.
std::string FingerprintOfCopy(const v1::PostPartnerFlightRequest& request) {
  v1::PostPartnerFlightRequest copy = request;
  copy.clear_actor();
  return crypto::Digest(copy.SerializeAsString());
}

TEST(RequestFingerprintTest, EqualsTheDigestOfTheRequestWithoutItsActor) {
  const v1::PostPartnerFlightRequest request = PartnerFlight();
  EXPECT_EQ(RequestFingerprint(request), FingerprintOfCopy(request));
  v1::PostPartnerFlightRequest no_actor = request;
  no_actor.clear_actor();
  EXPECT_EQ(RequestFingerprint(no_actor), FingerprintOfCopy(request));
}

TEST(RequestFingerprintTest, IgnoresTheActorButNotTheContent) {
  const v1::PostPartnerFlightRequest request = PartnerFlight();
  v1::PostPartnerFlightRequest other_actor = request;
  other_actor.mutable_actor()->set_operator_id("someone-else");
  EXPECT_EQ(RequestFingerprint(other_actor), RequestFingerprint(request));
  v1::PostPartnerFlightRequest other_class = request;
  other_class.mutable_flight()->set_booking_class("Y");
  EXPECT_NE(RequestFingerprint(other_class), RequestFingerprint(request));
}

TEST(RequestFingerprintTest, KeepsFieldsAfterTheActor) {
  // Fields numbered above the actor's, and unknown ones, still count.
  v1::PostPartnerFlightRequest request = PartnerFlight();
  request.mutable_actor()->set_operator_id("x");
  v1::PostPartnerFlightRequest with_unknown;
  ASSERT_TRUE(with_unknown.ParseFromString(request.SerializeAsString() +
                                           std::string("\xf8\x3f\x01", 3)));
  EXPECT_EQ(RequestFingerprint(with_unknown), FingerprintOfCopy(with_unknown));
  EXPECT_NE(RequestFingerprint(with_unknown), RequestFingerprint(request));
}

}  // namespace
}  // namespace mileagebank::accrual

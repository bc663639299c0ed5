#include "tests/support/e2e.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/validation/dates.h"

namespace mileagebank::testing {

bool Eventually(const std::function<bool()>& condition,
                absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return condition();
}

std::unique_ptr<grpc::ClientContext> WaitingContext(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_wait_for_ready(true);
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

membership::v1::EnrolRequest SampleEnrolment(int n,
                                             const std::string& family_name) {
  membership::v1::EnrolRequest request;
  auto* profile = request.mutable_profile();
  profile->set_family_name(family_name);
  profile->set_given_name("Flyer");
  profile->mutable_date_of_birth()->set_year(1960 + n % 40);
  profile->mutable_date_of_birth()->set_month(1 + n % 12);
  profile->mutable_date_of_birth()->set_day(1 + n % 28);
  profile->set_nationality("CN");
  profile->mutable_identity_document()->set_type(membership::v1::PASSPORT);
  profile->mutable_identity_document()->set_number(
      absl::StrCat("S", 100000 + n));
  profile->mutable_identity_document()->set_issuing_country("CN");
  profile->set_mobile_phone(absl::StrCat("+86136", 10000000 + n));
  request.mutable_actor()->set_channel(common::v1::SALES_OFFICE);
  request.mutable_actor()->set_office_code("PEK01");
  request.set_request_id(absl::StrCat("sample-", n));
  return request;
}

common::v1::Date InDays(int days) {
  return validation::ToProtoDate(validation::UtcDay(absl::Now()) + days);
}

accrual::v1::PostOwnFlightRequest SampleOwnFlight(
    const std::string& member_number, const std::string& ticket_number,
    const std::string& destination, const std::string& booking_class,
    int flight_number, int days_ago) {
  accrual::v1::PostOwnFlightRequest request;
  request.set_member_number(member_number);
  request.mutable_flight_identity()->set_ticket_number(ticket_number);
  request.mutable_flight_identity()->set_coupon_number(1);
  auto* flight = request.mutable_flight();
  flight->set_carrier("FM");
  flight->set_flight_number(flight_number);
  *flight->mutable_flight_date() = InDays(-days_ago);
  flight->set_origin("PEK");
  flight->set_destination(destination);
  flight->set_booking_class(booking_class);
  return request;
}

}  // namespace mileagebank::testing

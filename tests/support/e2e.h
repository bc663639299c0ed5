// What end-to-end tests share besides starting processes: waiting for a
// condition that another process makes true, and sample members.
//
// Thread-safe: the functions are pure or poll.
#ifndef MILEAGEBANK_TESTS_SUPPORT_E2E_H_
#define MILEAGEBANK_TESTS_SUPPORT_E2E_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/common/v1/common.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"

namespace mileagebank::testing {

// Polls `condition` every 50 ms until it holds or `timeout` passes; whether
// it held.
bool Eventually(const std::function<bool()>& condition,
                absl::Duration timeout = absl::Seconds(20));

// A context for a call that waits (up to `timeout`) for its server to be
// reachable rather than failing at once: for calls right after a restart,
// while the channel may still be backing off from the crash.
std::unique_ptr<grpc::ClientContext> WaitingContext(
    absl::Duration timeout = absl::Seconds(10));

// The enrolment of sample member `n`: distinct documents and phones for
// distinct n, family name `family_name`, the same every time for the same
// arguments (so that two fresh systems enrolling the same sequence get the
// same member numbers).
membership::v1::EnrolRequest SampleEnrolment(
    int n, const std::string& family_name = "Chen");

// The date `days` from today (UTC); negative for the past.
common::v1::Date InDays(int days);

// An own flight (carrier FM) from PEK flown `days_ago` days before today
// (UTC), coupon 1 of `ticket_number` (13 digits; with the coupon, its
// idempotency key).
accrual::v1::PostOwnFlightRequest SampleOwnFlight(
    const std::string& member_number, const std::string& ticket_number,
    const std::string& destination = "PVG",
    const std::string& booking_class = "Y", int flight_number = 101,
    int days_ago = 1);

}  // namespace mileagebank::testing

#endif  // MILEAGEBANK_TESTS_SUPPORT_E2E_H_

#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"
#include "libs/status/grpc_status.h"
#include "libs/status/status_macros.h"

namespace mileagebank {
namespace {

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return InvalidField("n", "must be even");
  return n / 2;
}

absl::StatusOr<int> Quarter(int n) {
  MB_ASSIGN_OR_RETURN(int half, Half(n));
  MB_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(StatusMacrosTest, AssignOrReturnPassesErrorsThrough) {
  EXPECT_EQ(*Quarter(8), 2);
  absl::StatusOr<int> odd = Quarter(6);
  EXPECT_EQ(odd.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(odd.status().message(), "n: must be even");
}

TEST(FieldErrorsTest, EmptyIsOk) { EXPECT_TRUE(FieldErrors().ToStatus().ok()); }

TEST(FieldErrorsTest, ListsEveryViolationInMessageAndDetails) {
  FieldErrors errors;
  errors.Add("profile.family_name", "required");
  errors.Merge("profile", InvalidField("mobile_phone", "must be E.164"));
  absl::Status status = errors.ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "profile.family_name: required; profile.mobile_phone: must be E.164");
  auto details = GetErrorDetails(status);
  ASSERT_TRUE(details.has_value());
  ASSERT_EQ(details->field_violations_size(), 2);
  EXPECT_EQ(details->field_violations(1).field(), "profile.mobile_phone");
}

TEST(GrpcStatusTest, RoundTripKeepsCodeMessageAndDetails) {
  absl::Status original = AlreadyExistsError("member exists", "1000000018");
  grpc::Status wire = ToGrpcStatus(original);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(wire.error_message(), "member exists");
  EXPECT_FALSE(wire.error_details().empty());
  absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(GetErrorDetails(back)->existing_id(), "1000000018");
}

TEST(GrpcStatusTest, PlainErrorHasNoDetails) {
  grpc::Status wire = ToGrpcStatus(absl::NotFoundError("no member 1000000018"));
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(wire.error_details().empty());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace mileagebank

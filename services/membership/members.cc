#include "services/membership/members.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/time_util.h"
#include "libs/client/shards.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/validation/contact.h"
#include "libs/validation/dates.h"
#include "libs/validation/member_number.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "services/membership/csv_import.h"
#include "services/membership/profile_rules.h"

namespace mileagebank::membership {
namespace {

using google::protobuf::util::FieldMaskUtil;
using google::protobuf::util::TimeUtil;

constexpr int kMaxFound = 100;
constexpr int kMaxLookedUp = 1000;
constexpr int kMaxMergeChain = 64;
constexpr int64_t kMaxQualifyingMiles = 1'000'000;
constexpr int32_t kMaxQualifyingSegments = 100;

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) {
    return absl::InfinitePast();
  }
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(timestamp));
}

std::string FormatInstant(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

// 1-64 printable ASCII characters without spaces.
bool IsKey(absl::string_view key) {
  return !key.empty() && key.size() <= 64 &&
         std::all_of(key.begin(), key.end(),
                     [](char c) { return c > ' ' && c <= '~'; });
}

// 1-32 characters of A-Z, 0-9 and "_".
bool IsReasonCode(absl::string_view reason) {
  return !reason.empty() && reason.size() <= 32 &&
         std::all_of(reason.begin(), reason.end(), [](char c) {
           return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_';
         });
}

void CheckMemberNumber(FieldErrors& errors, absl::string_view field,
                       absl::string_view number) {
  absl::Status valid = validation::ValidateMemberNumber(field, number);
  if (!valid.ok()) errors.Merge("", valid);
}

// The fields that name a qualifying activity, the same whether it is
// recorded or reversed.
void CheckActivityKey(FieldErrors& errors, absl::string_view member_number,
                      absl::string_view activity_id) {
  CheckMemberNumber(errors, "member_number", member_number);
  if (!IsKey(activity_id)) {
    errors.Add("activity_id", "must be 1-64 printable characters, no spaces");
  }
}

void CheckStaff(FieldErrors& errors, const common::v1::Actor& actor) {
  if (actor.operator_id().empty()) {
    errors.Add("actor.operator_id", "required: this change is made by staff");
  }
}

absl::Status MergedError(absl::string_view field,
                         const records::MemberRecord& record) {
  return FailedPreconditionField(
      field, absl::StrCat("member ", record.member().member_number(),
                          " was merged into ", record.member().merged_into()));
}

bool IsStaffOnlyPath(absl::string_view path) {
  for (absl::string_view staff_only :
       {"family_name", "given_name", "date_of_birth", "identity_document"}) {
    if (path == staff_only || absl::StartsWith(path, absl::StrCat(staff_only, "."))) {
      return true;
    }
  }
  return false;
}

common::v1::Date ActivityDate(const records::ActivityRecord& activity) {
  common::v1::Date date;
  date.set_year(activity.year());
  date.set_month(activity.month());
  date.set_day(activity.day());
  return date;
}

}  // namespace

absl::StatusOr<MembershipOptions> MembershipOptions::FromConfig(
    const config::v1::MembershipConfig& config) {
  MembershipOptions options;
  MB_ASSIGN_OR_RETURN(options.thresholds, tiers::TierThresholds::FromConfig(config.tiers()));
  if (config.password_max_attempts() < 0 ||
      config.password_max_attempts() > 100) {
    return absl::InvalidArgumentError("password_max_attempts: must be 1-100");
  }
  if (config.password_max_attempts() > 0) {
    options.lockout.max_attempts = config.password_max_attempts();
  }
  if (config.password_lockout_minutes() < 0 ||
      config.password_lockout_minutes() > 24 * 60) {
    return absl::InvalidArgumentError(
        "password_lockout_minutes: must be 1-1440");
  }
  if (config.password_lockout_minutes() > 0) {
    options.lockout.lockout = absl::Minutes(config.password_lockout_minutes());
  }
  if (config.password_hash_ops() < 0 || config.password_hash_memory_kib() < 0 ||
      (config.password_hash_memory_kib() > 0 &&
       config.password_hash_memory_kib() < 8)) {
    return absl::InvalidArgumentError(
        "password_hash_ops, password_hash_memory_kib: must be positive (memory "
        "at least 8 KiB)");
  }
  if (config.password_hash_ops() > 0) {
    options.password_cost.operations = config.password_hash_ops();
  }
  if (config.password_hash_memory_kib() > 0) {
    options.password_cost.memory_kib = config.password_hash_memory_kib();
  }
  if (config.max_nominees() < 0 || config.max_nominees() > 20) {
    return absl::InvalidArgumentError("max_nominees: must be 1-20");
  }
  if (config.max_nominees() > 0) options.max_nominees = config.max_nominees();
  if (config.first_member_serial() != 0) {
    if (config.first_member_serial() < validation::kMinMemberSerial ||
        config.first_member_serial() > validation::kMaxMemberSerial) {
      return absl::InvalidArgumentError(
          "first_member_serial: must be 9 digits, 100000000-999999999");
    }
    options.first_member_serial = config.first_member_serial();
  }
  return options;
}

Members::Members(store::Store* store, MembershipOptions options,
                 prometheus::Registry& metrics, Clock clock)
    : store_(store),
      options_(std::move(options)),
      clock_(std::move(clock)),
      enrolments_(prometheus::BuildCounter()
                      .Name("mileagebank_membership_enrolments_total")
                      .Help("Members enrolled, by channel")
                      .Register(metrics)),
      lockouts_(prometheus::BuildCounter()
                    .Name("mileagebank_membership_password_lockouts_total")
                    .Help("Password verifications locked after wrong attempts")
                    .Register(metrics)
                    .Add({})),
      tier_lapses_(prometheus::BuildCounter()
                       .Name("mileagebank_membership_tier_lapses_total")
                       .Help("Tiers that fell at a year end")
                       .Register(metrics)
                       .Add({})) {}

absl::StatusOr<std::unique_ptr<Members>> Members::Create(
    store::Store* store, MembershipOptions options,
    prometheus::Registry& metrics, Clock clock) {
  auto members = std::unique_ptr<Members>(
      new Members(store, std::move(options), metrics, std::move(clock)));
  MB_ASSIGN_OR_RETURN(std::string last, members->store_.LastMemberNumber());
  int64_t serial = members->options_.first_member_serial - 1;
  if (!last.empty()) {
    int64_t last_serial;
    if (!absl::SimpleAtoi(last.substr(0, 9), &last_serial)) {
      return absl::DataLossError("membership: malformed member number " + last);
    }
    serial = std::max(serial, last_serial);
  }
  absl::MutexLock lock(&members->serial_mutex_);
  members->last_serial_ = serial;
  return members;
}

absl::CivilDay Members::Today() const { return validation::UtcDay(clock_()); }

absl::StatusOr<records::MemberRecord> Members::Load(
    absl::string_view field, absl::string_view member_number) {
  MB_ASSIGN_OR_RETURN(std::optional<records::MemberRecord> record,
                      store_.LoadMember(member_number));
  if (!record) {
    return absl::NotFoundError(
        absl::StrCat(field, ": no member ", member_number));
  }
  return *std::move(record);
}

absl::StatusOr<records::MemberRecord> Members::LoadUnmerged(
    absl::string_view field, absl::string_view member_number) {
  MB_ASSIGN_OR_RETURN(records::MemberRecord record, Load(field, member_number));
  if (record.member().status() == v1::MERGED) return MergedError(field, record);
  return record;
}

absl::StatusOr<std::string> Members::FollowMerges(std::string member_number,
                                                  bool* found) {
  for (int hop = 0; hop < kMaxMergeChain; ++hop) {
    MB_ASSIGN_OR_RETURN(std::optional<std::string> merged_into,
                        store_.MergedInto(member_number));
    if (!merged_into || merged_into->empty()) {
      if (found != nullptr) *found = merged_into.has_value();
      return member_number;
    }
    member_number = *std::move(merged_into);
  }
  return absl::DataLossError(
      absl::StrCat("member ", member_number, ": merge chain too long"));
}

absl::StatusOr<v1::Tier> Members::TierToday(absl::string_view member_number) {
  const int64_t year = Today().year();
  MB_ASSIGN_OR_RETURN(tiers::QualifyingTotals this_year,
                      store_.LoadYear(member_number, year));
  MB_ASSIGN_OR_RETURN(tiers::QualifyingTotals last_year,
                      store_.LoadYear(member_number, year - 1));
  return tiers::TierOn(this_year, last_year, options_.thresholds);
}

absl::StatusOr<v1::Member> Members::View(const records::MemberRecord& record) {
  v1::Member member = record.member();
  MB_ASSIGN_OR_RETURN(v1::Tier tier, TierToday(member.member_number()));
  member.set_tier(tier);
  member.set_has_password(!record.password_hash().empty());
  return member;
}

void Members::Touch(records::MemberRecord& record) {
  v1::Member* member = record.mutable_member();
  member->set_version(member->version() + 1);
  *member->mutable_updated_at() = ToTimestamp(clock_());
}

absl::StatusOr<std::string> Members::NextMemberNumber() {
  absl::MutexLock lock(&serial_mutex_);
  while (last_serial_ < validation::kMaxMemberSerial) {
    std::string number = validation::MemberNumberFromSerial(++last_serial_);
    if (client::ShardOfMember(number, options_.shard_count) ==
        options_.shard_index) {
      return number;
    }
  }
  return absl::ResourceExhaustedError("member numbers: all serials used");
}

absl::Status Members::CheckUnique(absl::string_view key, absl::string_view self,
                                  absl::string_view what) {
  if (key.empty()) return absl::OkStatus();
  MB_ASSIGN_OR_RETURN(std::optional<std::string> holder, store_.FindUnique(key));
  if (!holder || *holder == self) return absl::OkStatus();
  MB_ASSIGN_OR_RETURN(std::string existing, FollowMerges(*holder));
  return AlreadyExistsError(absl::StrCat(what, " member ", existing), existing);
}

absl::StatusOr<v1::EnrolResponse> Members::Enrol(
    const v1::EnrolRequest& request) {
  const v1::Profile profile = NormalizeProfile(request.profile());
  FieldErrors errors;
  if (!request.has_profile()) {
    errors.Add("profile", "required");
  } else {
    errors.Merge("profile", ValidateProfile(profile, Today()));
  }
  if (request.actor().channel() == common::v1::CHANNEL_UNSPECIFIED) {
    errors.Add("actor.channel", "required: the channel of the enrolment");
  }
  if (!request.password().empty()) {
    errors.Merge("", ValidatePassword("password", request.password()));
  }
  if (!request.request_id().empty() && !IsKey(request.request_id())) {
    errors.Add("request_id", "must be 1-64 printable characters, no spaces");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());

  // The password stays out of the fingerprint: a fast digest of it would be
  // a weak second hash.
  v1::EnrolRequest fingerprinted = request;
  fingerprinted.clear_password();
  const std::string fingerprint =
      crypto::Digest(fingerprinted.SerializeAsString());
  std::string password_hash;
  if (!request.password().empty()) {
    // Hashed before any lock is taken: it is deliberately slow.
    MB_ASSIGN_OR_RETURN(password_hash,
                        crypto::HashPassword(request.password(),
                                             options_.password_cost));
  }

  const UniqueKeys keys = UniqueKeysOf(profile);
  const std::string request_key = absl::StrCat("request:", request.request_id());
  store::KeyLocks::Guard guard =
      index_locks_.Lock({keys.document, keys.person, keys.email, request_key});
  if (!request.request_id().empty()) {
    MB_ASSIGN_OR_RETURN(std::optional<records::RequestRecord> earlier,
                        store_.LoadRequest(request.request_id()));
    if (earlier) {
      if (earlier->fingerprint() != fingerprint) {
        return AlreadyExistsError(
            "request_id: already used for a different enrolment",
            earlier->member_number());
      }
      MB_ASSIGN_OR_RETURN(records::MemberRecord record,
                          Load("request_id", earlier->member_number()));
      v1::EnrolResponse response;
      MB_ASSIGN_OR_RETURN(*response.mutable_member(), View(record));
      return response;
    }
  }
  MB_RETURN_IF_ERROR(CheckUnique(
      keys.document, "", "profile.identity_document: already belongs to"));
  MB_RETURN_IF_ERROR(CheckUnique(
      keys.person, "",
      "profile: the same family name, given name, date of birth and mobile "
      "phone belong to"));
  MB_RETURN_IF_ERROR(
      CheckUnique(keys.email, "", "profile.email: already used by"));

  MB_ASSIGN_OR_RETURN(std::string number, NextMemberNumber());
  records::MemberRecord record;
  record.set_password_hash(password_hash);
  v1::Member* member = record.mutable_member();
  member->set_member_number(number);
  *member->mutable_profile() = profile;
  member->set_status(v1::ACTIVE);
  *member->mutable_enrolment() = request.actor();
  *member->mutable_enrolled_at() = ToTimestamp(clock_());
  *member->mutable_updated_at() = member->enrolled_at();
  member->set_version(1);

  v1::EnrolResponse response;
  MB_ASSIGN_OR_RETURN(*response.mutable_member(), View(record));
  store::WriteBatch batch = store_.NewBatch();
  store_.PutMember(batch, record);
  store_.PutIndexes(batch, number, profile);
  if (!request.request_id().empty()) {
    records::RequestRecord request_record;
    request_record.set_fingerprint(fingerprint);
    request_record.set_member_number(number);
    store_.PutRequest(batch, request.request_id(), request_record);
  }
  v1::MemberEnrolled event;
  *event.mutable_member() = response.member();
  batch.AppendEvent(number, event);
  MB_RETURN_IF_ERROR(store_.Commit(batch));

  const std::string channel =
      common::v1::Channel_Name(request.actor().channel());
  enrolments_.Add({{"channel", channel}}).Increment();
  log::Info("member_enrolled", {{"member_number", number},
                                {"channel", channel},
                                {"office", request.actor().office_code()}});
  return response;
}

absl::StatusOr<v1::GetMemberResponse> Members::GetMember(
    const v1::GetMemberRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  std::string number = request.member_number();
  if (request.resolve_merges()) {
    MB_ASSIGN_OR_RETURN(number, FollowMerges(number));
  }
  MB_ASSIGN_OR_RETURN(records::MemberRecord record, Load("member_number", number));
  v1::GetMemberResponse response;
  MB_ASSIGN_OR_RETURN(*response.mutable_member(), View(record));
  return response;
}

absl::StatusOr<v1::LookupMembersResponse> Members::LookupMembers(
    const v1::LookupMembersRequest& request) {
  if (request.member_numbers().empty() ||
      request.member_numbers_size() > kMaxLookedUp) {
    FieldErrors errors;
    errors.Add("member_numbers", "must hold 1 to 1,000 member numbers");
    return errors.ToStatus();
  }
  v1::LookupMembersResponse response;
  for (const std::string& number : request.member_numbers()) {
    v1::MemberLookup* lookup = response.add_members();
    if (!validation::ValidateMemberNumber("member_numbers", number).ok()) {
      continue;
    }
    bool found = false;
    MB_ASSIGN_OR_RETURN(std::string resolved, FollowMerges(number, &found));
    if (!found) continue;
    MB_ASSIGN_OR_RETURN(records::MemberRecord record,
                        Load("member_numbers", resolved));
    lookup->set_found(true);
    lookup->set_member_number(resolved);
    lookup->set_family_name(record.member().profile().family_name());
    lookup->set_status(record.member().status());
  }
  return response;
}

absl::StatusOr<v1::UpdateProfileResponse> Members::UpdateProfile(
    const v1::UpdateProfileRequest& request) {
  const v1::Profile changes = NormalizeProfile(request.profile());
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  errors.Merge("", ValidateProfileFields(changes, request.update_mask(), Today()));
  if (request.expected_version() < 0) {
    errors.Add("expected_version", "must not be negative");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  for (const std::string& path : request.update_mask().paths()) {
    if (IsStaffOnlyPath(path) && request.actor().operator_id().empty()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "update_mask: ", path, " may be changed by staff only"));
    }
  }

  store::KeyLocks::Guard member_guard =
      member_locks_.Lock(request.member_number());
  MB_ASSIGN_OR_RETURN(records::MemberRecord record,
                      LoadUnmerged("member_number", request.member_number()));
  if (request.expected_version() != 0 &&
      request.expected_version() != record.member().version()) {
    return FailedPreconditionField(
        "expected_version",
        absl::StrCat("is ", request.expected_version(), " but the member is at ",
                     record.member().version(), "; read it again"));
  }
  const v1::Profile before = record.member().profile();
  v1::Profile after = before;
  FieldMaskUtil::MergeOptions merge_options;
  merge_options.set_replace_message_fields(true);
  merge_options.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(changes, request.update_mask(), merge_options,
                                &after);
  after = NormalizeProfile(std::move(after));
  FieldErrors merged_errors;
  merged_errors.Merge("profile", ValidateProfile(after, Today()));
  MB_RETURN_IF_ERROR(merged_errors.ToStatus());

  const UniqueKeys old_keys = UniqueKeysOf(before);
  const UniqueKeys new_keys = UniqueKeysOf(after);
  store::KeyLocks::Guard index_guard =
      index_locks_.Lock({new_keys.document, new_keys.person, new_keys.email});
  const std::string& self = request.member_number();
  MB_RETURN_IF_ERROR(CheckUnique(new_keys.document, self,
                                 "profile.identity_document: already belongs to"));
  MB_RETURN_IF_ERROR(CheckUnique(
      new_keys.person, self,
      "profile: the same family name, given name, date of birth and mobile "
      "phone belong to"));
  MB_RETURN_IF_ERROR(
      CheckUnique(new_keys.email, self, "profile.email: already used by"));

  *record.mutable_member()->mutable_profile() = after;
  Touch(record);
  store::WriteBatch batch = store_.NewBatch();
  store_.DeleteIndexes(batch, self, before);
  store_.PutIndexes(batch, self, after);
  store_.PutMember(batch, record);
  v1::ProfileUpdated event;
  event.set_member_number(self);
  *event.mutable_changed() = request.update_mask();
  *event.mutable_profile() = after;
  *event.mutable_actor() = request.actor();
  batch.AppendEvent(self, event);
  MB_RETURN_IF_ERROR(store_.Commit(batch));
  log::Info("profile_updated",
            {{"member_number", self},
             {"fields", FieldMaskUtil::ToString(request.update_mask())}});
  v1::UpdateProfileResponse response;
  MB_ASSIGN_OR_RETURN(*response.mutable_member(), View(record));
  return response;
}

absl::StatusOr<v1::FindMembersResponse> Members::FindMembers(
    const v1::FindMembersRequest& request) {
  std::vector<std::string> numbers;
  switch (request.query_case()) {
    case v1::FindMembersRequest::kMobilePhone: {
      if (!validation::IsE164(request.mobile_phone())) {
        return InvalidField("mobile_phone",
                            "must be E.164: + then 7-15 digits");
      }
      MB_ASSIGN_OR_RETURN(numbers, store_.FindAll(PhonePrefix(request.mobile_phone()),
                                                  kMaxFound));
      break;
    }
    case v1::FindMembersRequest::kEmail: {
      if (!validation::IsEmail(request.email())) {
        return InvalidField("email", "must be an e-mail address");
      }
      MB_ASSIGN_OR_RETURN(std::optional<std::string> found,
                          store_.FindUnique(EmailKey(request.email())));
      if (found) numbers.push_back(*found);
      break;
    }
    case v1::FindMembersRequest::kIdentityDocument: {
      v1::IdentityDocument document = request.identity_document();
      document.set_number(absl::AsciiStrToUpper(document.number()));
      document.set_issuing_country(
          absl::AsciiStrToUpper(document.issuing_country()));
      FieldErrors errors;
      if (document.type() == v1::DOCUMENT_TYPE_UNSPECIFIED) {
        errors.Add("identity_document.type", "required");
      }
      if (document.number().empty()) {
        errors.Add("identity_document.number", "required");
      }
      if (!validation::IsCountryCode(document.issuing_country())) {
        errors.Add("identity_document.issuing_country",
                   "must be an ISO 3166-1 alpha-2 code");
      }
      MB_RETURN_IF_ERROR(errors.ToStatus());
      MB_ASSIGN_OR_RETURN(std::optional<std::string> found,
                          store_.FindUnique(DocumentKey(document)));
      if (found) numbers.push_back(*found);
      break;
    }
    case v1::FindMembersRequest::kNameAndBirthDate: {
      const auto& query = request.name_and_birth_date();
      FieldErrors errors;
      if (query.family_name().empty()) {
        errors.Add("name_and_birth_date.family_name", "required");
      }
      absl::StatusOr<absl::CivilDay> birth = validation::ToCivilDay(
          "name_and_birth_date.date_of_birth", query.date_of_birth());
      if (!birth.ok()) errors.Merge("", birth.status());
      MB_RETURN_IF_ERROR(errors.ToStatus());
      MB_ASSIGN_OR_RETURN(
          numbers, store_.FindAll(NamePrefix(query.family_name(),
                                             query.given_name(), *birth),
                                  kMaxFound));
      break;
    }
    case v1::FindMembersRequest::QUERY_NOT_SET:
      return InvalidField("query",
                          "give one of mobile_phone, email, identity_document "
                          "or name_and_birth_date");
  }
  v1::FindMembersResponse response;
  for (const std::string& number : numbers) {
    MB_ASSIGN_OR_RETURN(records::MemberRecord record, Load("query", number));
    MB_ASSIGN_OR_RETURN(*response.add_members(), View(record));
  }
  return response;
}

absl::StatusOr<v1::ChangeStatusResponse> Members::ChangeStatus(
    const v1::ChangeStatusRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  const v1::MemberStatus to = request.status();
  if (to != v1::ACTIVE && to != v1::SUSPENDED && to != v1::CLOSED) {
    errors.Add("status",
               "must be ACTIVE, SUSPENDED or CLOSED (MERGED comes only from "
               "MergeMembers)");
  }
  if (!IsReasonCode(request.reason())) {
    errors.Add("reason", "must be 1-32 characters of A-Z, 0-9 and _");
  }
  CheckStaff(errors, request.actor());
  MB_RETURN_IF_ERROR(errors.ToStatus());

  store::KeyLocks::Guard guard = member_locks_.Lock(request.member_number());
  MB_ASSIGN_OR_RETURN(records::MemberRecord record,
                      Load("member_number", request.member_number()));
  const v1::MemberStatus from = record.member().status();
  if (from == v1::MERGED) return MergedError("member_number", record);
  if (from == to) {
    return FailedPreconditionField(
        "status", absl::StrCat("the member is already ", v1::MemberStatus_Name(to)));
  }
  const bool allowed = (to == v1::SUSPENDED && from == v1::ACTIVE) ||
                       (to == v1::CLOSED) || (to == v1::ACTIVE);
  if (!allowed) {
    return FailedPreconditionField(
        "status", absl::StrCat("a ", v1::MemberStatus_Name(from),
                               " member cannot become ",
                               v1::MemberStatus_Name(to)));
  }
  record.mutable_member()->set_status(to);
  Touch(record);
  store::WriteBatch batch = store_.NewBatch();
  store_.PutMember(batch, record);
  v1::StatusChanged event;
  event.set_member_number(request.member_number());
  event.set_from_status(from);
  event.set_to_status(to);
  event.set_reason(request.reason());
  *event.mutable_actor() = request.actor();
  batch.AppendEvent(request.member_number(), event);
  MB_RETURN_IF_ERROR(store_.Commit(batch));
  log::Info("member_status_changed",
            {{"member_number", request.member_number()},
             {"from", v1::MemberStatus_Name(from)},
             {"to", v1::MemberStatus_Name(to)},
             {"reason", request.reason()},
             {"operator", request.actor().operator_id()}});
  v1::ChangeStatusResponse response;
  MB_ASSIGN_OR_RETURN(*response.mutable_member(), View(record));
  return response;
}

absl::StatusOr<v1::MergeMembersResponse> Members::MergeMembers(
    const v1::MergeMembersRequest& request) {
  const std::string& source_number = request.source_member_number();
  const std::string& target_number = request.target_member_number();
  FieldErrors errors;
  CheckMemberNumber(errors, "source_member_number", source_number);
  CheckMemberNumber(errors, "target_member_number", target_number);
  if (source_number == target_number) {
    errors.Add("target_member_number", "must differ from source_member_number");
  }
  if (!IsReasonCode(request.reason())) {
    errors.Add("reason", "must be 1-32 characters of A-Z, 0-9 and _");
  }
  CheckStaff(errors, request.actor());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  // The request came to the source's shard; a target elsewhere is not
  // unknown but out of reach (docs/architecture.md, "Not across shards").
  const int target_shard =
      client::ShardOfMember(target_number, options_.shard_count);
  if (target_shard != options_.shard_index) {
    return FailedPreconditionField(
        "target_member_number",
        absl::StrCat("member ", target_number, " is on shard ", target_shard,
                     " of ", options_.shard_count, ", this is shard ",
                     options_.shard_index,
                     "; members merge within one shard only"));
  }

  store::KeyLocks::Guard guard =
      member_locks_.Lock({source_number, target_number});
  MB_ASSIGN_OR_RETURN(records::MemberRecord source,
                      Load("source_member_number", source_number));
  MB_ASSIGN_OR_RETURN(records::MemberRecord target,
                      Load("target_member_number", target_number));
  if (source.member().status() == v1::MERGED) {
    return MergedError("source_member_number", source);
  }
  if (target.member().status() != v1::ACTIVE) {
    return FailedPreconditionField(
        "target_member_number",
        absl::StrCat("must be ACTIVE, is ",
                     v1::MemberStatus_Name(target.member().status())));
  }
  MB_ASSIGN_OR_RETURN(v1::Tier target_tier_before, TierToday(target_number));
  // The scans below see only durable writes.
  store_.WaitForQueued();

  // The source's qualifying activity moves with its account.
  store::WriteBatch batch = store_.NewBatch();
  MB_ASSIGN_OR_RETURN(auto activities, store_.LoadActivities(source_number));
  for (const auto& [id, activity] : activities) {
    MB_ASSIGN_OR_RETURN(std::optional<records::ActivityRecord> clash,
                        store_.LoadActivity(target_number, id));
    if (clash) {
      return FailedPreconditionField(
          "source_member_number",
          absl::StrCat("qualifying activity ", id, " is recorded for both"));
    }
    store_.PutActivity(batch, target_number, id, activity);
    store_.DeleteActivity(batch, source_number, id);
  }
  MB_ASSIGN_OR_RETURN(auto source_years, store_.LoadYears(source_number));
  const int64_t this_year = Today().year();
  tiers::QualifyingTotals target_now, target_last;
  for (const auto& [year, totals] : source_years) {
    MB_ASSIGN_OR_RETURN(tiers::QualifyingTotals merged,
                        store_.LoadYear(target_number, year));
    merged.miles += totals.miles;
    merged.segments += totals.segments;
    store_.PutYear(batch, target_number, year, merged);
    store_.DeleteYear(batch, source_number, year);
  }
  MB_ASSIGN_OR_RETURN(target_now, store_.LoadYear(target_number, this_year));
  MB_ASSIGN_OR_RETURN(target_last, store_.LoadYear(target_number, this_year - 1));
  for (const auto& [year, totals] : source_years) {
    tiers::QualifyingTotals* into = year == this_year       ? &target_now
                             : year == this_year - 1 ? &target_last
                                                     : nullptr;
    if (into != nullptr) {
      into->miles += totals.miles;
      into->segments += totals.segments;
    }
  }
  const v1::Tier target_tier_after =
      tiers::TierOn(target_now, target_last, options_.thresholds);

  const v1::MemberStatus source_status = source.member().status();
  source.mutable_member()->set_status(v1::MERGED);
  source.mutable_member()->set_merged_into(target_number);
  Touch(source);
  Touch(target);
  store_.PutMember(batch, source);
  store_.PutMember(batch, target);
  v1::MembersMerged merged_event;
  merged_event.set_source_member_number(source_number);
  merged_event.set_target_member_number(target_number);
  merged_event.set_reason(request.reason());
  *merged_event.mutable_actor() = request.actor();
  batch.AppendEvent(source_number, merged_event);
  v1::StatusChanged status_event;
  status_event.set_member_number(source_number);
  status_event.set_from_status(source_status);
  status_event.set_to_status(v1::MERGED);
  status_event.set_reason(request.reason());
  *status_event.mutable_actor() = request.actor();
  batch.AppendEvent(source_number, status_event);
  if (target_tier_after != target_tier_before) {
    v1::TierChanged tier_event;
    tier_event.set_member_number(target_number);
    tier_event.set_from_tier(target_tier_before);
    tier_event.set_to_tier(target_tier_after);
    *tier_event.mutable_effective_date() = validation::ToProtoDate(Today());
    batch.AppendEvent(target_number, tier_event);
  }
  MB_RETURN_IF_ERROR(store_.Commit(batch));
  log::Info("members_merged", {{"source", source_number},
                               {"target", target_number},
                               {"operator", request.actor().operator_id()}});
  v1::MergeMembersResponse response;
  MB_ASSIGN_OR_RETURN(*response.mutable_source(), View(source));
  MB_ASSIGN_OR_RETURN(*response.mutable_target(), View(target));
  return response;
}

Members::PasswordCheck Members::CheckPassword(records::MemberRecord& record,
                                              absl::string_view password) {
  const absl::Time now = clock_();
  LockoutState state{record.failed_attempts(),
                     FromTimestamp(record.locked_until())};
  PasswordCheck check;
  if (IsLocked(state, now)) {
    check.locked_until = state.locked_until;
    return check;
  }
  const bool correct = crypto::VerifyPassword(record.password_hash(), password);
  const LockoutState next = AfterAttempt(state, correct, now, options_.lockout);
  check.verified = correct;
  check.state_changed = !(next == state);
  check.attempts_remaining = AttemptsRemaining(next, options_.lockout);
  if (IsLocked(next, now)) {
    check.newly_locked = true;
    check.locked_until = next.locked_until;
    check.attempts_remaining = 0;
  }
  record.set_failed_attempts(next.failed_attempts);
  if (next.locked_until == absl::InfinitePast()) {
    record.clear_locked_until();
  } else {
    *record.mutable_locked_until() = ToTimestamp(next.locked_until);
  }
  return check;
}

absl::Status Members::SavePasswordCheck(const records::MemberRecord& record,
                                        const PasswordCheck& check) {
  if (!check.state_changed) return absl::OkStatus();
  store::WriteBatch batch = store_.NewBatch();
  store_.PutMember(batch, record);
  const std::string& number = record.member().member_number();
  if (check.newly_locked) {
    v1::PasswordLocked event;
    event.set_member_number(number);
    *event.mutable_locked_until() = ToTimestamp(check.locked_until);
    batch.AppendEvent(number, event);
  }
  MB_RETURN_IF_ERROR(store_.Commit(batch));
  if (check.newly_locked) {
    lockouts_.Increment();
    log::Warning("password_locked",
                 {{"member_number", number},
                  {"locked_until", FormatInstant(check.locked_until)}});
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SetPasswordResponse> Members::SetPassword(
    const v1::SetPasswordRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  errors.Merge("", ValidatePassword("new_password", request.new_password()));
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(std::string new_hash,
                      crypto::HashPassword(request.new_password(),
                                           options_.password_cost));

  store::KeyLocks::Guard guard = member_locks_.Lock(request.member_number());
  MB_ASSIGN_OR_RETURN(records::MemberRecord record,
                      LoadUnmerged("member_number", request.member_number()));
  const bool staff_reset = !request.actor().operator_id().empty();
  if (!record.password_hash().empty() && !staff_reset) {
    if (request.current_password().empty()) {
      return InvalidField("current_password",
                          "required to change an existing password");
    }
    PasswordCheck check = CheckPassword(record, request.current_password());
    if (!check.verified) {
      MB_RETURN_IF_ERROR(SavePasswordCheck(record, check));
      if (check.locked_until != absl::InfinitePast()) {
        return FailedPreconditionField(
            "current_password",
            absl::StrCat("verification is locked until ",
                         FormatInstant(check.locked_until)));
      }
      return absl::PermissionDeniedError("current_password: wrong password");
    }
  }
  record.set_password_hash(new_hash);
  record.set_failed_attempts(0);
  record.clear_locked_until();
  Touch(record);
  store::WriteBatch batch = store_.NewBatch();
  store_.PutMember(batch, record);
  v1::PasswordChanged event;
  event.set_member_number(request.member_number());
  *event.mutable_actor() = request.actor();
  batch.AppendEvent(request.member_number(), event);
  MB_RETURN_IF_ERROR(store_.Commit(batch));
  log::Info("password_changed", {{"member_number", request.member_number()},
                                 {"staff_reset", staff_reset}});
  return v1::SetPasswordResponse();
}

absl::StatusOr<v1::VerifyPasswordResponse> Members::VerifyPassword(
    const v1::VerifyPasswordRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  if (request.password().empty()) errors.Add("password", "required");
  if (request.password().size() > 128) {
    errors.Add("password", "at most 128 characters");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());

  store::KeyLocks::Guard guard = member_locks_.Lock(request.member_number());
  MB_ASSIGN_OR_RETURN(records::MemberRecord record,
                      LoadUnmerged("member_number", request.member_number()));
  if (record.password_hash().empty()) {
    return FailedPreconditionField("member_number",
                                   "the member has no password set");
  }
  PasswordCheck check = CheckPassword(record, request.password());
  MB_RETURN_IF_ERROR(SavePasswordCheck(record, check));
  v1::VerifyPasswordResponse response;
  response.set_verified(check.verified);
  response.set_attempts_remaining(check.attempts_remaining);
  if (check.locked_until != absl::InfinitePast()) {
    *response.mutable_locked_until() = ToTimestamp(check.locked_until);
  }
  return response;
}

absl::StatusOr<v1::AddNomineeResponse> Members::AddNominee(
    const v1::AddNomineeRequest& request) {
  v1::Nominee nominee = NormalizeNominee(request.nominee());
  nominee.clear_nominee_id();
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  if (!request.has_nominee()) {
    errors.Add("nominee", "required");
  } else {
    errors.Merge("nominee", ValidateNominee(nominee, Today()));
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());

  store::KeyLocks::Guard guard = member_locks_.Lock(request.member_number());
  MB_ASSIGN_OR_RETURN(records::MemberRecord record,
                      LoadUnmerged("member_number", request.member_number()));
  v1::Member* member = record.mutable_member();
  if (member->nominees_size() >= options_.max_nominees) {
    return FailedPreconditionField(
        "nominee", absl::StrCat("a member may name at most ",
                                options_.max_nominees, " nominees"));
  }
  const std::string document = DocumentKey(nominee.identity_document());
  for (const v1::Nominee& existing : member->nominees()) {
    if (DocumentKey(existing.identity_document()) == document) {
      return AlreadyExistsError(
          "nominee.identity_document: already a nominee of this member",
          existing.nominee_id());
    }
  }
  record.set_last_nominee_id(record.last_nominee_id() + 1);
  nominee.set_nominee_id(std::to_string(record.last_nominee_id()));
  *member->add_nominees() = nominee;
  MB_RETURN_IF_ERROR(SaveNominees(record, request.actor()));
  log::Info("nominee_added", {{"member_number", request.member_number()},
                              {"nominee_id", nominee.nominee_id()}});
  v1::AddNomineeResponse response;
  *response.mutable_nominee() = nominee;
  return response;
}

absl::Status Members::SaveNominees(records::MemberRecord& record,
                                   const common::v1::Actor& actor) {
  Touch(record);
  store::WriteBatch batch = store_.NewBatch();
  store_.PutMember(batch, record);
  v1::NomineesChanged event;
  event.set_member_number(record.member().member_number());
  *event.mutable_nominees() = record.member().nominees();
  *event.mutable_actor() = actor;
  batch.AppendEvent(record.member().member_number(), event);
  return store_.Commit(batch);
}

absl::StatusOr<v1::RemoveNomineeResponse> Members::RemoveNominee(
    const v1::RemoveNomineeRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  if (request.nominee_id().empty()) errors.Add("nominee_id", "required");
  MB_RETURN_IF_ERROR(errors.ToStatus());

  store::KeyLocks::Guard guard = member_locks_.Lock(request.member_number());
  MB_ASSIGN_OR_RETURN(records::MemberRecord record,
                      LoadUnmerged("member_number", request.member_number()));
  auto* nominees = record.mutable_member()->mutable_nominees();
  auto found = std::find_if(nominees->begin(), nominees->end(),
                            [&](const v1::Nominee& nominee) {
                              return nominee.nominee_id() == request.nominee_id();
                            });
  if (found == nominees->end()) {
    return absl::NotFoundError(absl::StrCat(
        "nominee_id: the member has no nominee ", request.nominee_id()));
  }
  nominees->erase(found);
  MB_RETURN_IF_ERROR(SaveNominees(record, request.actor()));
  log::Info("nominee_removed", {{"member_number", request.member_number()},
                                {"nominee_id", request.nominee_id()}});
  return v1::RemoveNomineeResponse();
}

absl::StatusOr<v1::ListNomineesResponse> Members::ListNominees(
    const v1::ListNomineesRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(records::MemberRecord record,
                      Load("member_number", request.member_number()));
  v1::ListNomineesResponse response;
  *response.mutable_nominees() = record.member().nominees();
  return response;
}

namespace {

// Unqueued's keys; activity ids have no spaces.
std::string YearKey(absl::string_view member_number, int64_t year) {
  return absl::StrCat(member_number, " ", year);
}
std::string ActivityKey(absl::string_view member_number,
                        absl::string_view activity_id) {
  return absl::StrCat(member_number, " ", activity_id);
}

}  // namespace

absl::StatusOr<tiers::QualifyingTotals> Members::LoadYear(
    absl::string_view member_number, int64_t year, const Unqueued* unqueued) {
  if (unqueued != nullptr) {
    auto it = unqueued->years.find(YearKey(member_number, year));
    if (it != unqueued->years.end()) return it->second;
  }
  return store_.LoadYearLocked(member_number, year);
}

void Members::PutYear(store::WriteBatch& batch, absl::string_view member_number,
                      int64_t year, const tiers::QualifyingTotals& totals,
                      Unqueued* unqueued) {
  store_.PutYear(batch, member_number, year, totals);
  if (unqueued != nullptr) {
    unqueued->years.insert_or_assign(YearKey(member_number, year), totals);
  }
}

absl::StatusOr<std::optional<records::ActivityRecord>> Members::LoadActivity(
    absl::string_view member_number, absl::string_view activity_id,
    const Unqueued* unqueued) {
  if (unqueued != nullptr) {
    auto it = unqueued->activities.find(ActivityKey(member_number, activity_id));
    if (it != unqueued->activities.end()) return it->second;
  }
  return store_.LoadActivity(member_number, activity_id);
}

void Members::PutActivity(store::WriteBatch& batch,
                          absl::string_view member_number,
                          absl::string_view activity_id,
                          const records::ActivityRecord& activity,
                          Unqueued* unqueued) {
  store_.PutActivity(batch, member_number, activity_id, activity);
  if (unqueued != nullptr) {
    unqueued->activities.insert_or_assign(
        ActivityKey(member_number, activity_id), activity);
  }
}

absl::StatusOr<v1::Tier> Members::ApplyActivity(
    store::WriteBatch& batch, absl::string_view member_number,
    absl::string_view activity_id, const records::ActivityRecord& activity,
    bool reversal, Unqueued* unqueued) {
  v1::QualifyingActivityRecorded recorded;
  recorded.set_member_number(std::string(member_number));
  recorded.set_activity_id(std::string(activity_id));
  *recorded.mutable_activity_date() = ActivityDate(activity);
  recorded.set_qualifying_miles(activity.qualifying_miles());
  recorded.set_qualifying_segments(activity.qualifying_segments());
  recorded.set_reversal(reversal);
  batch.AppendEvent(member_number, recorded);

  const int sign = reversal ? -1 : +1;
  const int64_t this_year = Today().year();
  MB_ASSIGN_OR_RETURN(tiers::QualifyingTotals now,
                      LoadYear(member_number, this_year, unqueued));
  MB_ASSIGN_OR_RETURN(tiers::QualifyingTotals last,
                      LoadYear(member_number, this_year - 1, unqueued));
  const v1::Tier before = tiers::TierOn(now, last, options_.thresholds);

  const int64_t year = activity.year();
  tiers::QualifyingTotals totals = now;
  if (year == this_year - 1) {
    totals = last;
  } else if (year != this_year) {
    MB_ASSIGN_OR_RETURN(totals, LoadYear(member_number, year, unqueued));
  }
  totals.miles += sign * activity.qualifying_miles();
  totals.segments += sign * activity.qualifying_segments();
  PutYear(batch, member_number, year, totals, unqueued);
  if (year == this_year) now = totals;
  if (year == this_year - 1) last = totals;
  const v1::Tier after = tiers::TierOn(now, last, options_.thresholds);
  if (after != before) {
    v1::TierChanged event;
    event.set_member_number(std::string(member_number));
    event.set_from_tier(before);
    event.set_to_tier(after);
    *event.mutable_effective_date() = ActivityDate(activity);
    batch.AppendEvent(member_number, event);
    log::Info("tier_changed", {{"member_number", member_number},
                               {"from", v1::Tier_Name(before)},
                               {"to", v1::Tier_Name(after)}});
  }
  return after;
}

absl::StatusOr<std::string> Members::CheckActivity(
    const v1::RecordQualifyingActivityRequest& request) {
  FieldErrors errors;
  CheckActivityKey(errors, request.member_number(), request.activity_id());
  absl::StatusOr<absl::CivilDay> date =
      validation::ToCivilDay("activity_date", request.activity_date());
  if (!date.ok()) errors.Merge("", date.status());
  if (request.qualifying_miles() < 0 ||
      request.qualifying_miles() > kMaxQualifyingMiles) {
    errors.Add("qualifying_miles", "must be 0 to 1,000,000");
  }
  if (request.qualifying_segments() < 0 ||
      request.qualifying_segments() > kMaxQualifyingSegments) {
    errors.Add("qualifying_segments", "must be 0 to 100");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());

  // Merging is final, so the member a chain ends in can be found unlocked;
  // members are never deleted, so neither is the one found.
  bool found = false;
  MB_ASSIGN_OR_RETURN(std::string number,
                      FollowMerges(request.member_number(), &found));
  if (!found) {
    return absl::NotFoundError(absl::StrCat("member_number: no member ", number));
  }
  return number;
}

absl::StatusOr<std::string> Members::CheckReversal(
    const v1::ReverseQualifyingActivityRequest& request) {
  FieldErrors errors;
  CheckActivityKey(errors, request.member_number(), request.activity_id());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  return FollowMerges(request.member_number());
}

absl::StatusOr<std::optional<v1::Tier>> Members::RecordActivity(
    store::WriteBatch& batch, absl::string_view number,
    const v1::RecordQualifyingActivityRequest& request, Unqueued* unqueued) {
  // Checked by CheckActivity.
  const absl::CivilDay date =
      *validation::ToCivilDay("activity_date", request.activity_date());
  records::ActivityRecord activity;
  activity.set_year(date.year());
  activity.set_month(date.month());
  activity.set_day(date.day());
  activity.set_qualifying_miles(request.qualifying_miles());
  activity.set_qualifying_segments(request.qualifying_segments());

  MB_ASSIGN_OR_RETURN(
      std::optional<records::ActivityRecord> earlier,
      LoadActivity(number, request.activity_id(), unqueued));
  if (earlier) {
    records::ActivityRecord same = activity;
    same.set_reversed(earlier->reversed());
    if (same.SerializeAsString() != earlier->SerializeAsString()) {
      return AlreadyExistsError(
          "activity_id: already recorded with different content",
          request.activity_id());
    }
    return std::nullopt;
  }
  PutActivity(batch, number, request.activity_id(), activity, unqueued);
  return ApplyActivity(batch, number, request.activity_id(), activity,
                       /*reversal=*/false, unqueued);
}

absl::StatusOr<std::optional<v1::Tier>> Members::ReverseActivity(
    store::WriteBatch& batch, absl::string_view number,
    absl::string_view activity_id, Unqueued* unqueued) {
  MB_ASSIGN_OR_RETURN(std::optional<records::ActivityRecord> activity,
                      LoadActivity(number, activity_id, unqueued));
  if (!activity) {
    return absl::NotFoundError(absl::StrCat(
        "activity_id: no qualifying activity ", activity_id, " for member ",
        number));
  }
  if (activity->reversed()) return std::nullopt;
  activity->set_reversed(true);
  PutActivity(batch, number, activity_id, *activity, unqueued);
  return ApplyActivity(batch, number, activity_id, *activity,
                       /*reversal=*/true, unqueued);
}

absl::StatusOr<v1::RecordQualifyingActivityResponse>
Members::RecordQualifyingActivity(
    const v1::RecordQualifyingActivityRequest& request, uint64_t* ticket) {
  MB_ASSIGN_OR_RETURN(std::string number, CheckActivity(request));
  store::KeyLocks::Guard guard = member_locks_.Lock(number);
  store::WriteBatch batch = store_.NewBatch();
  MB_ASSIGN_OR_RETURN(std::optional<v1::Tier> tier,
                      RecordActivity(batch, number, request, nullptr));
  v1::RecordQualifyingActivityResponse response;
  if (!tier) {
    MB_ASSIGN_OR_RETURN(v1::Tier today, TierToday(number));
    response.set_tier(today);
    return response;
  }
  if (ticket != nullptr) {
    *ticket = store_.Enqueue(batch);
  } else {
    MB_RETURN_IF_ERROR(store_.Commit(batch));
  }
  response.set_tier(*tier);
  return response;
}

absl::StatusOr<v1::ReverseQualifyingActivityResponse>
Members::ReverseQualifyingActivity(
    const v1::ReverseQualifyingActivityRequest& request, uint64_t* ticket) {
  MB_ASSIGN_OR_RETURN(std::string number, CheckReversal(request));
  store::KeyLocks::Guard guard = member_locks_.Lock(number);
  store::WriteBatch batch = store_.NewBatch();
  MB_ASSIGN_OR_RETURN(
      std::optional<v1::Tier> tier,
      ReverseActivity(batch, number, request.activity_id(), nullptr));
  v1::ReverseQualifyingActivityResponse response;
  if (!tier) {
    MB_ASSIGN_OR_RETURN(v1::Tier today, TierToday(number));
    response.set_tier(today);
    return response;
  }
  if (ticket != nullptr) {
    *ticket = store_.Enqueue(batch);
  } else {
    MB_RETURN_IF_ERROR(store_.Commit(batch));
  }
  response.set_tier(*tier);
  return response;
}

absl::StatusOr<v1::GetTierResponse> Members::GetTier(
    const v1::GetTierRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  absl::CivilDay day = Today();
  if (request.has_date()) {
    absl::StatusOr<absl::CivilDay> date =
        validation::ToCivilDay("date", request.date());
    if (date.ok()) {
      day = *date;
    } else {
      errors.Merge("", date.status());
    }
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(records::MemberRecord record,
                      Load("member_number", request.member_number()));
  MB_ASSIGN_OR_RETURN(tiers::QualifyingTotals this_year,
                      store_.LoadYear(request.member_number(), day.year()));
  MB_ASSIGN_OR_RETURN(tiers::QualifyingTotals last_year,
                      store_.LoadYear(request.member_number(), day.year() - 1));
  v1::GetTierResponse response =
      tiers::DescribeTier(this_year, last_year, options_.thresholds);
  if (request.include_member()) {
    MB_ASSIGN_OR_RETURN(*response.mutable_member(), View(record));
  }
  return response;
}

absl::StatusOr<int64_t> Members::LapseTiers(size_t members_per_batch) {
  const int64_t this_year = Today().year();
  MB_ASSIGN_OR_RETURN(auto lapses, store_.LoadLapses());
  int64_t first = this_year;
  if (!lapses.empty()) {
    // Years are done in order: the first not done, or the one after the
    // last.
    first = lapses.rbegin()->first + 1;
    for (const auto& [year, progress] : lapses) {
      if (!progress.done()) {
        first = year;
        break;
      }
    }
  } else {
    MB_ASSIGN_OR_RETURN(std::optional<int64_t> earliest, store_.EarliestYear());
    // Nothing lapses before the second year after the first totals.
    if (earliest) first = std::min(this_year, *earliest + 2);
  }
  int64_t lapsed = 0;
  for (int64_t year = first; year <= this_year; ++year) {
    auto found = lapses.find(year);
    MB_ASSIGN_OR_RETURN(int64_t in_year,
                        LapseYear(year,
                                  found == lapses.end() ? records::LapseRecord()
                                                        : found->second,
                                  members_per_batch));
    lapsed += in_year;
  }
  return lapsed;
}

absl::StatusOr<int64_t> Members::LapseYear(int64_t year,
                                           records::LapseRecord progress,
                                           size_t members_per_batch) {
  if (progress.done()) return 0;
  common::v1::Date new_year;
  new_year.set_year(static_cast<int32_t>(year));
  new_year.set_month(1);
  new_year.set_day(1);
  int64_t lapsed = 0;
  while (!progress.done()) {
    // Those who had a tier by their totals of two years before are the
    // only ones whose tier can fall on this 1 January.
    store_.WaitForQueued();
    MB_ASSIGN_OR_RETURN(
        MemberStore::YearWalk walk,
        store_.WalkYear(year - 2, progress.done_through(), members_per_batch));
    std::vector<std::string> numbers;
    for (const auto& [number, totals] : walk.members) {
      if (tiers::EarnedTier(totals, options_.thresholds) != v1::BLUE) {
        numbers.push_back(number);
      }
    }
    store::KeyLocks::Guard guard = member_locks_.Lock(numbers);
    store::WriteBatch batch = store_.NewBatch();
    int64_t lapsed_here = 0;
    for (const std::string& number : numbers) {
      // Read again under the lock: the walk saw only what was durable.
      MB_ASSIGN_OR_RETURN(tiers::QualifyingTotals two_before,
                          store_.LoadYear(number, year - 2));
      MB_ASSIGN_OR_RETURN(tiers::QualifyingTotals before,
                          store_.LoadYear(number, year - 1));
      MB_ASSIGN_OR_RETURN(tiers::QualifyingTotals during,
                          store_.LoadYear(number, year));
      const v1::Tier old_tier =
          tiers::TierOn(before, two_before, options_.thresholds);
      // With the year's activity so far (all of it, for a past year): a
      // tier earned again since was announced when it was earned.
      const v1::Tier new_tier =
          tiers::TierOn(during, before, options_.thresholds);
      if (new_tier >= old_tier) continue;
      v1::TierChanged event;
      event.set_member_number(number);
      event.set_from_tier(old_tier);
      event.set_to_tier(new_tier);
      *event.mutable_effective_date() = new_year;
      event.set_year_end_lapse(true);
      batch.AppendEvent(number, event);
      ++lapsed_here;
    }
    if (!walk.last_member.empty()) progress.set_done_through(walk.last_member);
    progress.set_done(walk.end);
    progress.set_members_lapsed(progress.members_lapsed() + lapsed_here);
    store_.PutLapse(batch, year, progress);
    MB_RETURN_IF_ERROR(store_.Commit(batch));
    tier_lapses_.Increment(static_cast<double>(lapsed_here));
    lapsed += lapsed_here;
  }
  log::Info("tier_lapses_done",
            {{"year", year}, {"members_lapsed", progress.members_lapsed()}});
  return lapsed;
}

absl::StatusOr<v1::ImportMembersResponse> Members::ImportMembers(
    const v1::ImportMembersRequest& request) {
  MB_ASSIGN_OR_RETURN(std::vector<ImportRow> rows, ParseImport(request.csv()));
  common::v1::Actor actor = request.actor();
  actor.set_channel(common::v1::IMPORT);
  v1::ImportMembersResponse response;
  for (const ImportRow& row : rows) {
    v1::ImportMembersResponse::Row* result = response.add_rows();
    result->set_line(row.line);
    absl::Status status = row.enrolment.status();
    if (status.ok()) {
      v1::EnrolRequest enrol = *row.enrolment;
      *enrol.mutable_actor() = actor;
      absl::StatusOr<v1::EnrolResponse> enrolled = Enrol(enrol);
      status = enrolled.status();
      if (enrolled.ok()) {
        result->set_member_number(enrolled->member().member_number());
      }
    }
    if (status.ok()) {
      response.set_imported(response.imported() + 1);
    } else {
      response.set_rejected(response.rejected() + 1);
      result->set_error(std::string(status.message()));
    }
  }
  log::Info("members_imported", {{"imported", response.imported()},
                                 {"rejected", response.rejected()},
                                 {"office", actor.office_code()}});
  return response;
}

namespace {

// A failure that may pass (the store) is returned, to be retried; any other
// is the event's own, logged and skipped.
absl::Status RetryOrSkip(const absl::Status& status,
                         const common::v1::Event& event,
                         const accrual::v1::QualifyingActivityPosted& posted) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return absl::OkStatus();
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
      return status;
    default:
      log::Error("accrual_event_skipped",
                 {{"sequence", event.sequence()},
                  {"member_number", posted.member_number()},
                  {"activity_id", posted.activity_id()},
                  {"reason", status.ToString()}});
      return absl::OkStatus();
  }
}

v1::RecordQualifyingActivityRequest RecordRequest(
    const accrual::v1::QualifyingActivityPosted& posted) {
  v1::RecordQualifyingActivityRequest request;
  request.set_member_number(posted.member_number());
  request.set_activity_id(posted.activity_id());
  *request.mutable_activity_date() = posted.activity_date();
  request.set_qualifying_miles(posted.qualifying_miles());
  request.set_qualifying_segments(
      static_cast<int32_t>(posted.qualifying_segments()));
  return request;
}

v1::ReverseQualifyingActivityRequest ReverseRequest(
    const accrual::v1::QualifyingActivityPosted& posted) {
  v1::ReverseQualifyingActivityRequest request;
  request.set_member_number(posted.member_number());
  request.set_activity_id(posted.activity_id());
  return request;
}

}  // namespace

std::vector<std::string> Members::AccrualEventTypes() {
  return {accrual::v1::QualifyingActivityPosted::descriptor()->full_name()};
}

absl::Status Members::ApplyAccrualEvents(
    absl::Span<const common::v1::Event> events, store::WriteBatch& batch) {
  struct Activity {
    const common::v1::Event* event;
    accrual::v1::QualifyingActivityPosted posted;
    std::string number;  // Merges followed.
  };
  std::vector<Activity> activities;
  std::vector<std::string> numbers;
  for (const common::v1::Event& event : events) {
    Activity activity{&event, {}, {}};
    if (!event.payload().UnpackTo(&activity.posted)) continue;
    absl::StatusOr<std::string> number =
        activity.posted.reversal()
            ? CheckReversal(ReverseRequest(activity.posted))
            : CheckActivity(RecordRequest(activity.posted));
    if (!number.ok()) {
      MB_RETURN_IF_ERROR(RetryOrSkip(number.status(), event, activity.posted));
      continue;
    }
    activity.number = *std::move(number);
    numbers.push_back(activity.number);
    activities.push_back(std::move(activity));
  }
  if (activities.empty()) return absl::OkStatus();
  // Released once the batch is in line (the years' cache then updated by
  // its hooks, which run first), or when it is dropped on an error.
  auto held = std::make_shared<std::optional<store::KeyLocks::Guard>>(
      member_locks_.Lock(numbers));
  Unqueued unqueued;
  for (const Activity& activity : activities) {
    absl::Status status =
        activity.posted.reversal()
            ? ReverseActivity(batch, activity.number,
                              activity.posted.activity_id(), &unqueued)
                  .status()
            : RecordActivity(batch, activity.number,
                             RecordRequest(activity.posted), &unqueued)
                  .status();
    MB_RETURN_IF_ERROR(RetryOrSkip(status, *activity.event, activity.posted));
  }
  batch.OnEnqueued([held](uint64_t) { held->reset(); });
  return absl::OkStatus();
}

absl::Status ApplyAccrualEvent(Members& members,
                               const common::v1::Event& event) {
  accrual::v1::QualifyingActivityPosted posted;
  if (!event.payload().UnpackTo(&posted)) return absl::OkStatus();
  // Not waited for: the follower's cursor is written after it, in order.
  uint64_t ticket = 0;
  absl::Status status =
      posted.reversal()
          ? members.ReverseQualifyingActivity(ReverseRequest(posted), &ticket)
                .status()
          : members.RecordQualifyingActivity(RecordRequest(posted), &ticket)
                .status();
  return RetryOrSkip(status, event, posted);
}

}  // namespace mileagebank::membership

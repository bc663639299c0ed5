#include "tools/mbctl/commands.h"

#include <cstdlib>

#include "mileagebank/membership/v1/membership.pb.h"

namespace mileagebank::mbctl {

const std::vector<Service>& Services() {
  static const auto* const services = new std::vector<Service>{
      {.name = "membership",
       .target_env = "MBCTL_MEMBERSHIP_TARGET",
       .default_target = "127.0.0.1:7101",
       .linked_descriptor = &membership::v1::Member::descriptor},
  };
  return *services;
}

const std::vector<Command>& Commands() {
  static const auto* const commands = new std::vector<Command>{
      // --- membership --------------------------------------------------
      {.group = "member",
       .name = "enrol",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/Enrol",
       .request_type = "mileagebank.membership.v1.EnrolRequest",
       .response_type = "mileagebank.membership.v1.EnrolResponse",
       .help = "Enrols a new member.",
       .aliases = {{"family", "profile.family_name"},
                   {"given", "profile.given_name"},
                   {"birth", "profile.date_of_birth"},
                   {"phone", "profile.mobile_phone"},
                   {"email", "profile.email"},
                   {"nationality", "profile.nationality"},
                   {"doc-type", "profile.identity_document.type"},
                   {"doc-number", "profile.identity_document.number"},
                   {"doc-country", "profile.identity_document.issuing_country"},
                   {"channel", "actor.channel"},
                   {"office", "actor.office_code"},
                   {"agent", "actor.operator_id"},
                   {"password", "password"}}},
      {.group = "member",
       .name = "get",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/GetMember",
       .request_type = "mileagebank.membership.v1.GetMemberRequest",
       .response_type = "mileagebank.membership.v1.GetMemberResponse",
       .help = "Shows a member.",
       .positionals = {{.name = "MEMBER_NUMBER", .field = "member_number"}},
       .aliases = {{"resolve-merges", "resolve_merges"}}},
      {.group = "member",
       .name = "find",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/FindMembers",
       .request_type = "mileagebank.membership.v1.FindMembersRequest",
       .response_type = "mileagebank.membership.v1.FindMembersResponse",
       .help = "Finds members by phone, e-mail, document, or name and birth "
               "date.",
       .aliases = {{"phone", "mobile_phone"},
                   {"email", "email"},
                   {"doc-type", "identity_document.type"},
                   {"doc-number", "identity_document.number"},
                   {"doc-country", "identity_document.issuing_country"},
                   {"family", "name_and_birth_date.family_name"},
                   {"given", "name_and_birth_date.given_name"},
                   {"birth", "name_and_birth_date.date_of_birth"}}},
      {.group = "member",
       .name = "update",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/UpdateProfile",
       .request_type = "mileagebank.membership.v1.UpdateProfileRequest",
       .response_type = "mileagebank.membership.v1.UpdateProfileResponse",
       .help = "Changes the profile fields named by --mask.",
       .positionals = {{.name = "MEMBER_NUMBER", .field = "member_number"}},
       .aliases = {{"mask", "update_mask"},
                   {"expected-version", "expected_version"},
                   {"operator", "actor.operator_id"}}},
      {.group = "member",
       .name = "status",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/ChangeStatus",
       .request_type = "mileagebank.membership.v1.ChangeStatusRequest",
       .response_type = "mileagebank.membership.v1.ChangeStatusResponse",
       .help = "Suspends, closes or reactivates a member.",
       .positionals = {{.name = "MEMBER_NUMBER", .field = "member_number"},
                       {.name = "STATUS", .field = "status"}},
       .aliases = {{"operator", "actor.operator_id"}}},
      {.group = "member",
       .name = "merge",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/MergeMembers",
       .request_type = "mileagebank.membership.v1.MergeMembersRequest",
       .response_type = "mileagebank.membership.v1.MergeMembersResponse",
       .help = "Merges a duplicate member (SOURCE) into the one that stays "
               "(TARGET).",
       .positionals = {{.name = "SOURCE", .field = "source_member_number"},
                       {.name = "TARGET", .field = "target_member_number"}},
       .aliases = {{"operator", "actor.operator_id"}}},
      {.group = "member",
       .name = "set-password",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/SetPassword",
       .request_type = "mileagebank.membership.v1.SetPasswordRequest",
       .response_type = "mileagebank.membership.v1.SetPasswordResponse",
       .help = "Sets or resets a member's password.",
       .positionals = {{.name = "MEMBER_NUMBER", .field = "member_number"}},
       .aliases = {{"new-password", "new_password"},
                   {"current-password", "current_password"},
                   {"operator", "actor.operator_id"}}},
      {.group = "member",
       .name = "verify-password",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/VerifyPassword",
       .request_type = "mileagebank.membership.v1.VerifyPasswordRequest",
       .response_type = "mileagebank.membership.v1.VerifyPasswordResponse",
       .help = "Checks a member's password (wrong attempts count toward the "
               "lockout).",
       .positionals = {{.name = "MEMBER_NUMBER", .field = "member_number"}},
       .aliases = {{"password", "password"}}},
      {.group = "member",
       .name = "nominee-add",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/AddNominee",
       .request_type = "mileagebank.membership.v1.AddNomineeRequest",
       .response_type = "mileagebank.membership.v1.AddNomineeResponse",
       .help = "Adds a nominee who may redeem the member's awards.",
       .positionals = {{.name = "MEMBER_NUMBER", .field = "member_number"}},
       .aliases = {{"family", "nominee.family_name"},
                   {"given", "nominee.given_name"},
                   {"birth", "nominee.date_of_birth"},
                   {"doc-type", "nominee.identity_document.type"},
                   {"doc-number", "nominee.identity_document.number"},
                   {"doc-country", "nominee.identity_document.issuing_country"},
                   {"operator", "actor.operator_id"}}},
      {.group = "member",
       .name = "nominee-remove",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/RemoveNominee",
       .request_type = "mileagebank.membership.v1.RemoveNomineeRequest",
       .response_type = "mileagebank.membership.v1.RemoveNomineeResponse",
       .help = "Removes a nominee.",
       .positionals = {{.name = "MEMBER_NUMBER", .field = "member_number"},
                       {.name = "NOMINEE_ID", .field = "nominee_id"}},
       .aliases = {{"operator", "actor.operator_id"}}},
      {.group = "member",
       .name = "nominees",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/ListNominees",
       .request_type = "mileagebank.membership.v1.ListNomineesRequest",
       .response_type = "mileagebank.membership.v1.ListNomineesResponse",
       .help = "Lists a member's nominees.",
       .positionals = {{.name = "MEMBER_NUMBER", .field = "member_number"}}},
      {.group = "member",
       .name = "record-activity",
       .service = "membership",
       .method =
           "/mileagebank.membership.v1.Membership/RecordQualifyingActivity",
       .request_type =
           "mileagebank.membership.v1.RecordQualifyingActivityRequest",
       .response_type =
           "mileagebank.membership.v1.RecordQualifyingActivityResponse",
       .help = "Records qualifying miles and segments toward the tier.",
       .positionals = {{.name = "MEMBER_NUMBER", .field = "member_number"},
                       {.name = "ACTIVITY_ID", .field = "activity_id"}},
       .aliases = {{"date", "activity_date"},
                   {"miles", "qualifying_miles"},
                   {"segments", "qualifying_segments"}}},
      {.group = "member",
       .name = "reverse-activity",
       .service = "membership",
       .method =
           "/mileagebank.membership.v1.Membership/ReverseQualifyingActivity",
       .request_type =
           "mileagebank.membership.v1.ReverseQualifyingActivityRequest",
       .response_type =
           "mileagebank.membership.v1.ReverseQualifyingActivityResponse",
       .help = "Reverses recorded qualifying activity.",
       .positionals = {{.name = "MEMBER_NUMBER", .field = "member_number"},
                       {.name = "ACTIVITY_ID", .field = "activity_id"}}},
      {.group = "member",
       .name = "tier",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/GetTier",
       .request_type = "mileagebank.membership.v1.GetTierRequest",
       .response_type = "mileagebank.membership.v1.GetTierResponse",
       .help = "Shows the tier on a date (default today) and the progress "
               "toward the next.",
       .positionals = {{.name = "MEMBER_NUMBER", .field = "member_number"}},
       .aliases = {{"date", "date"}}},
      {.group = "member",
       .name = "import",
       .service = "membership",
       .method = "/mileagebank.membership.v1.Membership/ImportMembers",
       .request_type = "mileagebank.membership.v1.ImportMembersRequest",
       .response_type = "mileagebank.membership.v1.ImportMembersResponse",
       .help = "Enrols the members of a CSV file (see "
               "docs/membership-import.md).",
       .positionals = {{.name = "FILE", .field = "csv", .file = true}},
       .aliases = {{"channel", "actor.channel"},
                   {"office", "actor.office_code"},
                   {"operator", "actor.operator_id"}}},
  };
  return *commands;
}

const Command* FindCommand(absl::string_view group, absl::string_view name) {
  for (const Command& command : Commands()) {
    if (command.group == group && command.name == name) return &command;
  }
  return nullptr;
}

bool IsGroup(absl::string_view group) {
  for (const Command& command : Commands()) {
    if (command.group == group) return true;
  }
  return false;
}

const Service& ServiceOf(const Command& command) {
  for (const Service& service : Services()) {
    if (service.name == command.service) return service;
  }
  std::abort();  // A broken table; commands_test catches it.
}

const google::protobuf::Descriptor* FindMessageType(
    absl::string_view full_name) {
  for (const Service& service : Services()) service.linked_descriptor();
  return google::protobuf::DescriptorPool::generated_pool()
      ->FindMessageTypeByName(std::string(full_name));
}

}  // namespace mileagebank::mbctl

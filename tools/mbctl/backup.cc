#include "tools/mbctl/backup.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "libs/status/errors.h"
#include "libs/store/store.h"
#include "mileagebank/common/v1/admin.pb.h"

namespace mileagebank::mbctl {
namespace {

namespace fs = std::filesystem;
using common::v1::StoreBackup;

constexpr char kDescription[] = "backup.json";

// A backup found under --from: its folder and what backup.json says.
struct Found {
  fs::path folder;
  StoreBackup backup;
};

absl::StatusOr<StoreBackup> ReadDescription(const fs::path& folder) {
  std::ifstream file(folder / kDescription);
  std::string json(std::istreambuf_iterator<char>(file), {});
  StoreBackup backup;
  if (!file ||
      !google::protobuf::util::JsonStringToMessage(json, &backup).ok()) {
    return InvalidField("from", absl::StrCat((folder / kDescription).string(),
                                             ": not a backup's description"));
  }
  // Where the store goes is taken from the file: it must stay inside the
  // data folder it is restored into.
  const fs::path store_path = fs::path(backup.store_path()).lexically_normal();
  if (backup.store_path().empty() || store_path.is_absolute() ||
      *store_path.begin() == "..") {
    return InvalidField(
        "from",
        absl::StrCat((folder / kDescription).string(), ": store_path \"",
                     backup.store_path(), "\" is not inside a data folder"));
  }
  return backup;
}

// The backup at `from`, or each one in the set `from`, in name order.
absl::StatusOr<std::vector<Found>> FindBackups(const fs::path& from) {
  std::vector<Found> found;
  std::error_code error;
  if (fs::exists(from / kDescription, error)) {
    absl::StatusOr<StoreBackup> backup = ReadDescription(from);
    if (!backup.ok()) return backup.status();
    found.push_back({from, *std::move(backup)});
    return found;
  }
  if (!fs::is_directory(from, error)) {
    return InvalidField("from",
                        absl::StrCat(from.string(), ": no such folder"));
  }
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(from, error)) {
    if (fs::exists(entry.path() / kDescription))
      folders.push_back(entry.path());
  }
  std::sort(folders.begin(), folders.end());
  for (const fs::path& folder : folders) {
    absl::StatusOr<StoreBackup> backup = ReadDescription(folder);
    if (!backup.ok()) return backup.status();
    found.push_back({folder, *std::move(backup)});
  }
  return found;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> BackupExtraHelp(
    absl::string_view group) {
  if (group != kBackupGroup) return {};
  return {
      {"create [--service=NAME]",
       "Backs up every service (or NAME) into one set (as above)."},
      {"restore --from=DIR --to=DIR",
       "Puts a backup or a set (--service=NAME: its stores) into a new data "
       "folder, checked first; runs here."},
  };
}

absl::StatusOr<std::vector<std::string>> RestoreBackups(
    const std::vector<FieldFlag>& flags) {
  std::optional<std::string> from, to, service;
  for (const FieldFlag& flag : flags) {
    std::optional<std::string>* slot = flag.name == "from"      ? &from
                                       : flag.name == "to"      ? &to
                                       : flag.name == "service" ? &service
                                                                : nullptr;
    if (slot == nullptr) {
      return InvalidField(flag.name,
                          "backup restore takes --from, --to and "
                          "--service only");
    }
    if (!flag.value.has_value() || flag.value->empty()) {
      return InvalidField(flag.name, "needs a value");
    }
    *slot = flag.value;
  }
  if (!from.has_value()) {
    return InvalidField("from", "required: a backup's folder, or a set's");
  }
  if (!to.has_value()) {
    return InvalidField("to", "required: the new data folder");
  }
  absl::StatusOr<std::vector<Found>> found = FindBackups(*from);
  if (!found.ok()) return found.status();
  if (service.has_value()) {
    found->erase(std::remove_if(found->begin(), found->end(),
                                [&](const Found& one) {
                                  return one.backup.service() != *service;
                                }),
                 found->end());
  }
  if (found->empty()) {
    return NotFoundField(
        "from",
        absl::StrCat(*from, " holds no backup",
                     service.has_value() ? " of " + *service : std::string()));
  }
  // Every store's place is free before any is filled, so that a refusal
  // leaves the new data folder as it was.
  std::error_code error;
  for (const Found& one : *found) {
    const fs::path target = fs::path(*to) / one.backup.store_path();
    if (fs::exists(target, error) && !fs::is_empty(target, error)) {
      return FailedPreconditionField(
          "to", absl::StrCat(target.string(),
                             " is not empty: restore into a new data folder"));
    }
  }
  for (const Found& one : *found) {
    absl::StatusOr<store::CopyInfo> checked =
        store::CheckCopy((one.folder / "db").string());
    if (!checked.ok()) return checked.status();
    if (checked->sequence != one.backup.sequence()) {
      return absl::DataLossError(absl::StrCat(
          one.folder.string(), ": the store ends at event ", checked->sequence,
          " where backup.json says ", one.backup.sequence()));
    }
  }
  std::vector<std::string> restored;
  for (const Found& one : *found) {
    const fs::path target = fs::path(*to) / one.backup.store_path();
    fs::create_directories(target.parent_path(), error);
    absl::StatusOr<store::CopyInfo> copied =
        store::RestoreCopy((one.folder / "db").string(), target.string());
    if (!copied.ok()) return copied.status();
    restored.push_back(absl::StrCat("restored ", one.backup.store(), " (",
                                    one.backup.service(), ", up to event ",
                                    copied->sequence, ", ", copied->size_bytes,
                                    " bytes) into ", target.string()));
  }
  return restored;
}

}  // namespace mileagebank::mbctl
